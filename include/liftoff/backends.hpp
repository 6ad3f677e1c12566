#ifndef LIFTOFF_BACKENDS_HPP
#define LIFTOFF_BACKENDS_HPP

/** The backends this library offers, listed once (impl/backends.ipp): the
    CLI builds its flags and help from them, the agent re-attaches runs with
    them, and the server names them in its messages.

    Separately compiled, this header is light: a program that only picks a
    backend by name at run time does not compile any backend's headers. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/backend.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/// Every backend, in the order help lists them.
std::span<backend const* const> backends();

/// The backend whose resource is `resource`, or null.
backend const* find_backend(std::string_view resource);

/// The resource names of `backends()`, in order.
std::vector<std::string> backend_names();

/** A registry with the launchers of every backend, set up with `settings`,
    and each backend's default resources. */
launcher_registry make_registry(backend_settings const& settings = {});

/** A `reattach_fn` that hands each run to its resource's backend; a resource
    with no backend, or whose backend cannot re-attach, is `error::unsupported`. */
reattach_fn make_reattach(backend_settings const& settings = {});

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/impl/backends.ipp>
#endif

#endif
