// `liftoff queue create|list|describe|delete`.

#include "client_support.hpp"

#include <liftoff/server/config_template.hpp>

#include <CLI/App.hpp>

#include <cstdio>
#include <memory>

namespace liftoff::cli {

namespace {

struct queue_flags {
  std::string name;
  std::string resource;
  std::string config_template;
  bool no_prioritization = false;
  bool force = false;
  bool json = false;
};

std::string count(client::queue_info const& q, char const* state) {
  auto it = q.counts.find(state);
  return it == q.counts.end() ? "0" : std::to_string(it->second);
}

/// 8 for 8.0, 0.5 for 0.5.
std::string number_text(double d) {
  if (d == static_cast<double>(static_cast<long long>(d))) return std::to_string(static_cast<long long>(d));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

boost::json::object info_json(client::queue_info const& q, bool with_items) {
  auto o = boost::json::value_from(q.queue).as_object();
  boost::json::object counts;
  for (auto const& [k, v] : q.counts) counts[k] = v;
  o["counts"] = std::move(counts);
  if (with_items) o["items"] = boost::json::value_from(q.items);
  return o;
}

int run_create(queue_flags const& f) {
  terminal term;
  boost::json::object tmpl;
  if (!f.config_template.empty()) {
    // Checked here first, so that a mistake is named before anything is sent.
    auto t = server::config_template::load(f.config_template);
    if (!t) return term.fail(t.error(), exit_usage);
    for (auto const& w : t->warnings()) term.note("warning: " + w);
    tmpl = t->to_json().as_object();
  }
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto q = api->create_queue(f.name, f.resource, std::move(tmpl), !f.no_prioritization);
  if (!q) return term.fail(q.error(), exit_failed);
  term.note("queue " + q->name + " created on " + q->resource +
            (q->prioritized ? "" : " (first in first out, priorities ignored)"));
  return exit_ok;
}

int run_list(queue_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto queues = api->list_queues();
  if (!queues) return term.fail(queues.error(), exit_failed);
  if (f.json) {
    boost::json::array a;
    for (auto const& q : *queues) a.push_back(info_json(q, false));
    print_json(a);
    return exit_ok;
  }
  text_table t({"NAME", "RESOURCE", "QUEUED", "LEASED", "RUNNING", "DONE", "FAILED", "PRIORITIES"});
  for (auto const& q : *queues)
    t.add({q.queue.name, q.queue.resource, count(q, "queued"), count(q, "leased"), count(q, "acked"), count(q, "done"),
           count(q, "failed"), q.queue.prioritized ? "yes" : "no"});
  t.print(std::cout);
  return exit_ok;
}

int run_describe(queue_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto q = api->describe_queue(f.name);
  if (!q) return term.fail(q.error(), exit_failed);
  if (f.json) {
    print_json(info_json(*q, true));
    return exit_ok;
  }
  std::cout << "name:        " << q->queue.name << "\n"
            << "resource:    " << q->queue.resource << "\n"
            << "priorities:  " << (q->queue.prioritized ? "yes" : "no (first in first out)") << "\n"
            << "created:     " << short_time(q->queue.created_at) << "\n"
            << "items:       " << count(*q, "queued") << " queued, " << count(*q, "leased") << " leased, "
            << count(*q, "acked") << " running, " << count(*q, "done") << " done, " << count(*q, "failed")
            << " failed\n";
  if (q->queue.config_template.empty()) {
    std::cout << "template:    none\n";
  } else {
    auto t = server::config_template::parse(q->queue.config_template);
    if (t && !t->variables.empty()) {
      std::cout << "variables:\n";
      text_table vars({"  NAME", "TYPE", "DEFAULT", "ALLOWED", "DESCRIPTION"});
      for (auto const& v : t->variables) {
        std::string allowed;
        for (auto const& a : v.allowed) allowed += (allowed.empty() ? "" : "|") + a;
        if (v.minimum || v.maximum)
          allowed = (v.minimum ? number_text(*v.minimum) : std::string()) + ".." +
                    (v.maximum ? number_text(*v.maximum) : std::string());
        vars.add({"  " + v.name, std::string(server::to_string(v.type)),
                  v.default_value ? boost::json::serialize(*v.default_value) : "-", allowed.empty() ? "-" : allowed,
                  v.description});
      }
      vars.print(std::cout);
    }
    std::cout << "template:    " << boost::json::serialize(q->queue.config_template) << "\n";
  }
  if (!q->items.empty()) {
    std::cout << "pending items:\n";
    text_table items({"  ITEM", "RUN", "PRIORITY", "STATE", "ATTEMPTS", "AGENT", "PUSHED"});
    for (auto const& i : q->items)
      items.add({"  " + std::to_string(i.id), i.run_id, std::string(server::to_string(i.priority)),
                 std::string(server::to_string(i.state)), std::to_string(i.attempts),
                 i.agent ? std::to_string(*i.agent) : "-", short_time(i.pushed_at)});
    items.print(std::cout);
  }
  std::cout.flush();
  return exit_ok;
}

int run_delete(queue_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  if (auto d = api->delete_queue(f.name, f.force); !d) {
    auto e = d.error();
    if (e.code == error::conflict && !f.force) e.message += " (add --force to delete it with its items)";
    return term.fail(e, exit_failed);
  }
  term.note("queue " + f.name + " deleted");
  return exit_ok;
}

}  // namespace

void add_queue_command(CLI::App& app, command_action& action) {
  auto* queue = app.add_subcommand("queue", "Manage the queues of the queue server");
  queue->require_subcommand(1);

  auto create_flags = std::make_shared<queue_flags>();
  auto* create = queue->add_subcommand("create", "Make a queue bound to one resource");
  create->add_option("name", create_flags->name, "The queue's name")->required();
  create->add_option("--resource,-r", create_flags->resource,
                     "Where its runs go: local-process, local-container, kubernetes, sagemaker")
      ->required();
  create->add_option("--config-template,-t", create_flags->config_template,
                     "Resource arguments every run gets, with {{variables}}: a JSON or YAML file, or inline JSON");
  create->add_flag("--no-prioritization", create_flags->no_prioritization,
                   "Take items first in first out, whatever their priority");
  create->callback([create_flags, &action] { action = [create_flags] { return run_create(*create_flags); }; });

  auto list_flags = std::make_shared<queue_flags>();
  auto* list = queue->add_subcommand("list", "List the queues with their item counts");
  list->add_flag("--json", list_flags->json, "Print JSON");
  list->callback([list_flags, &action] { action = [list_flags] { return run_list(*list_flags); }; });

  auto describe_flags = std::make_shared<queue_flags>();
  auto* describe = queue->add_subcommand("describe", "Show a queue: its template, variables and pending items");
  describe->add_option("name", describe_flags->name, "The queue's name")->required();
  describe->add_flag("--json", describe_flags->json, "Print JSON");
  describe->callback([describe_flags, &action] { action = [describe_flags] { return run_describe(*describe_flags); }; });

  auto delete_flags = std::make_shared<queue_flags>();
  auto* del = queue->add_subcommand("delete", "Delete a queue (refused while items are pending, unless --force)");
  del->add_option("name", delete_flags->name, "The queue's name")->required();
  del->add_flag("--force", delete_flags->force, "Delete it with its pending items");
  del->callback([delete_flags, &action] { action = [delete_flags] { return run_delete(*delete_flags); }; });
}

}  // namespace liftoff::cli
