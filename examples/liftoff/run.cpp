// `liftoff run list|describe|logs|stop` and `liftoff agent list|stop`.

#include "client_support.hpp"

#include <CLI/App.hpp>

#include <memory>

namespace liftoff::cli {

namespace {

struct run_flags {
  std::string id;
  std::string queue;
  std::string state;
  std::size_t limit = 50;
  bool follow = false;
  bool json = false;
};

std::string exit_text(std::optional<int> code) { return code ? std::to_string(*code) : "-"; }

int run_list(run_flags const& f) {
  terminal term;
  client::run_query q;
  if (!f.queue.empty()) q.queue = f.queue;
  if (!f.state.empty()) {
    q.state = run_state_from_string(f.state);
    if (!q.state)
      return term.fail(diagnostic(error::invalid_request,
                                  "--state " + f.state + ": expected queued, leased, building, starting, running, "
                                                         "finished, failed, stopped, crashed or preempted"),
                       exit_usage);
  }
  q.limit = f.limit;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto runs = api->list_runs(q);
  if (!runs) return term.fail(runs.error(), exit_failed);
  if (f.json) {
    print_json(boost::json::value_from(*runs));
    return exit_ok;
  }
  text_table t({"RUN", "QUEUE", "STATE", "EXIT", "AGENT", "CREATED", "ENDED"});
  for (auto const& r : *runs)
    t.add({r.run_id, r.queue, std::string(to_string(r.state)) + (r.stop_requested && !is_terminal(r.state) ? " (stopping)" : ""),
           exit_text(r.exit_code), r.agent ? std::to_string(*r.agent) : "-", short_time(r.created_at),
           short_time(r.ended_at)});
  t.print(std::cout);
  return exit_ok;
}

int run_describe(run_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto run = api->get_run(f.id);
  if (!run) return term.fail(run.error(), exit_failed);
  auto spec = api->run_spec(f.id);
  if (f.json) {
    auto o = boost::json::value_from(*run).as_object();
    if (spec) o["spec"] = *spec;
    print_json(o);
    return exit_ok;
  }
  auto const& r = *run;
  std::cout << "run:       " << r.run_id << "\n"
            << "queue:     " << r.queue << " (item " << r.item_id << ")\n"
            << "state:     " << to_string(r.state) << (r.stop_requested && !is_terminal(r.state) ? " (stop requested)" : "")
            << "\n"
            << "agent:     " << (r.agent ? std::to_string(*r.agent) : "-") << "\n"
            << "exit code: " << exit_text(r.exit_code) << "\n";
  if (r.stage != failure_stage::none) std::cout << "stage:     " << to_string(r.stage) << "\n";
  if (!r.message.empty()) std::cout << "message:   " << r.message << "\n";
  std::cout << "created:   " << short_time(r.created_at) << "\n"
            << "started:   " << short_time(r.started_at) << "\n"
            << "ended:     " << short_time(r.ended_at) << "\n";
  if (spec) {
    if (auto const* job = spec->if_contains("job_name"); job && job->is_string())
      std::cout << "job:       " << job->get_string().c_str() << "\n";
    if (auto const* res = spec->if_contains("resource"); res && res->is_string())
      std::cout << "resource:  " << res->get_string().c_str() << "\n";
  }
  std::cout << "history:\n";
  text_table h({"  STATE", "AT", "MESSAGE"});
  for (auto const& c : r.history) h.add({"  " + std::string(to_string(c.state)), server::format_time(c.at), c.message});
  h.print(std::cout);
  if (!r.warnings.empty()) {
    std::cout << "warnings:\n";
    for (auto const& w : r.warnings) std::cout << "  " << w << "\n";
  }
  if (!r.logs_tail.empty()) {
    std::cout << "logs (tail):\n" << r.logs_tail;
    if (r.logs_tail.back() != '\n') std::cout << "\n";
  }
  std::cout.flush();
  return exit_ok;
}

int run_logs(run_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  if (f.follow) {
    auto end = follow_run(*api, term, f.id, false);
    if (!end) return term.fail(end.error(), exit_failed);
    return exit_ok;
  }
  auto chunk = api->logs(f.id);
  if (!chunk) return term.fail(chunk.error(), exit_failed);
  std::cout << chunk->text;
  std::cout.flush();
  return exit_ok;
}

int run_stop(run_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto r = api->request_stop_run(f.id);
  if (!r) return term.fail(r.error(), exit_failed);
  if (is_terminal(r->state))
    term.note("run " + r->run_id + " " + std::string(to_string(r->state)));
  else
    term.note("run " + r->run_id + ": stop requested; its agent stops it at its next heartbeat");
  return exit_ok;
}

int agent_list(bool json) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto agents = api->list_agents();
  if (!agents) return term.fail(agents.error(), exit_failed);
  if (json) {
    print_json(boost::json::value_from(*agents));
    return exit_ok;
  }
  text_table t({"ID", "NAME", "HOST", "STATE", "QUEUES", "MAX JOBS", "LAST HEARTBEAT"});
  for (auto const& a : *agents) {
    std::string queues;
    for (auto const& q : a.queues) queues += (queues.empty() ? "" : ",") + q;
    t.add({std::to_string(a.id), a.name, a.host,
           std::string(server::to_string(a.state)) + (a.stop_requested && a.state != server::agent_state::stopped ? " (stopping)" : ""),
           queues, std::to_string(a.max_jobs), short_time(a.last_heartbeat)});
  }
  t.print(std::cout);
  return exit_ok;
}

int agent_stop(std::int64_t id) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto a = api->request_stop_agent(id);
  if (!a) return term.fail(a.error(), exit_failed);
  term.note("agent " + std::to_string(a->id) + " (" + a->name + "): stop requested; it stops taking work at its next heartbeat");
  return exit_ok;
}

}  // namespace

