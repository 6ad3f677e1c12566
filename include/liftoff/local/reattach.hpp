#ifndef LIFTOFF_LOCAL_REATTACH_HPP
#define LIFTOFF_LOCAL_REATTACH_HPP

/** What a restarted agent does with its `local-process` runs. Such a run
    was a child of the agent before: the new agent can neither wait for it
    nor read its output, so what is left of it (the processes carrying its
    `LIFTOFF_RUN_ID`) is stopped, and the run ends with a report that says so. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/backend.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string_view>
#include <vector>

namespace liftoff {

namespace detail {

/** The processes (of this user: others' environments cannot be read) whose
    environment says `LIFTOFF_RUN_ID=<run_id>`, sorted, this one excepted:
    what is left of a local run whose agent went away. None for an empty id.
    @param proc where the process table is mounted */
std::vector<::pid_t> processes_of_run(std::string_view run_id, std::filesystem::path const& proc = "/proc");

/** Stops processes as a cancelled run is stopped: SIGTERM, then SIGKILL to
    those still alive after `grace` (a zombie counts as ended). Returns the
    pids that were signalled. */
std::vector<::pid_t> stop_processes(std::vector<::pid_t> const& pids, std::chrono::milliseconds grace);

}  // namespace detail

namespace agent {

/** A `reattach_fn` (`agent_options::reattach`) for `local-process` runs,
    and for runs whose spec could not be read (an empty
    `reattach_request::resource`: a run is found by its id alone). It stops
    what is left of the run (`processes_of_run`, then `stop_processes` with
    the request's `options.grace_period`) and answers `error::gone`
    with the run's crash reason:
    - "the agent restarted and the run's process was not found: it ended
      with the previous agent";
    - "the agent restarted and could not follow the run again: its process
      123 is not the new agent's child (its output and exit cannot be
      watched), so it was stopped" (or "its processes 123, 124 are …").
    Runs of other resources get `error::unsupported`. */
reattach_fn local_process_reattach();

}  // namespace agent

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/local/impl/reattach.ipp>
#endif

#endif
