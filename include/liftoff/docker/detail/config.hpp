#ifndef LIFTOFF_DOCKER_DETAIL_CONFIG_HPP
#define LIFTOFF_DOCKER_DETAIL_CONFIG_HPP

/* What `docker_target` makes of `resource_args["local-container"]`: the
   checked settings, and the Engine API create request built from them.
   Pure functions, so each conversion is tested without an engine. */

#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/run_environment.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/docker/launch_support.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::detail {

inline constexpr char const* local_container_key = "local-container";

/// The keys `resource_args.local-container` may hold, in the order error messages list them.
inline std::vector<std::string_view> const& local_container_keys() {
  static std::vector<std::string_view> const keys = {"cpus",   "memory", "gpus",  "shm-size",   "env",     "workdir",
                                                     "name",   "ulimit", "pids-limit", "platform", "network"};
  return keys;
}

/// The resource limits `ulimit` may name (those the engine knows).
inline std::vector<std::string_view> const& docker_ulimit_names() {
  static std::vector<std::string_view> const names = {"core",   "cpu",    "data",   "fsize",  "locks",
                                                      "memlock", "msgqueue", "nice", "nofile", "nproc",
                                                      "rss",    "rtprio", "rttime", "sigpending", "stack"};
  return names;
}

/// `resource_args.local-container`, checked and converted to what the Engine API takes.
struct docker_container_args {
  std::optional<std::int64_t> nano_cpus;     ///< HostConfig.NanoCpus
  std::optional<std::int64_t> memory;        ///< HostConfig.Memory (and MemorySwap)
  std::optional<boost::json::array> device_requests;  ///< HostConfig.DeviceRequests
  std::optional<std::int64_t> shm_size;      ///< HostConfig.ShmSize
  environment_list env;                      ///< added after the run's environment
  std::string workdir;                       ///< WorkingDir
  std::string name;                          ///< the container's name
  std::optional<boost::json::array> ulimits;  ///< HostConfig.Ulimits
  std::optional<std::int64_t> pids_limit;    ///< HostConfig.PidsLimit
  std::string platform;                      ///< "os/arch[/variant]"
  std::string network;                       ///< HostConfig.NetworkMode
};

inline diagnostic docker_arg_error(std::string const& path, std::string_view expected, boost::json::value const& got) {
  return diagnostic(error::invalid_spec,
                    path + ": expected " + std::string(expected) + ", got " + std::string(json_kind_name(got)));
}

inline diagnostic docker_arg_error(std::string const& path, std::string_view expected, std::string_view got) {
  return diagnostic(error::invalid_spec, path + ": expected " + std::string(expected) + ", got '" + std::string(got) + "'");
}

/// True for a string still holding an agent macro (`${run_id}`): its syntax is checked once the macros are expanded.
inline bool has_macro(std::string_view s) noexcept { return s.find("${") != std::string_view::npos; }

inline std::optional<std::int64_t> parse_int64(std::string_view s) noexcept {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

inline std::optional<std::int64_t> json_int64(boost::json::value const& v) noexcept {
  if (!v.is_number()) return std::nullopt;
  boost::system::error_code ec;
  auto n = v.to_number<std::int64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

/** A size the way the docker CLI reads `--memory` and `--shm-size`: a
    number of bytes, or a decimal number with a binary unit (b, k, m, g, t,
    p; case-insensitive, optionally followed by `b` or `ib`): "512m",
    "1.5g", "64MiB". Nullopt when `text` is not one. */
inline std::optional<std::int64_t> parse_docker_size(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    std::size_t const frac = ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == frac) return std::nullopt;
  }
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || end != text.data() + i) return std::nullopt;
  auto rest = text.substr(i);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  double unit = 1;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  if (!rest.empty()) {
    switch (lower(rest.front())) {
      case 'k': unit = 1024.0; break;
      case 'm': unit = 1024.0 * 1024; break;
      case 'g': unit = 1024.0 * 1024 * 1024; break;
      case 't': unit = 1024.0 * 1024 * 1024 * 1024; break;
      case 'p': unit = 1024.0 * 1024 * 1024 * 1024 * 1024; break;
      default: unit = 0;
    }
    if (unit != 0) rest.remove_prefix(1);
    else unit = 1;
  }
  if (!rest.empty() && lower(rest.front()) == 'i') rest.remove_prefix(1);
  if (!rest.empty() && lower(rest.front()) == 'b') rest.remove_prefix(1);
  if (!rest.empty()) return std::nullopt;
  double const bytes = std::floor(number * unit);
  if (!(bytes < 9.2e18)) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

