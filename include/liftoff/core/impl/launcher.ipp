#ifndef LIFTOFF_CORE_IMPL_LAUNCHER_IPP
#define LIFTOFF_CORE_IMPL_LAUNCHER_IPP

#include <liftoff/core/launcher.hpp>

namespace liftoff {

namespace detail {

LIFTOFF_DECL void prepare_spec(launch_spec& spec, artifact const& delivered) {
  ensure_run_id(spec);
  macro_values values;
  values.project_name = spec.project;
  values.run_id = spec.run_id;
  values.run_name = spec.name;
  values.image_uri = delivered.image;
  values.author = spec.author;
  substitute_macros(spec.resource_args, values);
}

}  // namespace detail

}  // namespace liftoff

#endif
