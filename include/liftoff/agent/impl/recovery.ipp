#ifndef LIFTOFF_AGENT_IMPL_RECOVERY_IPP
#define LIFTOFF_AGENT_IMPL_RECOVERY_IPP

#include <liftoff/agent/detail/recovery.hpp>
#include <liftoff/core/parse.hpp>

#include <optional>

namespace liftoff::agent::detail {

LIFTOFF_DECL std::vector<std::shared_ptr<run_slot>> runs_held_before_restart(agent_shared& sh, client::api_client& c,
                                                                             std::int64_t agent_id) {
  std::vector<std::shared_ptr<run_slot>> out;
  client::run_query q;
  q.agent = agent_id;
  q.active_only = true;
  q.limit = 1000;
  auto held = retry(sh.server_retry_until_stopping(), [&] { return c.list_runs(q); },
                    [&](auto const& answer) { return sh.again_while_unreachable(answer); });
  if (!held) {
    sh.emit("cannot list the runs held before the restart: " + held.error().what());
    return out;
  }
  for (auto& r : *held) {
    if (r.agent != agent_id || is_terminal(r.state) || r.state == run_state::queued) continue;
    auto slot = std::make_shared<run_slot>(sh.opts.logs_tail_lines, sh.opts.max_pending_log_bytes);
    slot->run_id = r.run_id;
    slot->queue = r.queue;
    if (r.state == run_state::leased) {
      // Leased but never acked: it never started, so it starts now.
      auto spec = c.run_spec(r.run_id);
      if (!spec) continue;  // its lease expires and it returns to its queue
      slot->item.id = r.item_id;
      slot->item.queue = r.queue;
      slot->item.run_id = r.run_id;
      slot->item.run_spec = std::move(*spec);
    } else {
      slot->recovered = r;
    }
    sh.emit("run " + r.run_id + " was held before the restart (" + std::string(to_string(r.state)) + ")");
    out.push_back(std::move(slot));
  }
  return out;
}

LIFTOFF_DECL std::variant<any_run, std::string> find_run_again(agent_shared& sh, client::api_client& c,
                                                               std::string const& run_id, launch_options options) {
  std::string const restarted = "the agent restarted and ";
  reattach_request req;
  req.run_id = run_id;
  req.options = std::move(options);
  req.options.grace_period = sh.opts.grace_period;
  // Without its spec the run's resource is unknown: it is asked about with none.
  std::optional<diagnostic> unreadable;
  if (auto spec_json = c.run_spec(run_id); !spec_json) {
    unreadable = spec_json.error();
  } else if (auto spec = parse_launch_spec(*spec_json); !spec) {
    unreadable = spec.error();
  } else {
    req.spec = std::move(*spec);
    req.resource = req.spec.resource;
  }
  auto const on = req.resource.empty() ? std::string() : " on " + req.resource;
  auto nobody = [&]() -> std::string {
    if (unreadable) return restarted + "cannot find the run again: its spec could not be read (" + unreadable->what() + ")";
    return restarted + "cannot find runs on " + req.resource + " again";
  };
  if (!sh.opts.reattach) return nobody();

  if (auto text = c.logs(run_id)) req.delivered_lines = liftoff::detail::delivered_output_lines(text->text);
  auto found = sh.opts.reattach(req);
  if (found && *found) {
    sh.emit("run " + run_id + " found again" + on + "; following it");
    return std::move(**found);
  }
  if (found) return restarted + "did not find the run" + on + " again: it is gone";
  auto const& d = found.error();
  if (d.code == make_error_code(error::gone)) return d.what();  // gone, and it says what became of it
  if (d.code == make_error_code(error::unsupported)) return nobody();
  return restarted + "could not look for the run" + on + ": " + d.what();
}

}  // namespace liftoff::agent::detail

#endif
