#ifndef LIFTOFF_DOCKER_LAUNCHERS_HPP
#define LIFTOFF_DOCKER_LAUNCHERS_HPP

/// The `docker` backend's launchers: see <liftoff/docker/launchers.hpp>.
#include <liftoff/docker/launchers.hpp>

#endif
