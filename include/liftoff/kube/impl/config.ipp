#ifndef LIFTOFF_KUBE_IMPL_CONFIG_IPP
#define LIFTOFF_KUBE_IMPL_CONFIG_IPP

#include <liftoff/kube/config.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/kube/detail/config_exec.hpp>
#include <liftoff/kube/detail/config_file.hpp>

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>

namespace liftoff::kube {

LIFTOFF_DECL std::string connection_config::identity() const {
  std::string s = "user `" + user_name + "`";
  if (!context.empty()) s += " of context `" + context + "`";
  if (!origin.empty()) s += " (" + origin + ")";
  return s;
}

namespace detail {

/// The files to read when `load_options::files` is empty, and a sentence saying where they came from.
struct kubeconfig_search {
  std::vector<std::filesystem::path> existing;
  std::string looked;  ///< "KUBECONFIG (a, b)" / "~/.kube/config (/home/u/.kube/config)"
};

LIFTOFF_DECL kubeconfig_search find_kubeconfigs() {
  kubeconfig_search s;
  std::error_code ec;
  if (char const* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string_view list(env);
    std::string named;
    while (!list.empty()) {
      auto colon = list.find(':');
      auto item = list.substr(0, colon);
      list = colon == std::string_view::npos ? std::string_view{} : list.substr(colon + 1);
      if (item.empty()) continue;
      std::filesystem::path p(item);
      if (!named.empty()) named += ", ";
      named += p.string();
      // kubectl skips KUBECONFIG entries that do not exist, and reads each file once.
      if (std::filesystem::exists(p, ec) &&
          std::find(s.existing.begin(), s.existing.end(), p) == s.existing.end())
        s.existing.push_back(p);
    }
    s.looked = "KUBECONFIG (" + named + ")";
    return s;
  }
  char const* home = std::getenv("HOME");
  if (!home || !*home) {
    s.looked = "KUBECONFIG (not set) and ~/.kube/config (HOME is not set)";
    return s;
  }
  auto p = std::filesystem::path(home) / ".kube" / "config";
  if (std::filesystem::exists(p, ec)) s.existing.push_back(p);
  s.looked = "KUBECONFIG (not set) and ~/.kube/config (" + p.string() + ")";
  return s;
}

LIFTOFF_DECL std::string list_names(std::vector<kubeconfig_entry> const& entries) {
  if (entries.empty()) return "there are none";
  std::string s = "there are ";
  for (std::size_t i = 0; i < entries.size(); ++i) s += (i ? ", `" : "`") + entries[i].name + "`";
  return s;
}

LIFTOFF_DECL std::string file_list(std::vector<std::filesystem::path> const& files) {
  std::string s;
  for (auto const& f : files) s += (s.empty() ? "" : ", ") + f.string();
  return s;
}

LIFTOFF_DECL result<void> read_cluster(kubeconfig_entry const& e, connection_config& c) {
  entry_fields f(e, "clusters");
  auto server = f.str("server");
  if (!server) return server.error();
  if (server->empty())
    return diagnostic(error::invalid_spec, f.where("server") + ": the cluster has no `server` (https://host:port)");
  c.server = *server;
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  auto ca_file = f.path("certificate-authority");
  if (!ca_file) return ca_file.error();
  auto ca_data = f.data("certificate-authority-data");
  if (!ca_data) return ca_data.error();
  auto insecure = f.boolean("insecure-skip-tls-verify");
  if (!insecure) return insecure.error();
  auto server_name = f.str("tls-server-name");
  if (!server_name) return server_name.error();
  if (*insecure && (!ca_file->empty() || !ca_data->empty()))
    return diagnostic(error::invalid_spec, f.where("insecure-skip-tls-verify") +
                                               ": a certificate authority and insecure-skip-tls-verify cannot be "
                                               "used together (as kubectl refuses them)");
  c.tls.ca_file = *ca_file;
  c.tls.ca_data = *ca_data;
  c.tls.insecure_skip_verify = *insecure;
  c.tls.server_name = *server_name;
  return {};
}

LIFTOFF_DECL result<exec_plugin> read_exec(entry_fields const& f) {
  YAML::Node const n = f.node("exec");
  // "users[alice].exec.args (/home/u/.kube/config:9:7)"
  auto at = [&](std::string_view sub) {
    YAML::Node const sn = sub.empty() || !n.IsMap() ? n : n[std::string(sub)];
    return f.field("exec") + (sub.empty() ? std::string() : "." + std::string(sub)) + " (" +
           yaml_where(f.entry().file, sn ? sn.Mark() : n.Mark()) + ")";
  };
  if (!n.IsMap()) return diagnostic(error::invalid_spec, at("") + ": expected a mapping with `command` and `apiVersion`");
  exec_plugin p;
  p.base_dir = f.entry().file.parent_path();
  auto scalar = [&](char const* key, std::string& out) -> result<void> {
    YAML::Node const v = n[key];
    if (!v || v.IsNull()) return {};
    if (!v.IsScalar()) return diagnostic(error::invalid_spec, at(key) + ": expected a string");
    out = v.Scalar();
    return {};
  };
  for (auto [key, out] : {std::pair<char const*, std::string*>{"command", &p.command}, {"apiVersion", &p.api_version},
                          {"installHint", &p.install_hint}})
    if (auto r = scalar(key, *out); !r) return r.error();
  if (p.command.empty()) return diagnostic(error::invalid_spec, at("") + ": `command` is required");
  if (p.api_version.empty())
    return diagnostic(error::invalid_spec, at("") + ": `apiVersion` is required (" + std::string(exec_api_v1) + ")");
  if (!exec_api_supported(p.api_version))
    return diagnostic(error::invalid_spec, at("apiVersion") + ": `" + p.api_version + "` is not supported; use " +
                                               std::string(exec_api_v1) + " or " + std::string(exec_api_v1beta1));
  if (p.command.find('/') != std::string::npos && std::filesystem::path(p.command).is_relative())
    p.command = (p.base_dir / p.command).lexically_normal().string();
  if (YAML::Node const args = n["args"]; args && !args.IsNull()) {
    if (!args.IsSequence()) return diagnostic(error::invalid_spec, at("args") + ": expected a list of strings");
    for (auto const& a : args) {
      if (!a.IsScalar()) return diagnostic(error::invalid_spec, at("args") + ": expected a list of strings");
      p.args.push_back(a.Scalar());
    }
  }
  if (YAML::Node const env = n["env"]; env && !env.IsNull()) {
    if (!env.IsSequence()) return diagnostic(error::invalid_spec, at("env") + ": expected a list of {name, value}");
    for (auto const& e : env) {
      YAML::Node const name = e.IsMap() ? e["name"] : YAML::Node();
      YAML::Node const value = e.IsMap() ? e["value"] : YAML::Node();
      if (!name || !name.IsScalar() || name.Scalar().empty() || (value && !value.IsNull() && !value.IsScalar()))
        return diagnostic(error::invalid_spec, at("env") + ": expected a list of {name, value}");
      p.env.emplace_back(name.Scalar(), value && value.IsScalar() ? value.Scalar() : std::string());
    }
  }
  if (YAML::Node const v = n["provideClusterInfo"]; v && !v.IsNull()) {
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, p.provide_cluster_info))
      return diagnostic(error::invalid_spec, at("provideClusterInfo") + ": expected true or false");
  }
  if (YAML::Node const v = n["interactiveMode"]; v && v.IsScalar() && v.Scalar() == "Always")
    return diagnostic(error::unsupported, at("interactiveMode") +
                                              ": `Always` needs a terminal, but liftoff runs plugins without one; "
                                              "use `IfAvailable` or `Never`");
  return p;
}

