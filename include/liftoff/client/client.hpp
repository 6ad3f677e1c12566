#ifndef LIFTOFF_CLIENT_CLIENT_HPP
#define LIFTOFF_CLIENT_CLIENT_HPP

/** The client of the control plane's HTTP/JSON API, used by the CLI and the
    agent. Synchronous; one `api_client` is used by one thread at a time
    (make one per thread). Every call fails with a diagnostic carrying the
    server's error code and sentence (`liftoff::error::not_found`, …), or
    `http_status`/`protocol_error` for answers that are not the API's.

    ## The API (all under `/api/v1`, JSON bodies, `Authorization: Bearer <token>`)

    | request | body | answer |
    | --- | --- | --- |
    | `GET /health` (no token needed) | | 200 `{"status": "ok"}` |
    | `GET /whoami` | | 200 token: the caller's own |
    | `POST /tokens` | `{"name", "role"?}` | 201 `{"token": "lft_…", "record": token}`, the token shown once |
    | `GET /tokens` | | 200 `[token]` |
    | `DELETE /tokens/{id}` | | 200 token (revoked) |
    | `HEAD /artifacts/{hex}` | | 200 when stored, 404 |
    | `PUT /artifacts/{hex}` | the bytes (`application/gzip`) | 201 `{"digest": "sha256:…", "size"}`; 400 when the bytes' SHA-256 is not `hex` |
    | `GET /artifacts/{hex}` | | 200 the bytes |
    | `POST /jobs` | `{"name", "source", "aliases"?: [..]}` | 201 job version (200 when the source was already a version) |
    | `GET /jobs` | | 200 `[job version]`, the latest of each job |
    | `GET /jobs/{name}` | | 200 `[job version]`, oldest first |
    | `GET /jobs/{name}/versions/{selector}` | | 200 job version (`latest`, an alias, `v3`) |
    | `PUT /jobs/{name}/aliases/{alias}` | `{"version": selector}` | 200 job version |
    | `POST /queues` | `{"name", "resource", "config_template"?: template JSON, "prioritized"?: bool}` | 201 queue |
    | `GET /queues` | | 200 `[queue + "counts"]` |
    | `GET /queues/{q}` | | 200 queue + `"counts": {"queued": n, "leased": n, "acked": n, "done": n, "failed": n}` + `"items"`: its queued and leased items |
    | `DELETE /queues/{q}[?force=true]` | | 204; 409 while items are pending unless forced |
    | `POST /queues/{q}/items` | `{"spec"?: launch spec, "job"?: "name[:alias\|:vN]", "priority"?: "high", "variables"?: {}}` | 201 item |
    | `GET /queues/{q}/items[?state=queued]` | | 200 `[item]` |
    | `POST /queues/{q}/lease[?wait=SECONDS]` | `{"agent": id}` | 200 item, or 204 when nothing came in the wait |
    | `POST /lease[?wait=SECONDS]` | `{"agent": id, "queues": [..]}` | as above; the agent's queues are served round-robin |
    | `POST /items/{id}/ack` | `{"agent": id}` | 200 item |
    | `POST /agents` | agent registration | 201 agent |
    | `GET /agents`, `GET /agents/{id}` | | 200 `[agent]`, agent |
    | `POST /agents/{id}/heartbeat` | `{}` | 200 heartbeat reply |
    | `POST /agents/{id}/stop` | | 200 agent (a user asks it to stop) |
    | `POST /agents/{id}/stopped` | | 200 agent (the agent says it exited) |
    | `GET /runs[?queue=&state=&agent=&active=true&limit=]` | | 200 `[run]`, newest first |
    | `GET /runs/{id}` | | 200 run + `"spec"`: its merged launch spec |
    | `POST /runs/{id}/report` | `{"agent", "state", "exit_code"?, "stage"?, "message"?, "warnings"?, "logs_tail"?}` | 200 run |
    | `POST /runs/{id}/logs` | `{"agent", "text"}` (appended) | 204 |
    | `GET /runs/{id}/logs[?offset=N&wait=SECONDS]` | | 200 text from byte `offset`; `X-Liftoff-Next-Offset`, `X-Liftoff-Run-State` headers; with `wait`, answers when there is new text or the run ended |
    | `POST /runs/{id}/stop` | | 200 run |

    Who may call what (a token's role, `liftoff token create NAME --role`):
    an `admin` token every endpoint; a `member` token everything but the
    tokens, creating or deleting queues, stopping agents and the agent
    endpoints (lease, ack, register, heartbeat, stopped, report, appending
    logs); an `agent` token `whoami`, the artifacts (to fetch code and upload Kaniko build contexts), the
    agent endpoints, and `GET /runs?agent=ID`, `/runs/{id}` and its logs for
    its own agent. An agent is bound to the token that registered it: any
    other token gets 403 acting as it. Refusals are 403 naming the role
    needed; a revoked token's waiting requests end with 401.

    Records are JSON as `liftoff/server/wire.hpp` writes them. A push names a
    launch spec (`spec`), a stored job (`job`), or both (the spec's fields
    then override the job's). The server checks the variables against the
    queue's template, fills it into the spec's `resource_args`, sets the
    spec's `resource` and `queue` to the queue's and stores the result. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/net/client.hpp>
#include <liftoff/server/store.hpp>
#include <liftoff/server/wire.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::client {

// ---- credentials ---------------------------------------------------------------

/// Where the CLI finds the server and its token.
struct credentials {
  std::string server;  ///< "http://127.0.0.1:8080"
  std::string token;   ///< never printed
};

/// `$XDG_CONFIG_HOME/liftoff/credentials.json`, else `~/.config/liftoff/credentials.json`.
std::filesystem::path default_credentials_file();

/** The credentials in `file` (default: `default_credentials_file()`), with
    `LIFTOFF_SERVER` and `LIFTOFF_API_TOKEN` from the environment taking
    precedence. Fails, saying to run `liftoff login`, when no server or no
    token is known; fails when the file is readable by others than its owner. */
