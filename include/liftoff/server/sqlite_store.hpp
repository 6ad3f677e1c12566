#ifndef LIFTOFF_SERVER_SQLITE_STORE_HPP
#define LIFTOFF_SERVER_SQLITE_STORE_HPP

/** The embedded store: SQLite in WAL mode in one data directory
    (`DIR/liftoff.db`). Writes from every thread go through one writer
    thread that commits them in groups, so concurrent callers share one
    fsync; reads run on their own connections, concurrently with writes. */

#include <liftoff/detail/config.hpp>
#include <liftoff/server/store.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::server {

namespace detail {
struct sqlite_store_state;
}

/// How a `sqlite_store` is opened.
struct sqlite_store_options {
  /// The most operations one commit holds; a larger backlog is committed in several.
  std::size_t max_batch = 512;
  /// How many times a run reported `preempted` goes back on its queue before `preempted` is final.
  int max_preemptions = 3;
};

/// Counters of the writer: `operations / commits` is how many writes shared each fsync.
struct commit_stats {
  std::uint64_t commits = 0;     ///< transactions committed
  std::uint64_t operations = 0;  ///< write operations run (successful or not)
};

/** The SQLite store; models `liftoff::server::store`. Thread-safe: any
    number of threads may call it at once. Movable, not copyable. Every
    operation is atomic; a write that returns success has been committed
    with `synchronous=FULL` (the WAL is fsynced); a failing one changed
    nothing. */
class sqlite_store {
public:
  /** Opens (creating it and `dir` if needed) `dir/liftoff.db`, switches it
      to WAL and brings its schema up to date. Fails when the directory
      cannot be created, the file is not a SQLite database, or it was
      written by a newer liftoff. */
  static result<sqlite_store> open(std::filesystem::path const& dir, sqlite_store_options options = {});

  sqlite_store(sqlite_store&&) noexcept;
  sqlite_store& operator=(sqlite_store&&) noexcept;
  /// Waits for the writes in flight, then closes every connection.
  ~sqlite_store();

  /// The database file.
  std::filesystem::path const& file() const noexcept;

  /// How many commits and write operations this store has run since it was opened.
  commit_stats stats() const noexcept;

  // ---- queues ----

  /** Creates a queue (its `created_at` is set now). Fails when the name is
      empty, longer than 64 characters or has characters other than letters,
      digits, '.', '_' and '-', when the resource is empty ("needs a resource
      name such as the agent's": the store does not know which resources the
      deployment runs; `basic_service::create_queue` checks first with that
      list), or when a queue of that name exists. */
  result<queue_record> create_queue(queue_record q);
  /// The queue called `name`, or `not_found`.
  result<queue_record> get_queue(std::string_view name);
  /// Every queue, by name.
  result<std::vector<queue_record>> list_queues();
  /** Deletes a queue. Refused (`conflict`) while items are queued or leased
      unless `force`; forced, those items are removed and their runs end as
      `stopped`. Acknowledged items keep running. */
  result<void> delete_queue(std::string_view name, bool force = false);

  // ---- items ----

  /** Pushes an item holding the merged `run_spec`, and creates its run in
      state `queued`. An empty `run_id` gets a new one from
      `liftoff::make_run_id()`. Fails on an unknown queue and on a run id
      that is taken. */
  result<item_record> push(std::string_view queue, priority p, boost::json::object run_spec, std::string run_id = {},
                           time_point now = store_clock::now());
  /// The item with this id, or `not_found`.
  result<item_record> get_item(std::int64_t id);
  /** A queue's items, optionally only those in `state`, in the order they
      would leave (state, then priority if the queue is prioritized, then push order). */
  result<std::vector<item_record>> list_items(std::string_view queue, std::optional<item_state> state = std::nullopt);
  /// How many of a queue's items are in each state (states with none are left out); `not_found` for an unknown queue.
  result<std::map<item_state, std::int64_t>> count_items(std::string_view queue);

  // ---- leases ----

  /** Hands the next queued item of `queue` to `agent`: highest priority
      (on a prioritized queue), then oldest. The item becomes `leased` for
      `lease_for`, its attempts grow by one, its run becomes `leased`.
      Empty when nothing is queued, the agent holds `max_jobs` items, or a
      stop was requested for it. Each item goes to exactly one caller.
      Fails on an unknown queue or agent, a stopped agent, or a queue the
      agent did not register for. Counts as a heartbeat. */
  result<std::optional<item_record>> lease(std::string_view queue, std::int64_t agent,
                                           std::chrono::milliseconds lease_for, time_point now = store_clock::now());
  /** Extends every lease `agent` holds to `now + lease_for` and records the
      heartbeat (a `lost` agent is alive again). The reply names the runs it
      holds that a user asked to stop, and whether to stop itself. */
  result<heartbeat_reply> heartbeat(std::int64_t agent, std::chrono::milliseconds lease_for,
                                    time_point now = store_clock::now());
  /** Every held (leased or acked) item whose lease ended before `now` —
      its agent stopped heartbeating — goes back to its queue (same run id,
      same place in line), or, when it has been leased `max_attempts` times,
      fails with stage `agent`. Both are recorded in the run's history. */
  result<std::vector<lease_expiry>> expire_leases(time_point now = store_clock::now(), int max_attempts = 3);
  /** `agent` accepts an item it holds: it is its agent's for as long as
      the agent heartbeats (it goes back to the queue only if the agent
      goes silent past its lease, as a leased item does). Acking twice is
      harmless. An expired lease that `expire_leases` has not yet taken back
      can still be acked. Fails (`not_holder`) for any other agent,
      including after the item went back to the queue. */
  result<item_record> ack(std::int64_t item, std::int64_t agent);

