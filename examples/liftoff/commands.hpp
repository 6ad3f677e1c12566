#ifndef LIFTOFF_EXAMPLES_COMMANDS_HPP
#define LIFTOFF_EXAMPLES_COMMANDS_HPP

#include <liftoff/core/registry.hpp>

#include <CLI/App.hpp>

#include <functional>
#include <optional>
#include <string>

namespace liftoff::agent {
struct reattach_request;
}

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

/// The launchers this program is built with, by resource name (launch.cpp); the agent uses the same.
/// How the launchers of `make_registry` are set up.
struct registry_settings {
  std::string agent;         ///< the agent's name, labelled on Kubernetes objects; empty for `launch`
  bool secure_mode = false;  ///< Kubernetes secure mode (on for agents serving queues)
  std::string builder = "docker";  ///< how `kubernetes` builds code: "docker" (the local engine) or "kaniko" (in the cluster)
};

launcher_registry make_registry(registry_settings const& settings = {});

/// Adds the `sagemaker` launchers (sagemaker.cpp, the one file that compiles the SageMaker headers).
void add_sagemaker_launchers(launcher_registry& registry);

/** Follows a `sagemaker` run again after an agent restart (`agent::sagemaker_reattach`;
    the region and profile come from the run's resource_args, else the environment);
    defined in sagemaker.cpp. */
result<std::optional<any_run>> reattach_sagemaker(agent::reattach_request const& request);

/// Exit codes shared by the commands.
enum exit_code : int {
  exit_ok = 0,
  exit_failed = 1,       ///< the run failed (a process's own exit code is passed through instead when there is one)
  exit_usage = 2,        ///< bad command line, config or spec
  exit_interrupted = 130 ///< cancelled by SIGINT (SIGTERM gives 143)
};

}  // namespace liftoff::cli

#endif
