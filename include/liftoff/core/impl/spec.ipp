#ifndef LIFTOFF_CORE_IMPL_SPEC_IPP
#define LIFTOFF_CORE_IMPL_SPEC_IPP

#include <liftoff/core/spec.hpp>
#include <liftoff/core/detail/json_fields.hpp>
#include <liftoff/detail/lines.hpp>

#include <liftoff/detail/hex.hpp>
#include <liftoff/detail/quote.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

#include <openssl/rand.h>

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
  std::string msg = std::string(where) + ": unknown field " + quote_plain(key);
  if (auto m = closest_match(key, known); !m.empty()) msg += " (did you mean '" + m + "'?)";
  else {
    msg += " (expected one of: " + join_names(known) + ")";
  }
  return diagnostic(error::unknown_field, std::move(msg));
}

LIFTOFF_DECL std::string path_key(std::string_view key) {
  bool plain = !key.empty() && key.size() <= 64;
  for (std::size_t i = 0; plain && i < key.size(); ++i) {
    char c = key[i];
    plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  }
  if (plain) return "." + std::string(key);
  return "[" + quote_excerpt(key) + "]";
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
  // OpenSSL's generator, seeded by the system (no <random> in the core).
  // Bytes past the largest multiple of the alphabet's size are drawn again,
  // so that every character is equally likely.
  std::string id;
  unsigned char bytes[32];
  while (id.size() < 8) {
    if (::RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("liftoff: the random generator failed");
    for (unsigned char b : bytes) {
      if (id.empty()) {
        if (b < 234) id += alphabet[b % 26];  // a letter first: valid as a Kubernetes or SageMaker name
      } else if (b < 252) {
        id += alphabet[b % 36];
      }
      if (id.size() == 8) break;
    }
  }
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
  if (!s.build_secrets.empty()) {
    boost::json::array a;
    for (auto const& b : s.build_secrets) {
      boost::json::object x{{"id", b.id}};
      if (!b.src.empty()) x["src"] = b.src;
      if (!b.env.empty()) x["env"] = b.env;
      a.emplace_back(std::move(x));
    }
    o["build_secrets"] = std::move(a);
  }
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

}  // namespace liftoff

#endif
