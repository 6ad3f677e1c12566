#ifndef LIFTOFF_SERVER_HTTP_SERVER_HPP
#define LIFTOFF_SERVER_HTTP_SERVER_HPP

/** The control plane's HTTP/JSON API server (DESIGN.md, "The control
    plane"): every endpoint of the table in `liftoff/client/client.hpp`, on
    Boost.Beast, over any type modelling `liftoff::server::store`. Its
    handlers map requests to the operations of `liftoff::server::basic_service`
    (service.hpp), and their results to statuses and JSON; a dashboard or a
    scheduler in the same program calls the same service (`service()`).

    Network I/O is asynchronous on a few threads. Store calls block, so they
    run on a pool of threads whose answers are posted back to the
    connection; concurrent writes therefore share the store's group commits.
    A long-poll (`POST /queues/{q}/lease?wait=30`, `GET /runs/{id}/logs?wait=…`)
    holds no thread while it waits: it parks a timer, and a push, an expired
    lease or a state change wakes it at once.

    The data directory holds the store's files (its own business), code
    artifacts (`artifacts/sha256/<hex>`), run logs (`logs/<run_id>.log`) and,
    after the first start, `admin-token` (mode 0600). */

#include <liftoff/core/error.hpp>
#include <liftoff/server/service.hpp>
#include <liftoff/server/sqlite_store.hpp>
#include <liftoff/server/store.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::server {

namespace detail {
class http_core;
class data_dir_lock;
}

/// Receives one line of text (without its newline).
using line_sink = std::function<void(std::string_view line)>;

/// How an API server listens, what it accepts and how it keeps time.
struct api_server_options {
  /// `HOST:PORT` (`[::1]:8080` for IPv6); port 0 picks a free one (see `basic_api_server::port`).
  std::string listen = "127.0.0.1:8080";
  /// Where artifacts, run logs and the admin token file live (the store is opened by the caller).
  std::filesystem::path data_dir;
  /// Largest JSON request body; larger ones get 413.
  std::uint64_t max_body_size = 1024 * 1024;
  /// Largest artifact upload; larger ones get 413.
  std::uint64_t max_artifact_size = 1024ull * 1024 * 1024;
  /// How long a lease lasts without a heartbeat.
  std::chrono::milliseconds lease_time{std::chrono::seconds(30)};
  /// Leases an item may have; when the last one expires, the item fails with stage `agent`.
  int max_attempts = 3;
  /// An agent silent this long shows as `lost`.
  std::chrono::milliseconds agent_lost_after{std::chrono::seconds(60)};
  /** The resource names this deployment's agents can run (`local-process`,
      `kubernetes`, …; a program fills it from its list of backends); empty:
      not known. A queue without a resource is told which to choose; a queue
      whose resource is none of them is created with a warning. */
  std::vector<std::string> resources;
  /// The longest `?wait=` honoured; longer waits are cut to this.
  std::chrono::milliseconds max_wait{std::chrono::seconds(60)};
  /// How often expired leases are taken back and silent agents marked lost.
  std::chrono::milliseconds sweep_interval{std::chrono::seconds(1)};
  /// Threads doing network I/O.
  int network_threads = 2;
  /// Threads running store calls (each blocks while its write is committed).
  int store_threads = 48;
  /// A kept-alive connection with no new request for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(20)};
  /** A request's header must arrive whole within this time of its first
      byte (of the connection's opening, for its first request); otherwise
      the connection is closed (a slowloris defence, as nginx's
      `client_header_timeout`). */
  std::chrono::milliseconds header_timeout{std::chrono::seconds(20)};
  /** A request body (JSON or an artifact upload) must arrive at least this
      fast, on average, once `upload_grace` has passed; a slower one gets 408
      and the connection is closed. 0: no minimum. */
  std::uint64_t min_upload_rate = 1024;  // bytes per second
  std::chrono::milliseconds upload_grace{std::chrono::seconds(10)};
  /** Connections open at once, in total and from one client address. A
      connection over either limit is answered with a short 503 and closed;
      the log says so once per `refusal_log_interval`. */
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_client = 256;
  std::chrono::milliseconds refusal_log_interval{std::chrono::seconds(10)};
  /** Raise this process's open-files soft limit to its hard limit at
      `start()`, so that `max_connections` can be reached. */
  bool raise_open_files_limit = true;
  /** One access line per request (method, path with secret-looking query
      values masked, status, milliseconds, token name — never the token) and
      the server's own messages. Default: standard error. */
  line_sink log;
  /** What the operator must see once: the admin token made on the first
      start (`admin token: lft_…`). Default: standard output, flushed. */
  line_sink notice;
};

/** The API server over a `Store`. Construct, `start()`, and `stop()` (or
    destroy) when done. Not copyable or movable; all members are thread-safe.

    A 2xx answer is sent only after the store committed the change, so the
    data survives `kill -9` of the server. A request that fails validation
    changes nothing. Errors are JSON (`error_body`) with the status
    `http_status_for` gives; a missing or wrong token gets 401 with
    `WWW-Authenticate: Bearer`; an unknown path 404; a known path with another
    method 405 with `Allow`; a body over its limit 413. */
template <store Store>
class basic_api_server {
public:
  /// A server over `store` (moved in). Nothing listens until `start()`.
  explicit basic_api_server(Store store, api_server_options options = {});
  ~basic_api_server();
  basic_api_server(basic_api_server const&) = delete;
  basic_api_server& operator=(basic_api_server const&) = delete;

  /** Takes the data directory's lock (`DATA/server.lock`: one server per
      data directory), prepares it (mode 0700), makes the admin token when
      the store has no token at all (writing `DATA/admin-token`, mode 0600,
      unless that file exists, and passing `admin token: lft_…` to
      `options.notice` once), binds the listening socket and starts the
      threads. Fails when another process holds the lock (naming it), the
      address cannot be bound or the data directory cannot be written. */
  result<void> start();

  /** Stops accepting connections, answers every parked long-poll (204, or
      the log text so far), lets the requests in flight finish, closes idle
      connections and joins every thread. Idempotent. */
  void stop();

  /// The port listened on (the one picked when the options said 0); 0 before `start()`.
  std::uint16_t port() const noexcept;

  /// "http://HOST:PORT".
  std::string url() const;

  /// The store the server writes to.
  Store& store() noexcept { return store_; }
  /** The operations the API serves, for callers in the same program (a
      dashboard, a scheduler); their changes wake the API's long-polls. */
  basic_service<Store>& service() noexcept { return *service_; }
  api_server_options const& options() const noexcept { return options_; }

  /// How many requests are parked in a long-poll now (for monitoring and tests).
  std::size_t parked_requests() const noexcept;

  /// How many connections are open now (at most `options().max_connections`).
  std::size_t connections() const;

private:
  class backend;

  Store store_;
  api_server_options options_;
  std::unique_ptr<basic_service<Store>> service_;
  std::unique_ptr<backend> backend_;
  std::unique_ptr<detail::http_core> core_;
  std::unique_ptr<detail::data_dir_lock> lock_;
};

/// The server over the embedded SQLite store.
using api_server = basic_api_server<sqlite_store>;

}  // namespace liftoff::server

#include <liftoff/server/impl/http_server.hpp>

#endif