/// A byte count for people: "8 MiB", "1.5 GiB", "512 bytes".
inline std::string format_bytes(std::int64_t bytes) {
  static constexpr char const* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  double const whole = std::round(v);
  if (std::fabs(v - whole) < 1e-9) return std::to_string(static_cast<std::int64_t>(whole)) + " " + units[u];
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::round(v * 10) / 10, std::chars_format::fixed, 1);
  return std::string(buf, ec == std::errc() ? end : buf) + " " + units[u];
}

/// Reads a size field (`memory`, `shm-size`): bytes as an integer, or a string like "512m".
inline result<std::optional<std::int64_t>> read_docker_size(boost::json::value const& v, std::string const& path,
                                                            bool allow_macros) {
  static constexpr std::string_view expected = "a size like 512m or a number of bytes";
  if (auto const* s = v.if_string()) {
    if (allow_macros && has_macro(*s)) return std::optional<std::int64_t>{};
    auto n = parse_docker_size(*s);
    if (!n || *n <= 0) return docker_arg_error(path, expected, std::string_view(*s));
    return std::optional<std::int64_t>(*n);
  }
  auto n = json_int64(v);
  if (!n) return docker_arg_error(path, expected, v);
  if (*n <= 0) return docker_arg_error(path, expected, std::to_string(*n));
  return std::optional<std::int64_t>(*n);
}

/// Reads `cpus`: a positive number, or a string holding one → NanoCpus.
inline result<std::optional<std::int64_t>> read_docker_cpus(boost::json::value const& v, std::string const& path,
                                                            bool allow_macros) {
  static constexpr std::string_view expected = "a positive number of CPUs like 1.5";
  double cpus = 0;
  if (auto const* s = v.if_string()) {
    if (allow_macros && has_macro(*s)) return std::optional<std::int64_t>{};
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), cpus);
    if (s->empty() || ec != std::errc() || end != s->data() + s->size())
      return docker_arg_error(path, expected, std::string_view(*s));
  } else if (v.is_number()) {
    cpus = v.to_number<double>();
  } else {
    return docker_arg_error(path, expected, v);
  }
  if (!std::isfinite(cpus) || cpus <= 0 || cpus > 1e6)
    return diagnostic(error::invalid_spec, path + ": expected " + std::string(expected) + ", got " +
                                               boost::json::serialize(v));
  auto nano = static_cast<std::int64_t>(std::llround(cpus * 1e9));
  if (nano <= 0) return diagnostic(error::invalid_spec, path + ": " + boost::json::serialize(v) + " CPUs is too small");
  return std::optional<std::int64_t>(nano);
}

/** Reads `gpus`: "all", a count (integer or digits), or "device=0,1" →
    one DeviceRequest for the "gpu" capability, as `docker run --gpus` sends. */
inline result<std::optional<boost::json::array>> read_docker_gpus(boost::json::value const& v, std::string const& path,
                                                                  bool allow_macros) {
  static constexpr std::string_view expected = "\"all\", a number of GPUs, or \"device=ID[,ID…]\"";
  auto request = [](std::int64_t count, boost::json::array ids) {
    return boost::json::array{boost::json::object{{"Driver", ""},
                                                  {"Count", count},
                                                  {"DeviceIDs", std::move(ids)},
                                                  {"Capabilities", boost::json::array{boost::json::array{"gpu"}}},
                                                  {"Options", boost::json::object{}}}};
  };
  if (auto const* s = v.if_string()) {
    std::string_view text = *s;
    if (allow_macros && has_macro(text)) return std::optional<boost::json::array>{};
    if (text == "all") return std::optional<boost::json::array>(request(-1, {}));
    if (auto n = parse_int64(text)) {
      if (*n <= 0) return docker_arg_error(path, expected, text);
      return std::optional<boost::json::array>(request(*n, {}));
    }
    if (text.starts_with("device=")) {
      auto list = text.substr(7);
      boost::json::array ids;
      while (!list.empty()) {
        auto comma = list.find(',');
        auto id = list.substr(0, comma);
        if (id.empty()) return docker_arg_error(path, expected, text);
        ids.emplace_back(id);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
        if (list.empty()) return docker_arg_error(path, expected, text);
      }
      if (ids.empty()) return docker_arg_error(path, expected, text);
      // The engine refuses a request that sets both a count and device ids.
      return std::optional<boost::json::array>(request(0, std::move(ids)));
    }
    return docker_arg_error(path, expected, text);
  }
  if (auto n = json_int64(v)) {
    if (*n <= 0) return docker_arg_error(path, expected, std::to_string(*n));
    return std::optional<boost::json::array>(request(*n, {}));
  }
  return docker_arg_error(path, expected, v);
}

