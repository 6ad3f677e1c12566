#ifndef LIFTOFF_KUBE_IMPL_SCHEMA_IPP
#define LIFTOFF_KUBE_IMPL_SCHEMA_IPP

#include <liftoff/kube/schema.hpp>

#include <liftoff/core/closest_match.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace liftoff::kube {

namespace detail {

/// What a schema node accepts, once `format` and the special definitions are folded in.
enum class schema_type : std::uint8_t { any, object, array, string, integer, number, boolean, int_or_string, quantity };

inline constexpr std::uint32_t no_schema_node = std::numeric_limits<std::uint32_t>::max();

/** One compiled schema: a definition or a schema nested in one. Nodes refer
    to each other by index into the document's node vector, so `$ref` cycles
    (JSONSchemaProps) cost nothing. */
struct schema_node {
  schema_type type = schema_type::any;
  bool has_properties = false;    ///< declares `properties`: other fields are unknown unless additional* says otherwise
  bool additional_any = false;    ///< `additionalProperties: true`
  bool preserve_unknown = false;  ///< `x-kubernetes-preserve-unknown-fields: true`
  bool int32 = false;             ///< `format: int32`
  bool date_time = false;         ///< `format: date-time`
  std::uint32_t ref = no_schema_node;         ///< a `$ref`: everything else in the node is ignored, as JSON Schema says
  std::uint32_t items = no_schema_node;       ///< `items`
  std::uint32_t additional = no_schema_node;  ///< `additionalProperties` as a schema
  std::vector<std::uint32_t> all_of;          ///< `allOf` members
  std::vector<std::pair<std::string, std::uint32_t>> properties;  ///< sorted by name
  std::vector<std::string> required;
  std::vector<boost::json::value> enum_values;
};

struct schema_string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class T>
using schema_string_map = std::unordered_map<std::string, T, schema_string_hash, std::equal_to<>>;

LIFTOFF_DECL std::string schema_api_version(std::string_view group, std::string_view version) {
  if (group.empty()) return std::string(version);
  std::string out(group);
  out += '/';
  out += version;
  return out;
}

LIFTOFF_DECL std::string schema_gvk_key(std::string_view api_version, std::string_view kind) {
  std::string key(api_version);
  key += ' ';  // appears in neither an apiVersion nor a kind
  key += kind;
  return key;
}

LIFTOFF_DECL char schema_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

LIFTOFF_DECL bool schema_iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (schema_lower(a[i]) != schema_lower(b[i])) return false;
  return true;
}

/** The candidate a person most likely meant by `name`: one that differs only
    in case, else the nearest within two edits (and fewer edits than `name`
    has characters, so "x" does not suggest "id"). Empty when none is close. */
LIFTOFF_DECL std::string schema_closest(std::string_view name, std::vector<std::string_view> const& candidates) {
  return closest_match(name, candidates, {.ignore_case = true, .max_edits = 2});
}

/// A value for a message: its JSON type, and for scalars the value itself, truncated.
LIFTOFF_DECL std::string schema_describe_value(boost::json::value const& v) {
  constexpr std::size_t max_chars = 40;
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return v.get_bool() ? "boolean true" : "boolean false";
    case boost::json::kind::int64: return "integer " + std::to_string(v.get_int64());
    case boost::json::kind::uint64: return "integer " + std::to_string(v.get_uint64());
    case boost::json::kind::double_: {
      char buf[32];
      auto const r = std::to_chars(buf, buf + sizeof buf, v.get_double());  // shortest form: 0.1, not 1E-1
      return "number " + std::string(buf, r.ptr);
    }
    case boost::json::kind::string: {
      std::string_view s = v.get_string();
      bool const cut = s.size() > max_chars;
      if (cut) {
        std::size_t n = max_chars;
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a UTF-8 sequence
        s = s.substr(0, n);
      }
      auto out = "string " + boost::json::serialize(boost::json::string_view(s.data(), s.size()));
      if (cut) out.insert(out.size() - 1, "...");
      return out;
    }
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "value";
}

