#ifndef LIFTOFF_CORE_CONCEPTS_HPP
#define LIFTOFF_CORE_CONCEPTS_HPP

/** The four policy concepts, each built from small named requirements so that
    a compiler's diagnostic names the member that is missing, and the
    optional hooks a policy opts into by naming them in its `hooks`.
    doc/concepts.md has the table of every required and optional member.

    This header names liftoff's types without defining them
    (<liftoff/core/fwd.hpp>): it costs a program almost nothing to include. */

#include <liftoff/core/fwd.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

// The concepts need std::chrono::milliseconds only; libstdc++ declares the
// durations apart from the calendar and formatting parts of <chrono>.
#if __has_include(<bits/chrono.h>)
#include <bits/chrono.h>
#else
#include <chrono>
#endif

namespace liftoff {

// ---- runs ------------------------------------------------------------------

template <class R>
concept has_status = requires(R& r) { { r.status() } -> std::same_as<run_status>; };

template <class R>
concept has_wait = requires(R& r) { { r.wait() } -> std::same_as<run_status>; };

template <class R>
concept has_cancel = requires(R& r, std::chrono::milliseconds grace) { r.cancel(grace); };

template <class R>
concept has_logs = requires(R const& r) { { r.logs() } -> std::same_as<std::vector<log_line>>; };

template <class R>
concept has_run_id = requires(R const& r) { { r.id() } -> std::convertible_to<std::string_view>; };

/** A started run: its id, status, a blocking wait, cancellation with a grace
    period, and its kept logs. The members are checked before `movable`, so
    that asking whether an unrelated type is a run (as `any_run`'s converting
    constructor does) stops at the first missing member instead of looking
    for its swap. */
template <class R>
concept run = has_run_id<R> && has_status<R> && has_wait<R> && has_cancel<R> && has_logs<R> && std::movable<R>;

// ---- stages ----------------------------------------------------------------

template <class P>
concept accepts_artifacts = requires(artifact_kind k) {
  { P::accepts(k) } -> std::same_as<bool>;
};

template <class P>
concept transforms_artifacts = requires(artifact_kind k) {
  { P::output(k) } -> std::same_as<artifact_kind>;
};

template <class S>
concept has_fetch = requires(S& s, launch_spec const& spec, launch_options const& o) {
  { s.fetch(spec, o) } -> std::same_as<result<artifact>>;
};

template <class S>
concept has_source_kind = requires { { S::kind } -> std::convertible_to<source_kind>; } &&
                          requires { { S::produces } -> std::convertible_to<artifact_kind>; };

/// Fetches a job's code: `fetch(spec, options)`, plus the `kind` of job source it handles and what it `produces`.
template <class S>
concept source = has_fetch<S> && has_source_kind<S>;

template <class B>
concept has_build = requires(B& b, artifact const& in, launch_spec const& spec, launch_options const& o) {
  { b.build(in, spec, o) } -> std::same_as<result<artifact>>;
};

/// Turns fetched code into what can be run: `build(in, spec, options)`, `accepts(kind)`, `output(kind)`.
template <class B>
concept builder = has_build<B> && accepts_artifacts<B> && transforms_artifacts<B>;

template <class T>
concept has_deliver = requires(T& t, artifact const& in, launch_spec const& spec, launch_options const& o) {
  { t.deliver(in, spec, o) } -> std::same_as<result<artifact>>;
};

/// Takes a built artifact to where the target can use it: `deliver(in, spec, options)`, `accepts(kind)`, `output(kind)`.
template <class T>
concept transport = has_deliver<T> && accepts_artifacts<T> && transforms_artifacts<T>;

template <class T>
concept has_run_type = requires { typename T::run_type; } && run<typename T::run_type>;

template <class T>
concept has_start = has_run_type<T> &&
    requires(T& t, artifact const& in, launch_spec const& spec, launch_options const& o) {
      { t.start(in, spec, o) } -> std::same_as<result<typename T::run_type>>;
    };

/// Runs an artifact: `start(in, spec, options)` returning a `run_type` that has status(), wait(), cancel(), logs().
template <class T>
concept target = has_start<T> && accepts_artifacts<T>;

// ---- optional hooks ----------------------------------------------------------

/** The optional members a policy may offer. A policy opts into each by
    naming it in `static constexpr liftoff::hook_set hooks = hook::validate | …;`,
    and `launcher` then requires it with its exact signature; a hook that is
    offered but not named, or named but missing or misspelled, does not
    compile. */
enum class hook : unsigned {
  validate = 1u << 0,  ///< any policy: `result<void> validate(launch_spec const&) const`
  plan = 1u << 1,      ///< a builder: `result<optional<artifact>> planned(artifact const& in, launch_spec const&) const`
  find = 1u << 2,      ///< a transport: `result<optional<artifact>> find(artifact const& planned, launch_spec const&, launch_options const&) const`
  attach = 1u << 3,    ///< a target: `result<optional<run_type>> attach(launch_spec const&, launch_options const&, std::size_t skip_lines) const`
};

/// A set of hooks: `hook::validate | hook::plan`.
struct hook_set {
  unsigned bits = 0;
  constexpr hook_set() = default;
  constexpr hook_set(hook h) : bits(static_cast<unsigned>(h)) {}
  constexpr bool has(hook h) const noexcept { return (bits & static_cast<unsigned>(h)) != 0; }
  friend constexpr hook_set operator|(hook_set a, hook_set b) noexcept { hook_set s; s.bits = a.bits | b.bits; return s; }
};
constexpr hook_set operator|(hook a, hook b) noexcept { return hook_set(a) | hook_set(b); }

/// The hooks policy `P` names in its `hooks` (none when it has no such member).
template <class P>
constexpr hook_set hooks_of() noexcept {
  if constexpr (requires { { P::hooks } -> std::convertible_to<hook_set>; }) return hook_set(P::hooks);
  else return {};
}

/// Whether policy `P` opted into hook `h`.
template <class P>
constexpr bool declares_hook(hook h) noexcept { return hooks_of<P>().has(h); }

template <class P>
concept has_validate = requires(P const& p, launch_spec const& s) {
  { p.validate(s) } -> std::same_as<result<void>>;
};

/** A builder that can say, without building, what it would make: the
    artifact's image name and content digest (`docker_builder`). */
template <class B>
concept has_plan = requires(B const& b, artifact const& in, launch_spec const& s) {
  { b.planned(in, s) } -> std::same_as<result<std::optional<artifact>>>;
};

/** A transport that can say whether its destination has a planned artifact
    already (`ecr_push`), and what the target then gets. */
template <class T>
concept has_find = requires(T const& t, artifact const& a, launch_spec const& s, launch_options const& o) {
  { t.find(a, s, o) } -> std::same_as<result<std::optional<artifact>>>;
};

/// A target that can find a run it started before by the spec's run id (`kubernetes_target`).
template <class T>
concept has_attach = has_run_type<T> &&
    requires(T const& t, launch_spec const& s, launch_options const& o, std::size_t skip) {
      { t.attach(s, o, skip) } -> std::same_as<result<std::optional<typename T::run_type>>>;
    };

/** Whether `P`'s hook `h` is consistent: named and present with its
    signature, or neither. */
template <class P>
constexpr bool hook_matches(hook h, bool present) noexcept { return declares_hook<P>(h) == present; }

}  // namespace liftoff

#endif
