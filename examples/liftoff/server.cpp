// `liftoff server`: the queue server over SQLite in a data directory.

#include "commands.hpp"
#include "terminal.hpp"

#include <liftoff/backends.hpp>
#include <liftoff/server/http_server.hpp>
#include <liftoff/server/service.hpp>
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
  std::size_t max_connections = 4096;
  std::size_t max_connections_per_client = 256;
  double header_timeout_seconds = 20;
  double idle_timeout_seconds = 20;
  std::uint64_t min_upload_rate = 1024;
  std::string admin_token_name = "admin-recovery";
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
  options.max_connections = flags.max_connections;
  options.max_connections_per_client = flags.max_connections_per_client;
  options.header_timeout = seconds(flags.header_timeout_seconds);
  options.idle_timeout = seconds(flags.idle_timeout_seconds);
  options.min_upload_rate = flags.min_upload_rate;
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

/** `liftoff server admin-token`: a new admin token, straight into the
    database. Access to the data directory's files is the root of trust: this
    is how an operator gets back in when every admin token is lost. It works
    while the server runs (SQLite serializes the write). */
int run_admin_token(server_flags const& flags) {
  terminal term;
  auto store = server::sqlite_store::open(flags.data_dir);
  if (!store) return term.fail(store.error(), exit_failed);
  server::basic_service<server::sqlite_store> service(*store);
  auto made = service.create_token(flags.admin_token_name, server::token_role::admin);
  if (!made) return term.fail(made.error(), exit_failed);
  std::cout << made->token << std::endl;
  term.note("admin token " + std::to_string(made->record.id) + " (" + made->record.name +
            ") created; it is shown only this once (log in with `liftoff login`)");
  return exit_ok;
}

}  // namespace

void add_server_command(CLI::App& app, command_action& action) {
  auto flags = std::make_shared<server_flags>();
  auto* cmd = app.add_subcommand("server", "Run the queue server: jobs, queues, agents and runs over HTTP");
  cmd->add_option("--data-dir", flags->data_dir, "Directory of the database, artifacts and run logs");
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
  cmd->add_option("--max-connections", flags->max_connections, "Connections open at once; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  cmd->add_option("--max-connections-per-client", flags->max_connections_per_client,
                  "Connections open at once from one client address; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  cmd->add_option("--header-timeout-seconds", flags->header_timeout_seconds,
                  "Time a request's header has to arrive whole")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--idle-timeout-seconds", flags->idle_timeout_seconds,
                  "Time a kept-alive connection may wait for its next request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--min-upload-rate", flags->min_upload_rate,
                  "Slowest request body accepted, in bytes per second (after 10 s); 0: no minimum")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  auto* admin = cmd->add_subcommand("admin-token",
                                    "Print a new admin token, made straight in the data directory's database "
                                    "(for when every admin token is lost; works while the server runs)");
  admin->add_option("--data-dir", flags->data_dir, "The server's data directory")->required();
  admin->add_option("--name", flags->admin_token_name, "The new token's name")->capture_default_str();
  cmd->callback([flags, admin, cmd, &action] {
    if (admin->parsed()) {
      action = [flags] { return run_admin_token(*flags); };
      return;
    }
    if (flags->data_dir.empty()) throw CLI::RequiredError(cmd->get_name() + " --data-dir");
    action = [flags] { return run_server(*flags); };
  });
}

}  // namespace liftoff::cli
