#ifndef LIFTOFF_AGENT_IMPL_REGISTRATION_IPP
#define LIFTOFF_AGENT_IMPL_REGISTRATION_IPP

#include <liftoff/agent/detail/registration.hpp>

#include <liftoff/agent/agent.hpp>
#include <liftoff/agent/detail/state_file.hpp>

#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace liftoff::agent::detail {

LIFTOFF_DECL std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

LIFTOFF_DECL std::filesystem::path user_dir(char const* xdg, char const* fallback) {
  if (char const* x = std::getenv(xdg); x && *x == '/') return x;
  if (char const* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / fallback;
  std::error_code ec;
  auto tmp = std::filesystem::temp_directory_path(ec);
  return (ec ? std::filesystem::path("/tmp") : tmp) / ("liftoff-" + std::to_string(::getuid()));
}

LIFTOFF_DECL result<void> complete_options(agent_options& o) {
  using namespace std::chrono_literals;
  if (o.queues.empty()) return diagnostic(error::invalid_request, "the agent needs at least one queue (--queue)");
  for (auto const& q : o.queues)
    if (q.empty()) return diagnostic(error::invalid_request, "queues: a queue name is empty");
  if (o.max_jobs < 1)
    return diagnostic(error::invalid_request,
                      "max_jobs is " + std::to_string(o.max_jobs) + "; an agent runs at least 1 job at once");
  if (o.server.server.empty())
    return diagnostic(error::invalid_request, "no server: give its URL (--server, LIFTOFF_SERVER or liftoff login)");
  for (auto [name, d] : {std::pair<char const*, std::chrono::milliseconds>{"heartbeat_interval", o.heartbeat_interval},
                         {"log_flush_interval", o.log_flush_interval},
                         {"retry_interval", o.retry_interval},
                         {"lease_wait", o.lease_wait}})
    if (d <= 0ms) return diagnostic(error::invalid_request, std::string(name) + " must be positive");
  if (o.name.empty()) o.name = default_agent_name();
  if (o.name.find('/') != std::string::npos || o.name == "." || o.name == "..")
    return diagnostic(error::invalid_request, "name '" + o.name + "': an agent's name cannot contain '/'");
  if (o.host.empty()) o.host = host_name();
  if (o.work_dir.empty()) o.work_dir = default_work_dir(o.name);
  if (o.state_dir.empty()) o.state_dir = default_state_dir();
  return {};
}

LIFTOFF_DECL result<std::optional<registration>> register_agent(agent_shared& sh, client::api_client& c) {
  auto const& o = sh.opts;
  server::agent_registration reg;
  reg.name = o.name;
  reg.host = o.host;
  reg.queues = o.queues;
  reg.max_jobs = o.max_jobs;
  if (auto known = liftoff::detail::load_agent_identity(sh.state_file()); !known)
    sh.emit("ignoring the agent's state file: " + known.error().what());
  else if (*known && (*known)->name == o.name && (*known)->server == o.server.server)
    reg.resume = (*known)->id;

  auto r = retry(sh.server_retry_until_stopping(), [&] { return c.register_agent(reg); },
                 [&](auto const& answer) { return sh.again_while_unreachable(answer); });
  if (!r) {
    if (unreachable(r.error())) return std::optional<registration>();  // stopped while the server was away
    return diagnostic(r.error().code, "cannot register the agent: " + r.error().what());
  }
  sh.note_back();
  registration out{std::move(*r), false};
  out.resumed = reg.resume && *reg.resume == out.me.id;
  {
    std::lock_guard lock(sh.m);
    sh.id = out.me.id;
  }
  if (auto saved = liftoff::detail::save_agent_identity(sh.state_file(), {out.me.id, o.name, o.server.server}); !saved)
    sh.emit("the agent cannot keep its identity for a restart: " + saved.error().what());
  sh.emit("agent " + std::to_string(out.me.id) + (out.resumed ? " resumed" : " registered") + " as " + o.name +
          " on queues " + join(o.queues) + " (max " + std::to_string(o.max_jobs) + " job" +
          (o.max_jobs == 1 ? "" : "s") + ")");
  return std::optional<registration>(std::move(out));
}

LIFTOFF_DECL void report_stopped(agent_shared& sh, client::api_client& c, std::int64_t agent_id) {
  auto patient = sh.server_retry();
  patient.deadline = clock::now() + sh.opts.final_report_patience;
  auto r = retry(patient, [&] { return c.agent_stopped(agent_id); },
                 [](auto const& answer) { return !answer && unreachable(answer.error()); });
  if (!r && unreachable(r.error()))
    sh.emit("the server could not be told that the agent stopped: " + r.error().what());
}

}  // namespace liftoff::agent::detail

#endif
