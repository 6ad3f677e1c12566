#ifndef LIFTOFF_KUBE_REATTACH_HPP
#define LIFTOFF_KUBE_REATTACH_HPP

/** How an agent finds its `kubernetes` runs again after a restart: by the
    `liftoff.io/run-id` label `kubernetes_target` puts on every object it
    creates. Included only by programs that run on Kubernetes. */

#include <liftoff/core/target_reattach.hpp>
#include <liftoff/kube/target.hpp>

namespace liftoff::agent {

/** A `reattach_fn` (`agent_options::reattach`) for `kubernetes` runs:
    follows the run's workload with `target` (configure it as the agent's
    launchers configure theirs: the kubeconfig, the agent name, secure mode),
    see `kubernetes_target::attach`. Other resources get `error::unsupported`. */
inline reattach_fn kubernetes_reattach(kubernetes_target target = {}) {
  return target_reattach("kubernetes", "Kubernetes workloads", std::move(target));
}

}  // namespace liftoff::agent

#endif
