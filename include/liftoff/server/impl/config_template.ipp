#ifndef LIFTOFF_SERVER_IMPL_CONFIG_TEMPLATE_IPP
#define LIFTOFF_SERVER_IMPL_CONFIG_TEMPLATE_IPP

#include <liftoff/server/config_template.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/core/detail/json_fields.hpp>
#include <liftoff/detail/quote.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string_view>
#include <vector>

namespace liftoff::server {

LIFTOFF_DECL std::string_view to_string(variable_type t) noexcept {
  switch (t) {
    case variable_type::string: return "string";
    case variable_type::integer: return "int";
    case variable_type::number: return "float";
  }
  return "string";
}

LIFTOFF_DECL std::optional<variable_type> variable_type_from_string(std::string_view name) noexcept {
  if (name == "string") return variable_type::string;
  if (name == "int" || name == "integer") return variable_type::integer;
  if (name == "float" || name == "number") return variable_type::number;
  return std::nullopt;
}

namespace detail {

LIFTOFF_DECL bool valid_variable_name(std::string_view n) noexcept {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (n.empty() || !letter(n.front())) return false;
  return std::all_of(n.begin(), n.end(), [&](char c) { return letter(c) || digit(c); });
}

LIFTOFF_DECL std::string_view trim(std::string_view s, std::string_view blanks = " \t\r\n") noexcept {
  auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

/// The shortest text that reads back as `d`: 8, 0.001, 1e-07.
LIFTOFF_DECL std::string format_number(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(d);
}

/// A number as JSON, integral values as integers (so a bound of 0 is written `0`, not `0E0`).
LIFTOFF_DECL boost::json::value number_json(double d) {
  if (std::trunc(d) == d && std::fabs(d) < 9007199254740992.0) return static_cast<std::int64_t>(d);
  return d;
}

/// A value for messages: its kind, and for scalars the value itself ("string 'two'", "number 2.5").
LIFTOFF_DECL std::string describe(boost::json::value const& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return "string " + liftoff::detail::quote_plain(v.get_string());
    case boost::json::kind::int64: return "integer " + std::to_string(v.get_int64());
    case boost::json::kind::uint64: return "integer " + std::to_string(v.get_uint64());
    case boost::json::kind::double_: return "number " + format_number(v.get_double());
    case boost::json::kind::bool_: return v.get_bool() ? "boolean true" : "boolean false";
    default: return std::string(json_kind_name(v));
  }
}

/// Leading '+' is accepted, as a person typing a number on a command line may write it.
LIFTOFF_DECL std::string_view unsigned_prefix(std::string_view s) noexcept {
  s = trim(s);
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  return s;
}

LIFTOFF_DECL std::optional<std::int64_t> parse_int(std::string_view s) noexcept {
  s = unsigned_prefix(s);
  std::int64_t i = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return i;
}

LIFTOFF_DECL std::optional<double> parse_double(std::string_view s) noexcept {
  s = unsigned_prefix(s);
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

LIFTOFF_DECL std::string join(std::vector<std::string> const& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

/// A piece of a template string: literal text, or the name inside one `{{name}}`.
struct text_part {
  bool variable = false;
  std::string_view text;
};

/** Splits `s` into literal text and `{{name}}` references (blanks inside the
    braces allowed). A `{{` without a closing `}}` is literal text; a `{{…}}`
    whose inside is not a variable name is an error, so a typo such as
    `{{gpu-count}}` does not reach a run unnoticed. */
LIFTOFF_DECL result<std::vector<text_part>> split_template(std::string_view s) {
  std::vector<text_part> parts;
  std::size_t pos = 0;
  for (;;) {
    auto open = s.find("{{", pos);
    if (open == std::string_view::npos) break;
    auto close = s.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    auto name = trim(s.substr(open + 2, close - open - 2), " \t");
    if (!valid_variable_name(name))
      return diagnostic(error::invalid_spec, liftoff::detail::quote_plain(s.substr(open, close + 2 - open)) +
                                                 " is not a template variable: expected {{name}}, a name of "
                                                 "letters, digits and '_', not starting with a digit");
    if (open > pos) parts.push_back({false, s.substr(pos, open - pos)});
    parts.push_back({true, name});
    pos = close + 2;
  }
  if (pos < s.size()) parts.push_back({false, s.substr(pos)});
  return parts;
}

LIFTOFF_DECL std::vector<std::string_view> names_of(std::vector<template_variable> const& vars) {
  std::vector<std::string_view> names;
  for (auto const& v : vars) names.push_back(v.name);
  return names;
}

LIFTOFF_DECL diagnostic undeclared(std::string const& path, std::string_view name,
                             std::vector<template_variable> const& vars) {
  std::string msg = path + ": template variable '" + std::string(name) + "' is not declared under variables";
  if (auto m = closest_match(name, names_of(vars)); !m.empty()) msg += " (did you mean '" + m + "'?)";
  return diagnostic(error::invalid_spec, std::move(msg));
}

LIFTOFF_DECL diagnostic unknown_variable(std::string_view name, std::vector<template_variable> const& vars) {
  std::string msg = "unknown template variable " + liftoff::detail::quote_plain(name);
  if (vars.empty()) return diagnostic(error::unknown_field, msg + ": this queue has no template variables");
  if (auto m = closest_match(name, names_of(vars)); !m.empty()) msg += " (did you mean '" + m + "'?)";
  std::string list;
  for (auto const& v : vars) list += (list.empty() ? "" : ", ") + v.name;
  return diagnostic(error::unknown_field, msg + "; this queue's variables: " + list);
}

/// Calls `f(path, name)` for every `{{name}}` in the strings inside `v`; keys are not looked at.
template <class F>
result<void> for_each_reference(boost::json::value const& v, std::string const& path, F const& f);

template <class F>
result<void> for_each_reference(boost::json::object const& o, std::string const& path, F const& f) {
  for (auto const& kv : o)
    if (auto r = for_each_reference(kv.value(), path + liftoff::detail::path_key(kv.key()), f); !r) return r;
  return {};
}

template <class F>
result<void> for_each_reference(boost::json::value const& v, std::string const& path, F const& f) {
  if (auto const* s = v.if_string()) {
    if (s->find("{{") == boost::json::string::npos) return {};
    auto parts = split_template(*s);
    if (!parts) return diagnostic(parts.error().code, path + ": " + parts.error().message);
    for (auto const& p : *parts)
      if (p.variable)
        if (auto r = f(path, p.text); !r) return r;
  } else if (auto const* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i)
      if (auto r = for_each_reference((*a)[i], path + "[" + std::to_string(i) + "]", f); !r) return r;
  } else if (auto const* o = v.if_object()) {
    return for_each_reference(*o, path, f);
  }
  return {};
}

/// A typed value written into a longer string.
LIFTOFF_DECL std::string as_text(boost::json::value const& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return std::string(v.get_string());
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::double_: return format_number(v.get_double());
    default: return boost::json::serialize(v);
  }
}

struct substitution {
  boost::json::object const& values;  // every declared variable's typed value
  std::vector<template_variable> const& variables;

