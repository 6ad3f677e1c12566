#ifndef LIFTOFF_AGENT_IMPL_LEASE_IPP
#define LIFTOFF_AGENT_IMPL_LEASE_IPP

#include <liftoff/agent/detail/lease.hpp>

namespace liftoff::agent::detail {

LIFTOFF_DECL void lease_loop(std::shared_ptr<agent_shared> sh, client::api_client c) {
  auto const agent_id = *sh->id;
  auto const while_running = sh->server_retry_until_stopping();
  auto const max = static_cast<std::size_t>(sh->opts.max_jobs);
  for (;;) {
    {
      std::unique_lock lock(sh->m);
      sh->cv.wait(lock, [&] { return sh->mode != stop_mode::none || sh->runs.size() + sh->leased.size() < max; });
      if (sh->mode != stop_mode::none) return;
    }
    auto got = retry(while_running, [&] { return c.lease(agent_id, sh->opts.queues, sh->opts.lease_wait); },
                     [&](auto const& answer) { return !sh->stopping() && sh->again_unless_refused(answer); });
    std::unique_lock lock(sh->m);
    // Stopping: an item got now is not acked, and returns to its queue when its lease expires.
    if (sh->mode != stop_mode::none) return;
    if (!got) {
      sh->fatal = diagnostic(got.error().code, "the server refused to hand out work: " + got.error().what());
      lock.unlock();
      sh->emit(sh->fatal->what());
      sh->stop(stop_mode::drain, "the agent is stopping");
      return;
    }
    if (*got) {
      sh->leased.push_back(std::move(**got));
      sh->cv.notify_all();
    }
    lock.unlock();
    sh->note_back();
  }
}

}  // namespace liftoff::agent::detail

#endif
