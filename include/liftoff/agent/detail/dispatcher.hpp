#ifndef LIFTOFF_AGENT_DETAIL_DISPATCHER_HPP
#define LIFTOFF_AGENT_DETAIL_DISPATCHER_HPP

/** `run()`'s own thread: starts a worker for each leased item, passes a
    stop on to the runs, joins the workers whose runs ended, and says so. */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/detail/shared.hpp>

#include <memory>

namespace liftoff::agent::detail {

/** Makes `slot` one of the agent's runs and starts its `run_worker` thread.
    The caller holds `sh->m`. */
void start_worker(std::shared_ptr<agent_shared> const& sh, std::shared_ptr<run_slot> slot);

/** Works until the agent is stopping and holds no run: starts the leased
    items (none once stopping), cancels the runs when a stop that cancels
    arrives, joins the workers that ended, and emits what it did (not under
    the lock: the sink may be slow). Then joins every worker left. */
void dispatch(std::shared_ptr<agent_shared> const& sh);

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/dispatcher.ipp>
#endif

#endif
