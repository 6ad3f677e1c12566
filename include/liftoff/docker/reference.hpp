#ifndef LIFTOFF_DOCKER_REFERENCE_HPP
#define LIFTOFF_DOCKER_REFERENCE_HPP

/** Image references (`busybox`, `localhost:5000/team/app:v1`,
    `ghcr.io/x/y@sha256:…`), parsed by the grammar of the distribution
    project's `reference` package and normalised the way the docker CLI does
    (`busybox` is `docker.io/library/busybox:latest`). */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <string>
#include <string_view>

namespace liftoff::docker {

/// The registry an image reference without a domain lives in.
inline constexpr std::string_view default_registry = "docker.io";

/** A parsed, normalised image reference. Build one with `parse_image_reference`. */
struct image_reference {
  std::string domain;  ///< registry host[:port]: "docker.io", "localhost:5000", "[::1]:5000"
  std::string path;    ///< repository path inside the registry: "library/busybox", "team/app"
  std::string tag;     ///< "latest" when the reference names neither tag nor digest
  std::string digest;  ///< "sha256:…", or empty

  /// "docker.io/library/busybox": the fully qualified repository name.
  std::string name() const;
  /// "busybox", "user/app", "localhost:5000/app": the name as people write it.
  std::string familiar_name() const;
  /// "docker.io/library/busybox:latest" (with "@digest" when there is one): the form to compare references by.
  std::string normalized() const;
  /// `familiar_name()` with ":tag" and "@digest": the form to print.
  std::string familiar() const;
};

/** Parses `text` as `[domain/]path[:tag][@digest]`.

    The domain is the part before the first '/' when it contains '.' or ':'
    or is `localhost` (or has upper-case letters, which a path may not);
    otherwise the image is on Docker Hub, where a one-component path gets
    `library/`. `index.docker.io` is normalised to `docker.io`.

    @return the reference, or `error::invalid_spec` with a sentence saying
    which part is malformed ("repository name must be lowercase", "invalid
    tag …", "invalid digest …"). */
result<image_reference> parse_image_reference(std::string_view text);

}  // namespace liftoff::docker

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/reference.ipp>
#endif

#endif
