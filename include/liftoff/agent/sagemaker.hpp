#ifndef LIFTOFF_AGENT_SAGEMAKER_HPP
#define LIFTOFF_AGENT_SAGEMAKER_HPP

/** How an agent finds its `sagemaker` runs again after a restart: by the
    training job name `sagemaker_target` derives from the run id. Included
    only by programs that run on SageMaker. */

#include <liftoff/agent/agent.hpp>
#include <liftoff/target/sagemaker.hpp>

namespace liftoff::agent {

/** A `reattach_fn` (`agent_options::reattach`) for `sagemaker` runs:
    follows the run's training job with `target` (see
    `sagemaker_target::attach`). The output lines the server already has are
    not delivered again. Other resources get `error::unsupported`. */
inline reattach_fn sagemaker_reattach(sagemaker_target target = {}) {
  return [target = std::move(target)](reattach_request const& r) -> result<std::optional<any_run>> {
    if (r.resource != "sagemaker")
      return diagnostic(error::unsupported, "runs on " + r.resource + " are not SageMaker training jobs");
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
