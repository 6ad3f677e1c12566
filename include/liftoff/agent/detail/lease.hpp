#ifndef LIFTOFF_AGENT_DETAIL_LEASE_HPP
#define LIFTOFF_AGENT_DETAIL_LEASE_HPP

/** The lease thread: long-polls the agent's queues for items while it has
    room for another run, and hands them to the dispatcher (`sh->leased`). */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/detail/shared.hpp>

#include <memory>

namespace liftoff::agent::detail {

/** Leases items until the agent stops, never holding more than `max_jobs`
    runs and items together. A server that does not answer is asked again
    (as `server_retry` pauses); one that refuses ends the agent (`sh->fatal`,
    then a drain). An item leased once a stop began is not taken: its lease
    expires and it returns to its queue. */
void lease_loop(std::shared_ptr<agent_shared> sh, client::api_client c);

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/lease.ipp>
#endif

#endif
