#ifndef LIFTOFF_SERVER_STORE_HPP
#define LIFTOFF_SERVER_STORE_HPP

/** The control plane's data model and the concept every store models
    (DESIGN.md, "The control plane"). The HTTP API is written against
    `liftoff::server::store`, so the embedded SQLite store and a PostgreSQL
    store for several replicas are interchangeable.

    Every operation is atomic, and a successful write is durable (on disk)
    when it returns. A failing operation changes nothing. */

#include <liftoff/core/error.hpp>
#include <liftoff/core/run_status.hpp>
#include <liftoff/detail/sha256.hpp>

#include <boost/json/object.hpp>

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::server {

/// Wall-clock time as stored: every record's times are this clock's, kept to the millisecond.
using store_clock = std::chrono::system_clock;
using time_point = store_clock::time_point;

// ---- errors ------------------------------------------------------------------

/** Store operations fail with liftoff's own codes, which the HTTP layer maps
    to a status: `not_found` 404, `already_exists` and `conflict` 409,
    `not_holder` 403, `invalid_request` 400, `storage_failed` 500. */
using store_error = liftoff::error;

/// A diagnostic with a store error code.
inline diagnostic store_failure(store_error e, std::string message) { return diagnostic(e, std::move(message)); }

// ---- priorities --------------------------------------------------------------

/// An item's priority; on a prioritized queue, items leave by priority, then first in first out.
enum class priority { critical, high, medium, low };

inline std::string_view to_string(priority p) noexcept {
  switch (p) {
    case priority::critical: return "critical";
    case priority::high: return "high";
    case priority::medium: return "medium";
    case priority::low: return "low";
  }
  return "medium";
}

/// Parses "critical", "high", "medium" or "low"; empty for anything else.
inline std::optional<priority> priority_from_string(std::string_view name) noexcept {
  for (auto p : {priority::critical, priority::high, priority::medium, priority::low})
    if (to_string(p) == name) return p;
  return std::nullopt;
}

// ---- records -----------------------------------------------------------------

/// A queue: bound to one resource, with the config template every item on it gets.
struct queue_record {
  std::string name;                     ///< letters, digits, '.', '_' and '-'; at most 64 characters
  std::string resource;                 ///< the launcher registry key (`local-process`, `kubernetes`, …)
  boost::json::object config_template;  ///< as `config_template::to_json()` writes it; the store does not interpret it
  bool prioritized = true;              ///< false: priorities are kept but items leave first in first out
  time_point created_at{};
};

/// Where a queue item is: waiting, handed to an agent, accepted by it, or gone from the queue.
enum class item_state {
  queued,  ///< waiting for an agent
  leased,  ///< handed to one agent; returns to the queue if its lease expires
  acked,   ///< the agent accepted it; held while its agent heartbeats, back on the queue if it goes silent
  done,    ///< its run ended (any terminal state) or was stopped before it was leased
  failed,  ///< its leases expired too many times
};

inline std::string_view to_string(item_state s) noexcept {
  switch (s) {
    case item_state::queued: return "queued";
    case item_state::leased: return "leased";
    case item_state::acked: return "acked";
    case item_state::done: return "done";
    case item_state::failed: return "failed";
  }
  return "failed";
}

inline std::optional<item_state> item_state_from_string(std::string_view name) noexcept {
  for (auto s : {item_state::queued, item_state::leased, item_state::acked, item_state::done, item_state::failed})
    if (to_string(s) == name) return s;
  return std::nullopt;
}

/// One pushed item: the merged run spec, and who holds it.
struct item_record {
  std::int64_t id = 0;
  std::string queue;
  server::priority priority = priority::medium;
  std::int64_t seq = 0;                      ///< push order; kept when the item returns to the queue
  std::string run_id;
  boost::json::object run_spec;              ///< the merged launch spec, as `liftoff::to_json` writes it
  item_state state = item_state::queued;
  int attempts = 0;                          ///< how many times it was leased
  std::optional<std::int64_t> agent;         ///< the agent holding it (leased or acked)
  std::optional<time_point> lease_expires_at;  ///< while leased
  time_point pushed_at{};
};

/// One step of a run's life.
struct state_change {
  run_state state = run_state::queued;
  time_point at{};
  std::string message;
};

/// A run: one item's journey, with what its agent reported.
struct run_record {
  std::string run_id;
  std::int64_t item_id = 0;
  std::string queue;
  run_state state = run_state::queued;
  std::vector<state_change> history;         ///< oldest first; starts with `queued`
  std::optional<int> exit_code;
  failure_stage stage = failure_stage::none;
  std::string message;
  std::vector<std::string> warnings;
  std::string logs_tail;                     ///< the last lines the agent sent
  std::optional<std::int64_t> agent;
  bool stop_requested = false;               ///< a user asked to stop it; its agent learns on heartbeat
  time_point created_at{};
  std::optional<time_point> started_at;      ///< first `running`
  std::optional<time_point> ended_at;        ///< the terminal state
};

/// An agent as users see it.
enum class agent_state {
  polling,  ///< alive, holding no item
  running,  ///< alive, holding at least one item
  stopped,  ///< said it exited
  lost,     ///< stopped heartbeating
};

inline std::string_view to_string(agent_state s) noexcept {
  switch (s) {
    case agent_state::polling: return "polling";
    case agent_state::running: return "running";
    case agent_state::stopped: return "stopped";
    case agent_state::lost: return "lost";
  }
  return "lost";
}

/// A registered agent.
struct agent_record {
  std::int64_t id = 0;
  /** The token that registered it: only that token may act as this agent
      (lease, heartbeat, ack, report, logs). Empty for an agent registered
      before tokens had roles; the next registration that resumes it binds it. */
  std::optional<std::int64_t> token;
  std::string name;
  std::string host;
  std::vector<std::string> queues;
  int max_jobs = 1;
  agent_state state = agent_state::polling;
  time_point last_heartbeat{};
  bool stop_requested = false;
  time_point registered_at{};
};

/// What an agent says when it registers.
struct agent_registration {
  std::string name;
  std::string host;
  std::vector<std::string> queues;  ///< every one must exist
  int max_jobs = 1;                 ///< at least 1; no agent holds more items than this
  /** A restarted agent's earlier id: when that agent exists, has this name
      and has not stopped, it is taken over (same id, so the items it holds
      stay held) instead of a new agent being made. */
  std::optional<std::int64_t> resume;
  /** The token registering it, to which the agent is bound. A resume by
      another token is refused (`not_holder`); empty: bound to none (stores
      used without authorization, such as in tests). */
  std::optional<std::int64_t> token;
};

/** What a token may do (DESIGN.md, "Authorization"):
    - `admin`: everything, including tokens, queues and stopping agents;
    - `member`: jobs, pushes, reading everything, stopping runs;
    - `agent`: registers one agent, then acts only as it (lease, heartbeat,
      ack, report, its runs' logs) and downloads artifacts. */
enum class token_role { admin, member, agent };

inline std::string_view to_string(token_role r) noexcept {
  switch (r) {
    case token_role::admin: return "admin";
    case token_role::member: return "member";
    case token_role::agent: return "agent";
  }
  return "member";
}

/// Parses "admin", "member" or "agent"; empty for anything else.
inline std::optional<token_role> token_role_from_string(std::string_view name) noexcept {
  for (auto r : {token_role::admin, token_role::member, token_role::agent})
    if (to_string(r) == name) return r;
  return std::nullopt;
}

/// An API token; only the SHA-256 of the token itself is stored (see `hash_token`).
struct token_record {
  std::int64_t id = 0;
  std::string name;
  std::string hash;  ///< 64 lowercase hex digits
  time_point created_at{};
  bool revoked = false;
  token_role role = token_role::member;
};

/// One version of a job.
struct job_version_record {
  std::string job;
  int version = 0;                  ///< v0, v1, …
  boost::json::object source;
  std::string digest;               ///< a new version is made only when this changes
  std::vector<std::string> aliases; ///< sorted; `latest` is on the newest (or last re-added) version
  time_point created_at{};
};

// ---- operation arguments and answers -------------------------------------------

/// What an agent reports about a run it holds.
struct state_update {
  run_state state = run_state::running;  ///< building, starting, running or a terminal state
  std::optional<int> exit_code;
  failure_stage stage = failure_stage::none;
  std::string message;
  std::vector<std::string> warnings;     ///< appended to the run's warnings
  std::string logs_tail;                 ///< replaces the kept tail when not empty
};

/// What a heartbeat tells the agent.
struct heartbeat_reply {
  std::vector<std::string> stop_runs;  ///< runs it holds that a user asked to stop
  bool stop_agent = false;             ///< a user asked the agent to stop
  std::chrono::milliseconds lease_time{0};  ///< how long its leases now last: the next heartbeat must come sooner
};

/// An expired lease, and what became of its item.
struct lease_expiry {
  std::int64_t item_id = 0;
  std::string run_id;
  std::string queue;
  std::int64_t agent = 0;  ///< the agent that stopped heartbeating
  int attempts = 0;
  bool requeued = true;    ///< false: the item failed with stage `agent`
};

/// Which runs `list_runs` returns, newest first.
struct run_filter {
  std::optional<std::string> queue;
  std::optional<run_state> state;
  std::optional<std::int64_t> agent;  ///< only runs this agent holds or held
  bool active_only = false;           ///< only runs that have not ended
  std::size_t limit = 1000;
};

// ---- tokens ------------------------------------------------------------------

/// The SHA-256 of `token`, as 64 lowercase hex digits: what stores keep instead of the token.
inline std::string hash_token(std::string_view token) { return liftoff::detail::sha256_hex(token); }

/// A new API token: `lft_` and 64 hex digits from OpenSSL's random generator. Show it once; store its hash.
inline std::string make_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw_diagnostic(store_failure(store_error::storage_failed, "OpenSSL's random generator failed"));
  return "lft_" + liftoff::detail::to_hex(bytes);
}

