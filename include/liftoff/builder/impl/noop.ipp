#ifndef LIFTOFF_BUILDER_IMPL_NOOP_IPP
#define LIFTOFF_BUILDER_IMPL_NOOP_IPP

#include <liftoff/builder/noop.hpp>

namespace liftoff {

LIFTOFF_DECL result<artifact> noop_builder::build(artifact const& in, launch_spec const&, launch_options const&) const {
  return in;
}

}  // namespace liftoff

#endif
