#ifndef LIFTOFF_DOCKER_LAUNCHERS_HPP
#define LIFTOFF_DOCKER_LAUNCHERS_HPP

/** The launchers that run jobs as containers on a Docker engine (the
    `local-container` resource). */

#include <liftoff/docker/builder.hpp>
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/git.hpp>
#include <liftoff/source/image.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/docker/target.hpp>
#include <liftoff/transport/local_daemon.hpp>

namespace liftoff {

/// Runs an image (`--docker-image`), pulling it when the engine does not have it.
using docker_image_launcher = launcher<image_source, noop_builder, local_daemon, docker_target>;
/// Builds an image from a local code directory (`--uri .`) and runs it as a container.
using docker_code_launcher = launcher<local_dir_source, docker_builder, local_daemon, docker_target>;
/// Clones a git repository, builds an image from it and runs it as a container.
using docker_git_launcher = launcher<git_source, docker_builder, local_daemon, docker_target>;

}  // namespace liftoff

#endif
