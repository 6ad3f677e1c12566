#ifndef LIFTOFF_CORE_IMPL_PARSE_IPP
#define LIFTOFF_CORE_IMPL_PARSE_IPP

#include <liftoff/core/parse.hpp>
#include <liftoff/detail/hex.hpp>
#include <liftoff/detail/quote.hpp>
#include <boost/json/value_to.hpp>

#include <liftoff/core/detail/json_fields.hpp>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <boost/json/string.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace liftoff {

namespace detail {

/// "launch spec: field '<path>': <problem>".
LIFTOFF_DECL diagnostic spec_field_error(std::string_view path, std::string_view problem) {
  return diagnostic(error::invalid_spec, "launch spec: field '" + std::string(path) + "': " + std::string(problem));
}

LIFTOFF_DECL std::string nul_problem(std::size_t at) {
  return "contains a NUL character at byte " + std::to_string(at) +
         "; an argument, an environment variable or a path would end there";
}

/// A string that reaches exec, the environment or a file path: no NUL.
LIFTOFF_DECL result<void> check_no_nul(std::string_view s, std::string_view path) {
  if (auto at = liftoff::detail::find_nul(s)) return spec_field_error(path, nul_problem(*at));
  return {};
}

LIFTOFF_DECL result<void> check_no_nul(std::vector<std::string> const& argv, std::string_view path) {
  for (std::size_t i = 0; i < argv.size(); ++i)
    if (auto r = check_no_nul(argv[i], std::string(path) + "[" + std::to_string(i) + "]"); !r) return r;
  return {};
}

/// No NUL in any string or key inside `v` (resource arguments become flags, environments and manifests).
LIFTOFF_DECL result<void> check_no_nul_within(boost::json::value const& v, std::string const& path) {
  if (auto const* s = v.if_string()) return check_no_nul(*s, path);
  if (auto const* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i)
      if (auto r = check_no_nul_within((*a)[i], path + "[" + std::to_string(i) + "]"); !r) return r;
  } else if (auto const* o = v.if_object()) {
    for (auto const& kv : *o) {
      if (auto at = liftoff::detail::find_nul(kv.key()))
        return spec_field_error(path, "the key " + liftoff::detail::quote_excerpt(kv.key()) + " " + nul_problem(*at));
      if (auto r = check_no_nul_within(kv.value(), path + path_key(kv.key())); !r) return r;
    }
  }
  return {};
}

/// A name a person reads back (in `liftoff run list`, a dashboard, a log): printable text.
LIFTOFF_DECL result<void> check_printable_name(std::string_view s, std::string_view path) {
  if (auto problem = liftoff::detail::describe_unprintable(s); !problem.empty())
    return spec_field_error(path, problem + "; names are printable text");
  return {};
}

/// The text checks of `parse_launch_spec`, once its fields are read.
LIFTOFF_DECL result<void> check_spec_text(launch_spec const& s) {
  result<void> r;
  if (auto const* img = std::get_if<image_ref>(&s.source)) r = check_no_nul(img->image, "image");
  else if (auto const* g = std::get_if<git_ref>(&s.source)) {
    r = check_no_nul(g->remote, "git.remote");
    if (r) r = check_no_nul(g->version, "git.version");
  } else if (auto const* c = std::get_if<code_dir>(&s.source))
    r = check_no_nul(c->path.native(), "code");
  if (!r) return r;
  if (r = check_no_nul(s.entry_point, "entry_point"); !r) return r;
  if (s.overrides.entry_point)
    if (r = check_no_nul(*s.overrides.entry_point, "overrides.entry_point"); !r) return r;
  if (r = check_no_nul(s.overrides.args, "overrides.args"); !r) return r;
  for (auto [text, path] : {std::pair<std::string_view, std::string_view>{s.build_context, "build_context"},
                            {s.dockerfile, "dockerfile"},
                            {s.base_image, "base_image"}})
    if (r = check_no_nul(text, path); !r) return r;
  for (auto [text, path] : {std::pair<std::string_view, std::string_view>{s.resource, "resource"},
                            {s.project, "project"},
                            {s.name, "name"},
                            {s.job_name, "job_name"},
                            {s.author, "author"},
                            {s.queue, "queue"}})
    if (r = check_printable_name(text, path); !r) return r;
  return check_no_nul_within(s.resource_args, "resource_args");
}

