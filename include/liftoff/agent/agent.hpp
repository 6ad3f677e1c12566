#ifndef LIFTOFF_AGENT_AGENT_HPP
#define LIFTOFF_AGENT_AGENT_HPP

/** The launch agent (DESIGN.md, "The three ideas users meet"): a
    long-running process that takes items from its queues on the control
    plane, runs each on the queue's resource through a `launcher_registry`,
    watches it to the end and reports every state change, its logs and how
    it ended. */

#include <liftoff/client/client.hpp>
#include <liftoff/core/registry.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::agent {

namespace detail {
struct agent_shared;
}

/** What an agent is asked to do when it finds a run it held before it
    restarted: follow it again. */
struct reattach_request {
  std::string run_id;
  std::string resource;    ///< where it ran (`local-container`, …)
  launch_spec spec;        ///< the run's merged spec, as the server keeps it
  launch_options options;  ///< the callbacks that report the run (its logs, its end)
  /// Output lines the server already has; a target that replays its output skips as many.
  std::size_t delivered_lines = 0;
};

/** Finds a run again on its resource (a container by its labels, …). Returns
    the run, nullopt when it is gone, a diagnostic when the resource could
    not be asked, or `error::unsupported` for a resource whose runs it
    cannot find. */
using reattach_fn = std::function<result<std::optional<any_run>>(reattach_request const&)>;

/// How far a stop goes; a later request can only go further.
enum class stop_mode {
  none,       ///< keep working
  drain,      ///< take no more work; let the runs end, reporting them
  cancel,     ///< take no more work; cancel the runs (with the grace period), reporting them `stopped`
  immediate,  ///< as `cancel`, with no grace period
};

/// Everything an agent needs; only `server` and `queues` have no default.
struct agent_options {
  client::credentials server;  ///< the server's URL and the agent's token (never logged)
  /** Connection and timeout settings for the API calls (a lease's long poll
      is given its wait on top of `request_timeout`). */
  net::client_options http = default_http_options();
  /// The agent's name; empty: "<host>-<pid>". A restarted agent resumes its identity only under the same name.
  std::string name;
  /// The machine's name as the server shows it; empty: the host name.
  std::string host;
  std::vector<std::string> queues;  ///< at least one; items are taken from them round-robin
  int max_jobs = 1;                 ///< runs at once; at least 1
  /// How long one lease request waits on the server for an item (long poll).
  std::chrono::milliseconds lease_wait{std::chrono::seconds(30)};
  /** The longest pause between heartbeats. The agent beats more often when
      the server's leases are short: at least three times per lease time,
      which every heartbeat reply gives. */
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(5)};
  /// How often a run's new output is sent to the server.
  std::chrono::milliseconds log_flush_interval{std::chrono::milliseconds(500)};
  /// The first pause before trying again when the server is away; doubles up to `heartbeat_interval`.
  std::chrono::milliseconds retry_interval{std::chrono::milliseconds(250)};
  /// How long a cancelled run may take to stop before it is killed.
  std::chrono::milliseconds grace_period{std::chrono::seconds(10)};
  /** How long, once stopping, the agent keeps trying to report a run's end
      to a server that does not answer before it gives up and exits. */
  std::chrono::milliseconds final_report_patience{std::chrono::seconds(10)};
  /// Where runs fetch their code (one directory per run, removed when it ends); empty: `default_work_dir(name)`.
  std::filesystem::path work_dir;
  /// Where the agent keeps its identity (`<name>.json`); empty: `default_state_dir()`.
  std::filesystem::path state_dir;
  /// The launchers the agent runs items with, by resource.
  launcher_registry registry;
  /** Resource arguments every run gets unless its spec sets them, keyed by
      resource: `{"local-container": {"memory": "2g"}}`. */
  boost::json::object resource_defaults;
  /** How runs held before a restart are found again (e.g. `container_reattach()`
      for `local-container`). A run it cannot find (or when there is none) is
      reported `crashed`; what is left of a `local-process` run (processes
      carrying its `LIFTOFF_RUN_ID`) is stopped. */
  reattach_fn reattach;
  /// What a stop requested on the server (`liftoff agent stop`) does: `cancel` (as SIGTERM) or `drain`.
  stop_mode on_stop_request = stop_mode::cancel;
  std::size_t logs_tail_lines = 100;                        ///< lines in a run's reported `logs_tail`
  std::size_t max_pending_log_bytes = std::size_t(8) << 20;  ///< unsent output kept per run while the server is away
  /// Receives one human-readable line per event ("run abc123 leased from a"); called from the agent's threads, one call at a time.
  std::function<void(std::string_view)> on_event;

  /// 10 s to connect, 30 s per request, 3 attempts for idempotent calls.
  static net::client_options default_http_options() {
    net::client_options o;
    o.connect_timeout = std::chrono::seconds(10);
    o.request_timeout = std::chrono::seconds(30);
    return o;
  }
};