/// Checks an environment variable's name; `path` names where it came from.
inline result<void> check_env_name(std::string_view name, std::string const& path) {
  if (name.empty() || name.find('=') != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return diagnostic(error::invalid_spec, path + ": '" + std::string(name) + "' is not a valid environment variable name");
  return {};
}

/// Reads `env`: an object of strings, or an array of "NAME=value" strings.
inline result<environment_list> read_docker_env(boost::json::value const& v, std::string const& path) {
  environment_list out;
  if (auto const* o = v.if_object()) {
    for (auto const& e : *o) {
      if (auto c = check_env_name(e.key(), path); !c) return c.error();
      auto const* s = e.value().if_string();
      if (!s) return docker_arg_error(path + "." + std::string(e.key()), "a string", e.value());
      out.emplace_back(std::string(e.key()), std::string(*s));
    }
    return out;
  }
  if (auto const* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto const item_path = path + "[" + std::to_string(i) + "]";
      auto const* s = (*a)[i].if_string();
      if (!s) return docker_arg_error(item_path, "a \"NAME=value\" string", (*a)[i]);
      std::string_view text = *s;
      auto eq = text.find('=');
      if (eq == std::string_view::npos) return docker_arg_error(item_path, "\"NAME=value\"", text);
      if (auto c = check_env_name(text.substr(0, eq), item_path); !c) return c.error();
      out.emplace_back(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
    return out;
  }
  return docker_arg_error(path, "an object of strings or an array of \"NAME=value\" strings", v);
}

/// One ulimit value: "soft:hard", "n" (soft = hard), an integer, or {"soft":…, "hard":…}; -1 is unlimited.
inline result<boost::json::object> read_docker_ulimit(std::string_view name, boost::json::value const& v,
                                                      std::string const& path) {
  static constexpr std::string_view expected = "\"SOFT:HARD\", a number, or {\"soft\": N, \"hard\": N}";
  std::optional<std::int64_t> soft, hard;
  if (auto const* s = v.if_string()) {
    std::string_view text = *s;
    auto colon = text.find(':');
    soft = parse_int64(text.substr(0, colon));
    hard = colon == std::string_view::npos ? soft : parse_int64(text.substr(colon + 1));
    if (!soft || !hard) return docker_arg_error(path, expected, text);
  } else if (auto const* o = v.if_object()) {
    for (auto const& kv : *o)
      if (kv.key() != "soft" && kv.key() != "hard")
        return diagnostic(error::unknown_field,
                          path + ": unknown field '" + std::string(kv.key()) + "' (allowed: soft, hard)");
    auto const* sv = o->if_contains("soft");
    if (!sv) return diagnostic(error::invalid_spec, path + ": missing 'soft'");
    soft = json_int64(*sv);
    if (!soft) return docker_arg_error(path + ".soft", "an integer", *sv);
    if (auto const* hv = o->if_contains("hard")) {
      hard = json_int64(*hv);
      if (!hard) return docker_arg_error(path + ".hard", "an integer", *hv);
    } else {
      hard = soft;
    }
  } else if (auto n = json_int64(v)) {
    soft = hard = n;
  } else {
    return docker_arg_error(path, expected, v);
  }
  if (*soft < -1 || *hard < -1)
    return diagnostic(error::invalid_spec, path + ": limits are non-negative (or -1 for unlimited)");
  if (*hard != -1 && (*soft == -1 || *soft > *hard))
    return diagnostic(error::invalid_spec, path + ": the soft limit " + std::to_string(*soft) +
                                               " is above the hard limit " + std::to_string(*hard));
  return boost::json::object{{"Name", name}, {"Soft", *soft}, {"Hard", *hard}};
}

inline result<void> check_ulimit_name(std::string_view name, std::string const& path) {
  auto const& names = docker_ulimit_names();
  for (auto n : names)
    if (n == name) return {};
  std::string msg = path + ": unknown limit '" + std::string(name) + "'";
  if (auto m = closest_match(name, names); !m.empty()) msg += ", did you mean '" + m + "'?";
  msg += " (allowed:";
  for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : " ") + std::string(names[i]);
  msg += ")";
  return diagnostic(error::invalid_spec, std::move(msg));
}

/// Reads `ulimit`: {"nofile": "1024:2048" | {"soft":…,"hard":…}} or ["nofile=1024:2048", …] → HostConfig.Ulimits.
inline result<boost::json::array> read_docker_ulimits(boost::json::value const& v, std::string const& path) {
  boost::json::array out;
  if (auto const* o = v.if_object()) {
    for (auto const& kv : *o) {
      if (auto c = check_ulimit_name(kv.key(), path); !c) return c.error();
      auto u = read_docker_ulimit(kv.key(), kv.value(), path + "." + std::string(kv.key()));
      if (!u) return u.error();
      out.emplace_back(std::move(*u));
    }
    return out;
  }
  if (auto const* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto const item_path = path + "[" + std::to_string(i) + "]";
      auto const* s = (*a)[i].if_string();
      if (!s) return docker_arg_error(item_path, "a \"NAME=SOFT:HARD\" string", (*a)[i]);
      std::string_view text = *s;
      auto eq = text.find('=');
      if (eq == std::string_view::npos) return docker_arg_error(item_path, "\"NAME=SOFT:HARD\"", text);
      auto name = text.substr(0, eq);
      if (auto c = check_ulimit_name(name, item_path); !c) return c.error();
      auto u = read_docker_ulimit(name, boost::json::string(text.substr(eq + 1)), item_path);
      if (!u) return u.error();
      out.emplace_back(std::move(*u));
    }
    return out;
  }
  return docker_arg_error(path, "an object of limits or an array of \"NAME=SOFT:HARD\" strings", v);
}