LIFTOFF_DECL std::string_view schema_type_name(schema_node const& n) noexcept {
  switch (n.type) {
    case schema_type::any: return "any value";
    case schema_type::object: return "object";
    case schema_type::array: return "array";
    case schema_type::string: return n.date_time ? "string (an RFC 3339 date-time)" : "string";
    case schema_type::integer: return "integer";
    case schema_type::number: return "number";
    case schema_type::boolean: return "boolean";
    case schema_type::int_or_string: return "integer or string";
    case schema_type::quantity: return "quantity (a number, or a string such as \"500m\" or \"2Gi\")";
  }
  return "value";
}

LIFTOFF_DECL bool schema_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Kubernetes' quantity grammar: <signedNumber><suffix>, suffix binarySI, decimalSI or decimalExponent.
LIFTOFF_DECL bool schema_is_quantity(std::string_view s) noexcept {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  while (i < s.size() && schema_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && schema_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  auto const suffix = s.substr(i);
  for (std::string_view known : {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"})
    if (suffix == known) return true;
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  std::size_t j = 1;
  if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
  if (j == suffix.size()) return false;
  for (; j < suffix.size(); ++j)
    if (!schema_digit(suffix[j])) return false;
  return true;
}

/// RFC 3339 as Go's time.RFC3339 parses it: 2006-01-02T15:04:05[.999999999](Z|±07:00).
LIFTOFF_DECL bool schema_is_date_time(std::string_view s) noexcept {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > s.size()) return false;
    for (std::size_t k = at; k < at + n; ++k)
      if (!schema_digit(s[k])) return false;
    return true;
  };
  if (!digits(0, 4) || s.size() < 20 || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) || s[10] != 'T' ||
      !digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' || !digits(17, 2))
    return false;
  std::size_t i = 19;
  if (s[i] == '.') {
    ++i;
    auto const start = i;
    while (i < s.size() && schema_digit(s[i])) ++i;
    if (i == start) return false;
  }
  auto const zone = s.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(i + 1, 2) && zone[3] == ':' &&
         digits(i + 4, 2);
}

/// Turns the JSON of `definitions` into schema nodes, reporting where a schema is malformed.
class schema_compiler {
public:
  schema_compiler(std::vector<schema_node>& nodes, schema_string_map<std::uint32_t> const& by_name)
      : nodes_(nodes), by_name_(by_name) {}

  /// Compiles `v` into a new node; `where` names it for errors ("io.k8s.api.batch.v1.Job: properties.spec").
  result<std::uint32_t> add(boost::json::value const& v, std::string const& where) {
    auto n = build(v, where);
    if (!n) return n.error();
    nodes_.push_back(std::move(*n));
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }

  result<schema_node> build(boost::json::value const& v, std::string const& where) {
    auto const* s = v.if_object();
    if (!s) return fail(where, "expected a schema object, got " + schema_describe_value(v));
    schema_node n;
    if (auto const* ref = s->if_contains("$ref")) {
      // Siblings of $ref (descriptions) carry no constraint in OpenAPI v2.
      auto target = resolve(*ref, where + ".$ref");
      if (!target) return target.error();
      n.ref = *target;
      return n;
    }
    bool has_type = false;
    if (auto const* type = s->if_contains("type")) {
      auto const* t = type->if_string();
      if (!t) return fail(where + ".type", "expected a string, got " + schema_describe_value(*type));
      has_type = true;
      if (*t == "object") n.type = schema_type::object;
      else if (*t == "array") n.type = schema_type::array;
      else if (*t == "string") n.type = schema_type::string;
      else if (*t == "integer") n.type = schema_type::integer;
      else if (*t == "number") n.type = schema_type::number;
      else if (*t == "boolean") n.type = schema_type::boolean;
      else
        return fail(where + ".type", "expected one of object, array, string, integer, number, boolean, got \"" +
                                         std::string(*t) + "\"");
    }
    if (auto const* format = s->if_contains("format"); format && format->is_string()) {
      auto const f = format->get_string();
      if (f == "int-or-string") n.type = schema_type::int_or_string;
      else if (f == "int32" && n.type == schema_type::integer) n.int32 = true;
      else if (f == "date-time" && n.type == schema_type::string) n.date_time = true;
    }
    if (flag(*s, "x-kubernetes-int-or-string")) n.type = schema_type::int_or_string;
    n.preserve_unknown = flag(*s, "x-kubernetes-preserve-unknown-fields");
    if (auto const* props = s->if_contains("properties")) {
      auto const* po = props->if_object();
      if (!po) return fail(where + ".properties", "expected an object, got " + schema_describe_value(*props));
      if (!has_type) n.type = schema_type::object;
      n.has_properties = true;
      n.properties.reserve(po->size());
      for (auto const& p : *po) {
        auto child = add(p.value(), where + ".properties." + std::string(p.key()));
        if (!child) return child.error();
        n.properties.emplace_back(std::string(p.key()), *child);
      }
      std::sort(n.properties.begin(), n.properties.end(),
                [](auto const& a, auto const& b) { return a.first < b.first; });
    }
    if (auto const* req = s->if_contains("required")) {
      auto const* ra = req->if_array();
      if (!ra) return fail(where + ".required", "expected an array of field names, got " + schema_describe_value(*req));
      for (auto const& r : *ra) {
        if (!r.is_string()) return fail(where + ".required", "expected field names, got " + schema_describe_value(r));
        n.required.emplace_back(r.get_string());
      }
    }
    if (auto const* add_props = s->if_contains("additionalProperties")) {
      if (add_props->is_bool()) {
        n.additional_any = add_props->get_bool();
      } else {
        auto child = add(*add_props, where + ".additionalProperties");
        if (!child) return child.error();
        n.additional = *child;
      }
      if (!has_type) n.type = schema_type::object;
    }
    if (auto const* items = s->if_contains("items")) {
      auto child = add(*items, where + ".items");
      if (!child) return child.error();
      n.items = *child;
      if (!has_type) n.type = schema_type::array;
    }
    if (auto const* e = s->if_contains("enum")) {
      auto const* ea = e->if_array();
      if (!ea) return fail(where + ".enum", "expected an array of values, got " + schema_describe_value(*e));
      n.enum_values.assign(ea->begin(), ea->end());
    }
    if (auto const* all = s->if_contains("allOf")) {
      auto const* aa = all->if_array();
      if (!aa || aa->empty())
        return fail(where + ".allOf", "expected a non-empty array of schemas, got " + schema_describe_value(*all));
      for (std::size_t i = 0; i < aa->size(); ++i) {
        auto child = add((*aa)[i], where + ".allOf[" + std::to_string(i) + "]");
        if (!child) return child.error();
        n.all_of.push_back(*child);
      }
    }
    return n;
  }

  result<std::uint32_t> resolve(boost::json::value const& ref, std::string const& where) const {
    constexpr std::string_view prefix = "#/definitions/";
    auto const* r = ref.if_string();
    if (!r || !r->subview().starts_with(prefix))
      return fail(where, "expected a string \"#/definitions/<name>\", got " + schema_describe_value(ref));
    // A JSON pointer token: ~1 is '/', ~0 is '~'.
    std::string name;
    auto const token = r->subview().substr(prefix.size());
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
        name += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        name += token[i];
      }
    }
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return fail(where, "\"" + std::string(*r) + "\" names no definition in the document");
    return it->second;
  }

  static diagnostic fail(std::string const& where, std::string const& what) {
    return diagnostic(error::parse_error, "OpenAPI document: definitions." + where + ": " + what);
  }

