#ifndef LIFTOFF_BUILDKIT_BUILD_HPP
#define LIFTOFF_BUILDKIT_BUILD_HPP

/** Builds with a Docker engine's BuildKit, as `docker build` does with
    BuildKit on: a session (`POST /session`, upgraded to HTTP/2) on which
    liftoff serves gRPC to the engine — the build context and the
    Dockerfile (FileSync.DiffCopy), registry credentials from the Docker
    config (Auth.Credentials) and build secrets (Secrets.GetSecret) — and a
    `POST /build?version=2` naming that session, whose status stream is
    shown as BuildKit's plain progress.

    An optional part of liftoff: compiled with gRPC and protobuf when the
    build enables it (CMake `LIFTOFF_WITH_BUILDKIT`, Meson `buildkit`),
    which then defines `LIFTOFF_WITH_BUILDKIT=1`; `docker_builder` uses it
    when it is there, and the classic builder otherwise. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/docker/context.hpp>
#include <liftoff/docker/engine.hpp>

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::buildkit {

/// A build secret's value, read by the caller; served only to the engine, never printed.
struct secret {
  std::string id;
  std::string value;
};

/// What a BuildKit build serves through its session.
struct build_input {
  docker::build_context const* context = nullptr;  ///< the context: its directory and the entries sent
  std::string dockerfile_path;                     ///< the Dockerfile inside the context, `/`-separated
  std::string dockerfile_text;                     ///< its text (served as the session's "dockerfile" directory)
  std::vector<secret> secrets;                     ///< for `RUN --mount=type=secret,id=…`
};

/** Runs `request` (its tags, labels, build arguments, network mode…) with
    BuildKit: opens a session, serves `in`, builds, and closes the session.

    @param on_line receives each progress line ("#3 [2/2] RUN make", the
    step's output, "#3 DONE 0.4s"), on the calling thread
    @param stop when requested, the build is cancelled (`POST /build/cancel`
    and the request aborted) and `error::cancelled` returned
    @return the image id and tags, or a diagnostic (stage build):
    `error::unsupported` when the engine has no BuildKit (the caller may
    fall back to the classic builder); `error::build_failed` naming the
    failing step, the engine's message and the step's last output lines. */
result<docker::build_result> build(docker::engine& engine, docker::build_request request, build_input const& in,
                                   std::function<void(std::string_view)> on_line = {}, std::stop_token stop = {});

}  // namespace liftoff::buildkit

#if LIFTOFF_HEADER_ONLY
#include <liftoff/buildkit/impl/build.ipp>
#endif

#endif
