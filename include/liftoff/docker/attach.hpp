#ifndef LIFTOFF_DOCKER_ATTACH_HPP
#define LIFTOFF_DOCKER_ATTACH_HPP

/** Finding a run's container again: what an agent that restarted does to
    keep watching the runs `docker_target` started before it went away. */

#include <liftoff/detail/config.hpp>
#include <liftoff/docker/target.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/// How `attach_container_run` follows a container it finds.
struct container_attach_options {
  /// Where the engine is; the default finds it as the docker CLI does.
  docker::engine_options engine;
  /// Remove the container when the run ends, as `docker_target` would have.
  bool remove = true;
  /** Output lines already delivered (the engine replays a container's
      output from its start): the first `skip_lines` lines are not passed to
      `on_log` again, though they are kept in the run's logs. */
  std::size_t skip_lines = 0;
  /// How many log lines the run keeps (the oldest are dropped first).
  std::size_t max_log_lines = 100000;
};

/** A container run found again by its `liftoff.run-id` label: the same
    handle as a started run (`docker_target::run`), with the same states,
    messages at the end and cancel. */
using attached_container_run = docker_target::run;

static_assert(run<attached_container_run>);

/** Finds the container carrying `liftoff.run-id=<run_id>` on the engine and
    follows it: a running container is waited for (`POST
    /containers/{id}/wait`) and its logs followed into `options.on_log`; one
    that exited while nobody watched ends at once, with its exit code and
    output. The final state goes to `options.on_status`, as a
    `docker_target` run reports it.

    A container that was created but never started is removed, and counts
    as not found: its run never ran.
    `docker_target::attach` is the same for a spec's run id.
    @return the run; nullopt when no container carries the label; a
    diagnostic when the engine cannot be reached or answers with an error. */
result<std::optional<attached_container_run>> attach_container_run(std::string_view run_id,
                                                                   launch_options const& options,
                                                                   container_attach_options const& how = {});

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/attach.ipp>
#endif

#endif
