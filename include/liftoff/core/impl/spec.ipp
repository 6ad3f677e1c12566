#ifndef LIFTOFF_CORE_IMPL_SPEC_IPP
#define LIFTOFF_CORE_IMPL_SPEC_IPP

#include <liftoff/core/spec.hpp>
#include <liftoff/core/detail/json_fields.hpp>
#include <liftoff/detail/lines.hpp>

#include <liftoff/detail/hex.hpp>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <random>
#include <sstream>

namespace liftoff {

// ---- small helpers ---------------------------------------------------------

LIFTOFF_DECL std::string_view json_kind_name(boost::json::value const& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "integer";
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "value";
}

namespace detail {

LIFTOFF_DECL diagnostic type_error(std::string_view path, std::string_view expected, boost::json::value const& got) {
  return diagnostic(error::invalid_spec,
                    std::string(path) + ": expected " + std::string(expected) + ", got " +
                        std::string(json_kind_name(got)));
}

LIFTOFF_DECL result<std::string> get_string(boost::json::value const& v, std::string_view path) {
  if (auto const* s = v.if_string()) return std::string(*s);
  return type_error(path, "a string", v);
}

LIFTOFF_DECL result<std::vector<std::string>> get_string_array(boost::json::value const& v, std::string_view path) {
  auto const* a = v.if_array();
  if (!a) return type_error(path, "an array of strings", v);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a->size(); ++i) {
    auto const* s = (*a)[i].if_string();
    if (!s) return type_error(std::string(path) + "[" + std::to_string(i) + "]", "a string", (*a)[i]);
    out.emplace_back(*s);
  }
  return out;
}

/// An argv given as an array of strings or as one string split shell-style.
LIFTOFF_DECL result<std::vector<std::string>> get_command(boost::json::value const& v, std::string_view path) {
  if (auto const* s = v.if_string()) {
    auto words = split_command_line(*s);
    if (!words) return diagnostic(error::invalid_spec, std::string(path) + ": " + words.error().message);
    return words;
  }
  if (v.is_array()) return get_string_array(v, path);
  return type_error(path, "a string or an array of strings", v);
}

LIFTOFF_DECL diagnostic unknown_field(std::string_view key, std::string_view where,
                                std::vector<std::string_view> const& known) {
  std::string msg = std::string(where) + ": unknown field '" + std::string(key) + "'";
  if (auto m = closest_match(key, known); !m.empty()) msg += " (did you mean '" + m + "'?)";
  else {
    msg += " (expected one of: " + join_names(known) + ")";
  }
  return diagnostic(error::unknown_field, std::move(msg));
}

LIFTOFF_DECL bool valid_run_id(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  }) && id.front() != '-' && id.back() != '-';
}

/// 1-based line and column of byte `offset` in `text`.
LIFTOFF_DECL std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') { ++line; col = 1; }
    else ++col;
  }
  return {line, col};
}

}  // namespace detail

LIFTOFF_DECL result<std::vector<std::string>> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) { words.push_back(std::move(word)); word.clear(); in_word = false; }
    } else if (c == '\'') {
      auto end = line.find('\'', i + 1);
      if (end == std::string_view::npos)
        return diagnostic(error::invalid_spec, "unterminated single quote in command line");
      word.append(line.substr(i + 1, end - i - 1));
      in_word = true;
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            (line[j + 1] == '"' || line[j + 1] == '\\' || line[j + 1] == '$' || line[j + 1] == '`'))
          ++j;
        word.push_back(line[j]);
      }
      if (j >= line.size()) return diagnostic(error::invalid_spec, "unterminated double quote in command line");
      in_word = true;
      i = j;
    } else if (c == '\\' && i + 1 < line.size()) {
      word.push_back(line[++i]);
      in_word = true;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

LIFTOFF_DECL std::string make_run_id() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 gen{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, 35);
  std::string id(8, 'a');
  for (auto& c : id) c = alphabet[pick(gen)];
  id[0] = alphabet[pick(gen) % 26];  // a letter first: valid as a Kubernetes or SageMaker name
  return id;
}

LIFTOFF_DECL void ensure_run_id(launch_spec& spec) {
  if (spec.run_id.empty()) spec.run_id = make_run_id();
}

LIFTOFF_DECL std::vector<std::string> launch_spec::command() const {
  std::vector<std::string> argv = overrides.entry_point ? *overrides.entry_point : entry_point;
  argv.insert(argv.end(), overrides.args.begin(), overrides.args.end());
  return argv;
}

LIFTOFF_DECL boost::json::object const& launch_spec::args_for(std::string_view r) const {
  static boost::json::object const empty;
  if (auto const* v = resource_args.if_contains(r))
    if (auto const* o = v->if_object()) return *o;
  return empty;
}

// ---- JSON ------------------------------------------------------------------

