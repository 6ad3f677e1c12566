#ifndef LIFTOFF_SAGEMAKER_REATTACH_HPP
#define LIFTOFF_SAGEMAKER_REATTACH_HPP

/** How an agent finds its `sagemaker` runs again after a restart: by the
    training job name `sagemaker_target` derives from the run id. Included
    only by programs that run on SageMaker. */

#include <liftoff/core/target_reattach.hpp>
#include <liftoff/sagemaker/target.hpp>

namespace liftoff::agent {

/** A `reattach_fn` (`agent_options::reattach`) for `sagemaker` runs:
    follows the run's training job with `target` (see
    `sagemaker_target::attach`). Other resources get `error::unsupported`. */
inline reattach_fn sagemaker_reattach(sagemaker_target target = {}) {
  return target_reattach("sagemaker", "SageMaker training jobs", std::move(target));
}

}  // namespace liftoff::agent

#endif
