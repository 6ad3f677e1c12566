#ifndef LIFTOFF_KUBE_API_HPP
#define LIFTOFF_KUBE_API_HPP

/** A small Kubernetes REST client: create, get, list, delete, watch and pod
    logs for any resource kind, over liftoff::net with the credentials of a
    `connection_config`. Errors carry the API server's `Status` message and
    say which identity was refused. */

#include <liftoff/detail/config.hpp>
#include <liftoff/kube/config.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff::kube {

/** A resource type: enough to build its URLs. `plural` is the lower-case
    resource name in the URL ("jobs", "pytorchjobs"). */
struct resource_kind {
  std::string api_version;  ///< "batch/v1", "v1", "kubeflow.org/v1"
  std::string kind;         ///< "Job"
  std::string plural;       ///< "jobs"
  bool namespaced = true;

  /// "/apis/batch/v1/namespaces/NS/jobs" ("/api/v1/…" for the core group; no namespace part when not namespaced).
  std::string collection_path(std::string_view ns) const;
  /// collection_path(ns) + "/" + name.
  std::string object_path(std::string_view ns, std::string_view name) const;
  /// "jobs.batch" (or "pods"), as the API server names it in messages.
  std::string qualified() const;
};

namespace kinds {
resource_kind const& job();     ///< batch/v1 Job
resource_kind const& pod();     ///< v1 Pod
resource_kind const& secret();  ///< v1 Secret
}  // namespace kinds

/** The kind for `api_version`/`kind` of a manifest: the built-in ones above,
    else a resource whose plural is `plural` when given, else guessed from
    the kind as client-go guesses it without discovery (lower-cased, then
    "s" added; "es" after an "s", "y" becoming "ies": "pytorchjobs",
    "ingresses", "networkpolicies"). Namespaced, except for the common
    cluster-scoped built-in kinds (Namespace, Node, PersistentVolume, …). */
resource_kind kind_of(std::string_view api_version, std::string_view kind, std::string_view plural = {});

/// One event of a watch.
struct watch_event {
  std::string type;             ///< ADDED, MODIFIED, DELETED, BOOKMARK or ERROR
  boost::json::object object;   ///< the object (for ERROR, a `Status`)
};

/** A watch response being read. `next()` blocks for the next event. */
class watch_stream {
public:
  watch_stream(watch_stream&&) noexcept;
  watch_stream& operator=(watch_stream&&) noexcept;
  ~watch_stream();

  /** The next event, skipping blank lines; nullopt when the server ended
      the stream (its `timeoutSeconds`) or after `close()`. A dropped
      connection is a system error; a line that is not a `{"type", "object"}`
      JSON object is error::protocol_error. An `ERROR` event with `code: 410`
      (resourceVersion too old) is returned as an event; callers relist. */
  result<std::optional<watch_event>> next();

  /** Closes the connection and makes later `next()` calls return nullopt.
      Safe to call from another thread than the one in `next()`; a `next()`
      blocked there returns (nullopt) once its current read completes (the
      next event, a bookmark, or the server's timeout): liftoff::net cannot
      yet interrupt a blocked read from another thread. */
  void close() noexcept;

private:
  friend class api;
  struct state;
  explicit watch_stream(std::unique_ptr<state> s) noexcept;
  std::unique_ptr<state> s_;
};

/// Options for `api::watch` and `api::list`.
struct list_options {
  std::string label_selector;    ///< "liftoff.io/run-id=abc" or "liftoff.io/run-id"
  std::string field_selector;
  std::string resource_version;  ///< watch from here (exclusive); empty: from now (after a list, its resourceVersion)
  int timeout_seconds = 0;       ///< server-side watch timeout; 0: the server's default
  bool allow_bookmarks = true;
};

/** The REST client. Copies share one connection pool and one credentials
    object; every member is safe to call from several threads at once (each
    call takes a pooled connection; streams get their own). */
class api {
public:
  /// A client for `config`; nothing is connected until the first call.
  explicit api(connection_config config, net::client_options base = {});
  /// Loads the config (see `load_config`) and makes a client for it.
  static result<api> connect(load_options const& options = {}, net::client_options base = {});

  connection_config const& config() const noexcept;
  credentials& creds() const noexcept;

  /** POST the object to its collection with `?fieldValidation=Strict`
      (`dry_run` adds `dryRun=All`). Returns the created object. */
  result<boost::json::object> create(resource_kind const& k, std::string_view ns, boost::json::object const& object,
                                     bool dry_run = false) const;
  result<boost::json::object> get(resource_kind const& k, std::string_view ns, std::string_view name) const;
  /// A list (`items`, and `metadata.resourceVersion` to watch from).
  result<boost::json::object> list(resource_kind const& k, std::string_view ns, list_options const& o = {}) const;
  /** DELETE with a DeleteOptions body
      `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":policy}`
      (no policy when empty). A missing object is error::not_found. */
  result<void> remove(resource_kind const& k, std::string_view ns, std::string_view name,
                      std::string_view propagation_policy = "Foreground") const;
  /// GET the collection with `watch=true` and the options.
  result<watch_stream> watch(resource_kind const& k, std::string_view ns, list_options const& o) const;
  /** GET `/api/v1/namespaces/NS/pods/NAME/log` (`follow`, `container`,
      `sinceTime` when given, `timestamps=false`): a stream of the container's output. */
  result<net::response_stream> pod_logs(std::string_view ns, std::string_view pod, std::string_view container,
                                        bool follow, std::string_view since_time = {}) const;
  /// GET /openapi/v2 (JSON), for client-side validation.
  result<boost::json::value> openapi_v2() const;

  /** Sends any request (for what the members above do not cover), with the
      same credentials and error mapping. */
  result<net::response> send(net::request req) const;

  /** The failure a response stands for, as a sentence a user can act on:
      - 401: error::unauthorized, "the cluster at URL refused the credentials of IDENTITY: <Status.message>"
        (after one retry with a fresh exec token);
      - 403: error::forbidden, "IDENTITY is not allowed: <Status.message>";
      - 404 of a namespace (`details.kind: namespaces`): error::not_found, "namespace `x` does not exist in context `c`";
      - 404: error::not_found; 409: error::already_exists / conflict; 422 / 400: error::invalid_spec with
        each `details.causes[].field` and message;
      - otherwise error::http_status with the Status message. */
  diagnostic error_for(net::response const& r) const;

private:
  /// Opens a streamed response; an error status becomes the failure it stands for (`error_for`).
  result<net::response_stream> open_stream(net::request req) const;

  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace liftoff::kube

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/api.ipp>
#endif

#endif
