#ifndef LIFTOFF_KUBERNETES_LAUNCHERS_HPP
#define LIFTOFF_KUBERNETES_LAUNCHERS_HPP

/// The `kube` backend's launchers: see <liftoff/kube/launchers.hpp>.
#include <liftoff/kube/launchers.hpp>

#endif
