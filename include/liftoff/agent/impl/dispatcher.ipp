#ifndef LIFTOFF_AGENT_IMPL_DISPATCHER_IPP
#define LIFTOFF_AGENT_IMPL_DISPATCHER_IPP

#include <liftoff/agent/detail/dispatcher.hpp>

#include <liftoff/agent/detail/run_worker.hpp>

#include <string>
#include <vector>

namespace liftoff::agent::detail {

LIFTOFF_DECL void start_worker(std::shared_ptr<agent_shared> const& sh, std::shared_ptr<run_slot> slot) {
  sh->runs[slot->run_id] = slot;
  sh->workers.push_back(slot);
  slot->thread = std::thread(run_worker(sh, slot));
}

namespace dispatching {

/// Starts a worker for each item leased (dropping them once stopping). Under `sh->m`.
LIFTOFF_DECL void start_leased(std::shared_ptr<agent_shared> const& sh, std::vector<std::string>& events) {
  while (!sh->leased.empty()) {
    auto item = std::move(sh->leased.front());
    sh->leased.pop_front();
    if (sh->mode != stop_mode::none) continue;
    auto slot = std::make_shared<run_slot>(sh->opts.logs_tail_lines, sh->opts.max_pending_log_bytes);
    slot->run_id = item.run_id;
    slot->queue = item.queue;
    slot->item = std::move(item);
    events.push_back("run " + slot->run_id + " leased from " + slot->queue);
    start_worker(sh, slot);
  }
}

/// Applies a stop that goes further than `applied`: says so, and cancels the runs for `cancel` and `immediate`. Under `sh->m`.
LIFTOFF_DECL void apply_stop(agent_shared& sh, stop_mode& applied, std::vector<std::string>& events) {
  using namespace std::chrono_literals;
  if (rank(sh.mode) <= rank(applied)) return;
  applied = sh.mode;
  auto const n = sh.runs.size();
  std::string const runs = std::to_string(n) + " run" + (n == 1 ? "" : "s");
  if (n == 0) events.push_back("stopping");
  else if (applied == stop_mode::drain) events.push_back("stopping: waiting for " + runs + " to end");
  else events.push_back("stopping: cancelling " + runs);
  if (applied == stop_mode::cancel || applied == stop_mode::immediate) {
    auto grace = applied == stop_mode::immediate ? 0ms : sh.opts.grace_period;
    for (auto& [id, slot] : sh.runs) slot->request_cancel(grace, sh.stop_reason);
  }
}

/// Joins the workers whose runs ended. Under `sh->m` (a worker's last step takes it, so none is left waiting).
LIFTOFF_DECL void join_ended(agent_shared& sh) {
  for (auto it = sh.workers.begin(); it != sh.workers.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = sh.workers.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace dispatching

LIFTOFF_DECL void dispatch(std::shared_ptr<agent_shared> const& sh) {
  {
    std::unique_lock lock(sh->m);
    stop_mode applied = stop_mode::none;
    std::vector<std::string> events;
    for (;;) {
      dispatching::start_leased(sh, events);
      dispatching::apply_stop(*sh, applied, events);
      dispatching::join_ended(*sh);
      if (!events.empty()) {
        // The sink may be slow (a terminal) or ask the agent something: not under the lock.
        lock.unlock();
        for (auto const& e : events) sh->emit(e);
        events.clear();
        lock.lock();
        continue;
      }
      if (sh->mode != stop_mode::none && sh->runs.empty()) break;
      sh->cv.wait(lock);
    }
  }
  for (auto& w : sh->workers) w->thread.join();
  sh->workers.clear();
}

}  // namespace liftoff::agent::detail

#endif