  result<boost::json::value> operator()(boost::json::value const& v, std::string const& path) const {
    if (auto const* s = v.if_string()) {
      if (s->find("{{") == boost::json::string::npos) return v;
      auto parts = split_template(*s);
      if (!parts) return diagnostic(parts.error().code, path + ": " + parts.error().message);
      auto lookup = [&](std::string_view name) -> result<boost::json::value const*> {
        if (auto const* x = values.if_contains(name)) return x;
        return undeclared(path, name, variables);
      };
      if (parts->size() == 1 && parts->front().variable) {
        auto x = lookup(parts->front().text);
        if (!x) return x.error();
        return **x;
      }
      std::string out;
      for (auto const& p : *parts) {
        if (!p.variable) {
          out += p.text;
          continue;
        }
        auto x = lookup(p.text);
        if (!x) return x.error();
        out += as_text(**x);
      }
      return boost::json::value(boost::json::string(out));
    }
    if (auto const* a = v.if_array()) {
      boost::json::array out;
      out.reserve(a->size());
      for (std::size_t i = 0; i < a->size(); ++i) {
        auto r = (*this)((*a)[i], path + "[" + std::to_string(i) + "]");
        if (!r) return r.error();
        out.push_back(std::move(*r));
      }
      return out;
    }
    if (auto const* o = v.if_object()) {
      auto r = (*this)(*o, path);
      if (!r) return r.error();
      return std::move(*r);
    }
    return v;
  }

