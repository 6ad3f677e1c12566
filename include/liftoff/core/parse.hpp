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

/** Parses `id=NAME,src=PATH` or `id=NAME,env=VAR` (`source` for `src`, as
    `docker build --secret` has it; `type=file|env` is accepted; a lone
    `id=NAME` reads the variable NAME). Errors name `field` and what was expected. */
result<build_secret> parse_build_secret(std::string_view text, std::string_view field = "--build-secret");

/** Reads a launch spec from JSON. Every error names the field path and what
    was expected; unknown top-level fields are errors with a suggestion.
    What reaches a program's argv, its environment or a file path (the entry
    points and args, the source, build and Dockerfile paths, every string
    and key under `resource_args`) must not hold a NUL character, which would
    cut it short there ("launch spec: field 'entry_point[1]': contains a NUL
    character at byte 3; …"); the names a person reads back (`project`,
    `name`, `job_name`, `author`, `queue`, `resource`) must be printable
    text, without control characters. */
result<launch_spec> parse_launch_spec(boost::json::value const& v);

/// For `boost::json::try_value_to`; the error code alone (use `parse_launch_spec` for the sentence).
boost::system::result<launch_spec> tag_invoke(boost::json::try_value_to_tag<launch_spec>, boost::json::value const& v);

/** Loads a configuration value: `text` is inline JSON when it starts with `{`,
    otherwise the path of a `.json`, `.yaml` or `.yml` file. Parse errors give
    the file, line and column. */
result<boost::json::value> load_config(std::string_view text);

/** Parses YAML text into JSON (`origin` names the file in errors). A mapping
    that names a key twice is an error (error::parse_error), as in `parse_json`. */
result<boost::json::value> parse_yaml(std::string_view text, std::string_view origin);

/** Parses JSON text; errors give `origin`, line and column. An object that
    names a key twice, at any depth, is an error too, `duplicate_key` its code:
    "request body: duplicate key \"agent\" in spec at line 1, column 30; each
    key may appear only once in an object". Boost.JSON alone would keep the
    last one silently, and another reader of the same text might keep the
    first. Other errors are error::parse_error. */
result<boost::json::value> parse_json(std::string_view text, std::string_view origin,
                                      error duplicate_key = error::parse_error);

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/core/impl/parse.ipp>
#endif

#endif