result<credentials> load_credentials(std::optional<std::filesystem::path> file = std::nullopt);

/// Writes `c` to `file` (creating its directory), readable and writable by its owner only (0600).
result<void> save_credentials(credentials const& c, std::optional<std::filesystem::path> file = std::nullopt);

// ---- answers -------------------------------------------------------------------------

/// A queue with how many of its items are in each state.
struct queue_info {
  server::queue_record queue;
  std::map<std::string, std::int64_t> counts;  ///< keyed by item state name
  std::vector<server::item_record> items;      ///< `describe` only: its queued and leased items
};

/// What a push says.
struct push_request {
  std::string queue;
  server::priority priority = server::priority::medium;
  boost::json::object variables;        ///< template-variable values; strings are converted as `--set-var` gives them
  std::optional<boost::json::object> spec;  ///< a launch spec (as `liftoff::to_json` writes it)
  std::string job;                      ///< a stored job: "name", "name:alias" or "name:v3"
};

/// A stretch of a run's logs.
struct log_chunk {
  std::string text;
  std::uint64_t next_offset = 0;  ///< pass as `offset` to get what follows
  run_state state = run_state::queued;  ///< the run's state when the answer was made
};

/// Which runs `list_runs` returns.
struct run_query {
  std::optional<std::string> queue;
  std::optional<run_state> state;
  std::optional<std::int64_t> agent;
  bool active_only = false;
  std::size_t limit = 100;
};

// ---- the client -----------------------------------------------------------------------

class api_client {
public:
  /// A client of the server at `server_url` ("http://host:port", "https://…" or "unix:///path").
  static result<api_client> create(std::string_view server_url, std::string token, net::client_options options = {});
  /// A client for `c`.
  static result<api_client> create(credentials const& c, net::client_options options = {});

  std::string const& server_url() const noexcept { return url_; }

  /// `GET /health`: the server answers.
  result<void> health();

  // tokens
  /// A new token with `role`, as text (show it once), and its record. Needs an admin token.
  result<std::pair<std::string, server::token_record>> create_token(std::string_view name,
                                                                    server::token_role role = server::token_role::member);
  /// The record of the token this client uses (its name and role).
  result<server::token_record> whoami();
  result<std::vector<server::token_record>> list_tokens();
  result<server::token_record> revoke_token(std::int64_t id);

  // artifacts
  /// Whether the server holds the artifact "sha256:<hex>".
  result<bool> has_artifact(std::string_view digest);
  /** Uploads `file` as the artifact `digest` ("sha256:<hex>" of its bytes),
      unless the server has it already; true when it was sent. */
  result<bool> upload_artifact(std::string_view digest, std::filesystem::path const& file);
  /// Downloads the artifact `digest` into `file`, checking its SHA-256.
  result<void> download_artifact(std::string_view digest, std::filesystem::path const& file);

  // jobs
  result<server::job_version_record> create_job(std::string_view name, boost::json::object source,
                                                std::vector<std::string> const& aliases = {});
  result<std::vector<server::job_version_record>> list_jobs();
  result<std::vector<server::job_version_record>> job_versions(std::string_view name);
  result<server::job_version_record> job_version(std::string_view name, std::string_view selector = "latest");
  result<server::job_version_record> set_job_alias(std::string_view name, std::string_view alias,
                                                   std::string_view selector);