void add_run_commands(CLI::App& app, command_action& action) {
  auto* run = app.add_subcommand("run", "Look at and stop the runs of the queue server");
  run->require_subcommand(1);

  auto list = std::make_shared<run_flags>();
  auto* list_cmd = run->add_subcommand("list", "List runs, newest first");
  list_cmd->add_option("--queue,-q", list->queue, "Only the runs of this queue");
  list_cmd->add_option("--state,-s", list->state, "Only runs in this state (queued, running, finished, …)");
  list_cmd->add_option("--limit,-n", list->limit, "At most this many runs")->check(CLI::PositiveNumber);
  list_cmd->add_flag("--json", list->json, "Print JSON");
  list_cmd->callback([list, &action] { action = [list] { return run_list(*list); }; });

  auto describe = std::make_shared<run_flags>();
  auto* describe_cmd = run->add_subcommand("describe", "Show a run: its state history, exit, warnings and last logs");
  describe_cmd->add_option("id", describe->id, "The run id")->required();
  describe_cmd->add_flag("--json", describe->json, "Print JSON");
  describe_cmd->callback([describe, &action] { action = [describe] { return run_describe(*describe); }; });

  auto logs = std::make_shared<run_flags>();
  auto* logs_cmd = run->add_subcommand("logs", "Print a run's logs");
  logs_cmd->add_option("id", logs->id, "The run id")->required();
  logs_cmd->add_flag("--follow,-f", logs->follow, "Keep printing until the run ends");
  logs_cmd->callback([logs, &action] { action = [logs] { return run_logs(*logs); }; });

  auto stop = std::make_shared<run_flags>();
  auto* stop_cmd = run->add_subcommand("stop", "Ask for a run to be stopped (a queued run is stopped at once)");
  stop_cmd->add_option("id", stop->id, "The run id")->required();
  stop_cmd->callback([stop, &action] { action = [stop] { return run_stop(*stop); }; });

  auto* agent = app.add_subcommand("agent", "Look at and stop the launch agents");
  agent->require_subcommand(1);
  auto json = std::make_shared<bool>(false);
  auto* agent_list_cmd = agent->add_subcommand("list", "List the agents");
  agent_list_cmd->add_flag("--json", *json, "Print JSON");
  agent_list_cmd->callback([json, &action] { action = [json] { return agent_list(*json); }; });
  auto id = std::make_shared<std::int64_t>(0);
  auto* agent_stop_cmd = agent->add_subcommand("stop", "Ask an agent to stop taking work and exit");
  agent_stop_cmd->add_option("id", *id, "The agent's id")->required();
  agent_stop_cmd->callback([id, &action] { action = [id] { return agent_stop(*id); }; });
}

}  // namespace liftoff::cli