private:
  static bool flag(boost::json::object const& s, std::string_view key) {
    auto const* v = s.if_contains(key);
    return v && v->is_bool() && v->get_bool();
  }

  std::vector<schema_node>& nodes_;
  schema_string_map<std::uint32_t> const& by_name_;
};

LIFTOFF_DECL void schema_append_field(std::string& path, std::string_view name) {
  if (!path.empty()) path += '.';
  path += name;
}

/// The problem for a field no schema declares, at `path` (which already ends with the field).
LIFTOFF_DECL schema_problem schema_unknown_field(std::string const& path, std::string_view field,
                                           std::vector<std::string_view> const& declared) {
  std::string msg = "unknown field \"" + std::string(field) + "\"";
  if (auto c = schema_closest(field, declared); !c.empty()) msg += " (did you mean " + std::string(c) + "?)";
  return {path, std::move(msg)};
}

}  // namespace detail

struct schema::document {
  std::vector<detail::schema_node> nodes;   ///< the first `names.size()` are the definitions, in `names` order
  std::vector<std::string> names;           ///< definition names
  detail::schema_string_map<std::uint32_t> by_name;
  detail::schema_string_map<std::uint32_t> by_gvk;                    ///< schema_gvk_key(apiVersion, kind)
  detail::schema_string_map<std::vector<std::string>> versions_of_kind;  ///< kind -> apiVersions serving it

