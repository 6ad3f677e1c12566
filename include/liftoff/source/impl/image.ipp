#ifndef LIFTOFF_SOURCE_IMPL_IMAGE_IPP
#define LIFTOFF_SOURCE_IMPL_IMAGE_IPP

#include <liftoff/source/image.hpp>

namespace liftoff {

LIFTOFF_DECL result<void> image_source::validate(launch_spec const& spec) const {
  auto const* img = std::get_if<image_ref>(&spec.source);
  if (!img) return diagnostic(error::invalid_spec, "image: the job has no image; give one with --docker-image");
  if (img->image.empty())
    return diagnostic(error::invalid_spec, "image: expected an image reference, got an empty string");
  return {};
}

LIFTOFF_DECL result<artifact> image_source::fetch(launch_spec const& spec, launch_options const& options) const {
  if (auto v = validate(spec); !v) return v.error();
  artifact a;
  a.kind = artifact_kind::registry_image;
  a.image = std::get<image_ref>(spec.source).image;
  if (options.dry_run()) options.emit({{"stage", "source"}, {"action", "use image"}, {"image", a.image}});
  return a;
}

}  // namespace liftoff

#endif