/** `$XDG_STATE_HOME/liftoff/agents`, else `~/.local/state/liftoff/agents`
    (the system's temp dir when there is no home). */
std::filesystem::path default_state_dir();

/** `$XDG_CACHE_HOME/liftoff/agents/<name>`, else `~/.cache/liftoff/agents/<name>`
    (under the system's temp dir when there is no home). */
std::filesystem::path default_work_dir(std::string_view name);

/// "<host name>-<pid>".
std::string default_agent_name();

/** What a launch-agent config file (`--config launch-config.yaml`) may say;
    command-line flags win over it. */
struct agent_config {
  std::vector<std::string> queues;
  std::optional<int> max_jobs;
  std::string name;
  boost::json::object resource_args;  ///< per-resource defaults, keyed by resource name
  std::filesystem::path work_dir;
  std::optional<std::chrono::milliseconds> grace_period;
};

/** Reads a config: an object with `queues` (a list of names, or one name),
    `max_jobs` (an integer ≥ 1), `name`, `resource_args` (an object of
    objects, keyed by resource), `work_dir` and `grace_period` (seconds).
    Errors name `origin` and the field; an unknown field is an error with a
    suggestion. */
result<agent_config> parse_agent_config(boost::json::value const& v, std::string_view origin);

/** The launch spec of a leased item: its `run_spec` parsed (an error names
    the field: "the item's run spec: entry_point: …"), the run id, queue and
    resource set from the item where the spec lacks them, and the
    `resource_defaults` for its resource filled in where the spec has no
    value of its own. */
result<launch_spec> item_launch_spec(server::item_record const& item,
                                     boost::json::object const& resource_defaults = {});

/** Substitutes the agent macros in `spec.resource_args`: `${run_id}`,
    `${project_name}`, `${run_name}`, `${author}` from the spec and any other
    `${NAME}` from `lookup_env` (default: the agent's environment).
    `${image_uri}` is left for the launcher, which knows it only once the
    image is built; a macro without a value stays as written. */
void expand_agent_macros(launch_spec& spec,
                         std::function<std::optional<std::string>(std::string_view)> lookup_env = {});

/** A launch agent. `run()` registers it and works until it is stopped;
    `request_stop` may be called from any thread (a signal handler's thread,
    say) at any time.

    Threads: `run()`'s own (dispatching), one that heartbeats, one that
    long-polls for items, and one per run (launching it, sending its logs
    every `log_flush_interval`, reporting its states). Each has its own
    `client::api_client`. */
class agent {
public:
  /// An agent with `options`; nothing happens until `run()`.
  explicit agent(agent_options options);
  ~agent();
  agent(agent const&) = delete;
  agent& operator=(agent const&) = delete;

  /** Registers (resuming the identity kept in the state file, so the runs
      the agent held before a restart stay its own), finds those runs again,
      then takes and runs items until a stop is requested (by
      `request_stop`, or by the server on heartbeat), and tells the server
      it stopped.

      A server that does not answer is waited for (the runs keep going);
      `run()` fails at once only for what waiting cannot fix: invalid
      options, an unknown queue, a refused token.
      @return success after a requested stop; else the diagnostic. */
  result<void> run();

  /// Asks the agent to stop; see `stop_mode`. `drain` true: `stop_mode::drain`, else `stop_mode::cancel`.
  void request_stop(bool drain) { request_stop(drain ? stop_mode::drain : stop_mode::cancel); }
  void request_stop(stop_mode mode);

  /// The agent's id on the server, once registered.
  std::optional<std::int64_t> id() const;

  /// How many runs it holds now.
  std::size_t active_runs() const;

private:
  std::shared_ptr<detail::agent_shared> shared_;
};

}  // namespace liftoff::agent

#include <liftoff/agent/impl/agent.hpp>

#endif
