#ifndef LIFTOFF_AGENT_DETAIL_STATE_FILE_HPP
#define LIFTOFF_AGENT_DETAIL_STATE_FILE_HPP

/** The agent's state file: the identity it resumes after a restart. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace liftoff::detail {

/// What an agent remembers between starts: who it was, on which server.
struct agent_identity {
  std::int64_t id = 0;
  std::string name;
  std::string server;  ///< the server URL (never the token)
};

/** Reads an agent's state file. A missing file is no identity (nullopt);
    an unreadable or malformed one is a diagnostic naming the file and field. */
result<std::optional<agent_identity>> load_agent_identity(std::filesystem::path const& file);

/** Writes an agent's state file (creating its directory), readable by its
    owner only; the file is replaced whole (write, fsync, rename), so a crash
    leaves the old file or the new one. */
result<void> save_agent_identity(std::filesystem::path const& file, agent_identity const& id);

}  // namespace liftoff::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/state_file.ipp>
#endif

#endif
