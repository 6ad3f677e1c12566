#ifndef LIFTOFF_LOCAL_BACKEND_HPP
#define LIFTOFF_LOCAL_BACKEND_HPP

/** The `local-process` backend: jobs from a local directory or a git repository run as child processes of this machine. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/backend.hpp>

namespace liftoff {

/// The `local-process` backend, as <liftoff/backends.hpp> lists it.
backend const& local_process_backend();

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/local/impl/backend.ipp>
#endif

#endif
