#ifndef LIFTOFF_SOURCE_IMAGE_HPP
#define LIFTOFF_SOURCE_IMAGE_HPP

/** `image_source`: a job whose code is a container image; nothing to fetch or build. */

#include <liftoff/core/concepts.hpp>

namespace liftoff {

/** Source policy for `image_ref` jobs (`--docker-image`): the artifact is the
    spec's image reference, as a registry image. A dry run emits
    `{"stage":"source","action":"use image","image":…}`. */
struct image_source {
  static constexpr source_kind kind = source_kind::image;
  static constexpr artifact_kind produces = artifact_kind::registry_image;

  /// Fails (error::invalid_spec) unless the spec names a non-empty image.
  result<void> validate(launch_spec const& spec) const;

  /// The spec's image, as an artifact.
  result<artifact> fetch(launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#include <liftoff/source/impl/image.hpp>

#endif