  result<boost::json::object> operator()(boost::json::object const& o, std::string const& path) const {
    boost::json::object out;
    out.reserve(o.size());
    for (auto const& kv : o) {
      auto r = (*this)(kv.value(), path + liftoff::detail::path_key(kv.key()));
      if (!r) return r.error();
      out.emplace(kv.key(), std::move(*r));
    }
    return out;
  }
};

LIFTOFF_DECL result<double> parse_bound(template_variable const& t, std::string const& path, boost::json::value const& v) {
  std::string_view expected = t.type == variable_type::integer ? "an integer" : "a number";
  double d = 0;
  if (auto const* i = v.if_int64()) d = static_cast<double>(*i);
  else if (auto const* u = v.if_uint64()) d = static_cast<double>(*u);
  else if (auto const* x = v.if_double()) d = *x;
  else return diagnostic(error::invalid_spec, path + ": expected " + std::string(expected) + ", got " + describe(v));
  if (t.type == variable_type::integer && std::trunc(d) != d)
    return diagnostic(error::invalid_spec, path + ": expected an integer, got " + describe(v));
  return d;
}

LIFTOFF_DECL result<template_variable> parse_variable(std::string_view name, boost::json::value const& v) {
  using liftoff::detail::type_error;
  if (!valid_variable_name(name))
    return diagnostic(error::invalid_spec, "variables: " + liftoff::detail::quote_plain(name) +
                                               " is not a valid variable name (letters, digits and '_', "
                                               "not starting with a digit)");
  std::string const where = "variables." + std::string(name);
  auto const* o = v.if_object();
  if (!o) return type_error(where, "an object with a type", v);

  template_variable t;
  t.name = std::string(name);
  auto const* type = o->if_contains("type");
  if (!type) return diagnostic(error::invalid_spec, where + ".type: missing; expected one of string, int, float");
  auto const* type_name = type->if_string();
  auto parsed = type_name ? variable_type_from_string(*type_name) : std::nullopt;
  if (!parsed)
    return diagnostic(error::invalid_spec, where + ".type: expected one of string, int, float, got " + describe(*type));
  t.type = *parsed;

  boost::json::value const* default_value = nullptr;
  for (auto const& kv : *o) {
    std::string_view key = kv.key();
    std::string const path = where + "." + std::string(key);
    if (key == "type") continue;
    if (key == "enum") {
      if (t.type != variable_type::string)
        return diagnostic(error::invalid_spec, path + ": only a string variable takes an enum; '" + t.name +
                                                   "' is " + std::string(to_string(t.type)));
      auto allowed = liftoff::detail::get_string_array(kv.value(), path);
      if (!allowed) return allowed.error();
      if (allowed->empty()) return diagnostic(error::invalid_spec, path + ": expected at least one allowed value");
      for (std::size_t i = 0; i < allowed->size(); ++i)
        if (std::find(allowed->begin(), allowed->begin() + i, (*allowed)[i]) != allowed->begin() + i)
          return diagnostic(error::invalid_spec, path + ": " + liftoff::detail::quote_plain((*allowed)[i]) + " is listed twice");
      t.allowed = std::move(*allowed);
    } else if (key == "minimum" || key == "maximum") {
      if (t.type == variable_type::string)
        return diagnostic(error::invalid_spec, path + ": only an int or float variable takes a " + std::string(key) +
                                                   "; '" + t.name + "' is string");
      auto bound = parse_bound(t, path, kv.value());
      if (!bound) return bound.error();
      (key == "minimum" ? t.minimum : t.maximum) = *bound;
    } else if (key == "default") {
      default_value = &kv.value();
    } else if (key == "description") {
      auto d = liftoff::detail::get_string(kv.value(), path);
      if (!d) return d.error();
      t.description = std::move(*d);
    } else {
      return liftoff::detail::unknown_field(key, where, {"type", "enum", "minimum", "maximum", "default", "description"});
    }
  }
  if (t.minimum && t.maximum && *t.minimum > *t.maximum)
    return diagnostic(error::invalid_spec, where + ": the minimum " + format_number(*t.minimum) +
                                               " is above the maximum " + format_number(*t.maximum));
  if (default_value) {
    auto d = t.coerce(*default_value);
    if (!d) return diagnostic(d.error().code, where + ".default: " + d.error().message);
    t.default_value = std::move(*d);
  }
  return t;
}

}  // namespace detail

LIFTOFF_DECL result<boost::json::value> template_variable::coerce(boost::json::value const& v) const {
  auto wrong = [&](std::string_view expected) {
    return diagnostic(error::invalid_spec, "expected " + std::string(expected) + ", got " + detail::describe(v));
  };
  auto check_range = [&](double x, std::string const& text) -> result<void> {
    if (minimum && x < *minimum)
      return diagnostic(error::invalid_spec, text + " is below the minimum " + detail::format_number(*minimum));
    if (maximum && x > *maximum)
      return diagnostic(error::invalid_spec, text + " is above the maximum " + detail::format_number(*maximum));
    return {};
  };
  switch (type) {
    case variable_type::string: {
      // A number is not taken for a string: YAML reads `version: 3.10` as 3.1, and that must not pass silently.
      auto const* s = v.if_string();
      if (!s) return wrong("a string");
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), *s) == allowed.end())
        return diagnostic(error::invalid_spec, liftoff::detail::quote_plain(*s) + " is not one of " + detail::join(allowed));
      return v;
    }
    case variable_type::integer: {
      std::optional<std::int64_t> i;
      if (auto const* p = v.if_int64()) i = *p;
      else if (auto const* u = v.if_uint64()) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          return diagnostic(error::invalid_spec, std::to_string(*u) + " does not fit a 64-bit integer");
        i = static_cast<std::int64_t>(*u);
      } else if (auto const* d = v.if_double()) {
        if (std::trunc(*d) == *d && std::fabs(*d) < 9007199254740992.0) i = static_cast<std::int64_t>(*d);
      } else if (auto const* s = v.if_string()) {
        i = detail::parse_int(*s);
      }
      if (!i) return wrong("an integer");
      if (auto r = check_range(static_cast<double>(*i), std::to_string(*i)); !r) return r.error();
      return *i;
    }
    case variable_type::number: {
      std::optional<double> d;
      if (auto const* p = v.if_int64()) d = static_cast<double>(*p);
      else if (auto const* u = v.if_uint64()) d = static_cast<double>(*u);
      else if (auto const* x = v.if_double()) d = *x;
      else if (auto const* s = v.if_string()) d = detail::parse_double(*s);
      if (!d) return wrong("a number");
      if (auto r = check_range(*d, detail::format_number(*d)); !r) return r.error();
      return *d;
    }
  }
  return wrong("a value");
}