LIFTOFF_DECL result<void> read_user(kubeconfig_entry const& e, connection_config& c) {
  entry_fields f(e, "users");
  if (f.has("auth-provider")) {
    std::string provider;
    if (YAML::Node const n = f.node("auth-provider"); n.IsMap() && n["name"] && n["name"].IsScalar())
      provider = " (`" + n["name"].Scalar() + "`)";
    return diagnostic(error::unsupported, f.where("auth-provider") + ": the auth-provider" + provider +
                                              " mechanism was removed from Kubernetes clients; use an exec plugin "
                                              "(for GKE: gke-gcloud-auth-plugin, for AKS: kubelogin)");
  }
  auto token = f.str("token");
  if (!token) return token.error();
  auto token_file = f.path("tokenFile");
  if (!token_file) return token_file.error();
  auto cert_file = f.path("client-certificate");
  if (!cert_file) return cert_file.error();
  auto cert_data = f.data("client-certificate-data");
  if (!cert_data) return cert_data.error();
  auto key_file = f.path("client-key");
  if (!key_file) return key_file.error();
  auto key_data = f.data("client-key-data");
  if (!key_data) return key_data.error();
  auto username = f.str("username");
  if (!username) return username.error();
  auto password = f.str("password");
  if (!password) return password.error();

  bool const has_cert = !cert_file->empty() || !cert_data->empty();
  bool const has_key = !key_file->empty() || !key_data->empty();
  if (has_cert != has_key)
    return diagnostic(error::invalid_spec, f.where(has_cert ? "client-certificate" : "client-key") + ": " +
                                               (has_cert ? "a client certificate needs `client-key` or `client-key-data`"
                                                         : "a client key needs `client-certificate` or "
                                                           "`client-certificate-data`"));
  bool const has_token = !token->empty() || !token_file->empty();
  bool const has_basic = !username->empty() || !password->empty();
  if (has_token && has_basic)
    return diagnostic(error::invalid_spec, f.field("token") + " and " + f.field("username") + " (" +
                                               e.file.string() +
                                               "): more than one authentication method; kubectl allows only one");
  c.token = *token;
  c.token_file = *token_file;
  c.tls.client_cert_file = *cert_file;
  c.tls.client_cert_data = *cert_data;
  c.tls.client_key_file = *key_file;
  c.tls.client_key_data = *key_data;
  c.username = *username;
  c.password = *password;
  if (f.has("exec")) {
    auto p = read_exec(f);
    if (!p) return p.error();
    c.exec = std::move(*p);
  }
  return {};
}

