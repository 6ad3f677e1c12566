#ifndef LIFTOFF_EXAMPLES_COMMANDS_HPP
#define LIFTOFF_EXAMPLES_COMMANDS_HPP

#include <liftoff/core/backend.hpp>

#include <CLI/App.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace liftoff::cli {

/// A parsed command, run after CLI11 has validated the whole command line; returns the exit code.
using command_action = std::function<int()>;

/// `liftoff launch`: runs a job now and exits with its status, or pushes it to a queue (`--queue`).
void add_launch_command(CLI::App& app, command_action& action);
/// `liftoff server`: the queue server (server.cpp).
void add_server_command(CLI::App& app, command_action& action);
/// `liftoff login` and `liftoff token create|list|revoke` (login.cpp).
void add_login_commands(CLI::App& app, command_action& action);
/// `liftoff queue create|list|describe|delete` (queue.cpp).
void add_queue_command(CLI::App& app, command_action& action);
/// `liftoff job create|list|describe|alias` (job.cpp).
void add_job_command(CLI::App& app, command_action& action);
/// `liftoff run list|describe|logs|stop` and `liftoff agent list|stop` (run.cpp).
void add_run_commands(CLI::App& app, command_action& action);
/// `liftoff launch-agent` (launch_agent.cpp).
void add_launch_agent_command(CLI::App& app, command_action& action);

/// `liftoff resources`: the backends, their resource_args and options (backend_options.cpp).
void add_resources_command(CLI::App& app, command_action& action);

/// The backends' options a command offers, by flag (`backend::options`; backend_options.cpp).
using backend_values = std::map<std::string, std::string, std::less<>>;

/** Adds every backend's options for `liftoff launch` (or, with `for_agent`,
    `liftoff launch-agent`) to `cmd`, their values going to `values`. */
void add_backend_options(CLI::App& cmd, backend_values& values, bool for_agent);

/** The settings the options in `values` give the backends; `for_agent` turns on secure mode and
    `backend_settings::for_agent` (an agent's local runs get a minimal environment). */
backend_settings backend_settings_from(backend_values const& values, bool for_agent, std::string agent_name = {});

/// "local-process, local-container (the default), kubernetes or sagemaker", from the backends.
std::string resource_choices();

/// Exit codes shared by the commands.
enum exit_code : int {
  exit_ok = 0,
  exit_failed = 1,       ///< the run failed (a process's own exit code is passed through instead when there is one)
  exit_usage = 2,        ///< bad command line, config or spec
  exit_interrupted = 130 ///< cancelled by SIGINT (SIGTERM gives 143)
};

}  // namespace liftoff::cli

#endif