// ---- the concept -----------------------------------------------------------------

template <class S>
concept has_queue_operations = requires(S& s, queue_record q, std::string_view name, bool force) {
  { s.create_queue(q) } -> std::same_as<result<queue_record>>;
  { s.get_queue(name) } -> std::same_as<result<queue_record>>;
  { s.list_queues() } -> std::same_as<result<std::vector<queue_record>>>;
  { s.delete_queue(name, force) } -> std::same_as<result<void>>;
};

template <class S>
concept has_item_operations = requires(S& s, std::string_view queue, priority p, boost::json::object spec,
                                       std::string run_id, std::int64_t id, std::optional<item_state> st, time_point now) {
  { s.push(queue, p, spec, run_id, now) } -> std::same_as<result<item_record>>;
  { s.get_item(id) } -> std::same_as<result<item_record>>;
  { s.list_items(queue, st) } -> std::same_as<result<std::vector<item_record>>>;
  { s.count_items(queue) } -> std::same_as<result<std::map<item_state, std::int64_t>>>;
};

template <class S>
concept has_lease_operations = requires(S& s, std::string_view queue, std::int64_t id, std::chrono::milliseconds d,
                                        time_point now, int max_attempts) {
  { s.lease(queue, id, d, now) } -> std::same_as<result<std::optional<item_record>>>;
  { s.heartbeat(id, d, now) } -> std::same_as<result<heartbeat_reply>>;
  { s.expire_leases(now, max_attempts) } -> std::same_as<result<std::vector<lease_expiry>>>;
  { s.ack(id, id) } -> std::same_as<result<item_record>>;
};

