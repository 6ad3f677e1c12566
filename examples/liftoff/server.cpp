// `liftoff server`: the queue server over SQLite in a data directory.

#include "commands.hpp"
#include "terminal.hpp"

#include <liftoff/backends.hpp>
#include <liftoff/server/http_server.hpp>
#include <liftoff/server/sqlite_store.hpp>

#include <CLI/App.hpp>

#include <csignal>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include <pthread.h>

namespace liftoff::cli {

namespace {

struct server_flags {
  std::string data_dir;
  std::string listen = "127.0.0.1:8080";
  std::uint64_t max_body_size = 1024 * 1024;
  std::uint64_t max_artifact_size = 1024ull * 1024 * 1024;
  double lease_seconds = 30;
  int max_attempts = 3;
  int max_preemptions = 3;
  double agent_lost_seconds = 60;
  double max_wait_seconds = 60;
  int threads = 2;
  int store_threads = 48;
};

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000)); }

int run_server(server_flags const& flags) {
  terminal term;
  // Signals are taken by sigwait below, not by whichever thread they hit:
  // block them before any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::sqlite_store_options store_options;
  store_options.max_preemptions = flags.max_preemptions;
  auto store = server::sqlite_store::open(flags.data_dir, store_options);
  if (!store) return term.fail(store.error(), exit_failed);

  server::api_server_options options;
  options.listen = flags.listen;
  options.data_dir = flags.data_dir;
  options.max_body_size = flags.max_body_size;
  options.max_artifact_size = flags.max_artifact_size;
  options.lease_time = seconds(flags.lease_seconds);
  options.max_attempts = flags.max_attempts;
  options.agent_lost_after = seconds(flags.agent_lost_seconds);
  options.max_wait = seconds(flags.max_wait_seconds);
  options.network_threads = flags.threads;
  options.store_threads = flags.store_threads;
  options.resources = backend_names();  // what the agents built from this program can run

  auto server = std::make_unique<server::api_server>(std::move(*store), options);
  if (auto started = server->start(); !started) return term.fail(started.error(), exit_failed);
  std::cout << "liftoff server listening on " << server->url() << std::endl;

  int signo = 0;
  sigwait(&signals, &signo);
  term.note(std::string("received ") + (signo == SIGINT ? "SIGINT" : "SIGTERM") +
            ": finishing the requests in flight");
  server->stop();
  server.reset();
  return exit_ok;
}

}  // namespace

void add_server_command(CLI::App& app, command_action& action) {
  auto flags = std::make_shared<server_flags>();
  auto* cmd = app.add_subcommand("server", "Run the queue server: jobs, queues, agents and runs over HTTP");
  cmd->add_option("--data-dir", flags->data_dir, "Directory of the database, artifacts and run logs")->required();
  cmd->add_option("--listen", flags->listen, "Address to listen on, HOST:PORT (port 0 picks one)")
      ->capture_default_str();
  cmd->add_option("--max-body-size", flags->max_body_size, "Largest JSON request body, in bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-artifact-size", flags->max_artifact_size, "Largest code artifact upload, in bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lease-seconds", flags->lease_seconds, "How long a lease lasts without a heartbeat")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-attempts", flags->max_attempts, "Leases an item may have before it fails (stage agent)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--max-preemptions", flags->max_preemptions,
                  "Times a preempted run goes back on its queue (same run id) before preempted is final")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--agent-lost-seconds", flags->agent_lost_seconds, "Silence after which an agent shows as lost")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-wait-seconds", flags->max_wait_seconds, "Longest long-poll wait honoured")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", flags->threads, "Network threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--store-threads", flags->store_threads, "Threads running database calls")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->callback([flags, &action] { action = [flags] { return run_server(*flags); }; });
}

}  // namespace liftoff::cli
