#ifndef LIFTOFF_AGENT_DETAIL_HEARTBEAT_HPP
#define LIFTOFF_AGENT_DETAIL_HEARTBEAT_HPP

/** The heartbeat thread: keeps the agent's leases alive and brings back
    what the server asks of it (stop these runs, stop the agent). */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/detail/shared.hpp>

#include <memory>

namespace liftoff::agent::detail {

/** Beats until `sh->heartbeat_done`: at once, then every
    `heartbeat_interval` or a third of the server's lease time, whichever is
    shorter; while the server is away, as `server_retry` pauses. Cancels the
    runs a user asked to stop, and stops the agent when asked (as
    `on_stop_request` says) or when the server no longer knows it (`sh->fatal`). */
void heartbeat_loop(std::shared_ptr<agent_shared> sh, client::api_client c);

/// Passes on what a heartbeat reply asks: cancels the runs a user stopped, stops the agent when asked.
void obey_heartbeat_reply(agent_shared& sh, server::heartbeat_reply const& reply);

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/heartbeat.ipp>
#endif

#endif