LIFTOFF_DECL result<config_template> config_template::parse(boost::json::value const& doc) {
  using liftoff::detail::type_error;
  auto const* obj = doc.if_object();
  if (!obj) return type_error("config template", "an object with resource_args and variables", doc);
  config_template t;
  for (auto const& kv : *obj) {
    std::string_view key = kv.key();
    if (key == "resource_args") {
      auto const* args = kv.value().if_object();
      if (!args) return type_error("resource_args", "an object keyed by resource name", kv.value());
      for (auto const& rkv : *args)
        if (!rkv.value().is_object())
          return type_error("resource_args" + liftoff::detail::path_key(rkv.key()), "an object", rkv.value());
      t.resource_args = *args;
    } else if (key == "variables") {
      auto const* vars = kv.value().if_object();
      if (!vars) return type_error("variables", "an object keyed by variable name", kv.value());
      for (auto const& vkv : *vars) {
        auto var = detail::parse_variable(vkv.key(), vkv.value());
        if (!var) return var.error();
        t.variables.push_back(std::move(*var));
      }
    } else {
      return liftoff::detail::unknown_field(key, "config template", {"resource_args", "variables"});
    }
  }
  auto refs = detail::for_each_reference(t.resource_args, "resource_args",
                                         [&](std::string const& path, std::string_view name) -> result<void> {
                                           if (t.find(name)) return {};
                                           return detail::undeclared(path, name, t.variables);
                                         });
  if (!refs) return refs.error();
  return t;
}

