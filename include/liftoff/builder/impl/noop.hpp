#ifndef LIFTOFF_BUILDER_IMPL_NOOP_HPP
#define LIFTOFF_BUILDER_IMPL_NOOP_HPP

namespace liftoff {

inline result<artifact> noop_builder::build(artifact const& in, launch_spec const&, launch_options const&) const {
  return in;
}

}  // namespace liftoff

#endif