/// A secret has an id of letters, digits, '.', '_' or '-', and exactly one of src and env.
LIFTOFF_DECL result<void> check_build_secret(build_secret const& b, std::string_view path) {
  auto bad_id = [](std::string_view id) {
    return id.empty() || id.size() > 255 || std::any_of(id.begin(), id.end(), [](char c) {
      return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
    });
  };
  if (bad_id(b.id))
    return diagnostic(error::invalid_spec, std::string(path) + ".id: expected a name of letters, digits, '.', '_' or '-', got " +
                                               liftoff::detail::quote_plain(b.id));
  if (b.src.empty() == b.env.empty())
    return diagnostic(error::invalid_spec, std::string(path) + ": give the secret '" + b.id +
                                               "' either src (a file) or env (an environment variable)");
  if (auto r = check_no_nul(b.src, std::string(path) + ".src"); !r) return r;
  return {};
}

}  // namespace detail

LIFTOFF_DECL result<build_secret> parse_build_secret(std::string_view text, std::string_view field) {
  build_secret b;
  std::string type;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return diagnostic(error::invalid_spec, std::string(field) + ": expected KEY=VALUE pairs (id=NAME,src=PATH or id=NAME,env=VAR), got " +
                                                 liftoff::detail::quote_excerpt(part));
    auto key = part.substr(0, eq);
    std::string value(part.substr(eq + 1));
    if (key == "id") b.id = std::move(value);
    else if (key == "src" || key == "source") b.src = std::move(value);
    else if (key == "env") b.env = std::move(value);
    else if (key == "type") {
      if (value != "file" && value != "env")
        return diagnostic(error::invalid_spec, std::string(field) + ": type must be file or env, got " +
                                                   liftoff::detail::quote_plain(value));
      type = std::move(value);
    } else
      return detail::unknown_field(key, std::string(field), {"id", "src", "env", "type"});
  }
  if (type == "env" && !b.src.empty() && b.env.empty()) b.env = std::exchange(b.src, {});
  if (b.src.empty() && b.env.empty()) b.env = b.id;
  if (auto r = detail::check_build_secret(b, field); !r) return r.error();
  return b;
}