LIFTOFF_DECL result<config_template> config_template::from_yaml(std::string_view text, std::string_view origin) {
  auto doc = liftoff::parse_yaml(text, origin);
  if (!doc) {
    // `gpus: {{gpus}}` is a YAML flow mapping, not a string: the most likely cause when the template has braces.
    if (text.find("{{") != std::string_view::npos)
      return diagnostic(doc.error().code, doc.error().message +
                                              " (in YAML, quote a value that starts with a template variable: "
                                              "gpus: \"{{gpus}}\")");
    return doc.error();
  }
  return parse(*doc);
}

LIFTOFF_DECL result<config_template> config_template::load(std::string_view text) {
  auto doc = load_config(text);
  if (!doc) return doc.error();
  return parse(*doc);
}

LIFTOFF_DECL template_variable const* config_template::find(std::string_view name) const noexcept {
  for (auto const& v : variables)
    if (v.name == name) return &v;
  return nullptr;
}

LIFTOFF_DECL std::vector<std::string> config_template::warnings() const {
  std::set<std::string, std::less<>> used;
  // Errors are parse's to report; a template built by hand still gets its warnings.
  (void)detail::for_each_reference(resource_args, "resource_args",
                                   [&](std::string const&, std::string_view name) -> result<void> {
                                     used.emplace(name);
                                     return {};
                                   });
  std::vector<std::string> out;
  for (auto const& v : variables)
    if (!used.count(v.name))
      out.push_back("template variable '" + v.name + "' is declared but not used in resource_args");
  return out;
}

LIFTOFF_DECL result<boost::json::object> config_template::resolve(boost::json::object const& values) const {
  for (auto const& kv : values)
    if (!find(kv.key())) return detail::unknown_variable(kv.key(), variables);
  boost::json::object out;
  for (auto const& var : variables) {
    std::string const prefix = "template variable '" + var.name + "': ";
    if (auto const* given = values.if_contains(var.name)) {
      auto c = var.coerce(*given);
      if (!c) return diagnostic(c.error().code, prefix + c.error().message);
      out[var.name] = std::move(*c);
    } else if (var.default_value) {
      auto c = var.coerce(*var.default_value);
      if (!c) return diagnostic(c.error().code, prefix + "its default is invalid: " + c.error().message);
      out[var.name] = std::move(*c);
    } else {
      return diagnostic(error::invalid_spec,
                        "template variable '" + var.name + "' has no default: give it with --set-var " + var.name + "=…");
    }
  }
  return out;
}

LIFTOFF_DECL result<boost::json::object> config_template::fill(boost::json::object const& values) const {
  auto resolved = resolve(values);
  if (!resolved) return resolved.error();
  return detail::substitution{*resolved, variables}(resource_args, "resource_args");
}

LIFTOFF_DECL boost::json::value config_template::to_json() const {
  boost::json::object vars;
  for (auto const& v : variables) vars[v.name] = boost::json::value_from(v);
  return boost::json::object{{"resource_args", resource_args}, {"variables", std::move(vars)}};
}

LIFTOFF_DECL result<boost::json::object> parse_variable_assignments(std::vector<std::string> const& assignments) {
  boost::json::object out;
  for (auto const& a : assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return diagnostic(error::invalid_spec, "--set-var " + a + ": expected name=value");
    out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, template_variable const& t) {
  boost::json::object o{{"type", to_string(t.type)}};
  if (!t.allowed.empty()) {
    boost::json::array a;
    for (auto const& x : t.allowed) a.emplace_back(x);
    o["enum"] = std::move(a);
  }
  if (t.minimum) o["minimum"] = detail::number_json(*t.minimum);
  if (t.maximum) o["maximum"] = detail::number_json(*t.maximum);
  if (t.default_value) {
    auto const* d = t.default_value->if_double();
    o["default"] = d ? detail::number_json(*d) : *t.default_value;
  }
  if (!t.description.empty()) o["description"] = t.description;
  v = std::move(o);
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, config_template const& t) {
  v = t.to_json();
}

LIFTOFF_DECL boost::system::result<config_template> tag_invoke(boost::json::try_value_to_tag<config_template>,
                                                         boost::json::value const& v) {
  auto r = config_template::parse(v);
  if (!r) return r.error().code;
  return std::move(*r);
}

}  // namespace liftoff::server

#endif
