#ifndef LIFTOFF_AWS_IMPL_MODEL_IPP
#define LIFTOFF_AWS_IMPL_MODEL_IPP

#include <liftoff/aws/model.hpp>

#include <liftoff/core/closest_match.hpp>

#include <liftoff/aws/detail/pattern.hpp>
#include <liftoff/aws/detail/timestamp.hpp>
#include <liftoff/detail/base64.hpp>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

namespace liftoff::aws {

LIFTOFF_DECL std::string describe(std::vector<model_problem> const& problems) {
  std::string out;
  for (auto const& p : problems) {
    if (!out.empty()) out += "; ";
    if (!p.path.empty()) out += p.path + ": ";
    out += p.message;
  }
  return out;
}

namespace detail {

/// The closest of `candidates` to `word`, ignoring case, when close enough to suggest, else "".
LIFTOFF_DECL std::string model_closest(std::string_view word, std::vector<std::string_view> const& candidates) {
  return closest_match(word, candidates, {.ignore_case = true});
}

LIFTOFF_DECL std::string_view model_kind(boost::json::value const& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "an integer";
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "a list";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

LIFTOFF_DECL std::string model_member_path(std::string const& path, std::string_view member) {
  if (path.empty()) return std::string(member);
  std::string out = path;
  out += '.';
  out += member;
  return out;
}

LIFTOFF_DECL std::string model_number_text(boost::json::value const& v) {
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) {
    std::ostringstream os;
    os << v.get_double();
    return os.str();
  }
  return {};
}

LIFTOFF_DECL std::optional<double> model_number(boost::json::value const* v) {
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

LIFTOFF_DECL std::string_view model_string(boost::json::object const& o, std::string_view key) {
  if (auto const* v = o.if_contains(key); v && v->is_string()) return v->get_string();
  return {};
}

LIFTOFF_DECL bool model_flag(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

/// The name a structure member has on the wire.
LIFTOFF_DECL std::string_view model_wire_name(std::string_view member, boost::json::object const& ref) {
  if (auto n = model_string(ref, "jsonName"); !n.empty()) return n;
  if (auto n = model_string(ref, "locationName"); !n.empty()) return n;
  return member;
}

/// Quotes a value for a message, shortened.
LIFTOFF_DECL std::string model_quote(std::string_view s) {
  std::string out = "'";
  if (s.size() > 64) {
    out += s.substr(0, 61);
    out += "...";
  } else {
    out += s;
  }
  out += "'";
  return out;
}

class model_validator {
public:
  model_validator(boost::json::object const& shapes, std::vector<model_problem>& out) : shapes_(shapes), out_(out) {}

  void shape(std::string_view name, boost::json::value const& v, std::string const& path, int depth = 0) {
    auto const* s = find(name);
    if (!s) {
      add(path, "the model has no shape " + std::string(name) + " to check this value against");
      return;
    }
    if (depth > 64) return;  // recursive shapes: values this deep are not liftoff's
    auto const type = model_string(*s, "type");
    if (type == "structure") return structure(name, *s, v, path, depth);
    if (type == "list") return list(*s, v, path, depth);
    if (type == "map") return map(*s, v, path, depth);
    if (model_flag(*s, "document")) return;
    if (type == "string") return string(*s, v, path);
    if (type == "integer" || type == "long" || type == "short" || type == "byte") return integer(type, *s, v, path);
    if (type == "float" || type == "double") return floating(*s, v, path);
    if (type == "boolean") {
      if (!v.is_bool()) add(path, std::string("must be a boolean (true or false), not ") + std::string(model_kind(v)));
      return;
    }
    if (type == "timestamp") {
      if (v.is_number()) return;
      if (v.is_string() && parse_timestamp(v.get_string())) return;
      add(path, std::string("must be a timestamp (epoch seconds or an ISO 8601 date-time such as "
                            "2024-01-31T12:00:00Z), not ") +
                    (v.is_string() ? model_quote(v.get_string()) : std::string(model_kind(v))));
      return;
    }
    if (type == "blob") {
      if (!v.is_string()) add(path, std::string("must be a string (binary data), not ") + std::string(model_kind(v)));
      else lengths(*s, v.get_string().size(), path, "bytes");
      return;
    }
  }

private:
  boost::json::object const* find(std::string_view name) const {
    if (auto const* v = shapes_.if_contains(name); v && v->is_object()) return &v->get_object();
    return nullptr;
  }

  void add(std::string const& path, std::string message) { out_.push_back({path, std::move(message)}); }

  void structure(std::string_view name, boost::json::object const& s, boost::json::value const& v,
                 std::string const& path, int depth) {
    if (!v.is_object()) {
      add(path, std::string("must be an object (") + std::string(name) + "), not " + std::string(model_kind(v)));
      return;
    }
    auto const& obj = v.get_object();
    static boost::json::object const no_members;
    auto const* members_v = s.if_contains("members");
    auto const& members = members_v && members_v->is_object() ? members_v->get_object() : no_members;
    std::size_t set = 0;
    for (auto const& kv : obj) {
      auto const* ref = members.if_contains(kv.key());
      if (!ref || !ref->is_object()) {
        std::vector<std::string_view> names;
        for (auto const& m : members) names.push_back(m.key());
        std::string msg = "unknown member of " + std::string(name);
        if (auto c = model_closest(kv.key(), names); !c.empty()) msg += "; did you mean '" + c + "'?";
        else if (names.empty()) msg += ", which has no members";
        else {
          msg += "; expected one of ";
          for (std::size_t i = 0; i < names.size() && i < 12; ++i) msg += (i ? ", " : "") + std::string(names[i]);
          if (names.size() > 12) msg += ", …";
        }
        add(model_member_path(path, kv.key()), std::move(msg));
        continue;
      }
      if (kv.value().is_null()) continue;
      ++set;
      shape(model_string(ref->get_object(), "shape"), kv.value(), model_member_path(path, kv.key()), depth + 1);
    }
    if (auto const* req = s.if_contains("required"); req && req->is_array()) {
      for (auto const& r : req->get_array()) {
        if (!r.is_string()) continue;
        auto const* got = obj.if_contains(r.get_string());
        if (!got || got->is_null()) {
          std::string msg = "is required by " + std::string(name) + " but missing";
          if (auto const* ref = members.if_contains(r.get_string()); ref && ref->is_object())
            if (auto const* ms = find(model_string(ref->get_object(), "shape")))
              msg += " (" + std::string(model_string(*ms, "type")) + ")";
          add(model_member_path(path, r.get_string()), std::move(msg));
        }
      }
    }
    if (model_flag(s, "union") && set > 1)
      add(path, "sets " + std::to_string(set) + " members of " + std::string(name) +
                    ", which is a union: set exactly one");
  }

  void list(boost::json::object const& s, boost::json::value const& v, std::string const& path, int depth) {
    if (!v.is_array()) {
      add(path, std::string("must be a list, not ") + std::string(model_kind(v)));
      return;
    }
    auto const& arr = v.get_array();
    sizes(s, arr.size(), path);
    auto const* member = s.if_contains("member");
    if (!member || !member->is_object()) return;
    auto const member_shape = model_string(member->get_object(), "shape");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (arr[i].is_null()) {
        add(path + "[" + std::to_string(i) + "]", "must not be null");
        continue;
      }
      shape(member_shape, arr[i], path + "[" + std::to_string(i) + "]", depth + 1);
    }
  }

  void map(boost::json::object const& s, boost::json::value const& v, std::string const& path, int depth) {
    if (!v.is_object()) {
      add(path, std::string("must be an object (a map), not ") + std::string(model_kind(v)));
      return;
    }
    auto const& obj = v.get_object();
    sizes(s, obj.size(), path);
    auto const* key = s.if_contains("key");
    auto const* value = s.if_contains("value");
    auto const key_shape = key && key->is_object() ? model_string(key->get_object(), "shape") : std::string_view();
    auto const value_shape = value && value->is_object() ? model_string(value->get_object(), "shape") : std::string_view();
    for (auto const& kv : obj) {
      auto const member_path = model_member_path(path, kv.key());
      if (!key_shape.empty()) {
        // Problems of a key are reported at the entry, saying it is the key.
        std::vector<model_problem> key_problems;
        model_validator(shapes_, key_problems).shape(key_shape, boost::json::value(kv.key()), member_path, depth + 1);
        for (auto& p : key_problems) add(member_path, "the key " + p.message);
      }
      if (kv.value().is_null()) {
        add(member_path, "must not be null");
        continue;
      }
      if (!value_shape.empty()) shape(value_shape, kv.value(), member_path, depth + 1);
    }
  }

  void string(boost::json::object const& s, boost::json::value const& v, std::string const& path) {
    if (!v.is_string()) {
      add(path, std::string("must be a string, not ") + std::string(model_kind(v)));
      return;
    }
    std::string_view const text = v.get_string();
    if (auto const* e = s.if_contains("enum"); e && e->is_array() && !e->get_array().empty()) {
      auto const& values = e->get_array();
      bool found = false;
      std::vector<std::string_view> names;
      for (auto const& x : values)
        if (x.is_string()) {
          names.push_back(x.get_string());
          if (x.get_string() == text) found = true;
        }
      if (!found) {
        std::string msg = "must be one of ";
        std::size_t const shown = std::min<std::size_t>(names.size(), 8);
        for (std::size_t i = 0; i < shown; ++i) msg += (i ? ", " : "") + std::string(names[i]);
        if (names.size() > shown) msg += ", … (" + std::to_string(names.size()) + " values)";
        msg += ", not " + model_quote(text);
        if (auto c = model_closest(text, names); !c.empty()) msg += "; did you mean '" + c + "'?";
        add(path, std::move(msg));
        return;
      }
    }
    lengths(s, utf8_length(text), path, "characters");
    if (auto p = model_string(s, "pattern"); !p.empty())
      if (!pattern_matches(std::string(p), text))
        add(path, "does not match the pattern " + std::string(p) + " the service requires");
  }

  void integer(std::string_view type, boost::json::object const& s, boost::json::value const& v,
               std::string const& path) {
    bool ok = v.is_int64() || v.is_uint64();
    if (!ok && v.is_double()) {
      double whole = 0;
      ok = std::modf(v.get_double(), &whole) == 0.0;
    }
    if (!ok) {
      add(path, std::string("must be an integer, not ") + std::string(model_kind(v)));
      return;
    }
    auto const x = *model_number(&v);
    if (type == "integer" && (x < -2147483648.0 || x > 2147483647.0)) {
      add(path, model_number_text(v) + " does not fit in a 32-bit integer");
      return;
    }
    range(s, v, x, path);
  }

  void floating(boost::json::object const& s, boost::json::value const& v, std::string const& path) {
    if (v.is_string() && (v.get_string() == "NaN" || v.get_string() == "Infinity" || v.get_string() == "-Infinity"))
      return;
    if (!v.is_number()) {
      add(path, std::string("must be a number, not ") + std::string(model_kind(v)));
      return;
    }
    range(s, v, *model_number(&v), path);
  }

  void range(boost::json::object const& s, boost::json::value const& v, double x, std::string const& path) {
    if (auto m = model_number(s.if_contains("min")); m && x < *m)
      add(path, model_number_text(v) + " is below the minimum of " + model_number_text(*s.if_contains("min")));
    if (auto m = model_number(s.if_contains("max")); m && x > *m)
      add(path, model_number_text(v) + " exceeds the maximum of " + model_number_text(*s.if_contains("max")));
  }

  void lengths(boost::json::object const& s, std::size_t n, std::string const& path, std::string_view unit) {
    if (auto m = model_number(s.if_contains("min")); m && static_cast<double>(n) < *m)
      add(path, "length " + std::to_string(n) + " is below the minimum of " +
                    model_number_text(*s.if_contains("min")) + " " + std::string(unit));
    if (auto m = model_number(s.if_contains("max")); m && static_cast<double>(n) > *m)
      add(path, "length " + std::to_string(n) + " exceeds the maximum of " +
                    model_number_text(*s.if_contains("max")) + " " + std::string(unit));
  }

  void sizes(boost::json::object const& s, std::size_t n, std::string const& path) {
    if (auto m = model_number(s.if_contains("min")); m && static_cast<double>(n) < *m)
      add(path, "has " + std::to_string(n) + " entries, fewer than the minimum of " +
                    model_number_text(*s.if_contains("min")));
    if (auto m = model_number(s.if_contains("max")); m && static_cast<double>(n) > *m)
      add(path, "has " + std::to_string(n) + " entries, more than the maximum of " +
                    model_number_text(*s.if_contains("max")));
  }

  boost::json::object const& shapes_;
  std::vector<model_problem>& out_;
};

/// Converts between the model's form of a value and the JSON 1.1 wire form.
class model_converter {
public:
  model_converter(boost::json::object const& shapes, bool to_wire) : shapes_(shapes), to_wire_(to_wire) {}

  result<boost::json::value> shape(std::string_view name, boost::json::value const& v, std::string const& path,
                                   std::string_view timestamp_format = {}) {
    auto const* sv = shapes_.if_contains(name);
    if (!sv || !sv->is_object())
      return fail(path, "the model has no shape " + std::string(name));
    auto const& s = sv->get_object();
    auto const type = model_string(s, "type");
    if (model_flag(s, "document")) return v;
    if (type == "structure") return structure(name, s, v, path);
    if (type == "list") {
      if (!v.is_array()) return fail(path, "must be a list, not " + std::string(model_kind(v)));
      boost::json::array out;
      auto const* member = s.if_contains("member");
      auto const member_shape = member && member->is_object() ? model_string(member->get_object(), "shape")
                                                              : std::string_view();
      auto const& arr = v.get_array();
      for (std::size_t i = 0; i < arr.size(); ++i) {
        auto const item_path = path + "[" + std::to_string(i) + "]";
        if (arr[i].is_null()) {
          out.push_back(nullptr);
          continue;
        }
        auto r = shape(member_shape, arr[i], item_path);
        if (!r) return r;
        out.push_back(std::move(*r));
      }
      return boost::json::value(std::move(out));
    }
    if (type == "map") {
      if (!v.is_object()) return fail(path, "must be an object (a map), not " + std::string(model_kind(v)));
      boost::json::object out;
      auto const* value = s.if_contains("value");
      auto const value_shape = value && value->is_object() ? model_string(value->get_object(), "shape")
                                                           : std::string_view();
      for (auto const& kv : v.get_object()) {
        if (kv.value().is_null()) continue;
        auto r = shape(value_shape, kv.value(), model_member_path(path, kv.key()));
        if (!r) return r;
        out[kv.key()] = std::move(*r);
      }
      return boost::json::value(std::move(out));
    }
    if (type == "timestamp") {
      auto const format = timestamp_format.empty() ? model_string(s, "timestampFormat") : timestamp_format;
      return timestamp(format, v, path);
    }
    if (type == "blob") {
      if (!v.is_string()) return fail(path, "must be a string (binary data), not " + std::string(model_kind(v)));
      if (to_wire_) return boost::json::value(liftoff::detail::base64_encode(v.get_string()));
      auto decoded = liftoff::detail::base64_decode(v.get_string());
      if (!decoded) return fail(path, "is not valid base64");
      return boost::json::value(*decoded);
    }
    return v;
  }

private:
  result<boost::json::value> fail(std::string const& path, std::string message) const {
    return diagnostic(error::invalid_spec,
                      (path.empty() ? std::string() : path + ": ") + message + (to_wire_ ? " (converting a request)"
                                                                                         : " (reading a response)"));
  }

  result<boost::json::value> structure(std::string_view name, boost::json::object const& s,
                                       boost::json::value const& v, std::string const& path) {
    if (!v.is_object())
      return fail(path, "must be an object (" + std::string(name) + "), not " + std::string(model_kind(v)));
    static boost::json::object const no_members;
    auto const* members_v = s.if_contains("members");
    auto const& members = members_v && members_v->is_object() ? members_v->get_object() : no_members;
    boost::json::object out;
    if (to_wire_) {
      for (auto const& kv : v.get_object()) {
        if (kv.value().is_null()) continue;
        auto const* ref = members.if_contains(kv.key());
        if (!ref || !ref->is_object())
          return fail(model_member_path(path, kv.key()), "is not a member of " + std::string(name));
        auto const& r = ref->get_object();
        if (model_flag(r, "jsonvalue")) {
          out[model_wire_name(kv.key(), r)] = kv.value();
          continue;
        }
        auto c = shape(model_string(r, "shape"), kv.value(), model_member_path(path, kv.key()),
                       model_string(r, "timestampFormat"));
        if (!c) return c;
        out[model_wire_name(kv.key(), r)] = std::move(*c);
      }
    } else {
      auto const& in = v.get_object();
      for (auto const& m : members) {
        if (!m.value().is_object()) continue;
        auto const& r = m.value().get_object();
        auto const* got = in.if_contains(model_wire_name(m.key(), r));
        if (!got || got->is_null()) continue;
        if (model_flag(r, "jsonvalue")) {
          out[m.key()] = *got;
          continue;
        }
        auto c = shape(model_string(r, "shape"), *got, model_member_path(path, m.key()),
                       model_string(r, "timestampFormat"));
        if (!c) return c;
        out[m.key()] = std::move(*c);
      }
    }
    return boost::json::value(std::move(out));
  }

  result<boost::json::value> timestamp(std::string_view format, boost::json::value const& v,
                                       std::string const& path) {
    std::optional<double> t = model_number(&v);
    if (!t && v.is_string()) t = parse_timestamp(v.get_string());
    if (!t)
      return fail(path, "must be a timestamp (epoch seconds or an ISO 8601 date-time), not " +
                            (v.is_string() ? model_quote(v.get_string()) : std::string(model_kind(v))));
    if (!to_wire_) return epoch_value(*t);
    if (format == "iso8601") return boost::json::value(format_iso8601(*t));
    if (format == "rfc822") return boost::json::value(format_http_date(*t));
    return epoch_value(*t);
  }

  boost::json::object const& shapes_;
  bool to_wire_;
};

LIFTOFF_DECL boost::json::object const& model_section(boost::json::object const& doc, std::string_view key) {
  static boost::json::object const empty;
  if (auto const* v = doc.if_contains(key); v && v->is_object()) return v->get_object();
  return empty;
}

}  // namespace detail

LIFTOFF_DECL result<service_model> service_model::load(std::filesystem::path const& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return diagnostic(error::file_not_found, "AWS service model " + file.string() +
                                                 " does not exist (expected a botocore service-2.json)");
  std::ifstream in(file, std::ios::binary);
  if (!in) return diagnostic(error::file_unreadable, "AWS service model " + file.string() + " cannot be read");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code jec;
  auto doc = boost::json::parse(text, jec);
  if (jec)
    return diagnostic(error::parse_error, "AWS service model " + file.string() + " is not valid JSON (" +
                                              jec.message() + "); expected a botocore service-2.json");
  auto m = from_json(std::move(doc));
  if (!m) return diagnostic(m.error().code, "AWS service model " + file.string() + ": " + m.error().message);
  return m;
}

LIFTOFF_DECL result<service_model> service_model::from_json(boost::json::value doc) {
  if (!doc.is_object() || !doc.get_object().if_contains("operations") ||
      !doc.get_object().at("operations").is_object() || !doc.get_object().if_contains("shapes") ||
      !doc.get_object().at("shapes").is_object())
    return diagnostic(error::invalid_spec,
                      "the document has no \"operations\" and \"shapes\" objects; expected a botocore service-2.json");
  service_model m;
  m.doc_ = std::make_shared<boost::json::object const>(std::move(doc.get_object()));
  return m;
}

LIFTOFF_DECL boost::json::object const& service_model::metadata() const {
  return detail::model_section(*doc_, "metadata");
}

LIFTOFF_DECL bool service_model::has_operation(std::string_view operation) const {
  auto const* op = detail::model_section(*doc_, "operations").if_contains(operation);
  return op && op->is_object();
}

LIFTOFF_DECL std::string service_model::input_shape(std::string_view operation) const {
  auto const* op = detail::model_section(*doc_, "operations").if_contains(operation);
  if (!op || !op->is_object()) return {};
  auto const* in = op->get_object().if_contains("input");
  if (!in || !in->is_object()) return {};
  return std::string(detail::model_string(in->get_object(), "shape"));
}

LIFTOFF_DECL std::string service_model::output_shape(std::string_view operation) const {
  auto const* op = detail::model_section(*doc_, "operations").if_contains(operation);
  if (!op || !op->is_object()) return {};
  auto const* out = op->get_object().if_contains("output");
  if (!out || !out->is_object()) return {};
  return std::string(detail::model_string(out->get_object(), "shape"));
}

LIFTOFF_DECL boost::json::object const* service_model::shape(std::string_view name) const {
  auto const* s = detail::model_section(*doc_, "shapes").if_contains(name);
  return s && s->is_object() ? &s->get_object() : nullptr;
}

LIFTOFF_DECL std::vector<model_problem> service_model::validate(std::string_view shape_name,
                                                          boost::json::value const& v) const {
  std::vector<model_problem> out;
  detail::model_validator(detail::model_section(*doc_, "shapes"), out).shape(shape_name, v, "");
  return out;
}

LIFTOFF_DECL std::vector<model_problem> service_model::validate_input(std::string_view operation,
                                                                boost::json::value const& v) const {
  auto const service = std::string(detail::model_string(metadata(), "serviceId"));
  if (!has_operation(operation)) {
    std::vector<std::string_view> names;
    for (auto const& kv : detail::model_section(*doc_, "operations")) names.push_back(kv.key());
    std::string msg = (service.empty() ? std::string("the service") : service) + " has no operation " +
                      std::string(operation);
    if (auto c = detail::model_closest(operation, names); !c.empty()) msg += "; did you mean " + c + "?";
    return {{"", std::move(msg)}};
  }
  auto const in = input_shape(operation);
  if (in.empty()) {
    if (v.is_null() || (v.is_object() && v.get_object().empty())) return {};
    return {{"", std::string(operation) + " takes no input, but a value was given"}};
  }
  if (v.is_null()) return validate(in, boost::json::object());
  return validate(in, v);
}

LIFTOFF_DECL result<boost::json::value> service_model::serialize(std::string_view shape_name,
                                                           boost::json::value const& v) const {
  return detail::model_converter(detail::model_section(*doc_, "shapes"), true).shape(shape_name, v, "");
}

LIFTOFF_DECL result<boost::json::value> service_model::deserialize(std::string_view shape_name,
                                                             boost::json::value const& v) const {
  return detail::model_converter(detail::model_section(*doc_, "shapes"), false).shape(shape_name, v, "");
}

namespace detail {

/// Whether the model file `file` describes `service` (its signingName, endpointPrefix or serviceId).
LIFTOFF_DECL bool model_file_is_for(std::filesystem::path const& file, std::string_view service) {
  auto m = service_model::load(file);
  if (!m) return false;
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
  };
  auto const want = lower(service);
  auto const& md = m->metadata();
  auto prefix = lower(model_string(md, "endpointPrefix"));
  if (prefix.starts_with("api.")) prefix = prefix.substr(4);
  return lower(model_string(md, "signingName")) == want || prefix == want ||
         lower(model_string(md, "serviceId")) == want;
}

/// `<data>/<service>/<version>/service-2.json`; the newest version when `api_version` is empty.
LIFTOFF_DECL std::optional<std::filesystem::path> model_in_data_dir(std::filesystem::path const& data,
                                                              std::string_view service,
                                                              std::string_view api_version) {
  std::error_code ec;
  auto const dir = data / std::string(service);
  if (!api_version.empty()) {
    auto const f = dir / std::string(api_version) / "service-2.json";
    if (std::filesystem::is_regular_file(f, ec)) return f;
    return std::nullopt;
  }
  std::optional<std::filesystem::path> best;
  std::string best_version;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    auto const f = it->path() / "service-2.json";
    auto const version = it->path().filename().string();
    if (std::filesystem::is_regular_file(f, ec) && version > best_version) {
      best_version = version;
      best = f;
    }
  }
  return best;
}

/// `<lib>/python3*/{dist,site}-packages/botocore/data` under `lib`.
LIFTOFF_DECL void botocore_dirs_under(std::filesystem::path const& lib, std::vector<std::filesystem::path>& out) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(lib, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (!it->path().filename().string().starts_with("python3")) continue;
    for (char const* packages : {"dist-packages", "site-packages"}) out.push_back(it->path() / packages / "botocore" / "data");
  }
}

}  // namespace detail

