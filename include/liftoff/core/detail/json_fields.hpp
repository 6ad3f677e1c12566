#ifndef LIFTOFF_CORE_DETAIL_JSON_FIELDS_HPP
#define LIFTOFF_CORE_DETAIL_JSON_FIELDS_HPP

// Reading the fields of a JSON document with errors that name the field's
// path: what every parser of liftoff's (launch specs, queue templates, agent
// configs) shares. Defined in core/impl/spec.ipp.

#include <liftoff/core/spec.hpp>  // their definitions, when header-only

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::detail {

/// "<path>: expected <expected>, got <kind of got>".
diagnostic type_error(std::string_view path, std::string_view expected, boost::json::value const& got);

/// The string at `path`, or a type error.
result<std::string> get_string(boost::json::value const& v, std::string_view path);

/// The array of strings at `path`, or a type error naming the element.
result<std::vector<std::string>> get_string_array(boost::json::value const& v, std::string_view path);

/// An argv given as an array of strings or as one string split shell-style.
result<std::vector<std::string>> get_command(boost::json::value const& v, std::string_view path);

/// "<where>: unknown field '<key>'", with the closest of `known` or the list of them.
diagnostic unknown_field(std::string_view key, std::string_view where, std::vector<std::string_view> const& known);

/** The step into an object's member for a field path: ".key" for up to 64
    letters, digits, '_' and '-', else `["key"]` with the key as
    `quote_excerpt` shows it, so a path in a message is short and one line
    whatever the keys hold: `resource_args.kubernetes.metadata.labels["app.kubernetes.io/name"]`. */
std::string path_key(std::string_view key);

/// 1-based line and column of byte `offset` in `text`.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset);

/// Whether `id` is a valid run id: 1 to 63 lowercase letters, digits and '-', no '-' at either end.
bool valid_run_id(std::string_view id);

}  // namespace liftoff::detail

#endif