  detail::schema_node const& follow(std::uint32_t n) const {
    // A $ref chain ends at a definition; the bound only guards a document whose definition refers to itself.
    for (int hops = 0; nodes[n].ref != detail::no_schema_node && hops < 64; ++hops) n = nodes[n].ref;
    return nodes[n];
  }

  /// Whether `n` accepts fields it does not declare, and if not, its declared names added to `out`.
  bool open_object(std::uint32_t n, std::vector<std::string_view>& out, int depth = 0) const {
    auto const& s = follow(n);
    if (depth > 16) return true;
    bool open = s.additional_any || s.preserve_unknown || s.additional != detail::no_schema_node ||
                (!s.has_properties && s.all_of.empty());
    for (auto const& p : s.properties) out.push_back(p.first);
    for (auto m : s.all_of) open = open_object(m, out, depth + 1) || open;
    return open;
  }

  void check(std::uint32_t n, boost::json::value const& v, std::string& path, std::vector<schema_problem>& out,
             bool strict) const;
  void check_object(detail::schema_node const& s, boost::json::object const& o, std::string& path,
                    std::vector<schema_problem>& out, bool strict) const;
};

LIFTOFF_DECL void schema::document::check(std::uint32_t n, boost::json::value const& v, std::string& path,
                                    std::vector<schema_problem>& out, bool strict) const {
  using detail::schema_type;
  if (v.is_null()) return;  // the API server takes null for any optional field; required ones are checked by the parent
  auto const& s = follow(n);

  if (!s.all_of.empty()) {
    // One member is the member itself; with several, each judges its own fields and the
    // union of their declarations decides which fields are unknown.
    bool const several = s.all_of.size() > 1 || s.has_properties;
    for (auto m : s.all_of) check(m, v, path, out, strict && !several);
    if (several && strict && v.is_object()) {
      std::vector<std::string_view> declared;
      bool open = false;
      for (auto m : s.all_of) open = open_object(m, declared, 0) || open;
      for (auto const& p : s.properties) declared.push_back(p.first);
      open = open || s.additional_any || s.preserve_unknown || s.additional != detail::no_schema_node;
      if (!open) {
        for (auto const& f : v.get_object()) {
          if (std::find(declared.begin(), declared.end(), f.key()) != declared.end()) continue;
          auto const len = path.size();
          detail::schema_append_field(path, f.key());
          out.push_back(detail::schema_unknown_field(path, f.key(), declared));
          path.resize(len);
        }
      }
    }
    strict = strict && !several;
  }

  auto mismatch = [&] {
    out.push_back(
        {path, "expected " + std::string(detail::schema_type_name(s)) + ", got " + detail::schema_describe_value(v)});
  };
  switch (s.type) {
    case schema_type::any: break;
    case schema_type::string:
      if (!v.is_string()) return mismatch();
      if (s.date_time && !detail::schema_is_date_time(v.get_string()))
        return out.push_back({path, "expected an RFC 3339 date-time such as \"2024-05-01T12:00:00Z\", got " +
                                        detail::schema_describe_value(v)});
      break;
    case schema_type::integer:
      if (v.is_int64()) {
        auto const i = v.get_int64();
        if (s.int32 && (i < std::numeric_limits<std::int32_t>::min() || i > std::numeric_limits<std::int32_t>::max()))
          return out.push_back(
              {path, "expected a 32-bit integer, got " + detail::schema_describe_value(v) + ", out of range"});
      } else if (v.is_uint64()) {
        return out.push_back(
            {path, "expected a 64-bit integer, got " + detail::schema_describe_value(v) + ", out of range"});
      } else {
        return mismatch();
      }
      break;
    case schema_type::number:
      if (!v.is_number()) return mismatch();
      break;
    case schema_type::boolean:
      if (!v.is_bool()) return mismatch();
      break;
    case schema_type::int_or_string:
      if (!v.is_string() && !v.is_int64() && !v.is_uint64()) return mismatch();
      break;
    case schema_type::quantity:
      if (v.is_string()) {
        if (!detail::schema_is_quantity(v.get_string()))
          return out.push_back({path, "expected a quantity such as \"500m\", \"2Gi\" or \"1.5\", got " +
                                          detail::schema_describe_value(v)});
      } else if (!v.is_number()) {
        return mismatch();
      }
      break;
    case schema_type::array: {
      auto const* a = v.if_array();
      if (!a) return mismatch();
      if (s.items == detail::no_schema_node) break;
      auto const len = path.size();
      for (std::size_t i = 0; i < a->size(); ++i) {
        path += '[';
        path += std::to_string(i);
        path += ']';
        check(s.items, (*a)[i], path, out, true);
        path.resize(len);
      }
      break;
    }
    case schema_type::object: {
      auto const* o = v.if_object();
      if (!o) return mismatch();
      check_object(s, *o, path, out, strict);
      break;
    }
  }

  if (!s.enum_values.empty() && std::find(s.enum_values.begin(), s.enum_values.end(), v) == s.enum_values.end()) {
    std::string msg = "unsupported value " + detail::schema_describe_value(v) + ": expected one of ";
    std::size_t shown = 0;
    for (auto const& e : s.enum_values) {
      if (shown == 10) {
        msg += ", ...";
        break;
      }
      if (shown++) msg += ", ";
      msg += boost::json::serialize(e);
    }
    out.push_back({path, std::move(msg)});
  }
}

