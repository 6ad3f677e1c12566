#ifndef LIFTOFF_SAGEMAKER_LAUNCHERS_HPP
#define LIFTOFF_SAGEMAKER_LAUNCHERS_HPP

/// The `sagemaker` backend's launchers: see <liftoff/sagemaker/launchers.hpp>.
#include <liftoff/sagemaker/launchers.hpp>

#endif
