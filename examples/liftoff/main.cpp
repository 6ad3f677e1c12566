// liftoff: the command-line interface built from the liftoff library.

#include "commands.hpp"

#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"liftoff: launch machine-learning jobs on local processes, Docker, Kubernetes and SageMaker", "liftoff"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "liftoff 0.1.0");

  liftoff::cli::command_action action;
  liftoff::cli::add_launch_command(app, action);
  liftoff::cli::add_launch_agent_command(app, action);
  liftoff::cli::add_server_command(app, action);
  liftoff::cli::add_login_commands(app, action);
  liftoff::cli::add_queue_command(app, action);
  liftoff::cli::add_job_command(app, action);
  liftoff::cli::add_run_commands(app, action);
  liftoff::cli::add_resources_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (CLI::CallForHelp const& e) {
    return app.exit(e);
  } catch (CLI::CallForAllHelp const& e) {
    return app.exit(e);
  } catch (CLI::CallForVersion const& e) {
    return app.exit(e);
  } catch (CLI::ParseError const& e) {
    app.exit(e);
    return liftoff::cli::exit_usage;
  }
  return action ? action() : liftoff::cli::exit_usage;
}
