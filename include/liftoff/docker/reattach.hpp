#ifndef LIFTOFF_DOCKER_REATTACH_HPP
#define LIFTOFF_DOCKER_REATTACH_HPP

/** How an agent finds its `local-container` runs again after a restart: by
    the `liftoff.run-id` label `docker_target` puts on every container.
    Included only by programs that run containers. */

#include <liftoff/core/backend.hpp>
#include <liftoff/core/target_reattach.hpp>
#include <liftoff/docker/attach.hpp>

namespace liftoff::agent {

/** A `reattach_fn` (`agent_options::reattach`) for `local-container` runs:
    follows the run's container on the engine at `engine` (default: as the
    docker CLI finds it), skipping the output lines the server already has
    (`docker_target::attach`). Other resources get `error::unsupported`. */
inline reattach_fn container_reattach(docker::engine_options engine = {}) {
  docker_target target;
  target.engine = std::move(engine);
  return target_reattach("local-container", "containers", std::move(target));
}

}  // namespace liftoff::agent

#endif