LIFTOFF_DECL void schema::document::check_object(detail::schema_node const& s, boost::json::object const& o,
                                           std::string& path, std::vector<schema_problem>& out, bool strict) const {
  auto const len = path.size();
  for (auto const& f : o) {
    auto const key = f.key();
    auto it = std::lower_bound(s.properties.begin(), s.properties.end(), key,
                               [](auto const& p, std::string_view k) { return p.first < k; });
    if (it != s.properties.end() && it->first == key) {
      detail::schema_append_field(path, key);
      check(it->second, f.value(), path, out, true);
    } else if (s.additional != detail::no_schema_node) {
      // Map entries: metadata.labels[app.kubernetes.io/name], so keys with dots stay readable.
      path += '[';
      path += key;
      path += ']';
      check(s.additional, f.value(), path, out, true);
    } else if (strict && s.has_properties && !s.additional_any && !s.preserve_unknown) {
      detail::schema_append_field(path, key);
      std::vector<std::string_view> declared;
      declared.reserve(s.properties.size());
      for (auto const& p : s.properties) declared.push_back(p.first);
      out.push_back(detail::schema_unknown_field(path, key, declared));
    }
    path.resize(len);
  }
  for (auto const& r : s.required) {
    auto const* v = o.if_contains(r);
    if (v && !v->is_null()) continue;
    detail::schema_append_field(path, r);
    out.push_back({path, v ? "required field is null" : "required field missing"});
    path.resize(len);
  }
}

LIFTOFF_DECL schema::schema(std::shared_ptr<document const> d) noexcept : doc_(std::move(d)) {}

