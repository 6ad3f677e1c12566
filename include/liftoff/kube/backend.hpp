#ifndef LIFTOFF_KUBE_BACKEND_HPP
#define LIFTOFF_KUBE_BACKEND_HPP

/** The `kubernetes` backend: jobs run as Kubernetes Jobs (or custom resources with pod templates); code is built by the local engine and pushed to a registry, or built in the cluster by Kaniko. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/backend.hpp>

namespace liftoff {

/// The `kubernetes` backend, as <liftoff/backends.hpp> lists it.
backend const& kubernetes_backend();

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/backend.ipp>
#endif

#endif
