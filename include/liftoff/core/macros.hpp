#ifndef LIFTOFF_CORE_MACROS_HPP
#define LIFTOFF_CORE_MACROS_HPP

/** Agent macros: `${run_id}` and friends, substituted in every string of a
    run's resource arguments. The one implementation: the agent expands
    them when it takes an item (all but `${image_uri}`), the launcher once
    the image is built. */

#include <liftoff/detail/config.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff {

struct launch_spec;  // <liftoff/core/spec.hpp>

/// Looks up the value of a `${NAME}` that is not a built-in macro; nullopt: it has none.
using macro_lookup = std::function<std::optional<std::string>(std::string_view)>;

/// The values the built-in macros stand for.
struct macro_values {
  std::string project_name;  ///< ${project_name}
  std::string run_id;        ///< ${run_id}
  std::string run_name;      ///< ${run_name}
  /// ${image_uri}; nullopt before an image is built: `${image_uri}` then stays as written.
  std::optional<std::string> image_uri;
  std::string author;  ///< ${author}
  /// Looks up any other `${NAME}`; empty: `environment_macro` (the process environment).
  macro_lookup lookup_env;
};

/** The value of environment variable `name` in this process; nullopt when it
    is not set, and for the program's own credentials (`LIFTOFF_API_TOKEN`,
    `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    `SLURM_JWT`): a spec that names them does not get an agent's keys. */
std::optional<std::string> environment_macro(std::string_view name);

/** The values of a run's macros: `${project_name}`, `${run_id}`,
    `${run_name}` and `${author}` from `spec`, `${image_uri}` as given
    (nullopt: not built yet), any other name from `lookup_env` (empty: the
    process environment). */
macro_values run_macro_values(launch_spec const& spec, std::optional<std::string> image_uri = std::nullopt,
                              macro_lookup lookup_env = {});

/** Replaces every `${name}` in `text`. Built-in names take their value from
    `values`; any other name is looked up in the environment. A macro with no
    value stays as written, so a typo is visible rather than silently empty. */
std::string substitute_macros(std::string_view text, macro_values const& values);

/// Substitutes in every string inside `v` (keys are left as they are).
void substitute_macros(boost::json::value& v, macro_values const& values);
void substitute_macros(boost::json::object& o, macro_values const& values);

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/core/impl/macros.ipp>
#endif

#endif