template <class S>
concept has_run_operations = requires(S& s, std::string_view run_id, std::int64_t agent, state_update u,
                                      run_filter f, time_point now) {
  { s.report(run_id, agent, u, now) } -> std::same_as<result<run_record>>;
  { s.get_run(run_id) } -> std::same_as<result<run_record>>;
  { s.list_runs(f) } -> std::same_as<result<std::vector<run_record>>>;
  { s.request_stop_run(run_id, now) } -> std::same_as<result<run_record>>;
};

template <class S>
concept has_agent_operations = requires(S& s, agent_registration r, std::int64_t id, time_point now,
                                        std::chrono::milliseconds silent_for) {
  { s.register_agent(r, now) } -> std::same_as<result<agent_record>>;
  { s.get_agent(id) } -> std::same_as<result<agent_record>>;
  { s.list_agents() } -> std::same_as<result<std::vector<agent_record>>>;
  { s.request_stop_agent(id) } -> std::same_as<result<agent_record>>;
  { s.agent_stopped(id) } -> std::same_as<result<agent_record>>;
  { s.mark_lost_agents(now, silent_for) } -> std::same_as<result<std::vector<agent_record>>>;
};

template <class S>
concept has_token_operations = requires(S& s, std::string_view text, std::int64_t id, token_role role,
                                        time_point now) {
  { s.add_token(text, text, role, now) } -> std::same_as<result<token_record>>;
  { s.find_token(text) } -> std::same_as<result<std::optional<token_record>>>;
  { s.revoke_token(id) } -> std::same_as<result<token_record>>;
  { s.list_tokens() } -> std::same_as<result<std::vector<token_record>>>;
};

template <class S>
concept has_job_operations = requires(S& s, std::string_view text, boost::json::object source, time_point now) {
  { s.add_job_version(text, source, text, now) } -> std::same_as<result<job_version_record>>;
  { s.set_job_alias(text, text, text) } -> std::same_as<result<job_version_record>>;
  { s.get_job_version(text, text) } -> std::same_as<result<job_version_record>>;
  { s.list_job_versions(text) } -> std::same_as<result<std::vector<job_version_record>>>;
  { s.list_jobs() } -> std::same_as<result<std::vector<job_version_record>>>;
};

/** Where the control plane keeps queues, items, runs, agents, tokens and job
    versions. Every operation is atomic; a write that returns success is on
    disk; a failing operation changes nothing. `lease` hands each item to
    exactly one caller, however many call at once. */
template <class S>
concept store = has_queue_operations<S> && has_item_operations<S> && has_lease_operations<S> &&
                has_run_operations<S> && has_agent_operations<S> && has_token_operations<S> && has_job_operations<S>;

}  // namespace liftoff::server

#endif