  // ---- runs ----

  /** Records a state change of a run `agent` holds (implicitly acking its
      item): appends to the history, keeps exit code, stage, message and log
      tail, appends warnings. A terminal state is final and ends the item,
      except that a `preempted` run goes back on its queue (same run id,
      same place in line; the history shows `preempted`, then `queued`)
      until it has been preempted `max_preemptions` times.
      Fails when the run ended already or the state would go back
      (`conflict`, see `check_state_report`), is not held by `agent`
      (`not_holder`), or `u.state` is `queued` or `leased`. */
  result<run_record> report(std::string_view run_id, std::int64_t agent, state_update const& u,
                            time_point now = store_clock::now());
  /// The run with this id, with its history; or `not_found`.
  result<run_record> get_run(std::string_view run_id);
  /// Runs matching `filter`, newest first.
  result<std::vector<run_record>> list_runs(run_filter const& filter = {});
  /** Asks to stop a run. A run still queued stops at once (its item leaves
      the queue); a held run is flagged and its agent learns it on its next
      heartbeat. Fails (`conflict`) on an ended run. */
  result<run_record> request_stop_run(std::string_view run_id, time_point now = store_clock::now());

  // ---- agents ----

  /** Registers an agent (a new id each time), bound to `r.token`; or
      takes over the agent `r.resume` names (see `agent_registration`),
      which only the token it is bound to may do (`not_holder`). Fails on an
      empty name, a `max_jobs` below 1, or a queue that does not exist. */
  result<agent_record> register_agent(agent_registration const& r, time_point now = store_clock::now());
  /// The agent with this id, or `not_found`.
  result<agent_record> get_agent(std::int64_t id);
  /// Every agent, by id.
  result<std::vector<agent_record>> list_agents();
  /// Asks an agent to stop; it learns on its next heartbeat.
  result<agent_record> request_stop_agent(std::int64_t id);
  /// The agent says it exited: it shows as `stopped` and can lease no more.
  result<agent_record> agent_stopped(std::int64_t id);
  /// Marks `lost` every live agent silent for longer than `silent_for`; returns those.
  result<std::vector<agent_record>> mark_lost_agents(time_point now, std::chrono::milliseconds silent_for);

  // ---- tokens ----

  /** Stores a token's hash (see `hash_token`) under a name, with a role.
      Fails when `hash` is not 64 lowercase hex digits (a token itself must
      never be stored) or is already stored. */
  result<token_record> add_token(std::string_view name, std::string_view hash, token_role role = token_role::member,
                                 time_point now = store_clock::now());
  /// The token whose hash is `hash`, if there is one and it is not revoked.
  result<std::optional<token_record>> find_token(std::string_view hash);
  /** Revokes a token; revoking twice is harmless. The last active admin
      token is not revoked (`conflict`): somebody must be able to manage the
      server. */
  result<token_record> revoke_token(std::int64_t id);
  /// Every token (hashes only), by id.
  result<std::vector<token_record>> list_tokens();

  // ---- jobs ----

  /** Adds a version of `job` when no version has this `digest` (v0 first,
      then v1, …); otherwise returns the version that has it. Either way
      `latest` moves to the returned version. */
  result<job_version_record> add_job_version(std::string_view job, boost::json::object source, std::string_view digest,
                                             time_point now = store_clock::now());
  /** Points `alias` at the version `selector` names, moving it if it was
      elsewhere. `latest` and names like `v3` are refused: they are not
      aliases one sets. */
  result<job_version_record> set_job_alias(std::string_view job, std::string_view alias, std::string_view selector);
  /// The version `selector` names: "latest", an alias, or "v3".
  result<job_version_record> get_job_version(std::string_view job, std::string_view selector = "latest");
  /// Every version of `job`, oldest first; `not_found` for an unknown job.
  result<std::vector<job_version_record>> list_job_versions(std::string_view job);
  /// The latest version of every job, by job name.
  result<std::vector<job_version_record>> list_jobs();

private:
  explicit sqlite_store(std::unique_ptr<detail::sqlite_store_state> state) noexcept;

  std::unique_ptr<detail::sqlite_store_state> state_;
};

}  // namespace liftoff::server

#if LIFTOFF_HEADER_ONLY
#include <liftoff/server/impl/sqlite_store.ipp>
#endif

#endif