LIFTOFF_DECL std::optional<std::filesystem::path> find_model(credentials_options const& o, std::string_view service,
                                                       std::string_view api_version) {
  std::error_code ec;
  if (auto const configured = o.env("LIFTOFF_AWS_MODELS"); !configured.empty()) {
    // A list like PATH: directories laid out as botocore's data, or model files.
    std::string_view rest = configured;
    while (!rest.empty()) {
      auto const colon = rest.find(':');
      std::filesystem::path const p(std::string(rest.substr(0, colon)));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (p.empty()) continue;
      if (std::filesystem::is_regular_file(p, ec)) {
        if (detail::model_file_is_for(p, service)) return p;
        continue;
      }
      if (auto f = detail::model_in_data_dir(p, service, api_version)) return f;
    }
  }
  std::vector<std::filesystem::path> dirs{"/usr/lib/python3/dist-packages/botocore/data"};
  detail::botocore_dirs_under("/usr/local/lib", dirs);
  detail::botocore_dirs_under("/usr/lib", dirs);
  std::filesystem::path home = o.home.empty() ? std::filesystem::path(o.env("HOME")) : o.home;
  if (!home.empty()) detail::botocore_dirs_under(home / ".local" / "lib", dirs);
  for (auto const& d : dirs)
    if (auto f = detail::model_in_data_dir(d, service, api_version)) return f;
  return std::nullopt;
}

}  // namespace liftoff::aws

#endif
