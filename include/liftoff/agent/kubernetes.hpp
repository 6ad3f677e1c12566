#ifndef LIFTOFF_AGENT_KUBERNETES_HPP
#define LIFTOFF_AGENT_KUBERNETES_HPP

/** How an agent finds its `kubernetes` runs again after a restart: by the
    `liftoff.io/run-id` label `kubernetes_target` puts on every object it
    creates. Included only by programs that run on Kubernetes. */

#include <liftoff/agent/agent.hpp>
#include <liftoff/target/kubernetes.hpp>

namespace liftoff::agent {

/** A `reattach_fn` (`agent_options::reattach`) for `kubernetes` runs:
    follows the run's workload with `target` (configure it as the agent's
    launchers configure theirs: the kubeconfig, the agent name, secure mode),
    see `kubernetes_target::attach`. The output lines the server already has
    are not delivered again. Other resources get `error::unsupported`. */
inline reattach_fn kubernetes_reattach(kubernetes_target target = {}) {
  return [target = std::move(target)](reattach_request const& r) -> result<std::optional<any_run>> {
    if (r.resource != "kubernetes")
      return diagnostic(error::unsupported, "runs on " + r.resource + " are not Kubernetes workloads");
    launch_spec spec = r.spec;
    if (!r.run_id.empty()) spec.run_id = r.run_id;
    auto found = target.attach(spec, r.options, r.delivered_lines);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<any_run>();
    return std::optional<any_run>(any_run(std::move(**found)));
  };
}

}  // namespace liftoff::agent

#endif