/// Docker's container name pattern, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
inline bool valid_container_name(std::string_view n) noexcept {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (n.size() < 2 || !alnum(n.front())) return false;
  for (char c : n.substr(1))
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

/// "os/arch" or "os/arch/variant", lowercase letters, digits and `_`.
inline bool valid_platform(std::string_view p) noexcept {
  int parts = 0;
  while (true) {
    auto slash = p.find('/');
    auto part = p.substr(0, slash);
    if (part.empty()) return false;
    for (char c : part)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    ++parts;
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return parts == 2 || parts == 3;
}

/** Checks and converts `resource_args["local-container"]`.
    @param allow_macros when true (before the launcher expands agent macros),
    a string holding `${…}` passes the syntax checks of its field. */
inline result<docker_container_args> parse_docker_container_args(launch_spec const& spec, bool allow_macros) {
  std::string const where = std::string("resource_args.") + local_container_key;
  docker_container_args out;
  auto const* v = spec.resource_args.if_contains(local_container_key);
  if (!v || v->is_null()) return out;
  auto const* obj = v->if_object();
  if (!obj) return docker_arg_error(where, "an object", *v);
  for (auto const& kv : *obj) {
    std::string_view key = kv.key();
    auto const& val = kv.value();
    std::string const path = where + "." + std::string(key);
    auto string_field = [&](std::string_view expected) -> result<std::string> {
      auto const* s = val.if_string();
      if (!s) return docker_arg_error(path, expected, val);
      return std::string(*s);
    };
    if (key == "cpus") {
      auto r = read_docker_cpus(val, path, allow_macros);
      if (!r) return r.error();
      out.nano_cpus = *r;
    } else if (key == "memory") {
      auto r = read_docker_size(val, path, allow_macros);
      if (!r) return r.error();
      out.memory = *r;
    } else if (key == "shm-size") {
      auto r = read_docker_size(val, path, allow_macros);
      if (!r) return r.error();
      out.shm_size = *r;
    } else if (key == "gpus") {
      auto r = read_docker_gpus(val, path, allow_macros);
      if (!r) return r.error();
      out.device_requests = std::move(*r);
    } else if (key == "env") {
      auto r = read_docker_env(val, path);
      if (!r) return r.error();
      out.env = std::move(*r);
    } else if (key == "workdir") {
      auto r = string_field("an absolute path in the container");
      if (!r) return r.error();
      if (r->empty() || (r->front() != '/' && !(allow_macros && has_macro(*r))))
        return docker_arg_error(path, "an absolute path in the container", *r);
      out.workdir = std::move(*r);
    } else if (key == "name") {
      auto r = string_field("a container name");
      if (!r) return r.error();
      if (!valid_container_name(*r) && !(allow_macros && has_macro(*r)))
        return docker_arg_error(path, "a container name matching [a-zA-Z0-9][a-zA-Z0-9_.-]+", *r);
      out.name = std::move(*r);
    } else if (key == "ulimit") {
      auto r = read_docker_ulimits(val, path);
      if (!r) return r.error();
      out.ulimits = std::move(*r);
    } else if (key == "pids-limit") {
      auto n = json_int64(val);
      if (!n) return docker_arg_error(path, "an integer (0 or -1: no limit)", val);
      if (*n < -1) return docker_arg_error(path, "an integer (0 or -1: no limit)", std::to_string(*n));
      out.pids_limit = *n;
    } else if (key == "platform") {
      auto r = string_field("a platform like linux/amd64");
      if (!r) return r.error();
      if (!valid_platform(*r) && !(allow_macros && has_macro(*r)))
        return docker_arg_error(path, "a platform like linux/amd64", *r);
      out.platform = std::move(*r);
    } else if (key == "network") {
      auto r = string_field("a network name or mode (bridge, host, none, container:ID, NAME)");
      if (!r) return r.error();
      if (r->empty()) return docker_arg_error(path, "a network name or mode", *r);
      out.network = std::move(*r);
    } else {
      auto const& keys = local_container_keys();
      std::string msg = where + ": unknown field '" + std::string(key) + "'";
      if (auto m = closest_match(key, keys); !m.empty()) msg += ", did you mean '" + m + "'?";
      msg += " (allowed:";
      for (std::size_t i = 0; i < keys.size(); ++i) msg += (i ? ", " : " ") + std::string(keys[i]);
      msg += ")";
      return diagnostic(error::unknown_field, std::move(msg));
    }
  }
  return out;
}

/// The Engine API create request for a run: the body, and the `name` and `platform` query parameters.
struct docker_create_request {
  boost::json::object config;
  std::string name;
  std::string platform;  ///< "os/arch[/variant]"; empty: whatever image the engine has
};

/** The container a run gets: `image`, the entry point (an entry point
    replaces the image's ENTRYPOINT and CMD; args alone replace its CMD),
    the run's environment then the resource's, the run-id/project/job
    labels, and the resource limits. */
inline docker_create_request make_docker_create_request(std::string const& image, launch_spec const& spec,
                                                        launch_options const& options,
                                                        docker_container_args const& args) {
  namespace json = boost::json;
  docker_create_request out;
  auto& c = out.config;
  c["Image"] = image;
  bool const has_entry_point = spec.overrides.entry_point.has_value() || !spec.entry_point.empty();
  if (has_entry_point) {
    auto const& ep = spec.overrides.entry_point ? *spec.overrides.entry_point : spec.entry_point;
    json::array entry;
    if (ep.empty()) {
      // An empty override clears the image's ENTRYPOINT (as `docker run --entrypoint ""`); the args are the command.
      entry.emplace_back("");
      json::array cmd;
      for (auto const& a : spec.overrides.args) cmd.emplace_back(a);
      c["Cmd"] = std::move(cmd);
    } else {
      for (auto const& a : spec.command()) entry.emplace_back(a);
    }
    c["Entrypoint"] = std::move(entry);
  } else if (!spec.overrides.args.empty()) {
    json::array cmd;
    for (auto const& a : spec.overrides.args) cmd.emplace_back(a);
    c["Cmd"] = std::move(cmd);
  }
  json::array env;
  for (auto const& [k, v] : run_environment(spec, options)) env.emplace_back(k + "=" + v);
  for (auto const& [k, v] : args.env) env.emplace_back(k + "=" + v);
  c["Env"] = std::move(env);
  c["Labels"] = json::object{{docker::run_id_label, spec.run_id},
                             {docker::project_label, spec.project},
                             {docker::job_label, spec.job_name}};
  c["Tty"] = false;  // keeps stdout and stderr apart in the logs
  c["AttachStdin"] = false;
  c["AttachStdout"] = false;
  c["AttachStderr"] = false;
  c["OpenStdin"] = false;
  if (!args.workdir.empty()) c["WorkingDir"] = args.workdir;
  json::object host;
  if (args.nano_cpus) host["NanoCpus"] = *args.nano_cpus;
  if (args.memory) {
    host["Memory"] = *args.memory;
    host["MemorySwap"] = *args.memory;  // no swap beyond the limit: the limit is the limit
  }
  if (args.device_requests) host["DeviceRequests"] = *args.device_requests;
  if (args.shm_size) host["ShmSize"] = *args.shm_size;
  if (args.ulimits) host["Ulimits"] = *args.ulimits;
  if (args.pids_limit) host["PidsLimit"] = *args.pids_limit;
  if (!args.network.empty()) host["NetworkMode"] = args.network;
  c["HostConfig"] = std::move(host);
  out.name = args.name;
  out.platform = args.platform;
  return out;
}

}  // namespace liftoff::detail

#endif
