#ifndef LIFTOFF_TRANSPORT_LOCAL_DAEMON_HPP
#define LIFTOFF_TRANSPORT_LOCAL_DAEMON_HPP

/** `local_daemon`: the transport for targets on the machine that built the
    artifact — an image stays in the engine that built it, a directory stays
    where it is. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

namespace liftoff {

/// Transport policy that moves nothing: accepts every kind and returns its input unchanged.
struct local_daemon {
  static constexpr bool accepts(artifact_kind) noexcept { return true; }
  static constexpr artifact_kind output(artifact_kind in) noexcept { return in; }

  /// Returns `in`.
  result<artifact> deliver(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/transport/impl/local_daemon.ipp>
#endif

#endif
