#ifndef LIFTOFF_SERVER_SERVICE_HPP
#define LIFTOFF_SERVER_SERVICE_HPP

/** The control plane's operations, between its front ends and its store
    (DESIGN.md, "The server has a service layer"). The HTTP API, a dashboard
    and a sweep scheduler call the same `basic_service` over any type
    modelling `liftoff::server::store`: a push parses its job selector,
    merges the job's source with the request's spec, fills the queue's config
    template and makes the run id here, whichever front end asked.

    Every operation returns `liftoff::result`. Its errors carry liftoff's own
    codes (`not_found`, `already_exists`, `conflict`, `not_holder`,
    `invalid_request`, `invalid_spec`, `storage_failed`), which
    `http_status_for` maps to HTTP statuses; a validation error names the
    field (`push: field 'variables': …`). A failing operation changes
    nothing, as the store guarantees.

    What does not depend on the store type is in non-template functions,
    compiled once in separate-compilation mode (`impl/service.ipp`). */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/core/run_status.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/server/detail/run_logs.hpp>
#include <liftoff/server/store.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace liftoff::server {

// ---- events ------------------------------------------------------------------------

/// What a `service_event` is about.
enum class event_kind {
  queue,  ///< a queue's items changed: one may be leasable now (a push, a requeue, a stop)
  run,    ///< a run's state or its logs changed
  token,  ///< a token was revoked: requests waiting under it must end (`name` is its id)
};

/// Something a waiter may want to know at once (a parked lease, a log follower, a dashboard's live stream).
struct service_event {
  event_kind kind = event_kind::queue;
  std::string name;  ///< the queue's name or the run's id
};

/// Receives the service's events. Called on the thread of the operation, after the store committed.
using event_sink = std::function<void(service_event const&)>;

// ---- options -------------------------------------------------------------------------

/// How a `basic_service` leases, what it knows of the deployment, where it keeps run logs.
struct service_options {
  /// Run logs live in `DATA/logs/<run_id>.log`; empty: the current directory.
  std::filesystem::path data_dir;
  /// How long a lease lasts without a heartbeat.
  std::chrono::milliseconds lease_time{std::chrono::seconds(30)};
  /// Leases an item may have; when the last one expires, the item fails with stage `agent`.
  int max_attempts = 3;
  /// An agent silent this long shows as `lost`.
  std::chrono::milliseconds agent_lost_after{std::chrono::seconds(60)};
  /** The resource names this deployment's agents can run (a program fills it
      from its list of backends); empty: not known. Used in the sentence a
      queue without a resource gets, and to warn about a queue whose resource
      is none of them. */
  std::vector<std::string> resources;
  /** Whether the server holds the code artifact with this SHA-256 (64
      lowercase hex digits). Empty: it holds none, so a job or push naming an
      artifact is refused. */
  std::function<bool(std::string_view sha256_hex)> has_artifact;
  /// Told of every change a waiter may care about; empty: nobody is told.
  event_sink on_event;
  /// The time the service stamps records with; empty: the system clock, to the millisecond.
  std::function<time_point()> clock;
};

// ---- requests and answers ----------------------------------------------------------------

/// A stored job and which of its versions: `NAME` (its latest), `NAME:ALIAS` or `NAME:vN`.
struct job_selector {
  std::string name;
  std::string selector = "latest";  ///< "latest", an alias, or "v3"
};

/// What a push asks for.
struct push_request {
  /// The request's own launch-spec fields; they win over the job's. Absent: the job's source alone.
  std::optional<boost::json::object> spec;
  /// A stored job, as `parse_job_selector` reads it; empty: none.
  std::string job;
  server::priority priority = priority::medium;
  /// Values of the queue's template variables (strings convert, as `--set-var` gives them).
  boost::json::object variables;
};

/// A queue to create.
struct queue_request {
  std::string name;
  std::string resource;
  /// As `config_template::parse` reads it; empty: no template.
  boost::json::object config_template;
  bool prioritized = true;
};

/// A created queue, and sentences about what was probably not meant (an unused variable, an unknown resource).
struct queue_created {
  queue_record queue;
  std::vector<std::string> warnings;
};

/// A queue with how many of its items are in each state.
struct queue_summary {
  queue_record queue;
  std::map<item_state, std::int64_t> counts;  ///< states with no item are left out
};