/// The service-account files exist and the API server's address is in the environment.
LIFTOFF_DECL bool in_cluster_available(std::filesystem::path const& dir) {
  std::error_code ec;
  char const* host = std::getenv("KUBERNETES_SERVICE_HOST");
  char const* port = std::getenv("KUBERNETES_SERVICE_PORT");
  return host && *host && port && *port && std::filesystem::exists(dir / "token", ec);
}

LIFTOFF_DECL std::string trim(std::string s) {
  auto end = s.find_last_not_of(" \t\r\n");
  s.erase(end == std::string::npos ? 0 : end + 1);
  auto start = s.find_first_not_of(" \t\r\n");
  s.erase(0, start == std::string::npos ? s.size() : start);
  return s;
}

}  // namespace detail

LIFTOFF_DECL result<connection_config> in_cluster_config(std::filesystem::path const& service_account_dir) {
  char const* host = std::getenv("KUBERNETES_SERVICE_HOST");
  char const* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    return diagnostic(error::file_not_found,
                      "not running in a Kubernetes cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
                      "not set");
  std::error_code ec;
  auto const token = service_account_dir / "token";
  if (!std::filesystem::exists(token, ec))
    return diagnostic(error::file_not_found, "the in-cluster service account token " + token.string() +
                                                 " does not exist (is automountServiceAccountToken false?)");
  if (!detail::read_small_file(token))
    return diagnostic(error::file_unreadable, "the in-cluster service account token " + token.string() +
                                                  " cannot be read");
  connection_config c;
  std::string h(host);
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  c.server = "https://" + h + ":" + port;
  c.user_name = "serviceaccount";
  c.origin = "in-cluster service account";
  c.token_file = token;
  if (auto const ca = service_account_dir / "ca.crt"; std::filesystem::exists(ca, ec)) c.tls.ca_file = ca.string();
  if (auto ns = detail::read_small_file(service_account_dir / "namespace"))
    if (auto t = detail::trim(*ns); !t.empty()) c.namespace_name = t;
  return c;
}

