#ifndef LIFTOFF_DOCKER_IMPL_BACKEND_IPP
#define LIFTOFF_DOCKER_IMPL_BACKEND_IPP

#include <liftoff/docker/backend.hpp>

#include <liftoff/docker/launchers.hpp>
#include <liftoff/docker/reattach.hpp>

namespace liftoff {

LIFTOFF_DECL backend const& docker_backend() {
  static backend const b{
      .resource = "local-container",
      .summary = "a container on the Docker engine DOCKER_HOST names (the default)",
      // As in W&B Launch, a job runs in a container unless it asks for another resource.
      .default_for = {source_kind::image, source_kind::code, source_kind::git},
      .resource_args = {{"cpus", "CPUs, e.g. 1.5"},
                        {"memory", "memory limit, e.g. 2g"},
                        {"gpus", "GPUs: a count, \"all\" or device ids"},
                        {"shm-size", "size of /dev/shm"},
                        {"env", "environment variables, an object of strings"},
                        {"workdir", "the working directory in the container"},
                        {"name", "the container's name"},
                        {"ulimit", "resource limits, e.g. {\"nofile\": \"1024:2048\"}"},
                        {"pids-limit", "the most processes the container may have"},
                        {"platform", "the image's platform, e.g. linux/amd64"},
                        {"network", "the network to attach"}},
      .options = {},
      .add_launchers =
          [](launcher_registry& reg, backend_settings const&) {
            reg.add("local-container", docker_image_launcher{});
            reg.add("local-container", docker_code_launcher{});
            reg.add("local-container", docker_git_launcher{});
          },
      .reattach = [](backend_settings const&) { return agent::container_reattach(); },
  };
  return b;
}

}  // namespace liftoff

#endif