/// A queue, its counts and its pending items.
struct queue_details {
  queue_record queue;
  std::map<item_state, std::int64_t> counts;  ///< states with no item are left out
  std::vector<item_record> pending;           ///< the queued items in the order they leave, then the leased ones
};

/// A new API token: `token` is shown once and never stored; `record` holds its hash.
struct new_token {
  std::string token;
  token_record record;
};

/// The version an `add_job` returns, and whether it was made now.
struct job_added {
  job_version_record version;
  bool created = true;  ///< false: a version with this source existed already
};

/// A run with the launch spec its item holds.
struct run_details {
  run_record run;
  std::optional<boost::json::object> spec;  ///< empty when the item is gone
};

/// A piece of a run's logs.
struct log_chunk {
  std::string text;
  std::uint64_t next_offset = 0;  ///< where the next read starts
  run_state state = run_state::queued;  ///< the run's state when it was read
};

/// What one `sweep` did: leases taken back, agents marked lost; either can have failed on its own.
struct sweep_report {
  result<std::vector<lease_expiry>> expired;
  result<std::vector<agent_record>> lost;
};

// ---- the operations that need no store ------------------------------------------------------

/** Reads a job selector: `NAME` (the latest version), `NAME:ALIAS` or
    `NAME:vN`. Fails (`invalid_request`) when the name or the part after the
    colon is empty, with a message without prefix ("expected NAME,
    NAME:ALIAS or NAME:vN, got \"x:\""); callers say which field it is. */
result<job_selector> parse_job_selector(std::string_view text);

/** Checks a job name: 1 to 128 letters, digits, '.', '_' or '-', not starting
    with '.'. Fails with `invalid_request`: "job: field 'name': expected …". */
result<void> check_job_name(std::string_view name);

/** Checks an alias one may set: a job name that is neither `latest` nor a
    version like `v3`. Fails with `invalid_request`: "job: field 'aliases': …". */
result<void> check_job_alias(std::string_view alias);

/** Checks a job's source and reads it as a launch spec: launch-spec fields
    with exactly one of `image`, `git` and `code`, and neither `run_id` nor
    `queue` (they belong to a run). Fails with `invalid_request` or the
    launch spec's own error, prefixed "job: field 'source'". Does not check
    that a code artifact exists (`basic_service::add_job` does). */
result<launch_spec> check_job_source(boost::json::object const& source);

/** Checks a token's name: 1 to 64 characters of printable text (no control
    characters, valid UTF-8). Fails with `invalid_request`: "token: field 'name': …". */
result<void> check_token_name(std::string_view name);

/** Whether `who` may do `what` (a short phrase: "creating tokens"): an
    admin token may do everything, other roles what `allowed` names. Fails
    with `forbidden`, naming the role needed and the token's own (never the
    token): "creating tokens needs the admin role; token 'ci' has the member
    role". */
result<void> require_role(token_record const& who, std::initializer_list<token_role> allowed, std::string_view what);

/** Checks a queue to create and makes its record: a resource is required,
    the template is parsed and normalized (`config_template::to_json`).
    `resources` are the deployment's (see `service_options::resources`).
    Fails with `invalid_request` on an empty resource ("queue 'q' needs a
    resource, one of: …", or "… needs a resource name such as the agent's"
    when `resources` is empty), and with the template's own error prefixed
    "queue: field 'config_template'". The answer's warnings are the
    template's, plus one when `resources` is known and does not hold the
    queue's resource. The name is the store's to check. */
result<queue_created> prepare_queue(queue_request const& r, std::vector<std::string> const& resources);

/** The resource arguments a push gets from its queue: the queue's config
    template filled with `variables` (`config_template::fill`); an empty
    object when the queue has no template. Fails when the stored template
    cannot be read ("queue 'q' has an unusable config template: …") and,
    with `invalid_request`, on a bad variable ("push: field 'variables':
    template variable 'gpus': …"). */
result<boost::json::object> fill_config_template(queue_record const& q, boost::json::object const& variables);

