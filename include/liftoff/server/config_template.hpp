#ifndef LIFTOFF_SERVER_CONFIG_TEMPLATE_HPP
#define LIFTOFF_SERVER_CONFIG_TEMPLATE_HPP

/** A queue's config template: the resource arguments every run on the queue
    gets, with typed template variables (`{{gpus}}`) that each pushed item
    fills. Agent macros (`${run_id}`, …) are not template variables: they pass
    through untouched and the agent substitutes them when it runs the item. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <boost/json/fwd.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::server {

/// What a template variable holds. Spelled `string`, `int` and `float` in a template.
enum class variable_type { string, integer, number };

/// The name a template uses for `t`: "string", "int" or "float".
std::string_view to_string(variable_type t) noexcept;

/** Reads a type name: "string", "int" or "float" (and, for readers of JSON
    Schema, "integer" and "number"). Empty when `name` is none of them. */
std::optional<variable_type> variable_type_from_string(std::string_view name) noexcept;

/// One declared `{{name}}` of a config template.
struct template_variable {
  std::string name;                               ///< letters, digits and '_', not starting with a digit
  variable_type type = variable_type::string;
  std::vector<std::string> allowed;               ///< a string variable's enum; empty: any string
  std::optional<double> minimum;                  ///< an int or float variable's inclusive lower bound
  std::optional<double> maximum;                  ///< an int or float variable's inclusive upper bound
  std::optional<boost::json::value> default_value;  ///< typed (int64, double or string); none: a value is required
  std::string description;                        ///< shown to the person who pushes an item

  friend bool operator==(template_variable const&, template_variable const&) = default;

  /** Checks `v` against this variable and converts it to the declared type.
      Strings convert the way a command line gives them (`--set-var gpus=2`
      arrives as "2"). The error message has no prefix (for example
      "9 is above the maximum 8"); callers say which variable it is about. */
  result<boost::json::value> coerce(boost::json::value const& v) const;
};

/** The resource arguments every run on a queue gets, and the variables that
    fill them. Build one with `parse`, which checks the definitions; `fill`
    turns the values of one queue item into that item's resource arguments. */
struct config_template {
  /// Keyed by resource name, like `launch_spec::resource_args`; strings may hold `{{name}}`.
  boost::json::object resource_args;
  /// In declaration order.
  std::vector<template_variable> variables;

  friend bool operator==(config_template const&, config_template const&) = default;

  /** Reads a template such as
      `{"resource_args": {"local-container": {"gpus": "{{gpus}}"}},
        "variables": {"gpus": {"type": "int", "minimum": 0, "maximum": 8, "default": 1}}}`.
      Fails, naming the field path, on an unknown field, a bad type, an enum on
      a non-string or a bound on a string, a minimum above the maximum, a
      default of the wrong type or outside the bounds, a malformed `{{…}}`, and
      a `{{name}}` that is not declared. A declared variable that the template
      never uses is allowed; `warnings()` reports it. */
  static result<config_template> parse(boost::json::value const& doc);

  /// `parse` of YAML text; `origin` names the text in parse errors.
  static result<config_template> from_yaml(std::string_view text, std::string_view origin = "config template");

  /// `parse` of what `liftoff::load_config` reads: inline JSON, or a `.json`, `.yaml` or `.yml` file.
  static result<config_template> load(std::string_view text);

  /// The declared variable called `name`, or null.
  template_variable const* find(std::string_view name) const noexcept;

  /// Sentences about a template that works but is probably not what was meant (an unused variable).
  std::vector<std::string> warnings() const;

  /** Checks the values of one queue item and completes them with defaults:
      the result holds every declared variable's typed value. Fails on an
      unknown name (with a suggestion and the list of this queue's
      variables), a value of the wrong type, out of range or not in the enum,
      and a missing value whose variable has no default. */
  result<boost::json::object> resolve(boost::json::object const& values) const;

  /** The resource arguments for one queue item: `resolve(values)`, then every
      `{{name}}` substituted. A string that is exactly one `{{name}}` becomes
      the typed value (`"{{gpus}}"` → `2`); inside a longer string the value
      is written as text. Keys and `${…}` macros are left as they are.
      Pure: `*this` is not changed, whether or not it fails. */
  result<boost::json::object> fill(boost::json::object const& values) const;

  /// The template as JSON; `parse(to_json())` gives it back.
  boost::json::value to_json() const;
};

/** Reads `name=value` assignments (the arguments of repeated `--set-var`)
    into the values `fill` takes; every value stays a string. A later
    assignment of the same name wins. Fails on an assignment with no `=` or no name. */
result<boost::json::object> parse_variable_assignments(std::vector<std::string> const& assignments);

/// A variable's definition as it appears under `variables` (its name is the key, so it is not included).
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, template_variable const& t);

void tag_invoke(boost::json::value_from_tag, boost::json::value& v, config_template const& t);
/// For `boost::json::try_value_to`; the error code alone (use `config_template::parse` for the sentence).
boost::system::result<config_template> tag_invoke(boost::json::try_value_to_tag<config_template>,
                                                  boost::json::value const& v);

}  // namespace liftoff::server

#if LIFTOFF_HEADER_ONLY
#include <liftoff/server/impl/config_template.ipp>
#endif

#endif
