#ifndef LIFTOFF_CORE_LAUNCHER_HPP
#define LIFTOFF_CORE_LAUNCHER_HPP

/** `launcher<Source, Builder, Transport, Target>`: the launch pipeline with
    each stage chosen at compile time. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/core/macros.hpp>

#include <optional>
#include <utility>

namespace liftoff {

struct registry_push;  // <liftoff/docker/registry_push.hpp>

namespace detail {

/// Runs `p.validate(spec)` when the policy opted into `hook::validate`.
template <class P>
result<void> validate_with(P const& p, launch_spec const& spec) {
  if constexpr (declares_hook<P>(hook::validate)) return p.validate(spec);
  else return {};
}

/** Instantiated when a target that pulls from a registry is given a local
    image: the compiler's note names, as `Needed`, the transport the target
    says it needs (its `transport_needed`, else registry_push). */
template <class Needed>
struct use_transport {
  static_assert(sizeof(Needed*) == 0,  // false, once instantiated
                "Impossible combination: this Target pulls images from a registry, but local_daemon leaves the "
                "image in the local engine, which the target cannot reach: use as the Transport the type named "
                "in use_transport<...> above.");
};

template <class Target>
struct transport_needed_by {
  using type = registry_push;
};
template <class Target>
  requires requires { typename Target::transport_needed; }
struct transport_needed_by<Target> {
  using type = typename Target::transport_needed;
};

template <bool NeedsRegistry, class Target>
struct registry_transport_check {
  static constexpr bool value = true;
};
template <class Target>
struct registry_transport_check<true, Target> {
  static constexpr bool value = sizeof(use_transport<typename transport_needed_by<Target>::type>) > 0;
};

/// A policy's hooks are consistent: each one named in `hooks` is there with its signature, and no other is.
template <class P, hook H, bool Present>
struct check_hook {
  static_assert(!declares_hook<P>(H) || Present,
                "Policy hook missing: the policy names this hook in its `hooks`, but has no member with the hook's "
                "signature (see liftoff::hook and doc/concepts.md): a misspelled or mistyped hook would be ignored.");
  static_assert(declares_hook<P>(H) || !Present,
                "Policy hook not declared: the policy has an optional hook's member but does not name it in "
                "`static constexpr liftoff::hook_set hooks`: add it there (hooks opt in, they are not found by shape).");
  static constexpr bool value = declares_hook<P>(H) == Present;
};

/// Marks a stage's failure with the stage, unless the policy already did.
inline diagnostic at_stage(diagnostic d, failure_stage s) {
  if (d.stage == failure_stage::none) d.stage = s;
  return d;
}

/// Prepares a spec for its pipeline: run id, then the macros in `resource_args`.
void prepare_spec(launch_spec& spec, artifact const& delivered);

}  // namespace detail

/** The launch pipeline: Source fetches the code, Builder makes it runnable,
    Transport takes it where Target can reach it, Target runs it.

    Each policy is held by value (`[[no_unique_address]]`, so stateless
    policies cost nothing). A combination that cannot work does not compile,
    and the compiler's first error is a sentence saying why. */
template <class Source, class Builder, class Transport, class Target>
class launcher {
  static_assert(source<Source>,
                "Source policy requirements not met: a source needs fetch(spec, options) -> result<artifact>, "
                "a static `kind` (the source_kind it handles) and a static `produces` (the artifact_kind it yields).");
  static_assert(builder<Builder>,
                "Builder policy requirements not met: a builder needs build(in, spec, options) -> result<artifact>, "
                "static accepts(artifact_kind) and static output(artifact_kind).");
  static_assert(transport<Transport>,
                "Transport policy requirements not met: a transport needs deliver(in, spec, options) -> "
                "result<artifact>, static accepts(artifact_kind) and static output(artifact_kind).");
  static_assert(target<Target>,
                "Target policy requirements not met: a target needs start(in, spec, options) -> "
                "result<run_type>, static accepts(artifact_kind), and a run_type with id(), status(), wait(), "
                "cancel(grace) and logs().");

  static constexpr bool well_formed = source<Source> && builder<Builder> && transport<Transport> && target<Target>;

  static constexpr artifact_kind fetched() { if constexpr (well_formed) return Source::produces; else return {}; }
  static constexpr artifact_kind built() { if constexpr (well_formed) return Builder::output(fetched()); else return {}; }
  static constexpr artifact_kind delivered() { if constexpr (well_formed) return Transport::output(built()); else return {}; }