/** The launch spec a push makes, before it is stored: the job's source (if
    `job` is not null; its `image`, `git` and `code` are dropped when the
    request's spec names a source of its own) under the request's spec, the
    queue's filled template deep-merged over `resource_args` (the queue's
    owner wins), the queue's resource and name, and a run id from
    `liftoff::make_run_id()` when the spec has none. Fails with
    `invalid_request` when neither a spec nor a job is given, with the
    errors of `fill_config_template`, with `invalid_spec` when
    `resource_args` is not an object, and with the launch spec's own errors
    prefixed "push". Does not check code artifacts. */
result<launch_spec> make_run_spec(queue_record const& q, job_version_record const* job, push_request const& r);

/** Whether a run in its current state may take the state an agent reports:
    an agent reports building, starting, running or a terminal state
    (`invalid_request` for queued or leased), and nothing follows a terminal
    state (`conflict`: "run 'x' already ended as finished; a terminal state
    is final"). Which agent holds the run is the store's to check. */
result<void> check_state_report(run_record const& run, state_update const& u);

namespace detail {

/** Whether `who` may act as agent `a`: the token it is bound to, or for an
    unbound (older) agent an admin token; `forbidden` otherwise. */
result<void> check_agent_binding(agent_record const& a, token_record const& who);

/// `invalid_request` for `queued` and `leased`: states the store sets, never an agent.
result<void> check_reported_state(run_state s);

/// "push: give a launch spec (field 'spec'), a stored job (field 'job') or both".
diagnostic push_needs_spec_or_job();

/// The store-independent state of a `basic_service`: options, run logs, the multi-queue lease rotation.
class service_core {
public:
  explicit service_core(service_options options);

  service_options const& options() const noexcept { return options_; }

  /// Creates the run log directory.
  result<void> prepare();
  /// Now, by the options' clock.
  time_point now() const;
  /// Tells `on_event`, if set.
  void notify(event_kind kind, std::string_view name) const;
  /// Fails (`invalid_request`, prefixed `what`) when `spec` names a code artifact the server does not hold.
  result<void> check_artifact(launch_spec const& spec, std::string_view what) const;

  /// Which of `n` queues a multi-queue lease of `agent` tries first: the one after the last that gave it an item.
  std::size_t first_queue(std::int64_t agent, std::size_t n);
  /// Records that queue `index` gave `agent` an item.
  void leased_from(std::int64_t agent, std::size_t index);

  /// Appends `text` to the logs of `run`, which `agent` must hold (`not_holder`).
  result<void> append_log(run_record const& run, std::int64_t agent, std::string_view text);
  /// Up to `max` bytes of the logs of `run` from `offset`; `invalid_request` for an offset beyond the end.
  result<log_chunk> read_log(run_record const& run, std::uint64_t offset, std::size_t max) const;

private:
  service_options options_;
  run_logs logs_;
  std::mutex rr_mutex_;
  std::unordered_map<std::int64_t, std::size_t> next_queue_;
};

}  // namespace detail

// ---- the service -----------------------------------------------------------------------------

/** The control plane's operations over a `Store`, which it refers to (the
    caller owns it and keeps it alive). Thread-safe: any number of threads
    may call it at once, as they may call the store. Not copyable or
    movable. Times are the options' clock's. */
template <store Store>
class basic_service {
public:
  /// A service over `store`.
  explicit basic_service(Store& store, service_options options = {});
  basic_service(basic_service const&) = delete;
  basic_service& operator=(basic_service const&) = delete;

  /// Creates what the service keeps on disk (`DATA/logs`). Fails (`storage_failed` or a system error) when it cannot.
  result<void> prepare();

  /// The store the service works on.
  Store& store() noexcept { return store_; }
  service_options const& options() const noexcept { return core_.options(); }

  // ---- tokens ----

  /** The token whose text is `token` (compared by its hash). Fails with
      `invalid_request` ("the API token is not valid: …") when it is unknown
      or revoked, and with the store's errors. */
  result<token_record> authenticate(std::string_view token);
  /** Makes a token called `name` with `role` and stores its hash. Fails
      with `invalid_request` on a name that is empty or longer than 64
      characters, and with the store's errors. */
  result<new_token> create_token(std::string_view name, token_role role = token_role::member);
  /** Makes an admin token called `name` only when the store holds no token
      at all (a server's first start); empty otherwise. Fails with the store's errors. */
  result<std::optional<new_token>> create_first_token(std::string_view name = "admin");
  /// Every token (hashes only), by id.
  result<std::vector<token_record>> list_tokens();
  /** Revokes a token; `not_found` for an unknown id, `conflict` for the
      last active admin token. Revoking twice is harmless. Requests waiting
      under the token (long-polls) are told at once. */
  result<token_record> revoke_token(std::int64_t id);