LIFTOFF_DECL result<launch_spec> parse_launch_spec(boost::json::value const& v) {
  using namespace std::string_view_literals;
  auto const* obj = v.if_object();
  if (!obj) return detail::type_error("launch spec", "an object", v);

  static std::vector<std::string_view> const known = {
      "image", "git", "code", "entry_point", "build_context", "dockerfile", "base_image", "build_secrets", "overrides", "resource",
      "resource_args", "project", "name", "job_name", "run_id", "author", "queue"};

  launch_spec s;
  int sources = 0;
  for (auto const& kv : *obj) {
    std::string_view key = kv.key();
    auto const& val = kv.value();
    auto str = [&](std::string& out) -> result<void> {
      auto r = detail::get_string(val, key);
      if (!r) return r.error();
      out = std::move(*r);
      return {};
    };
    result<void> r;
    if (key == "image") {
      ++sources;
      image_ref img;
      r = str(img.image);
      if (r && img.image.empty()) r = diagnostic(error::invalid_spec, "image: expected an image reference, got an empty string");
      s.source = std::move(img);
    } else if (key == "git") {
      ++sources;
      git_ref g;
      if (auto const* gs = val.if_string()) g.remote = std::string(*gs);
      else if (auto const* go = val.if_object()) {
        for (auto const& gkv : *go) {
          std::string path = "git." + std::string(gkv.key());
          if (gkv.key() == "remote" || gkv.key() == "version") {
            auto gr = detail::get_string(gkv.value(), path);
            if (!gr) { r = gr.error(); break; }
            (gkv.key() == "remote" ? g.remote : g.version) = std::move(*gr);
          } else {
            r = detail::unknown_field(gkv.key(), "git", {"remote", "version"});
            break;
          }
        }
      } else r = detail::type_error("git", "an object with remote and version, or a remote URL", val);
      if (r && g.remote.empty()) r = diagnostic(error::invalid_spec, "git.remote: expected a repository URL");
      s.source = std::move(g);
    } else if (key == "code") {
      ++sources;
      code_dir c;
      if (auto const* cs = val.if_string()) {
        c.path = std::string(*cs);
        if (c.path.empty()) r = diagnostic(error::invalid_spec, "code: expected a directory path, got an empty string");
      } else if (auto const* co = val.if_object()) {
        for (auto const& ckv : *co) {
          std::string path = "code." + std::string(ckv.key());
          if (ckv.key() == "path" || ckv.key() == "artifact") {
            auto cr = detail::get_string(ckv.value(), path);
            if (!cr) { r = cr.error(); break; }
            if (ckv.key() == "path") c.path = std::move(*cr);
            else c.artifact = std::move(*cr);
          } else {
            r = detail::unknown_field(ckv.key(), "code", {"path", "artifact"});
            break;
          }
        }
        if (r && c.path.empty() && c.artifact.empty())
          r = diagnostic(error::invalid_spec, "code: expected a path, an artifact or both");
        if (r && !c.artifact.empty() && !liftoff::detail::is_sha256_digest(c.artifact))
          r = diagnostic(error::invalid_spec, "code.artifact: expected \"sha256:\" and 64 lowercase hex digits, got " +
                                                  liftoff::detail::quote_excerpt(c.artifact));
      } else r = detail::type_error("code", "a directory path, or an object with path and artifact", val);
      s.source = std::move(c);
    } else if (key == "entry_point") {
      auto c = detail::get_command(val, "entry_point");
      if (c) s.entry_point = std::move(*c);
      else r = c.error();
    } else if (key == "build_context") r = str(s.build_context);
    else if (key == "dockerfile") r = str(s.dockerfile);
    else if (key == "base_image") r = str(s.base_image);
    else if (key == "build_secrets") {
      auto const* arr = val.if_array();
      if (!arr) r = detail::type_error("build_secrets", "an array of {id, src or env}, or of \"id=NAME,src=PATH\"", val);
      else
        for (std::size_t i = 0; r && i < arr->size(); ++i) {
          std::string path = "build_secrets[" + std::to_string(i) + "]";
          auto const& item = (*arr)[i];
          if (auto const* text = item.if_string()) {
            auto b = parse_build_secret(*text, path);
            if (b) s.build_secrets.push_back(std::move(*b));
            else r = b.error();
          } else if (auto const* bo = item.if_object()) {
            build_secret b;
            for (auto const& bkv : *bo) {
              auto field = path + "." + std::string(bkv.key());
              std::string* out = bkv.key() == "id" ? &b.id : bkv.key() == "src" ? &b.src : bkv.key() == "env" ? &b.env : nullptr;
              if (!out) {
                r = detail::unknown_field(bkv.key(), path, {"id", "src", "env"});
                break;
              }
              auto v = detail::get_string(bkv.value(), field);
              if (!v) { r = v.error(); break; }
              *out = std::move(*v);
            }
            if (r) r = detail::check_build_secret(b, path);
            if (r) s.build_secrets.push_back(std::move(b));
          } else r = detail::type_error(path, "an object {id, src or env} or \"id=NAME,src=PATH\"", item);
        }
    }
    else if (key == "resource") r = str(s.resource);
    else if (key == "project") r = str(s.project);
    else if (key == "name") r = str(s.name);
    else if (key == "job_name") r = str(s.job_name);
    else if (key == "author") r = str(s.author);
    else if (key == "queue") r = str(s.queue);
    else if (key == "run_id") {
      r = str(s.run_id);
      if (r && !detail::valid_run_id(s.run_id))
        r = diagnostic(error::invalid_spec, "run_id: expected 1 to 63 lowercase letters, digits or '-' "
                                            "(not at either end), got " + liftoff::detail::quote_plain(s.run_id));
    } else if (key == "resource_args") {
      auto const* ra = val.if_object();
      if (!ra) r = detail::type_error("resource_args", "an object keyed by resource name", val);
      else {
        for (auto const& rkv : *ra)
          if (!rkv.value().is_object()) {
            r = detail::type_error("resource_args" + detail::path_key(rkv.key()), "an object", rkv.value());
            break;
          }
        if (r) s.resource_args = *ra;
      }
    } else if (key == "overrides") {
      auto const* ov = val.if_object();
      if (!ov) r = detail::type_error("overrides", "an object", val);
      else
        for (auto const& okv : *ov) {
          std::string path = "overrides." + std::string(okv.key());
          if (okv.key() == "args") {
            auto a = detail::get_string_array(okv.value(), path);
            if (a) s.overrides.args = std::move(*a);
            else r = a.error();
          } else if (okv.key() == "run_config") {
            if (auto const* rc = okv.value().if_object()) s.overrides.run_config = *rc;
            else r = detail::type_error(path, "an object", okv.value());
          } else if (okv.key() == "entry_point") {
            auto c = detail::get_command(okv.value(), path);
            if (c) s.overrides.entry_point = std::move(*c);
            else r = c.error();
          } else r = detail::unknown_field(okv.key(), "overrides", {"args", "run_config", "entry_point"});
          if (!r) break;
        }
    } else {
      r = detail::unknown_field(key, "launch spec", known);
    }
    if (!r) return r.error();
  }
  if (sources > 1)
    return diagnostic(error::invalid_spec, "launch spec: give only one of image, git and code as the job's source");
  if (auto t = detail::check_spec_text(s); !t) return t.error();
  return s;
}