  // queues
  result<server::queue_record> create_queue(std::string_view name, std::string_view resource,
                                            boost::json::object config_template = {}, bool prioritized = true);
  result<std::vector<queue_info>> list_queues();
  result<queue_info> describe_queue(std::string_view name);
  result<void> delete_queue(std::string_view name, bool force = false);

  // items
  result<server::item_record> push(push_request const& r);
  result<std::vector<server::item_record>> list_items(std::string_view queue,
                                                      std::optional<server::item_state> state = std::nullopt);

  // agents
  result<server::agent_record> register_agent(server::agent_registration const& r);
  result<std::vector<server::agent_record>> list_agents();
  result<server::agent_record> get_agent(std::int64_t id);
  result<server::heartbeat_reply> heartbeat(std::int64_t agent);
  result<server::agent_record> request_stop_agent(std::int64_t id);
  result<server::agent_record> agent_stopped(std::int64_t id);
  /** Long-polls for an item of `queues` (one or several), waiting up to
      `wait` for one to arrive; empty when none did. */
  result<std::optional<server::item_record>> lease(std::int64_t agent, std::vector<std::string> const& queues,
                                                   std::chrono::milliseconds wait);
  result<server::item_record> ack(std::int64_t item, std::int64_t agent);

  // runs
  result<std::vector<server::run_record>> list_runs(run_query const& q = {});
  result<server::run_record> get_run(std::string_view run_id);
  /// The run's merged launch spec (the `spec` of `GET /runs/{id}`).
  result<boost::json::object> run_spec(std::string_view run_id);
  result<server::run_record> report(std::string_view run_id, std::int64_t agent, server::state_update const& u);
  result<void> append_logs(std::string_view run_id, std::int64_t agent, std::string_view text);
  /// Logs from byte `offset`; with a `wait`, blocks until there is more or the run ended.
  result<log_chunk> logs(std::string_view run_id, std::uint64_t offset = 0,
                         std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  result<server::run_record> request_stop_run(std::string_view run_id);

private:
  api_client(net::client http, std::string url, std::string token);
  /// The connection for long polls (`lease`, `logs` with a wait), whose request timeout exceeds `wait`.
  net::client& long_poll_client(std::chrono::milliseconds wait);

  net::client http_;
  std::string url_;
  std::string token_;
  std::optional<net::client> long_poll_;
};

/** Packs the directory `dir` as a deterministic tar.gz at `out` (sorted
    entries, zeroed times and owners, modes kept; `.git` and what
    `.liftoffignore` names left out, as `local_dir_source` does), so the same
    tree always gives the same bytes. Returns "sha256:<hex>" of the bytes. */
result<std::string> pack_code_artifact(std::filesystem::path const& dir, std::filesystem::path const& out);

/** How much unpacking a code artifact may write. A tar.gz of a few kilobytes
    can expand to terabytes or millions of files (an archive bomb); an
    artifact past a limit is refused before its excess is written. */
struct unpack_limits {
  /// The most bytes the artifact's files may hold once unpacked: 4 GiB.
  std::uint64_t max_unpacked_bytes = std::uint64_t(4) << 30;
  /// The most entries (files, directories, links) the artifact may hold: 100,000.
  std::uint64_t max_entries = 100000;
  /// How a user raises `max_unpacked_bytes`, as the error says it (`--max-unpacked-size` for the agent).
  std::string unpacked_bytes_setting = "unpack_limits::max_unpacked_bytes";
  /// How a user raises `max_entries`, as the error says it (`--max-archive-entries` for the agent).
  std::string entries_setting = "unpack_limits::max_entries";
};

/** Unpacks a code artifact into `dir` (created if needed). Refuses entries
    that would land outside `dir` (absolute paths, `..`, links pointing out),
    entries that are not files, directories or symlinks, and hard links.
    Modes are kept but for the setuid, setgid and sticky bits, which are
    dropped (a 04755 file is unpacked 0755); owners are this process's.

    Fails with `error::body_too_large`, naming `file`, the limit and the
    setting that raises it, when the files would hold more than
    `limits.max_unpacked_bytes` or the archive has more than
    `limits.max_entries` entries. On any failure nothing unpacked is left
    behind: `dir` is removed when this call made it, else what it added to
    `dir` is. */
result<void> unpack_code_artifact(std::filesystem::path const& file, std::filesystem::path const& dir,
                                  unpack_limits const& limits = {});

}  // namespace liftoff::client

#if LIFTOFF_HEADER_ONLY
#include <liftoff/client/impl/client.ipp>
#endif

#endif
