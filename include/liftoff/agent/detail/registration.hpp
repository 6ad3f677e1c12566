#ifndef LIFTOFF_AGENT_DETAIL_REGISTRATION_HPP
#define LIFTOFF_AGENT_DETAIL_REGISTRATION_HPP

/** Who the agent is: its options checked and completed, its registration
    on the server, and the identity it keeps in its state file so that a
    restart under the same name resumes it (and the runs it held). */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/detail/shared.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace liftoff::agent::detail {

/// The machine's name; "localhost" when it has none.
std::string host_name();

/** `$<xdg>` when it is an absolute path, else `$HOME/<fallback>`, else a
    directory of this user's under the system's temp dir. */
std::filesystem::path user_dir(char const* xdg, char const* fallback);

/** Fails for what waiting cannot fix (no queue, an empty queue name,
    `max_jobs` below 1, no server, an interval that is not positive, a name
    with a '/'), and fills in the defaults: name, host, work and state dirs. */
result<void> complete_options(agent_options& o);

/// The agent as the server knows it.
struct registration {
  server::agent_record me;
  bool resumed = false;  ///< the identity of the state file was resumed: the runs it held are still its own
};

/** Registers the agent, resuming the identity in its state file when that
    was on this server under this name, and keeps the identity it gets
    there (sets `sh.id`). A server that does not answer is waited for.
    @return the registration; nullopt when a stop came first; a diagnostic
            ("cannot register the agent: …") when the server refused. */
result<std::optional<registration>> register_agent(agent_shared& sh, client::api_client& c);

/** Tells the server that the agent stopped, trying again for
    `final_report_patience` while it does not answer (then says it could not). */
void report_stopped(agent_shared& sh, client::api_client& c, std::int64_t agent_id);

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/registration.ipp>
#endif

#endif