LIFTOFF_DECL result<launch_spec> parse_launch_spec(boost::json::value const& v) {
  using namespace std::string_view_literals;
  auto const* obj = v.if_object();
  if (!obj) return detail::type_error("launch spec", "an object", v);

  static std::vector<std::string_view> const known = {
      "image", "git", "code", "entry_point", "build_context", "dockerfile", "base_image", "overrides", "resource",
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
          r = diagnostic(error::invalid_spec, "code.artifact: expected \"sha256:\" and 64 lowercase hex digits, got \"" +
                                                  c.artifact + "\"");
      } else r = detail::type_error("code", "a directory path, or an object with path and artifact", val);
      s.source = std::move(c);
    } else if (key == "entry_point") {
      auto c = detail::get_command(val, "entry_point");
      if (c) s.entry_point = std::move(*c);
      else r = c.error();
    } else if (key == "build_context") r = str(s.build_context);
    else if (key == "dockerfile") r = str(s.dockerfile);
    else if (key == "base_image") r = str(s.base_image);
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
                                            "(not at either end), got '" + s.run_id + "'");
    } else if (key == "resource_args") {
      auto const* ra = val.if_object();
      if (!ra) r = detail::type_error("resource_args", "an object keyed by resource name", val);
      else {
        for (auto const& rkv : *ra)
          if (!rkv.value().is_object()) {
            r = detail::type_error("resource_args." + std::string(rkv.key()), "an object", rkv.value());
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
  return s;
}

LIFTOFF_DECL boost::json::value to_json(launch_spec const& s) {
  boost::json::object o;
  std::visit(
      [&](auto const& src) {
        using T = std::decay_t<decltype(src)>;
        if constexpr (std::is_same_v<T, image_ref>) o["image"] = src.image;
        else if constexpr (std::is_same_v<T, git_ref>) {
          boost::json::object g{{"remote", src.remote}};
          if (!src.version.empty()) g["version"] = src.version;
          o["git"] = std::move(g);
        } else if constexpr (std::is_same_v<T, code_dir>) {
          if (src.artifact.empty()) o["code"] = src.path.string();
          else {
            boost::json::object c{{"artifact", src.artifact}};
            if (!src.path.empty()) c["path"] = src.path.string();
            o["code"] = std::move(c);
          }
        }
      },
      s.source);
  auto strings = [](std::vector<std::string> const& v) {
    boost::json::array a;
    for (auto const& x : v) a.emplace_back(x);
    return a;
  };
  if (!s.entry_point.empty()) o["entry_point"] = strings(s.entry_point);
  auto put = [&](char const* k, std::string const& v) { if (!v.empty()) o[k] = v; };
  put("build_context", s.build_context);
  put("dockerfile", s.dockerfile);
  put("base_image", s.base_image);
  boost::json::object ov;
  if (!s.overrides.args.empty()) ov["args"] = strings(s.overrides.args);
  if (!s.overrides.run_config.empty()) ov["run_config"] = s.overrides.run_config;
  if (s.overrides.entry_point) ov["entry_point"] = strings(*s.overrides.entry_point);
  if (!ov.empty()) o["overrides"] = std::move(ov);
  put("resource", s.resource);
  if (!s.resource_args.empty()) o["resource_args"] = s.resource_args;
  put("project", s.project);
  put("name", s.name);
  put("job_name", s.job_name);
  put("run_id", s.run_id);
  put("author", s.author);
  put("queue", s.queue);
  return o;
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, launch_spec const& s) { v = to_json(s); }

LIFTOFF_DECL boost::system::result<launch_spec> tag_invoke(boost::json::try_value_to_tag<launch_spec>,
                                                     boost::json::value const& v) {
  auto r = parse_launch_spec(v);
  if (!r) return r.error().code;
  return std::move(*r);
}

// ---- configuration files ---------------------------------------------------

LIFTOFF_DECL result<boost::json::value> parse_json(std::string_view text, std::string_view origin) {
  boost::json::stream_parser p;
  error_code ec;
  std::size_t n = p.write_some(text.data(), text.size(), ec);
  if (!ec && n < text.size()) ec = boost::json::error::extra_data;
  if (!ec) p.finish(ec);
  if (ec) {
    auto [line, col] = detail::line_column(text, n);
    return diagnostic(error::parse_error, std::string(origin) + ":" + std::to_string(line) + ":" +
                                              std::to_string(col) + ": invalid JSON: " + ec.message());
  }
  return p.release();
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

LIFTOFF_DECL boost::json::value yaml_to_json(YAML::Node const& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return yaml_scalar(n);
    case YAML::NodeType::Sequence: {
      boost::json::array a;
      for (auto const& e : n) a.push_back(yaml_to_json(e));
      return a;
    }
    case YAML::NodeType::Map: {
      boost::json::object o;
      for (auto const& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace detail

LIFTOFF_DECL result<boost::json::value> parse_yaml(std::string_view text, std::string_view origin) {
  try {
    return detail::yaml_to_json(YAML::Load(std::string(text)));
  } catch (YAML::Exception const& e) {
    return diagnostic(error::parse_error, std::string(origin) + ":" + std::to_string(e.mark.line + 1) + ":" +
                                              std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
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
