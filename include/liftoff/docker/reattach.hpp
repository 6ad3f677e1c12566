#ifndef LIFTOFF_DOCKER_REATTACH_HPP
#define LIFTOFF_DOCKER_REATTACH_HPP

/** How an agent finds its `local-container` runs again after a restart: by
    the `liftoff.run-id` label `docker_target` puts on every container.
    Included only by programs that run containers. */

#include <liftoff/core/backend.hpp>
#include <liftoff/docker/attach.hpp>

namespace liftoff::agent {

/** A `reattach_fn` (`agent_options::reattach`) for `local-container` runs:
    follows the run's container on the engine at `engine` (default: as the
    docker CLI finds it), skipping the output lines the server already has.
    Other resources get `error::unsupported`. */
inline reattach_fn container_reattach(docker::engine_options engine = {}) {
  return [engine = std::move(engine)](reattach_request const& r) -> result<std::optional<any_run>> {
    if (r.resource != "local-container")
      return diagnostic(error::unsupported, "runs on " + r.resource + " are not containers");
    container_attach_options how;
    how.engine = engine;
    how.skip_lines = r.delivered_lines;
    auto found = attach_container_run(r.run_id, r.options, how);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<any_run>();
    return std::optional<any_run>(any_run(std::move(**found)));
  };
}

}  // namespace liftoff::agent

#endif