LIFTOFF_DECL result<schema> schema::parse(boost::json::value const& openapi_v2) {
  auto const* root = openapi_v2.if_object();
  if (!root)
    return diagnostic(error::parse_error, "OpenAPI document: expected a JSON object with \"swagger\": \"2.0\" and "
                                          "\"definitions\", got " + detail::schema_describe_value(openapi_v2));
  auto const* version = root->if_contains("swagger");
  if (!version) {
    constexpr std::string_view where = "(the API server's /openapi/v2, or swagger.json)";
    if (auto const* v3 = root->if_contains("openapi"))
      return diagnostic(error::parse_error, "OpenAPI document: this is OpenAPI " + boost::json::serialize(*v3) +
                                                "; expected OpenAPI 2.0 " + std::string(where));
    return diagnostic(error::parse_error, "OpenAPI document: no \"swagger\" field; expected an OpenAPI 2.0 object "
                                          "with \"swagger\": \"2.0\" and \"definitions\" " + std::string(where));
  }
  if (!version->is_string() || version->get_string() != "2.0")
    return diagnostic(error::parse_error, "OpenAPI document: swagger: expected \"2.0\", got " +
                                              detail::schema_describe_value(*version));
  auto const* defs_value = root->if_contains("definitions");
  auto const* defs = defs_value ? defs_value->if_object() : nullptr;
  if (!defs)
    return diagnostic(error::parse_error, "OpenAPI document: definitions: expected an object of schemas, got " +
                                              (defs_value ? detail::schema_describe_value(*defs_value) : "nothing"));

  auto doc = std::make_shared<document>();
  doc->names.reserve(defs->size());
  doc->by_name.reserve(defs->size());
  for (auto const& d : *defs) {
    doc->by_name.emplace(std::string(d.key()), static_cast<std::uint32_t>(doc->names.size()));
    doc->names.emplace_back(d.key());
  }
  // Definitions first, so a $ref resolves to its index before the definition is compiled.
  doc->nodes.resize(defs->size());
  doc->nodes.reserve(defs->size() * 8);
  detail::schema_compiler compiler(doc->nodes, doc->by_name);
  std::uint32_t index = 0;
  for (auto const& d : *defs) {
    std::string const name(d.key());
    auto n = compiler.build(d.value(), name);
    if (!n) return n.error();
    if (name == "io.k8s.apimachinery.pkg.api.resource.Quantity") n->type = detail::schema_type::quantity;
    doc->nodes[index] = std::move(*n);

    if (auto const* gvks = d.value().as_object().if_contains("x-kubernetes-group-version-kind")) {
      auto const* ga = gvks->if_array();
      if (!ga)
        return detail::schema_compiler::fail(name + ".x-kubernetes-group-version-kind",
                                             "expected an array of {group, version, kind}, got " +
                                                 detail::schema_describe_value(*gvks));
      for (auto const& g : *ga) {
        auto const* go = g.if_object();
        auto field = [&](std::string_view key) -> boost::json::string const* {
          auto const* f = go ? go->if_contains(key) : nullptr;
          return f ? f->if_string() : nullptr;
        };
        auto const* group = field("group");
        auto const* ver = field("version");
        auto const* kind = field("kind");
        if (!group || !ver || !kind)
          return detail::schema_compiler::fail(name + ".x-kubernetes-group-version-kind",
                                               "expected {\"group\", \"version\", \"kind\"} strings, got " +
                                                   boost::json::serialize(g));
        auto api_version = detail::schema_api_version(*group, *ver);
        if (doc->by_gvk.emplace(detail::schema_gvk_key(api_version, *kind), index).second)
          doc->versions_of_kind[std::string(*kind)].push_back(std::move(api_version));
      }
    }
    ++index;
  }
  doc->nodes.shrink_to_fit();
  return schema(std::shared_ptr<document const>(std::move(doc)));
}

LIFTOFF_DECL result<schema> schema::load(std::filesystem::path const& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec;
    bool const exists = std::filesystem::exists(file, ec);
    return diagnostic(exists ? error::file_unreadable : error::file_not_found,
                      file.string() + (exists ? ": cannot be read" : ": no such file") +
                          " (expected the Kubernetes OpenAPI v2 document, such as swagger.json)");
  }
  boost::json::stream_parser parser;
  boost::json::error_code ec;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto const n = static_cast<std::size_t>(in.gcount());
    if (n > 0) parser.write(buffer.data(), n, ec);
    if (ec) return diagnostic(error::parse_error, file.string() + ": not valid JSON: " + ec.message());
  }
  if (in.bad()) return diagnostic(error::file_unreadable, file.string() + ": read failed");
  parser.finish(ec);
  if (ec) return diagnostic(error::parse_error, file.string() + ": not valid JSON: " + ec.message());
  auto s = parse(parser.release());
  if (!s) return diagnostic(s.error().code, file.string() + ": " + s.error().message);
  return s;
}

LIFTOFF_DECL std::optional<std::string> schema::definition_for(std::string_view api_version, std::string_view kind) const {
  auto it = doc_->by_gvk.find(detail::schema_gvk_key(api_version, kind));
  if (it == doc_->by_gvk.end()) return std::nullopt;
  return doc_->names[it->second];
}

