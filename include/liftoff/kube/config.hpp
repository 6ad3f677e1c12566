#ifndef LIFTOFF_KUBE_CONFIG_HPP
#define LIFTOFF_KUBE_CONFIG_HPP

/** Connecting to a Kubernetes cluster the way kubectl does: kubeconfig files
    (`KUBECONFIG`, several files merged, else `~/.kube/config`), a context
    chosen by name or the file's `current-context`, or the in-cluster service
    account. Parsed with yaml-cpp. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/net/client.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace liftoff::kube {

/** A kubeconfig `users[].user.exec` credential plugin
    (`client.authentication.k8s.io/v1` or `v1beta1` ExecCredential). */
struct exec_plugin {
  std::string api_version;                                ///< `apiVersion` the plugin speaks
  std::string command;                                    ///< resolved against PATH, or relative to the kubeconfig's directory when it contains a slash
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;   ///< added to liftoff's own environment
  std::string install_hint;                               ///< shown when the command is missing
  bool provide_cluster_info = false;                      ///< pass `spec.cluster` in KUBERNETES_EXEC_INFO
  std::filesystem::path base_dir;                         ///< directory of the kubeconfig that named it
};

/** Everything needed to talk to one cluster as one identity. Secret members
    (token, key data) are never printed: `describe()` and every error name
    the context, the user entry and the file instead. */
struct connection_config {
  std::string server;                  ///< "https://host:port[/path]"
  std::string context;                 ///< the kubeconfig context; empty in-cluster
  std::string cluster_name;            ///< the `clusters[]` entry
  std::string user_name;               ///< the `users[]` entry; "serviceaccount" in-cluster
  std::string namespace_name = "default";  ///< the context's namespace, else "default"
  std::string origin;                  ///< "/home/u/.kube/config" or "in-cluster service account"
  net::tls_options tls;                ///< CA, client certificate, insecure-skip-tls-verify
  std::string token;                   ///< a static bearer token (`token`)
  std::filesystem::path token_file;    ///< `tokenFile`, re-read when it changes (bound service-account tokens rotate)
  std::string username, password;      ///< basic auth (`username`/`password`), rarely used
  std::optional<exec_plugin> exec;     ///< an exec credential plugin

  /// "user `alice` of context `kind-dev` (/home/u/.kube/config)", for 401/403 messages.
  std::string identity() const;
};

/// Where to look and what to pick.
struct load_options {
  /// The context to use (`--kube-context`, `resource_args.kubernetes.context`); empty: `current-context`.
  std::string context;
  /** Files to read, merged as kubectl merges them (the first file to set a
      map entry or `current-context` wins). Empty: `KUBECONFIG` (split on ':'),
      else `~/.kube/config`. */
  std::vector<std::filesystem::path> files;
  /// When no kubeconfig exists and no context was asked for, use the in-cluster service account if present.
  bool allow_in_cluster = true;
  /// Where the service-account files are (tests point this elsewhere).
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

/** Loads the connection for `options`.

    Errors (each names the file, and the context or entry):
    - no kubeconfig and not in a cluster: error::file_not_found, saying where it looked
      (KUBECONFIG, ~/.kube/config, the service-account directory);
    - malformed YAML: error::parse_error with file, line and column;
    - an unknown context: error::not_found listing the contexts there are;
    - a context naming a missing cluster or user, a cluster without `server`:
      error::invalid_spec naming the context and the missing entry;
    - a certificate or key file that cannot be read: error::file_not_found / file_unreadable
      naming the kubeconfig field (`users[alice].client-key`). */
result<connection_config> load_config(load_options const& options = {});

/** The in-cluster connection: `KUBERNETES_SERVICE_HOST`/`_PORT`, the
    directory's `token` (as `token_file`), `ca.crt` and `namespace`. */
result<connection_config> in_cluster_config(std::filesystem::path const& service_account_dir =
                                                 "/var/run/secrets/kubernetes.io/serviceaccount");

/** Produces the bearer credentials of a connection, thread-safe and shared
    by every client made from it. A static token is returned as is; a token
    file is re-read when its modification time changes; an exec plugin is
    run (with its env, stdin closed, stderr kept for the error) and its
    `status.token` (or client certificate) cached until
    `status.expirationTimestamp` (a minute early), or for the process's life
    when it has none. */
class credentials {
public:
  explicit credentials(connection_config config);

  /** The current bearer token; empty when the identity uses none (client
      certificate or basic auth). An exec plugin that fails gives
      error::unauthorized naming the command, its exit status and the last
      line of its stderr (and the install hint when the command is missing). */
  result<std::string> token();

  /** TLS settings including a client certificate an exec plugin returned
      (`status.clientCertificateData` / `clientKeyData`). */
  result<net::tls_options> tls();

  /// Forgets a cached exec token (after a 401), so the next call runs the plugin again.
  void invalidate();

  /// How many times the exec plugin has run (for tests and diagnostics).
  int exec_runs() const noexcept;

  connection_config const& config() const noexcept;

private:
  struct state;
  std::shared_ptr<state> state_;
};

/** Client options for the connection: TLS from `creds.tls()`, and a signer
    that sets `Authorization: Bearer <token>` (or Basic) from `creds` on
    every attempt. `base` supplies timeouts and retries. */
result<net::client_options> client_options_for(credentials& creds, net::client_options base = {});

}  // namespace liftoff::kube

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/config.ipp>
#endif

#endif
