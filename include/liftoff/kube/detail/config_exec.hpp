#ifndef LIFTOFF_KUBE_DETAIL_CONFIG_EXEC_HPP
#define LIFTOFF_KUBE_DETAIL_CONFIG_EXEC_HPP

// Running a kubeconfig exec credential plugin the way client-go does: the
// ExecCredential request in KUBERNETES_EXEC_INFO, stdin closed, the
// ExecCredential response read from stdout and checked.

#include <liftoff/core/error.hpp>
#include <liftoff/detail/process.hpp>
#include <liftoff/detail/base64.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace liftoff::kube::detail {

inline constexpr std::string_view exec_api_v1 = "client.authentication.k8s.io/v1";
inline constexpr std::string_view exec_api_v1beta1 = "client.authentication.k8s.io/v1beta1";

inline bool exec_api_supported(std::string_view v) { return v == exec_api_v1 || v == exec_api_v1beta1; }

/** An RFC 3339 timestamp ("2024-05-01T12:00:00Z", "…T12:00:00.5+02:00");
    nullopt when malformed. */
inline std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  auto number = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc() && p == s.data() + pos + len;
  };
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 20 || !number(0, 4, year) || s[4] != '-' || !number(5, 2, month) || s[7] != '-' ||
      !number(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !number(11, 2, hour) ||
      s[13] != ':' || !number(14, 2, minute) || s[16] != ':' || !number(17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (s[pos] == '.') {
    std::size_t start = ++pos;
    long long scale = 1000000000;
    long long ns = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 1) {
        scale /= 10;
        ns += (s[pos] - '0') * scale;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    fraction = std::chrono::nanoseconds(ns);
  }
  if (pos >= s.size()) return std::nullopt;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!number(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !number(pos + 4, 2, om))
      return std::nullopt;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto t = std::chrono::system_clock::from_time_t(::timegm(&tm));
  t -= std::chrono::minutes(offset_minutes);
  return t + std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

/// What a plugin returned.
struct exec_credential {
  std::string token;
  std::string client_certificate_data;  ///< PEM
  std::string client_key_data;          ///< PEM
  std::optional<std::chrono::system_clock::time_point> expiry;
};

/// The cluster part of KUBERNETES_EXEC_INFO (`provideClusterInfo: true`), as client-go's `Cluster`.
struct exec_cluster_info {
  std::string server;
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string ca_pem;  ///< the CA certificates, PEM (sent base64-encoded)
};

/// The KUBERNETES_EXEC_INFO value: an ExecCredential with only its spec.
inline std::string exec_info_json(std::string_view api_version, exec_cluster_info const* cluster) {
  boost::json::object spec;
  spec["interactive"] = false;
  if (cluster) {
    boost::json::object c;
    c["server"] = cluster->server;
    if (!cluster->tls_server_name.empty()) c["tls-server-name"] = cluster->tls_server_name;
    if (cluster->insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
    if (!cluster->ca_pem.empty()) c["certificate-authority-data"] = liftoff::detail::base64_encode(cluster->ca_pem);
    spec["cluster"] = std::move(c);
  }
  boost::json::object o;
  o["apiVersion"] = api_version;
  o["kind"] = "ExecCredential";
  o["spec"] = std::move(spec);
  return boost::json::serialize(o);
}

/** Reads a plugin's stdout. `who` starts every message ("exec plugin `x` of
    user `alice` …"). The output itself is never quoted: it holds the token. */
inline result<exec_credential> parse_exec_output(std::string_view out, std::string_view api_version,
                                                std::string const& who) {
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  if (ec || !v.is_object())
    return diagnostic(error::unauthorized,
                      who + " did not print an ExecCredential JSON object on its standard output" +
                          (ec ? " (" + ec.message() + ")" : std::string()));
  auto const& o = v.as_object();
  auto str = [](boost::json::object const& obj, std::string_view key) -> std::string {
    auto const* f = obj.if_contains(key);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  if (str(o, "kind") != "ExecCredential")
    return diagnostic(error::unauthorized, who + " printed an object of kind `" + str(o, "kind") +
                                               "`, expected an ExecCredential");
  if (auto got = str(o, "apiVersion"); got != api_version)
    return diagnostic(error::unauthorized, who + " is configured for apiVersion `" + std::string(api_version) +
                                               "` but returned `" + got + "`");
  auto const* status = o.if_contains("status");
  if (!status || !status->is_object())
    return diagnostic(error::unauthorized, who + " returned an ExecCredential without a `status`");
  auto const& st = status->as_object();
  exec_credential c;
  c.token = str(st, "token");
  c.client_certificate_data = str(st, "clientCertificateData");
  c.client_key_data = str(st, "clientKeyData");
  if (c.client_certificate_data.empty() != c.client_key_data.empty())
    return diagnostic(error::unauthorized, who + " returned " +
                                               (c.client_key_data.empty() ? "status.clientCertificateData without "
                                                                            "status.clientKeyData"
                                                                          : "status.clientKeyData without "
                                                                            "status.clientCertificateData"));
  if (c.token.empty() && c.client_certificate_data.empty())
    return diagnostic(error::unauthorized,
                      who + " returned neither status.token nor status.clientCertificateData and clientKeyData");
  if (auto const* exp = st.if_contains("expirationTimestamp"); exp && !exp->is_null()) {
    auto t = exp->is_string() ? parse_rfc3339(exp->as_string()) : std::nullopt;
    if (!t)
      return diagnostic(error::unauthorized,
                        who + " returned a status.expirationTimestamp that is not an RFC 3339 time");
    c.expiry = *t;
  }
  return c;
}

/// What running a plugin needs besides its kubeconfig entry.
struct exec_run {
  std::string command;                         ///< as configured
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  std::filesystem::path base_dir;
  std::string api_version;
  std::optional<exec_cluster_info> cluster;
  std::string who;  ///< "exec plugin `cmd` of user `alice` of context `c` (/file)"
};

/// Runs the plugin to completion and reads its ExecCredential.
inline result<exec_credential> run_exec_plugin(exec_run const& p) {
  if (!exec_api_supported(p.api_version))
    return diagnostic(error::unauthorized, p.who + " uses apiVersion `" + p.api_version + "`; liftoff supports " +
                                               std::string(exec_api_v1) + " and " + std::string(exec_api_v1beta1));
  auto env = liftoff::detail::current_environment();
  for (auto const& [name, value] : p.env) liftoff::detail::env_set(env, name, value);
  liftoff::detail::env_set(env, "KUBERNETES_EXEC_INFO", exec_info_json(p.api_version, p.cluster ? &*p.cluster : nullptr));

  auto hint = [&] { return p.install_hint.empty() ? std::string() : "\n" + p.install_hint; };
  std::filesystem::path program;
  if (p.command.find('/') != std::string::npos) {
    program = p.command;
    if (program.is_relative() && !p.base_dir.empty()) program = p.base_dir / program;
    std::error_code ec;
    if (!std::filesystem::exists(program, ec))
      return diagnostic(error::unauthorized, p.who + " cannot run: " + program.string() + " does not exist" + hint());
  } else {
    // The plugin's own PATH, if its env sets one, is the one the child would search.
    program = liftoff::detail::find_executable(p.command, liftoff::detail::env_get(env, "PATH").value_or(""));
    if (program.empty())
      return diagnostic(error::unauthorized, p.who + " cannot run: `" + p.command + "` is not found on PATH" + hint());
  }

  liftoff::detail::spawn_options o;
  o.argv.push_back(p.command);
  o.argv.insert(o.argv.end(), p.args.begin(), p.args.end());
  o.executable = program;
  o.env = std::move(env);
  auto ran = liftoff::detail::run_process(o);
  if (!ran) return diagnostic(error::unauthorized, p.who + " cannot run: " + ran.error().what() + hint());
  if (!ran->status.success()) {
    std::string msg = p.who + " " + ran->status.describe();
    if (auto line = liftoff::detail::last_line(ran->err); !line.empty()) msg += ": " + line;
    return diagnostic(error::unauthorized, std::move(msg));
  }
  return parse_exec_output(ran->out, p.api_version, p.who);
}

/// The whole of a small file; nullopt when it cannot be read.
inline std::optional<std::string> read_small_file(std::filesystem::path const& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::nullopt;
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream buf;
  buf << f.rdbuf();
  if (f.bad()) return std::nullopt;
  return buf.str();
}

}  // namespace liftoff::kube::detail

#endif
