#ifndef LIFTOFF_DOCKER_BACKEND_HPP
#define LIFTOFF_DOCKER_BACKEND_HPP

/** The `local-container` backend: jobs run as containers on a Docker engine; code is built into an image first. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/backend.hpp>

namespace liftoff {

/// The `local-container` backend, as <liftoff/backends.hpp> lists it.
backend const& docker_backend();

struct docker_builder;
/** A `docker_builder` set up by `settings`: the builder the `--docker-builder`
    option chose ("auto", "buildkit", "classic"), and secure mode for an agent. */
docker_builder docker_builder_for(backend_settings const& settings);

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/backend.ipp>
#endif

#endif