  // ---- acting as an agent ----

  /** Whether `who` may act as agent `agent` (lease, heartbeat, ack,
      report, append logs, say it stopped): only the token that registered
      it may; an agent registered before tokens had roles, by an admin
      token. Fails with `not_found` for an unknown agent and `forbidden`
      ("agent 3 is bound to another token; …") otherwise. */
  result<agent_record> authorize_agent(token_record const& who, std::int64_t agent);
  /** Whether `who` may read run `run_id` (its record and logs): members and
      admins may read every run, an agent token only the runs of an agent it
      registered (`forbidden`). */
  result<void> authorize_run_read(token_record const& who, std::string_view run_id);

  // ---- jobs ----

  /** Adds a version of job `name` with `source` (a new one only when no
      version has the same canonical source, whose digest names it) and
      points each of `aliases` at it. Fails with `invalid_request` on a bad
      name, source or alias (see `check_job_name`, `check_job_source`,
      `check_job_alias`) and on a code artifact the server does not hold,
      and with the store's errors. */
  result<job_added> add_job(std::string_view name, boost::json::object const& source,
                            std::vector<std::string> const& aliases = {});
  /** Points `alias` at the version `selector` names. Fails with
      `invalid_request` on an alias one cannot set (`check_job_alias`), and
      `not_found` for an unknown job or version. */
  result<job_version_record> set_job_alias(std::string_view job, std::string_view alias, std::string_view selector);
  /// The version `selector` names ("latest", an alias, "v3"); `not_found` when there is none.
  result<job_version_record> get_job_version(std::string_view job, std::string_view selector = "latest");
  /** The version a job selector (`NAME`, `NAME:ALIAS`, `NAME:vN`) names.
      Fails with `invalid_request` on a malformed selector and `not_found`
      when there is no such job or version; messages have no prefix. */
  result<job_version_record> select_job(std::string_view selector);
  /// Every version of `job`, oldest first; `not_found` for an unknown job.
  result<std::vector<job_version_record>> list_job_versions(std::string_view job);
  /// The latest version of every job, by name.
  result<std::vector<job_version_record>> list_jobs();

  // ---- queues ----

  /** Creates a queue (see `prepare_queue` for its checks and warnings).
      Fails also with the store's errors: `invalid_request` for a bad name,
      `already_exists` for a name that is taken. */
  result<queue_created> create_queue(queue_request const& r);
  /// The queue called `name`, or `not_found`.
  result<queue_record> get_queue(std::string_view name);
  /// Every queue, by name, with its counts.
  result<std::vector<queue_summary>> list_queues();
  /// A queue with its counts and its queued and leased items; `not_found` for an unknown queue.
  result<queue_details> describe_queue(std::string_view name);
  /** Deletes a queue; `conflict` while items are queued or leased unless
      `force` (they are then stopped), `not_found` for an unknown queue. */
  result<void> delete_queue(std::string_view name, bool force = false);
  /// A queue's items (only those in `state` if given), in the order they leave; `not_found` for an unknown queue.
  result<std::vector<item_record>> list_items(std::string_view queue, std::optional<item_state> state = std::nullopt);

  // ---- items and leases ----

