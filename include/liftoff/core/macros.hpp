#ifndef LIFTOFF_CORE_MACROS_HPP
#define LIFTOFF_CORE_MACROS_HPP

/** Agent macros: `${run_id}` and friends, substituted in every string of a
    run's resource arguments. */

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff {

/// The values the built-in macros stand for.
struct macro_values {
  std::string project_name;  ///< ${project_name}
  std::string run_id;        ///< ${run_id}
  std::string run_name;      ///< ${run_name}
  std::string image_uri;     ///< ${image_uri}
  std::string author;        ///< ${author}
  /// Looks up any other `${NAME}`; by default the process environment.
  std::function<std::optional<std::string>(std::string_view)> lookup_env;
};

/** Replaces every `${name}` in `text`. Built-in names take their value from
    `values`; any other name is looked up in the environment. A macro with no
    value stays as written, so a typo is visible rather than silently empty. */
std::string substitute_macros(std::string_view text, macro_values const& values);

/// Substitutes in every string inside `v` (keys are left as they are).
void substitute_macros(boost::json::value& v, macro_values const& values);
void substitute_macros(boost::json::object& o, macro_values const& values);

}  // namespace liftoff

#include <liftoff/core/impl/macros.hpp>

#endif