LIFTOFF_DECL result<connection_config> load_config(load_options const& options) {
  detail::kubeconfig_search search;
  if (!options.files.empty()) {
    std::error_code ec;
    for (auto const& f : options.files) {
      if (!std::filesystem::exists(f, ec))
        return diagnostic(error::file_not_found, f.string() + ": the kubeconfig file does not exist");
      search.existing.push_back(f);
    }
  } else {
    search = detail::find_kubeconfigs();
  }

  if (search.existing.empty()) {
    bool const in_cluster = detail::in_cluster_available(options.service_account_dir);
    if (options.context.empty() && options.allow_in_cluster && in_cluster)
      return in_cluster_config(options.service_account_dir);
    std::string msg = "no kubeconfig found: looked at " + search.looked;
    if (!options.context.empty())
      msg += " for context `" + options.context + "`";
    else if (options.allow_in_cluster)
      msg += ", and not in a cluster (KUBERNETES_SERVICE_HOST is " +
             std::string(std::getenv("KUBERNETES_SERVICE_HOST") ? "set" : "not set") + ", " +
             (options.service_account_dir / "token").string() + " " +
             (std::filesystem::exists(options.service_account_dir / "token") ? "exists" : "does not exist") + ")";
    return diagnostic(error::file_not_found, std::move(msg));
  }

  detail::kubeconfig_set set;
  for (auto const& f : search.existing) {
    YAML::Node doc;
    if (auto r = detail::read_kubeconfig(f, doc); !r) return r.error();
    if (auto m = detail::merge_kubeconfig(set, doc, f); !m) return m.error();
  }
  std::string const files = detail::file_list(set.files);

  std::string const name = options.context.empty() ? set.current_context : options.context;
  if (name.empty())
    return diagnostic(error::invalid_spec, "no context chosen: none was given and `current-context` is not set in " +
                                               files + "; " + detail::list_names(set.contexts));
  auto const* ctx = detail::kubeconfig_set::find(set.contexts, name);
  if (!ctx)
    return diagnostic(error::not_found, "context `" + name + "` is not in " + files + "; " +
                                            detail::list_names(set.contexts));

  connection_config c;
  c.context = name;
  c.origin = ctx->file.string();
  detail::entry_fields cf(*ctx, "contexts");
  auto cluster_name = cf.str("cluster");
  if (!cluster_name) return cluster_name.error();
  auto user_name = cf.str("user");
  if (!user_name) return user_name.error();
  auto ns = cf.str("namespace");
  if (!ns) return ns.error();
  if (cluster_name->empty())
    return diagnostic(error::invalid_spec, "context `" + name + "` (" + c.origin + ") names no cluster");
  auto const* cluster = detail::kubeconfig_set::find(set.clusters, *cluster_name);
  if (!cluster)
    return diagnostic(error::invalid_spec, "context `" + name + "` (" + c.origin + ") names cluster `" +
                                               *cluster_name + "`, which no `clusters` entry in " + files +
                                               " defines; " + detail::list_names(set.clusters));
  c.cluster_name = *cluster_name;
  if (auto r = detail::read_cluster(*cluster, c); !r) return r.error();
  c.user_name = *user_name;
  if (!user_name->empty()) {
    auto const* user = detail::kubeconfig_set::find(set.users, *user_name);
    if (!user)
      return diagnostic(error::invalid_spec, "context `" + name + "` (" + c.origin + ") names user `" + *user_name +
                                                 "`, which no `users` entry in " + files + " defines; " +
                                                 detail::list_names(set.users));
    if (auto r = detail::read_user(*user, c); !r) return r.error();
  }
  if (!ns->empty()) c.namespace_name = *ns;
  return c;
}

// ---- credentials ------------------------------------------------------------

struct credentials::state {
  explicit state(connection_config c) : config(std::move(c)) {}

  connection_config const config;
  std::mutex m;  // guards everything below; held while a plugin runs, so concurrent callers run it once
  std::atomic<int> runs{0};

  // tokenFile
  bool file_loaded = false;
  std::filesystem::file_time_type file_mtime;
  std::uintmax_t file_size = 0;
  std::string file_token;

  // exec plugin
  bool exec_valid = false;
  detail::exec_credential exec;

  std::string token_file_label() const {
    if (config.context.empty()) return "the service account token " + config.token_file.string();
    return "users[" + config.user_name + "].tokenFile (" + config.token_file.string() + ", from " + config.origin + ")";
  }

