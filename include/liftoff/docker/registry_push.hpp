#ifndef LIFTOFF_DOCKER_REGISTRY_PUSH_HPP
#define LIFTOFF_DOCKER_REGISTRY_PUSH_HPP

/** `registry_push`: the transport for targets that pull images from a
    registry (Kubernetes, SageMaker, a remote engine). It pushes the image a
    builder left in the local Docker engine to an OCI / Docker Registry v2,
    through the engine's own push (`POST /images/{name}/push`), so the
    engine's registry configuration (insecure registries, mirrors, CA
    certificates) applies, and skips the push when the registry already has
    the image's content tag. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/docker/auth.hpp>
#include <liftoff/docker/engine.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace liftoff {

/// The environment variable naming the repository to push to when neither the policy nor the spec does.
inline constexpr std::string_view registry_env = "LIFTOFF_REGISTRY";

namespace detail {
/// The first 32 hex digits of a "sha256:…" digest (an image tag), or empty when `digest` is not one.
std::string content_tag_of(std::string_view digest);
/// Marks a diagnostic as the push stage's.
diagnostic push_failure(diagnostic d);
}  // namespace detail

/// What `registry_push` would push: decided without contacting the engine.
struct registry_push_plan {
  std::string repository;    ///< the destination prefix, "127.0.0.1:5000/team/train"
  std::string origin;        ///< where `repository` came from: "registry_push.repository", "resource_args.kubernetes.registry" or "LIFTOFF_REGISTRY"
  std::string local_image;   ///< the engine's name for the image, "liftoff/train:0123…"
  std::string name;          ///< the pushed repository, "127.0.0.1:5000/team/train/train"
  std::string tag;           ///< "0123…": the first 32 hex of the artifact's digest, else the local tag
  /** True when `tag` comes from the artifact's content digest: a registry that
      has the tag has this image, so the push is skipped. A local tag
      ("latest") says nothing about content, so such an image is always pushed. */
  bool content_tag = false;

  /// "name:tag", the reference pushed.
  std::string reference() const { return name + ":" + tag; }
};

/** Transport policy: a `local_image` in, a `registry_image` out, pinned by
    the manifest digest the registry stored (`<repository>/<name>@sha256:…`).
    A `registry_image` passes through unchanged (there is nothing to push).

    The destination repository is, in order: the `repository` member,
    `resource_args.<spec.resource>.registry` (a string like
    "127.0.0.1:5000/team/train"), the environment variable `LIFTOFF_REGISTRY`.
    The image is pushed as `<repository>/<image name>:<tag>` where the image
    name is the last path component of the local image's name and the tag is
    the first 32 hex digits of the artifact's content digest (the tag
    `docker_builder` gives it).

    Credentials: the `auth` member, else the Docker config's entry for the
    registry (`docker::find_image_auth`: basic or an identity token), else
    anonymous. They go to the engine in `X-Registry-Auth` only and never
    appear in messages.

    Failures carry stage push: `error::push_failed` with the image and the
    registry's message for a refused push or tag; `error::unauthorized` /
    `error::forbidden` when the registry refuses to say whether it has the
    image; an unreachable engine keeps the engine's code. In a dry run, the
    Engine API requests (distribution inspect, tag, push) are emitted as
    `{"stage":"push","action":"docker api","request":{…}}` and the result is
    the would-be tag reference; nothing is sent to the engine. */
struct registry_push {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate;
  docker::engine_options engine;  ///< where the engine is (the one that holds the built image)
  std::string repository;         ///< the destination; empty: from the spec or LIFTOFF_REGISTRY
  /// Credentials to push with (an ECR token as user "AWS", say); nullopt: from the Docker config.
  std::optional<docker::registry_auth> auth;
  /// The Docker config file to look credentials up in; empty: `docker::docker_config_file()`.
  std::filesystem::path docker_config;
  /** Whether the image's name is appended to the repository
      (`<repository>/<name>:<tag>`, the default); false pushes
      `<repository>:<tag>`, for registries such as ECR where a repository
      holds one image name. */
  bool append_image_name = true;

  static constexpr bool accepts(artifact_kind k) noexcept {
    return k == artifact_kind::local_image || k == artifact_kind::registry_image;
  }
  static constexpr artifact_kind output(artifact_kind) noexcept { return artifact_kind::registry_image; }

  /** The destination repository and where it came from (see the class).
      @return `{repository, origin}`, or `error::invalid_spec`: none is set
      (saying to set `resource_args.<resource>.registry` or LIFTOFF_REGISTRY),
      `registry` is not a string, or the repository is not an image repository
      (naming where it came from). */
  result<std::pair<std::string, std::string>> resolve_repository(launch_spec const& spec) const;

  /** Checks the destination repository without contacting anything. A spec
      whose source is an image needs no push and no repository; any other
      needs one, so a missing repository fails before a build, not after. */
  result<void> validate(launch_spec const& spec) const;

  /** What `deliver` would push for a `local_image`, without contacting the engine.
      Fails (stage push) as `resolve_repository` does, or when the artifact's
      image is not a valid reference. */
  result<registry_push_plan> plan(artifact const& in, launch_spec const& spec) const;

  /** Pushes `in` unless the registry has its content tag already (logging a
      system line "image … is already in the registry; no push needed"); push
      progress goes to `options.progress`.
      @return `{registry_image, "<name>@sha256:<manifest digest>", in.digest}`
      (in a dry run, `"<name>:<tag>"`), `in` itself for a registry image, or a
      diagnostic with stage push. */
  result<artifact> deliver(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/registry_push.ipp>
#endif

#endif
