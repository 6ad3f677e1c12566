#ifndef LIFTOFF_CORE_LAUNCHER_HPP
#define LIFTOFF_CORE_LAUNCHER_HPP

/** `launcher<Source, Builder, Transport, Target>`: the launch pipeline with
    each stage chosen at compile time. */

#include <liftoff/core/concepts.hpp>
#include <liftoff/core/macros.hpp>

#include <optional>
#include <utility>

namespace liftoff {

namespace detail {

template <class P>
concept has_validate = requires(P const& p, launch_spec const& s) {
  { p.validate(s) } -> std::same_as<result<void>>;
};

/// Runs `p.validate(spec)` when the policy has one.
template <class P>
result<void> validate_with(P const& p, launch_spec const& spec) {
  if constexpr (has_validate<P>) return p.validate(spec);
  else return {};
}

/** A builder that can say, without building, what it would make: the
    artifact's image name and content digest (`docker_builder`). */
template <class B>
concept plans_output = requires(B const& b, artifact const& in, launch_spec const& s) {
  { b.planned(in, s) } -> std::same_as<result<std::optional<artifact>>>;
};

/** A transport that can say whether its destination has a planned artifact
    already (`ecr_push`), and what the target then gets. */
template <class T>
concept finds_delivered = requires(T const& t, artifact const& a, launch_spec const& s, launch_options const& o) {
  { t.find(a, s, o) } -> std::same_as<result<std::optional<artifact>>>;
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
  static_assert(target_fits || delivered() != artifact_kind::local_image ||
                    !target_takes(artifact_kind::registry_image),
                "Impossible combination: this Target pulls images from a registry, but local_daemon leaves the "
                "image in the local engine, which the target cannot reach: use registry_push as the Transport.");
  static_assert(target_fits || delivered() != artifact_kind::directory,
                "Impossible combination: this Target runs images, but the pipeline yields a directory: "
                "use docker_builder to build an image from it.");
  static_assert(target_fits || delivered() == artifact_kind::directory,
                "Impossible combination: this Target runs code from a directory, but the pipeline yields an "
                "image: use docker_target to run images, or a directory or git source with noop_builder.");

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

      When the Builder can plan its output (`detail::plans_output`) and the
      Transport can find it at its destination (`detail::finds_delivered`),
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

#endif
