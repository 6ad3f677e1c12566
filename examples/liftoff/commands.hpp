#ifndef LIFTOFF_EXAMPLES_COMMANDS_HPP
#define LIFTOFF_EXAMPLES_COMMANDS_HPP

#include <CLI/App.hpp>

#include <functional>

namespace liftoff::cli {

/// A parsed command, run after CLI11 has validated the whole command line; returns the exit code.
using command_action = std::function<int()>;

/// `liftoff launch`: runs a job now and exits with its status.
void add_launch_command(CLI::App& app, command_action& action);

/// Exit codes shared by the commands.
enum exit_code : int {
  exit_ok = 0,
  exit_failed = 1,       ///< the run failed (a process's own exit code is passed through instead when there is one)
  exit_usage = 2,        ///< bad command line, config or spec
  exit_interrupted = 130 ///< cancelled by SIGINT (SIGTERM gives 143)
};

}  // namespace liftoff::cli

#endif
