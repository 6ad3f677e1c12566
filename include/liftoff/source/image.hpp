#ifndef LIFTOFF_SOURCE_IMAGE_HPP
#define LIFTOFF_SOURCE_IMAGE_HPP

/** `image_source`: a job whose code is a container image; nothing to fetch or build. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

namespace liftoff {

/** Source policy for `image_ref` jobs (`--docker-image`): the artifact is the
    spec's image reference, as a registry image. A dry run emits
    `{"stage":"source","action":"use image","image":…}`. */
struct image_source {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate;
  static constexpr source_kind kind = source_kind::image;
  static constexpr artifact_kind produces = artifact_kind::registry_image;

  /// Fails (error::invalid_spec) unless the spec names a non-empty image.
  result<void> validate(launch_spec const& spec) const;

  /// The spec's image, as an artifact.
  result<artifact> fetch(launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/source/impl/image.ipp>
#endif

#endif