  /** Pushes a run to `queue`: the spec `make_run_spec` makes from the
      request, the job its selector names and the queue, stored with the
      request's priority. Fails with `not_found` for an unknown queue, with
      "push: field 'job': …" (`invalid_request` for a malformed selector,
      `not_found` for an unknown job or version), with the errors of
      `make_run_spec`, with `invalid_request` for a code artifact the server
      does not hold, and with `already_exists` for a run id that is taken.
      Waiters on the queue are told. */
  result<item_record> push(std::string_view queue, push_request const& r);
  /** Hands the next item of `queue` to `agent` for `options().lease_time`;
      empty when there is none or the agent holds as many as it may. Fails
      with the store's errors: `not_found` for an unknown queue or agent,
      `conflict` for a stopped agent, `invalid_request` for a queue it did
      not register for. Counts as the agent's heartbeat. */
  result<std::optional<item_record>> lease(std::string_view queue, std::int64_t agent);
  /** Like `lease`, over several queues taken in turn: each call starts
      after the queue that last gave `agent` an item, so no queue starves
      the others. Fails with `invalid_request` when `queues` is empty, and as `lease`. */
  result<std::optional<item_record>> lease_any(std::vector<std::string> const& queues, std::int64_t agent);
  /// `agent` accepts an item it holds; `not_holder` for any other agent, `not_found` for an unknown item.
  result<item_record> ack(std::int64_t item, std::int64_t agent);

  // ---- agents ----

  /** Registers an agent (or takes over the one `r.resume` names). Fails with
      `invalid_request` on an empty name, no queue or a `max_jobs` below 1,
      and `not_found` for a queue that does not exist. */
  result<agent_record> register_agent(agent_registration const& r);
  /** Registers an agent bound to `who` (only `who` may act as it, or
      resume it: `forbidden` for another token). A token with the `agent`
      role registers one agent: while that one is alive (polling or
      running), a registration that does not resume it is refused
      (`conflict`); once it stopped or was lost, a new one may register. */
  result<agent_record> register_agent(agent_registration r, token_record const& who);
  /// The agent with this id, or `not_found`.
  result<agent_record> get_agent(std::int64_t id);
  /// Every agent, by id.
  result<std::vector<agent_record>> list_agents();
  /** Extends the agent's leases by `options().lease_time` and says which of
      its runs to stop, and whether to stop itself; `not_found` for an unknown agent. */
  result<heartbeat_reply> heartbeat(std::int64_t agent);
  /// Asks an agent to stop (it learns on its next heartbeat); `not_found` for an unknown agent.
  result<agent_record> request_stop_agent(std::int64_t agent);
  /// The agent says it exited; waiters on its queues are told. `not_found` for an unknown agent.
  result<agent_record> agent_stopped(std::int64_t agent);

  // ---- runs ----

  /// Runs matching `filter`, newest first.
  result<std::vector<run_record>> list_runs(run_filter const& filter = {});
  /// The run with its history and the spec its item holds; `not_found` for an unknown run.
  result<run_details> get_run(std::string_view run_id);
  /** Records a state change `agent` reports (see `check_state_report`): a
      terminal state ends the run, a preempted one may go back on its queue.
      Fails with `not_found` for an unknown run, `invalid_request` for
      `queued` or `leased`, `conflict` when the run ended already and
      `not_holder` when `agent` does not hold it. Waiters on the run are
      told, and on its queue when the run ended or was requeued. */
  result<run_record> report(std::string_view run_id, std::int64_t agent, state_update const& u);
  /** Asks to stop a run: a queued one stops at once, a held one when its
      agent learns it. `not_found` for an unknown run, `conflict` for one
      that ended. Waiters on the run and its queue are told. */
  result<run_record> stop_run(std::string_view run_id);
  /** Appends `text` to a run's logs. Fails with `not_found` for an unknown
      run, `not_holder` when `agent` does not hold it, `storage_failed` when
      the file cannot be written. Waiters on the run are told. */
  result<void> append_logs(std::string_view run_id, std::int64_t agent, std::string_view text);
  /** Up to `max` bytes of a run's logs from byte `offset`, with the run's
      state. Fails with `not_found` for an unknown run and
      `invalid_request` for an offset beyond the end. */
  result<log_chunk> read_logs(std::string_view run_id, std::uint64_t offset, std::size_t max = 1024 * 1024);

  // ---- upkeep ----

  /** Takes back leases whose agent went silent (their items go back to
      their queue, or fail after `options().max_attempts` leases) and marks
      agents silent for `options().agent_lost_after` lost. Waiters on the
      requeued items' queues and on the runs are told. A front end calls it
      every second or so. */
  sweep_report sweep();

private:
  Store& store_;
  detail::service_core core_;
};

}  // namespace liftoff::server

#include <liftoff/server/impl/service.hpp>

#if LIFTOFF_HEADER_ONLY
#include <liftoff/server/impl/service.ipp>
#endif

#endif
