#ifndef LIFTOFF_CORE_PARSE_HPP
#define LIFTOFF_CORE_PARSE_HPP

/** Reading launch specs and configuration files: JSON with line and column
    in errors, YAML (yaml-cpp), and the launch spec with every error naming
    its field. Apart from <liftoff/core/spec.hpp>, so that the core types and
    the launcher need neither a JSON parser nor YAML. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/spec.hpp>

#include <string_view>

namespace liftoff {

/** Reads a launch spec from JSON. Every error names the field path and what
    was expected; unknown top-level fields are errors with a suggestion. */
result<launch_spec> parse_launch_spec(boost::json::value const& v);

/// For `boost::json::try_value_to`; the error code alone (use `parse_launch_spec` for the sentence).
boost::system::result<launch_spec> tag_invoke(boost::json::try_value_to_tag<launch_spec>, boost::json::value const& v);

/** Loads a configuration value: `text` is inline JSON when it starts with `{`,
    otherwise the path of a `.json`, `.yaml` or `.yml` file. Parse errors give
    the file, line and column. */
result<boost::json::value> load_config(std::string_view text);

/// Parses YAML text into JSON (`origin` names the file in errors).
result<boost::json::value> parse_yaml(std::string_view text, std::string_view origin);

/// Parses JSON text; errors give `origin`, line and column.
result<boost::json::value> parse_json(std::string_view text, std::string_view origin);

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/core/impl/parse.ipp>
#endif

#endif
