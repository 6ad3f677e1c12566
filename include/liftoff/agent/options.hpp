#ifndef LIFTOFF_AGENT_OPTIONS_HPP
#define LIFTOFF_AGENT_OPTIONS_HPP

/** What a launch agent is told: `agent_options` and `stop_mode`, and the
    re-attach contract it follows runs held before a restart with. Included
    by <liftoff/agent/agent.hpp>; the agent's own parts include only this. */

#include <liftoff/detail/config.hpp>
#include <liftoff/client/client.hpp>
#include <liftoff/core/backend.hpp>
#include <liftoff/core/registry.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::agent {

/** What an agent asks when it finds a run it held before it restarted
    (<liftoff/core/backend.hpp>). `resource` is empty when the run's spec
    could not be read: a function that finds runs by their id alone may
    still answer for it. */
using liftoff::reattach_request;

/** Finds a run again on its resource. The agent reports what it answers:
    - the run: the agent follows it to its end;
    - nullopt: the run is gone; reported `crashed` ("… did not find the run
      on <resource> again: it is gone");
    - `error::gone`: the run is gone and the diagnostic's message says
      what became of it; that message is the run's `crashed` reason, as it
      is ("the agent restarted and the run's process was not found: …");
    - `error::unsupported`: not this function's resource; reported `crashed`
      as a run that no one can find again;
    - any other diagnostic: the resource could not be asked; reported
      `crashed` with it. */
using liftoff::reattach_fn;

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
  /** How much a run's code artifact may unpack to (4 GiB, 100,000 entries by
      default); past a limit the run fails at stage `source`, naming the
      artifact, the limit and how to raise it. */
  client::unpack_limits unpack = default_unpack_limits();
  /// Where the agent keeps its identity (`<name>.json`); empty: `default_state_dir()`.
  std::filesystem::path state_dir;
  /// The launchers the agent runs items with, by resource.
  launcher_registry registry;
  /** Resource arguments every run gets unless its spec sets them, keyed by
      resource: `{"local-container": {"memory": "2g"}}`. */
  boost::json::object resource_defaults;
  /** How runs held before a restart are found again: each backend's rule
      (`make_reattach()` in <liftoff/backends.hpp> combines them all). A run
      it cannot find, or every run when there is none, is reported `crashed`
      with the reason `reattach_fn` describes. It is given the options'
      `grace_period` (in `reattach_request::options`). */
  reattach_fn reattach;
  /// What a stop requested on the server (`liftoff agent stop`) does: `cancel` (as SIGTERM) or `drain`.
  stop_mode on_stop_request = stop_mode::cancel;
  std::size_t logs_tail_lines = 100;                        ///< lines in a run's reported `logs_tail`
  std::size_t max_pending_log_bytes = std::size_t(8) << 20;  ///< unsent output kept per run while the server is away
  /// Receives one human-readable line per event ("run abc123 leased from a"); called from the agent's threads, one call at a time.
  std::function<void(std::string_view)> on_event;

  /// The default limits, with the errors naming these options.
  static client::unpack_limits default_unpack_limits() {
    client::unpack_limits l;
    l.unpacked_bytes_setting = "agent_options::unpack.max_unpacked_bytes";
    l.entries_setting = "agent_options::unpack.max_entries";
    return l;
  }

  /// 10 s to connect, 30 s per request, 3 attempts for idempotent calls.
  static net::client_options default_http_options() {
    net::client_options o;
    o.connect_timeout = std::chrono::seconds(10);
    o.request_timeout = std::chrono::seconds(30);
    return o;
  }
};

}  // namespace liftoff::agent

#endif
