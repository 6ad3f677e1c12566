#ifndef LIFTOFF_AGENT_AGENT_HPP
#define LIFTOFF_AGENT_AGENT_HPP

/** The launch agent (DESIGN.md, "The three ideas users meet"): a
    long-running process that takes items from its queues on the control
    plane, runs each on the queue's resource through a `launcher_registry`,
    watches it to the end and reports every state change, its logs and how
    it ended. */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/options.hpp>  // agent_options, stop_mode, reattach_request, reattach_fn

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::agent {

namespace detail {
struct agent_shared;
}

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

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/agent.ipp>
#endif

#endif
