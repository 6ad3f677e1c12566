#ifndef LIFTOFF_DOCKER_BUILDER_HPP
#define LIFTOFF_DOCKER_BUILDER_HPP

/** `docker_builder`: builds an image from a job's code directory with the
    Docker Engine API (`POST /build`), the context streamed as a tar, and
    skips the build when an image of the same content already exists. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/docker/context.hpp>
#include <liftoff/docker/engine.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace liftoff {

/// Where the Dockerfile of a build came from (in precedence order).
enum class dockerfile_origin {
  spec,       ///< `spec.dockerfile` (`--dockerfile`)
  context,    ///< `Dockerfile` at the context's root
  beside,     ///< `Dockerfile.liftoff` beside the entry point's script (or at the root)
  generated,  ///< generated from the base image and the entry point
};

inline std::string_view to_string(dockerfile_origin o) noexcept {
  switch (o) {
    case dockerfile_origin::spec: return "dockerfile";
    case dockerfile_origin::context: return "context";
    case dockerfile_origin::beside: return "Dockerfile.liftoff";
    case dockerfile_origin::generated: return "generated";
  }
  return "generated";
}

/// Which of the engine's builders `docker_builder` uses.
enum class docker_build_mode {
  automatic,  ///< BuildKit when liftoff has it and the engine offers it, else the classic builder
  buildkit,   ///< BuildKit only: fail when it is not there
  classic,    ///< the classic builder (`POST /build` with a tar), which has no `RUN --mount` and no secrets
};

/** The first line of `dockerfile` that needs BuildKit, as "line N: WHAT"
    (`# syntax=`, `RUN --mount`, `RUN --network`, `RUN --security`,
    `COPY --link`, `COPY --chmod`, `ADD --link`, heredocs); nullopt when the
    classic builder can build it. */
std::optional<std::string> buildkit_feature(std::string_view dockerfile);

/** Whether this liftoff was built with its BuildKit builder (gRPC;
    `LIFTOFF_WITH_BUILDKIT`). */
bool buildkit_compiled() noexcept;

/// Where a generated Dockerfile goes in the build context (in memory only).
inline constexpr std::string_view generated_dockerfile_path = ".liftoff/Dockerfile";

/// What `docker_builder` would build: decided without contacting the engine.
struct docker_build_plan {
  std::filesystem::path context;     ///< the context directory
  dockerfile_origin origin = dockerfile_origin::generated;
  std::string dockerfile_path;       ///< inside the context, `/`-separated: the `dockerfile` build parameter
  std::string dockerfile_text;       ///< the Dockerfile actually used
  std::string base_image;            ///< for a generated Dockerfile: its FROM; else empty
  std::string source_digest;         ///< "sha256:…" of the code
  std::string content_digest;        ///< "sha256:…" over source, Dockerfile, base image and .dockerignore
  std::string image;                 ///< "<repository>/<name>:<first 32 hex of content_digest>"
  docker::build_context build_context;  ///< what is sent (the generated Dockerfile as an in-memory file)
};

/** Builder policy: a directory artifact in, a `local_image` out.

    Dockerfile precedence: `spec.dockerfile` (relative to the context), else
    `Dockerfile` in the context, else `Dockerfile.liftoff` beside the entry
    point's script (or at the context's root), else a generated one (base
    image, `requirements.txt` installed, code copied to /app owned by user
    1000, which runs the entry point as ENTRYPOINT), sent in memory and never
    written into the user's directory.

    The image is tagged with a digest of the source, the Dockerfile used, the
    base image and the `.dockerignore`; when the engine already has that tag,
    nothing is built. In a dry run, every Engine API request is emitted as
    `{"stage":"build","action":"docker api","request":{…}}` and the Dockerfile
    as `{"stage":"build","action":"dockerfile",…,"text":…}`. */
struct docker_builder {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate | hook::plan;
  docker::engine_options engine;                    ///< where the engine is
  std::string default_base_image = "python:3.11-slim";  ///< FROM of a generated Dockerfile without `base_image`
  std::string repository = "liftoff";               ///< the images' repository prefix
  docker_build_mode mode = docker_build_mode::automatic;  ///< BuildKit or the classic builder
  /** For an agent serving queues: a build secret may come only from an
      environment variable, and never from the agent's own credentials
      (`environment_macro`); a file named by a job is not read. */
  bool secure_mode = false;

  static constexpr bool accepts(artifact_kind k) noexcept { return k == artifact_kind::directory; }
  static constexpr artifact_kind output(artifact_kind) noexcept { return artifact_kind::local_image; }

  /** Checks `build_context`, `dockerfile` (paths inside the source) and
      `base_image` (an image reference), naming the field. */
  result<void> validate(launch_spec const& spec) const;

  /** Chooses the Dockerfile and computes the image reference, reading the
      context but not contacting the engine. Fails (stage build) naming a
      missing or unreadable Dockerfile, a `.dockerignore` pattern or symlink
      reaching outside the context. */
  result<docker_build_plan> plan(artifact const& in, launch_spec const& spec) const;

  /** The artifact `build` would return, from `plan` (nothing is contacted),
      so a transport can tell whether its destination has it already.
      nullopt when the plan fails (`build` then reports why). */
  result<std::optional<artifact>> planned(artifact const& in, launch_spec const& spec) const;

  /** Builds (or finds) the image for `in.directory`.
      @return `{local_image, image reference, content digest}`, or a diagnostic
      with stage build: the failing step and the engine's message, an
      unreachable engine, a file that could not be sent. */
  result<artifact> build(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

namespace detail {
/** A Docker repository name component, `[a-z0-9]+` joined by one separator:
    a lone '.', '_' or '-' is kept; any other run of other characters becomes '-'. */
std::string image_name_component(std::string_view name);
}  // namespace detail

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/builder.ipp>
#endif

#endif
