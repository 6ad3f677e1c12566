#ifndef LIFTOFF_AGENT_IMPL_HEARTBEAT_IPP
#define LIFTOFF_AGENT_IMPL_HEARTBEAT_IPP

#include <liftoff/agent/detail/heartbeat.hpp>

#include <algorithm>

namespace liftoff::agent::detail {

LIFTOFF_DECL void obey_heartbeat_reply(agent_shared& sh, server::heartbeat_reply const& reply) {
  for (auto const& run_id : reply.stop_runs) {
    std::shared_ptr<run_slot> slot;
    {
      std::lock_guard lock(sh.m);
      if (auto it = sh.runs.find(run_id); it != sh.runs.end()) slot = it->second;
    }
    if (slot && slot->request_cancel(sh.opts.grace_period, "stopped at a user's request"))
      sh.emit("run " + run_id + ": a user asked to stop it");
  }
  if (reply.stop_agent && !sh.stopping()) {
    sh.emit("a user asked the agent to stop");
    sh.stop(sh.opts.on_stop_request == stop_mode::none ? stop_mode::cancel : sh.opts.on_stop_request,
            "the agent was asked to stop");
  }
}

LIFTOFF_DECL void heartbeat_loop(std::shared_ptr<agent_shared> sh, client::api_client c) {
  auto const agent_id = *sh->id;
  auto const while_beating = sh->server_retry_until_heartbeat_done();
  // The first heartbeat goes at once: its reply says how long the server's
  // leases last, and the agent then beats at least three times per lease.
  auto interval = std::chrono::milliseconds(0);
  for (;;) {
    {
      std::unique_lock lock(sh->m);
      if (sh->cv.wait_for(lock, interval, [&] { return sh->heartbeat_done; })) return;
    }
    auto r = retry(while_beating, [&] { return c.heartbeat(agent_id); },
                   [&](auto const& answer) { return sh->again_unless_refused(answer); });
    if (!r) {
      if (!refused(r.error())) return;  // the heartbeat ended while the server was away
      {
        std::lock_guard lock(sh->m);
        if (!sh->fatal) sh->fatal = diagnostic(r.error().code, "the server refused a heartbeat: " + r.error().what());
      }
      sh->emit("the server refused a heartbeat: " + r.error().what());
      sh->stop(stop_mode::cancel, "the server no longer knows the agent");
      return;
    }
    interval = sh->opts.heartbeat_interval;
    if (r->lease_time.count() > 0) interval = std::min(interval, r->lease_time / 3);
    sh->note_back();
    obey_heartbeat_reply(*sh, *r);
  }
}

}  // namespace liftoff::agent::detail

#endif
