#ifndef LIFTOFF_CORE_CONCEPTS_HPP
#define LIFTOFF_CORE_CONCEPTS_HPP

/** The four policy concepts, each built from small named requirements so that
    a compiler's diagnostic names the member that is missing. */

#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

#include <chrono>
#include <concepts>
#include <vector>

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
concept has_run_id = requires(R const& r) { { r.id() } -> std::convertible_to<std::string>; };

/// A started run: its status, a blocking wait, cancellation with a grace period, and its kept logs.
template <class R>
concept run = std::movable<R> && has_run_id<R> && has_status<R> && has_wait<R> && has_cancel<R> && has_logs<R>;

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

}  // namespace liftoff

#endif
