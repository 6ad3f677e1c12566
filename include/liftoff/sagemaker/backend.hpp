#ifndef LIFTOFF_SAGEMAKER_BACKEND_HPP
#define LIFTOFF_SAGEMAKER_BACKEND_HPP

/** The `sagemaker` backend: jobs run as Amazon SageMaker training jobs; code is built by the local engine and pushed to ECR. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/backend.hpp>

namespace liftoff {

/// The `sagemaker` backend, as <liftoff/backends.hpp> lists it.
backend const& sagemaker_backend();

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/sagemaker/impl/backend.ipp>
#endif

#endif