  result<std::string> read_token_file() {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(config.token_file, ec);
    if (ec) {
      bool missing = ec == std::errc::no_such_file_or_directory;
      return diagnostic(missing ? error::file_not_found : error::file_unreadable,
                        token_file_label() + ": " + (missing ? std::string("does not exist") : ec.message()));
    }
    auto size = std::filesystem::file_size(config.token_file, ec);
    if (file_loaded && mtime == file_mtime && !ec && size == file_size) return file_token;
    auto text = detail::read_small_file(config.token_file);
    if (!text) return diagnostic(error::file_unreadable, token_file_label() + ": cannot be read");
    file_token = detail::trim(std::move(*text));
    file_mtime = mtime;
    file_size = ec ? 0 : size;
    file_loaded = true;
    return file_token;
  }

  bool exec_fresh() const {
    if (!exec_valid) return false;
    if (!exec.expiry) return true;
    return std::chrono::system_clock::now() < *exec.expiry - std::chrono::minutes(1);
  }

  result<void> refresh_exec() {
    if (exec_fresh()) return {};
    auto const& p = *config.exec;
    detail::exec_run run;
    run.command = p.command;
    run.args = p.args;
    run.env = p.env;
    run.install_hint = p.install_hint;
    run.base_dir = p.base_dir;
    run.api_version = p.api_version;
    run.who = "exec plugin `" + p.command + "` of " + config.identity();
    if (p.provide_cluster_info) {
      detail::exec_cluster_info info;
      info.server = config.server;
      info.tls_server_name = config.tls.server_name;
      info.insecure_skip_tls_verify = config.tls.insecure_skip_verify;
      info.ca_pem = config.tls.ca_data;
      if (info.ca_pem.empty() && !config.tls.ca_file.empty())
        info.ca_pem = detail::read_small_file(config.tls.ca_file).value_or("");
      run.cluster = std::move(info);
    }
    ++runs;
    auto c = detail::run_exec_plugin(run);
    if (!c) return c.error();
    exec = std::move(*c);
    exec_valid = true;
    return {};
  }
};

LIFTOFF_DECL credentials::credentials(connection_config config) : state_(std::make_shared<state>(std::move(config))) {}

LIFTOFF_DECL result<std::string> credentials::token() {
  auto& s = *state_;
  std::lock_guard lock(s.m);
  if (s.config.exec) {
    if (auto r = s.refresh_exec(); !r) return r.error();
    if (!s.exec.token.empty()) return s.exec.token;
  }
  // kubectl: `token` wins over `tokenFile`.
  if (!s.config.token.empty()) return s.config.token;
  if (!s.config.token_file.empty()) return s.read_token_file();
  return std::string();
}

LIFTOFF_DECL result<net::tls_options> credentials::tls() {
  auto& s = *state_;
  net::tls_options t = s.config.tls;
  if (!s.config.exec) return t;
  std::lock_guard lock(s.m);
  if (auto r = s.refresh_exec(); !r) return r.error();
  if (!s.exec.client_certificate_data.empty()) {
    t.client_cert_data = s.exec.client_certificate_data;
    t.client_key_data = s.exec.client_key_data;
    t.client_cert_file.clear();
    t.client_key_file.clear();
  }
  return t;
}

LIFTOFF_DECL void credentials::invalidate() {
  std::lock_guard lock(state_->m);
  state_->exec_valid = false;
  state_->file_loaded = false;
}

LIFTOFF_DECL int credentials::exec_runs() const noexcept { return state_->runs.load(); }

LIFTOFF_DECL connection_config const& credentials::config() const noexcept { return state_->config; }

LIFTOFF_DECL result<net::client_options> client_options_for(credentials& creds, net::client_options base) {
  auto tls = creds.tls();
  if (!tls) return tls.error();
  base.tls = std::move(*tls);
  base.signer = [creds](net::request& r) mutable -> result<void> {
    auto token = creds.token();
    if (!token) return token.error();
    auto const& c = creds.config();
    if (!token->empty())
      r.headers.set(boost::beast::http::field::authorization, "Bearer " + *token);
    else if (!c.username.empty() || !c.password.empty())
      r.headers.set(boost::beast::http::field::authorization,
                    "Basic " + liftoff::detail::base64_encode(c.username + ":" + c.password));
    return {};
  };
  return base;
}

}  // namespace liftoff::kube

#endif