LIFTOFF_DECL std::vector<schema_problem> schema::validate(boost::json::value const& object) const {
  std::vector<schema_problem> out;
  auto const* o = object.if_object();
  if (!o) {
    out.push_back({"", "expected a Kubernetes object (a JSON object with apiVersion and kind), got " +
                           detail::schema_describe_value(object)});
    return out;
  }
  auto string_field = [&](std::string_view key) -> boost::json::string const* {
    auto const* v = o->if_contains(key);
    if (!v || v->is_null()) out.push_back({std::string(key), "required field missing"});
    else if (!v->is_string())
      out.push_back({std::string(key), "expected string, got " + detail::schema_describe_value(*v)});
    else
      return &v->get_string();
    return nullptr;
  };
  auto const* api_version = string_field("apiVersion");
  auto const* kind = string_field("kind");
  if (!api_version || !kind) return out;

  auto it = doc_->by_gvk.find(detail::schema_gvk_key(*api_version, *kind));
  if (it == doc_->by_gvk.end()) {
    std::string msg;
    if (auto v = doc_->versions_of_kind.find(kind->subview()); v != doc_->versions_of_kind.end()) {
      msg = "kind " + std::string(*kind) + " is not in apiVersion \"" + std::string(*api_version) +
            "\"; the document has it in ";
      for (std::size_t i = 0; i < v->second.size() && i < 5; ++i) msg += (i ? ", " : "") + v->second[i];
      if (v->second.size() > 5) msg += ", ...";
    } else {
      msg = "unknown kind \"" + std::string(*kind) + "\" in apiVersion \"" + std::string(*api_version) + "\"";
      std::vector<std::string_view> same_version, all;
      for (auto const& [k, versions] : doc_->versions_of_kind) {
        all.push_back(k);
        if (std::find(versions.begin(), versions.end(), api_version->subview()) != versions.end())
          same_version.push_back(k);
      }
      std::sort(same_version.begin(), same_version.end());  // ties go the same way on every run
      std::sort(all.begin(), all.end());
      auto c = detail::schema_closest(*kind, same_version);
      if (c.empty()) c = detail::schema_closest(*kind, all);
      if (!c.empty()) msg += " (did you mean " + std::string(c) + "?)";
    }
    out.push_back({"kind", std::move(msg)});
    return out;
  }
  std::string path;
  doc_->check(it->second, object, path, out, true);
  return out;
}

LIFTOFF_DECL std::vector<schema_problem> schema::validate(boost::json::value const& object,
                                                    std::string_view definition) const {
  std::vector<schema_problem> out;
  auto it = doc_->by_name.find(definition);
  if (it == doc_->by_name.end()) {
    out.push_back({"", "the OpenAPI document has no definition \"" + std::string(definition) + "\""});
    return out;
  }
  std::string path;
  doc_->check(it->second, object, path, out, true);
  return out;
}

LIFTOFF_DECL std::string schema::describe(boost::json::value const& object) {
  std::string out;
  auto const* o = object.if_object();
  auto str = [&](boost::json::object const* in, std::string_view key) -> std::string_view {
    auto const* v = in ? in->if_contains(key) : nullptr;
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  auto const kind = str(o, "kind");
  out = kind.empty() ? "object" : std::string(kind);
  auto const* meta_v = o ? o->if_contains("metadata") : nullptr;
  auto const* meta = meta_v ? meta_v->if_object() : nullptr;
  auto const ns = str(meta, "namespace");
  auto name = str(meta, "name");
  if (name.empty()) name = str(meta, "generateName");
  if (!name.empty()) {
    out += " \"";
    if (!ns.empty()) (out += ns) += '/';
    out += name;
    out += '"';
  }
  return out;
}

LIFTOFF_DECL diagnostic schema::to_diagnostic(std::vector<schema_problem> const& problems, std::string_view what) {
  constexpr std::size_t shown = 10;
  std::string msg(what);
  msg += " is not valid";
  if (!problems.empty()) msg += ": ";
  for (std::size_t i = 0; i < problems.size() && i < shown; ++i) {
    if (i) msg += "; ";
    if (!problems[i].path.empty()) (msg += problems[i].path) += ": ";
    msg += problems[i].message;
  }
  if (problems.size() > shown)
    msg += "; and " + std::to_string(problems.size() - shown) + " more problem" +
           (problems.size() - shown > 1 ? "s" : "");
  return diagnostic(error::invalid_spec, std::move(msg));
}

}  // namespace liftoff::kube

#endif
