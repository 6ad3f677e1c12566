// Fuzzes queue config templates (<liftoff/server/config_template.hpp>). The
// input is a template, then a NUL, then the values of one queue item: the
// template is JSON when it starts with '{' (config_template::parse, and load
// of inline JSON) and YAML otherwise (from_yaml); the values are a JSON object
// when they start with '{' and `name=value` lines (parse_variable_assignments,
// as from repeated --set-var) otherwise. Invariants: nothing throws; failures
// are liftoff errors with a message; parse(to_json()) gives the template
// back; find() finds every variable; fill() leaves the template unchanged and
// succeeds exactly when resolve() does; resolve() gives every declared
// variable a value that coerce() keeps as it is, and filling with the
// resolved values gives the same resource arguments.

#include <liftoff/server/config_template.hpp>

#include "fuzz_support.hpp"

#include <liftoff/core/parse.hpp>

#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using liftoff::fuzz::check_error;
using liftoff::server::config_template;

liftoff::result<config_template> read_template(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return config_template::from_yaml(text, "template");
  auto doc = liftoff::parse_json(text, "template");
  if (!doc) return doc.error();
  auto parsed = config_template::parse(*doc);
  auto loaded = config_template::load(text);
  LIFTOFF_FUZZ_CHECK(parsed.has_value() == loaded.has_value());
  if (parsed) LIFTOFF_FUZZ_CHECK(*parsed == *loaded);
  return parsed;
}

/// The item's values, or nothing when they are not an object of values.
std::optional<json::object> read_values(std::string_view text) {
  if (auto first = text.find_first_not_of(" \t\r\n"); first != std::string_view::npos && text[first] == '{') {
    auto v = liftoff::parse_json(text, "values");
    if (!v) return std::nullopt;
    if (auto* o = v->if_object()) return std::move(*o);
    return std::nullopt;
  }
  std::vector<std::string> assignments;
  for (std::size_t at = 0; at <= text.size() && !text.empty();) {
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    assignments.emplace_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  auto r = liftoff::server::parse_variable_assignments(assignments);
  if (!r) {
    check_error(r.error());
    return std::nullopt;
  }
  for (auto const& kv : *r) LIFTOFF_FUZZ_CHECK(kv.value().is_string());
  return std::move(*r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const [template_text, values_text] = liftoff::fuzz::split_at_nul(liftoff::fuzz::text_of(data, size));
  auto t = read_template(template_text);
  if (!t) {
    check_error(t.error());
    return 0;
  }

  auto const j = t->to_json();
  auto again = config_template::parse(j);
  LIFTOFF_FUZZ_CHECK(again.has_value(), json::serialize(j) + ": " + (again ? "" : again.error().what()));
  LIFTOFF_FUZZ_CHECK(*again == *t, json::serialize(j));
  for (auto const& v : t->variables) LIFTOFF_FUZZ_CHECK(t->find(v.name) == &v, v.name);
  (void)t->warnings();

  auto values = read_values(values_text);
  if (!values) return 0;

  config_template const before = *t;
  auto filled = t->fill(*values);
  LIFTOFF_FUZZ_CHECK(*t == before);
  auto resolved = t->resolve(*values);
  LIFTOFF_FUZZ_CHECK(filled.has_value() == resolved.has_value());
  if (!resolved) {
    check_error(resolved.error());
    return 0;
  }
  LIFTOFF_FUZZ_CHECK(resolved->size() == t->variables.size(), json::serialize(*resolved));
  for (auto const& v : t->variables) {
    auto const* value = resolved->if_contains(v.name);
    LIFTOFF_FUZZ_CHECK(value, v.name);
    auto kept = v.coerce(*value);
    LIFTOFF_FUZZ_CHECK(kept.has_value(), v.name + ": " + json::serialize(*value));
    LIFTOFF_FUZZ_CHECK(*kept == *value, v.name + ": " + json::serialize(*value) + " became " + json::serialize(*kept));
  }
  auto refilled = t->fill(*resolved);
  LIFTOFF_FUZZ_CHECK(refilled.has_value());
  LIFTOFF_FUZZ_CHECK(*refilled == *filled, json::serialize(*refilled) + " vs " + json::serialize(*filled));
  return 0;
}
