#ifndef LIFTOFF_BUILDER_NOOP_HPP
#define LIFTOFF_BUILDER_NOOP_HPP

/** `noop_builder`: for code that runs as it is (a directory run by
    local_process) and images that need no build. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

namespace liftoff {

/// Builder policy that builds nothing: accepts every kind and returns its input unchanged.
struct noop_builder {
  static constexpr bool accepts(artifact_kind) noexcept { return true; }
  static constexpr artifact_kind output(artifact_kind in) noexcept { return in; }

  /// Returns `in`.
  result<artifact> build(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/builder/impl/noop.ipp>
#endif

#endif
