#ifndef LIFTOFF_AGENT_DETAIL_RECOVERY_HPP
#define LIFTOFF_AGENT_DETAIL_RECOVERY_HPP

/** After a restart: the runs the agent held before are its own still. Each
    is found again through `agent_options::reattach` and followed, or
    reported crashed with what that said; one leased but never acked starts
    now. The agent knows no resource's rules: the reattach functions do. */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/detail/shared.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace liftoff::agent::detail {

/** The runs the server says agent `agent_id` holds and that are not over,
    as slots to start workers for: a run leased but never acked carries its
    item (it starts now), any other its record (`recovered`: it is found
    again). Waits for a server that does not answer, unless stopping; a run
    whose spec cannot be fetched is left to return to its queue. */
std::vector<std::shared_ptr<run_slot>> runs_held_before_restart(agent_shared& sh, client::api_client& c,
                                                                std::int64_t agent_id);

/** Asks `sh.opts.reattach` to find run `run_id` again (with its spec from
    the server, the number of output lines the server has, and `options`
    to report it with).
    @return the run, to follow; or why it is reported crashed, from what the
            reattach function answered (see `reattach_fn`). */
std::variant<any_run, std::string> find_run_again(agent_shared& sh, client::api_client& c, std::string const& run_id,
                                                  launch_options options);

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/recovery.ipp>
#endif

#endif