LIFTOFF_DECL boost::system::result<launch_spec> tag_invoke(boost::json::try_value_to_tag<launch_spec>,
                                                     boost::json::value const& v) {
  auto r = parse_launch_spec(v);
  if (!r) return r.error().code;
  return std::move(*r);
}

// ---- configuration files ---------------------------------------------------

namespace detail {

/** The handler `boost::json::parser` has (the value built on a
    `value_stack`), which also remembers the keys of each open object and
    stops at the first one an object names twice: Boost.JSON 1.81 has no
    parse option for that and keeps the last silently, so two readers of one
    document could disagree on what it says. */
struct unique_keys_handler {
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  /// An open array or object: which element is being read, for the path of a duplicate.
  struct frame {
    bool array = false;
    std::size_t index = 0;                    // an array's element being read
    std::string key;                          // an object's key being read
    std::set<std::string, std::less<>> keys;  // an object's keys so far
  };

  boost::json::value_stack st;
  std::vector<frame> open;
  std::string key;  // the parts of a key so far
  std::optional<std::string> duplicate;
  std::string duplicate_path;  // of the object that named it twice; empty: the top level

  void element_done() {
    if (!open.empty() && open.back().array) ++open.back().index;
  }
  bool begin(bool array) {
    open.push_back({array, 0, {}, {}});
    return true;
  }
  void end() {
    open.pop_back();
    element_done();
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return begin(false); }
  bool on_object_end(std::size_t n, error_code&) {
    st.push_object(n);
    end();
    return true;
  }
  bool on_array_begin(error_code&) { return begin(true); }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    end();
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, error_code&) {
    key.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, error_code& ec) {
    key.append(s.data(), s.size());
    auto& obj = open.back();
    if (!obj.keys.insert(key).second) {
      for (std::size_t i = 0; i + 1 < open.size(); ++i)
        duplicate_path += open[i].array ? "[" + std::to_string(open[i].index) + "]" : path_key(open[i].key);
      if (duplicate_path.starts_with('.')) duplicate_path.erase(0, 1);
      duplicate = std::move(key);
      ec = make_error_code(error::parse_error);
      return false;
    }
    obj.key = std::move(key);
    key.clear();
    st.push_key(s);
    return true;
  }
  bool on_string_part(boost::json::string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(boost::json::string_view s, std::size_t, error_code&) {
    st.push_string(s);
    element_done();
    return true;
  }
  bool on_number_part(boost::json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, boost::json::string_view, error_code&) {
    st.push_int64(i);
    element_done();
    return true;
  }
  bool on_uint64(std::uint64_t u, boost::json::string_view, error_code&) {
    st.push_uint64(u);
    element_done();
    return true;
  }
  bool on_double(double d, boost::json::string_view, error_code&) {
    st.push_double(d);
    element_done();
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    element_done();
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    element_done();
    return true;
  }
  bool on_comment_part(boost::json::string_view, error_code&) { return true; }
  bool on_comment(boost::json::string_view, error_code&) { return true; }
};

/// "<origin>: duplicate key "k" in <path> at line L, column C; …": what parse_json and parse_yaml say of a key named twice.
LIFTOFF_DECL std::string duplicate_key_message(std::string_view origin, std::string_view key, std::string_view path,
                                               std::size_t line, std::size_t column) {
  return std::string(origin) + ": duplicate key " + liftoff::detail::quote_excerpt(key) +
         (path.empty() ? std::string() : " in " + std::string(path)) + " at line " + std::to_string(line) +
         ", column " + std::to_string(column) + "; each key may appear only once in an object";
}

}  // namespace detail

LIFTOFF_DECL result<boost::json::value> parse_json(std::string_view text, std::string_view origin,
                                                   error duplicate_key) {
  boost::json::basic_parser<detail::unique_keys_handler> p{boost::json::parse_options()};
  p.handler().st.reset();
  error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  if (ec) {
    auto [line, col] = detail::line_column(text, n);
    if (auto const& dup = p.handler().duplicate)
      return diagnostic(duplicate_key, detail::duplicate_key_message(origin, *dup, p.handler().duplicate_path, line, col));
    return diagnostic(error::parse_error, std::string(origin) + ":" + std::to_string(line) + ":" +
                                              std::to_string(col) + ": invalid JSON: " + ec.message());
  }
  return p.handler().st.release();
}

