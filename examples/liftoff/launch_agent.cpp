// `liftoff launch-agent`: takes items from queues on the server and runs them.

#include "commands.hpp"
#include "terminal.hpp"

#include <liftoff/agent/agent.hpp>
#include <liftoff/core/parse.hpp>
#include <liftoff/backends.hpp>
#include <liftoff/client/client.hpp>

#include <CLI/App.hpp>
#include <CLI/Validators.hpp>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace liftoff::cli {

namespace {

struct agent_flags {
  std::vector<std::string> queues;
  int max_jobs = 0;  // 0: not given
  std::string name;
  std::string config;
  std::string server;
  bool drain = false;
  std::optional<double> grace_seconds;
  std::optional<double> heartbeat_seconds;
  std::optional<double> lease_wait_seconds;
  std::string work_dir;
  std::string state_dir;
  std::optional<std::uint64_t> max_unpacked_size;
  std::optional<std::uint64_t> max_archive_entries;
  bool no_secure_mode = false;
  backend_values backends;  ///< the backends' own options (--builder, …)
};

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); }

/// The server and token: `--server` wins over LIFTOFF_SERVER and the login file; the token comes from them.
result<client::credentials> agent_credentials(std::string const& server) {
  auto loaded = client::load_credentials();
  if (server.empty()) return loaded;
  client::credentials c;
  c.server = server;
  if (char const* t = std::getenv("LIFTOFF_API_TOKEN"); t && *t) c.token = t;
  else if (loaded) c.token = loaded->token;
  else return diagnostic(error::invalid_request, "no API token for " + server +
                                                     ": set LIFTOFF_API_TOKEN or run `liftoff login --server " +
                                                     server + "`");
  return c;
}

int run_agent(agent_flags const& flags) {
  terminal term;
  agent::agent_options o;

  if (!flags.config.empty()) {
    auto doc = load_config(flags.config);
    if (!doc) return term.fail(doc.error(), exit_usage);
    auto cfg = agent::parse_agent_config(*doc, "--config " + flags.config);
    if (!cfg) return term.fail(cfg.error(), exit_usage);
    o.queues = cfg->queues;
    if (cfg->max_jobs) o.max_jobs = *cfg->max_jobs;
    o.name = cfg->name;
    o.resource_defaults = cfg->resource_args;
    o.work_dir = cfg->work_dir;
    if (cfg->grace_period) o.grace_period = *cfg->grace_period;
  }
  if (!flags.queues.empty()) o.queues = flags.queues;
  if (flags.max_jobs > 0) o.max_jobs = flags.max_jobs;
  if (!flags.name.empty()) o.name = flags.name;
  if (!flags.work_dir.empty()) o.work_dir = flags.work_dir;
  if (!flags.state_dir.empty()) o.state_dir = flags.state_dir;
  if (flags.grace_seconds) o.grace_period = seconds(*flags.grace_seconds);
  if (flags.heartbeat_seconds) o.heartbeat_interval = seconds(*flags.heartbeat_seconds);
  if (flags.lease_wait_seconds) o.lease_wait = seconds(*flags.lease_wait_seconds);
  if (flags.max_unpacked_size) o.unpack.max_unpacked_bytes = *flags.max_unpacked_size;
  if (flags.max_archive_entries) o.unpack.max_entries = *flags.max_archive_entries;
  o.unpack.unpacked_bytes_setting = "--max-unpacked-size";
  o.unpack.entries_setting = "--max-archive-entries";
  if (o.queues.empty())
    return term.fail(diagnostic(error::invalid_request, "give at least one queue: --queue NAME (or `queues` in --config)"),
                     exit_usage);

  auto creds = agent_credentials(flags.server);
  if (!creds) return term.fail(creds.error(), exit_usage);
  o.server = std::move(*creds);
  // The same settings for the launchers and for re-attaching, so that the runs' labels and rules match.
  auto settings = backend_settings_from(flags.backends, true, o.name);
  settings.secure_mode = !flags.no_secure_mode;
  o.registry = make_registry(settings);
  o.reattach = make_reattach(settings);
  o.on_stop_request = flags.drain ? agent::stop_mode::drain : agent::stop_mode::cancel;
  o.on_event = [&term](std::string_view line) { term.note(std::string(line)); };

  agent::agent a(std::move(o));
  // From here on the first SIGINT/SIGTERM stops the agent (draining with --drain), the second cancels at once.
  interrupt_watch interrupts;
  interrupts.on_signal([&a, drain = flags.drain](int count) {
    if (count > 1) a.request_stop(agent::stop_mode::immediate);
    else a.request_stop(drain ? agent::stop_mode::drain : agent::stop_mode::cancel);
  });
  auto done = a.run();
  interrupts.stop();
  if (!done) return term.fail(done.error(), exit_failed);
  return exit_ok;
}

}  // namespace

void add_launch_agent_command(CLI::App& app, command_action& action) {
  auto flags = std::make_shared<agent_flags>();
  auto* cmd = app.add_subcommand("launch-agent", "Take items from queues on the server and run them until stopped");
  cmd->add_option("--queue,-q", flags->queues, "A queue to take items from (repeat for several; served round-robin)");
  cmd->add_option("--max-jobs,-j", flags->max_jobs, "Runs at once (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("--name,-n", flags->name,
                  "The agent's name (default host-pid); restarted under the same name, it keeps its runs");
  cmd->add_option("--config,-c", flags->config,
                  "Agent config (JSON or YAML): queues, max_jobs, name, resource_args per resource, work_dir, "
                  "grace_period; flags win");
  cmd->add_option("--server", flags->server, "The server's URL (default: LIFTOFF_SERVER or `liftoff login`)");
  cmd->add_flag("--drain", flags->drain,
                "On SIGINT/SIGTERM or a stop request, let the runs end instead of cancelling them (a second signal "
                "cancels at once)");
  cmd->add_option("--grace-period", flags->grace_seconds, "Seconds a cancelled run has to stop before it is killed")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--heartbeat-interval", flags->heartbeat_seconds, "Seconds between heartbeats (default 5)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lease-wait", flags->lease_wait_seconds, "Seconds one request for work waits on the server (default 30)")
      ->check(CLI::PositiveNumber);
  add_backend_options(*cmd, flags->backends, true);
  cmd->add_flag("--no-secure-mode", flags->no_secure_mode,
                "Let Kubernetes manifests use host paths, host networking, privileged containers and added "
                "capabilities (only for queues whose every user is trusted)");
  cmd->add_option("--work-dir", flags->work_dir, "Where runs fetch their code (default ~/.cache/liftoff/agents/NAME)");
  auto const at_least_one = CLI::Range(std::uint64_t(1), std::numeric_limits<std::uint64_t>::max());
  cmd->add_option("--max-unpacked-size", flags->max_unpacked_size,
                  "The most a run's code artifact may unpack to, e.g. 512m or 8g (default 4g); a bigger one fails "
                  "the run")
      ->transform(CLI::AsSizeValue(false))
      ->check(at_least_one);
  cmd->add_option("--max-archive-entries", flags->max_archive_entries,
                  "The most files, directories and links a run's code artifact may hold (default 100000)")
      ->check(at_least_one);
  cmd->add_option("--state-dir", flags->state_dir,
                  "Where the agent keeps its identity (default $XDG_STATE_HOME/liftoff/agents)");
  cmd->callback([&action, flags] { action = [flags] { return run_agent(*flags); }; });
}

}  // namespace liftoff::cli
