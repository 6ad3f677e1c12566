#ifndef LIFTOFF_CORE_IMPL_PARSE_IPP
#define LIFTOFF_CORE_IMPL_PARSE_IPP

#include <liftoff/core/parse.hpp>
#include <liftoff/detail/hex.hpp>
#include <boost/json/value_to.hpp>

#include <liftoff/core/detail/json_fields.hpp>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/string.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace liftoff {

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

/** With aliases a YAML document is a graph: one whose node holds an alias of
    itself has no JSON form, and one that repeats an anchor that repeats an
    anchor (a "billion laughs") expands past any memory. The conversion stops
    at a depth and a number of values that no real file reaches; `nodes`
    counts the values made so far. Throws YAML::ParserException (the parse
    error, at the node's line and column). */
LIFTOFF_DECL boost::json::value yaml_to_json(YAML::Node const& n, std::size_t& nodes, int depth) {
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
      for (auto const& e : n) a.push_back(yaml_to_json(e, nodes, depth + 1));
      return a;
    }
    case YAML::NodeType::Map: {
      boost::json::object o;
      for (auto const& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second, nodes, depth + 1);
      return o;
    }
  }
  return nullptr;
}

}  // namespace detail

LIFTOFF_DECL result<boost::json::value> parse_yaml(std::string_view text, std::string_view origin) {
  try {
    std::size_t nodes = 0;
    return detail::yaml_to_json(YAML::Load(std::string(text)), nodes, 0);
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