namespace detail {

LIFTOFF_DECL boost::json::value yaml_scalar(YAML::Node const& n) {
  std::string const& s = n.Scalar();
  if (n.Tag() == "!") return boost::json::string(s);  // quoted: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::int64_t i = 0;
  if (auto [p, e] = std::from_chars(s.data(), s.data() + s.size(), i); e == std::errc() && p == s.data() + s.size())
    return i;
  double d = 0;
  if (auto [p, e] = std::from_chars(s.data(), s.data() + s.size(), d); e == std::errc() && p == s.data() + s.size())
    return d;
  return boost::json::string(s);
}

/// A mapping that names a key twice; yaml-cpp keeps both, so `yaml_to_json` finds them as it goes.
struct yaml_duplicate_key {
  std::string key;
  std::string path;
  YAML::Mark mark;
};

/** `n` as JSON; `path` is where `n` is, for the error about a duplicate key
    (thrown as `yaml_duplicate_key`). With aliases a YAML document is a
    graph: one whose node holds an alias of itself has no JSON form, and one
    that repeats an anchor that repeats an anchor (a "billion laughs")
    expands past any memory. The conversion stops at a depth and a number of
    values that no real file reaches; `nodes` counts the values made so far.
    Throws YAML::ParserException (the parse error, at the node's line and column). */
LIFTOFF_DECL boost::json::value yaml_to_json(YAML::Node const& n, std::string const& path, std::size_t& nodes,
                                             int depth) {
  constexpr int max_depth = 256;
  constexpr std::size_t max_nodes = 100000;
  if (depth > max_depth)
    throw YAML::ParserException(n.Mark(), "nested deeper than " + std::to_string(max_depth) +
                                              " levels (an alias inside the node it names?)");
  if (++nodes > max_nodes)
    throw YAML::ParserException(n.Mark(), "more than " + std::to_string(max_nodes) +
                                              " values once its aliases are expanded");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return yaml_scalar(n);
    case YAML::NodeType::Sequence: {
      boost::json::array a;
      for (auto const& e : n)
        a.push_back(yaml_to_json(e, path + "[" + std::to_string(a.size()) + "]", nodes, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      boost::json::object o;
      for (auto const& kv : n) {
        auto key = kv.first.as<std::string>();
        std::string at = path + path_key(key);
        if (o.contains(key)) throw yaml_duplicate_key{std::move(key), path, kv.first.Mark()};
        o[key] = yaml_to_json(kv.second, at, nodes, depth + 1);
      }
      return o;
    }
  }
  return nullptr;
}

}  // namespace detail

LIFTOFF_DECL result<boost::json::value> parse_yaml(std::string_view text, std::string_view origin) {
  try {
    std::size_t nodes = 0;
    return detail::yaml_to_json(YAML::Load(std::string(text)), "", nodes, 0);
  } catch (YAML::Exception const& e) {
    return diagnostic(error::parse_error, std::string(origin) + ":" + std::to_string(e.mark.line + 1) + ":" +
                                              std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  } catch (detail::yaml_duplicate_key const& d) {
    std::string_view path = d.path;
    if (path.starts_with('.')) path.remove_prefix(1);
    return diagnostic(error::parse_error, detail::duplicate_key_message(origin, d.key, path, d.mark.line + 1,
                                                                        d.mark.column + 1));
  }
}

LIFTOFF_DECL result<boost::json::value> load_config(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') return parse_json(text, "inline config");
  std::filesystem::path path(text);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return diagnostic(error::file_not_found, std::string(text) + ": no such config file (give a .json or .yaml "
                                                                 "file, or inline JSON starting with '{')");
  std::ifstream f(path, std::ios::binary);
  if (!f || std::filesystem::is_directory(path, ec))
    return diagnostic(error::file_unreadable, std::string(text) + ": cannot read the config file");
  std::ostringstream buf;
  buf << f.rdbuf();
  auto ext = path.extension().string();
  if (ext == ".yaml" || ext == ".yml") return parse_yaml(buf.str(), path.string());
  return parse_json(buf.str(), path.string());
}

}  // namespace liftoff

#endif