  static constexpr bool builder_takes(artifact_kind k) { if constexpr (well_formed) return Builder::accepts(k); else return true; }
  static constexpr bool transport_takes(artifact_kind k) { if constexpr (well_formed) return Transport::accepts(k); else return true; }
  static constexpr bool target_takes(artifact_kind k) { if constexpr (well_formed) return Target::accepts(k); else return true; }

  // Only the first mismatch along the pipeline is reported.
  static constexpr bool builder_fits = builder_takes(fetched());
  static constexpr bool transport_fits = !builder_fits || transport_takes(built());
  static constexpr bool target_fits = !builder_fits || !transport_fits || target_takes(delivered());

  static_assert(builder_fits,
                "Impossible combination: the Builder cannot build from what the Source yields "
                "(an image source needs noop_builder; docker_builder needs code from a directory or git source).");
  static_assert(transport_fits,
                "Impossible combination: the Transport cannot deliver what the Builder yields "
                "(registry_push needs an image: pair it with docker_builder or an image source).");
  static constexpr bool needs_registry =
      !target_fits && delivered() == artifact_kind::local_image && target_takes(artifact_kind::registry_image);
  static_assert(detail::registry_transport_check<needs_registry, Target>::value);
  static_assert(target_fits || delivered() != artifact_kind::directory,
                "Impossible combination: this Target runs images, but the pipeline yields a directory: "
                "use docker_builder to build an image from it.");
  static_assert(target_fits || delivered() == artifact_kind::directory || needs_registry,
                "Impossible combination: this Target runs code from a directory, but the pipeline yields an "
                "image: use docker_target to run images, or a directory or git source with noop_builder.");

  static_assert(detail::check_hook<Source, hook::validate, has_validate<Source>>::value);
  static_assert(detail::check_hook<Builder, hook::validate, has_validate<Builder>>::value);
  static_assert(detail::check_hook<Transport, hook::validate, has_validate<Transport>>::value);
  static_assert(detail::check_hook<Target, hook::validate, has_validate<Target>>::value);
  static_assert(detail::check_hook<Builder, hook::plan, has_plan<Builder>>::value);
  static_assert(detail::check_hook<Transport, hook::find, has_find<Transport>>::value);
  static_assert(detail::check_hook<Target, hook::attach, has_attach<Target>>::value);

public:
  using source_type = Source;
  using builder_type = Builder;
  using transport_type = Transport;
  using target_type = Target;
  using run_type = typename Target::run_type;

  launcher() = default;

  launcher(Source s, Builder b, Transport t, Target g)
      : source_(std::move(s)), builder_(std::move(b)), transport_(std::move(t)), target_(std::move(g)) {}

  /// The kind of job source this launcher runs.
  static constexpr source_kind handles() noexcept { return Source::kind; }

  /** Checks the spec with every policy that validates, without side effects. */
  result<void> validate(launch_spec const& spec) const;

  /** Runs the pipeline and returns the started run. On failure, the
      diagnostic's `stage` says which stage failed. In a dry run
      (`options.on_dry_run` set), each stage emits what it would do and the
      returned run is already finished.

      When the Builder can plan its output (`hook::plan`) and the Transport
      can find it at its destination (`hook::find`),
      an artifact the destination has already is neither built nor
      delivered again (a failed lookup just builds). */
  result<run_type> try_launch(launch_spec spec, launch_options const& options);

  /// As `try_launch`, throwing `liftoff::exception` on failure.
  run_type launch(launch_spec spec, launch_options const& options) {
    return try_launch(std::move(spec), options).value();
  }

  Source& source_policy() noexcept { return source_; }
  Builder& builder_policy() noexcept { return builder_; }
  Transport& transport_policy() noexcept { return transport_; }
  Target& target_policy() noexcept { return target_; }

private:
  [[no_unique_address]] Source source_;
  [[no_unique_address]] Builder builder_;
  [[no_unique_address]] Transport transport_;
  [[no_unique_address]] Target target_;
};

}  // namespace liftoff

#include <liftoff/core/impl/launcher.hpp>
#if LIFTOFF_HEADER_ONLY
#include <liftoff/core/impl/launcher.ipp>
#endif

#endif
