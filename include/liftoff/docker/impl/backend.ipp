#ifndef LIFTOFF_DOCKER_IMPL_BACKEND_IPP
#define LIFTOFF_DOCKER_IMPL_BACKEND_IPP

#include <liftoff/docker/backend.hpp>

#include <liftoff/docker/launchers.hpp>
#include <liftoff/docker/reattach.hpp>

namespace liftoff {

LIFTOFF_DECL docker_builder docker_builder_for(backend_settings const& settings) {
  docker_builder b;
  auto const mode = settings.value("docker.builder", "auto");
  b.mode = mode == "buildkit"  ? docker_build_mode::buildkit
           : mode == "classic" ? docker_build_mode::classic
                               : docker_build_mode::automatic;
  b.secure_mode = settings.secure_mode || settings.for_agent;
  return b;
}

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
      .options = {{.flag = "--docker-builder",
                   .help = "How code is built into an image on a Docker engine: auto (BuildKit when the engine "
                           "has it, else the classic builder), buildkit or classic",
                   .setting = "docker.builder",
                   .choices = {"auto", "buildkit", "classic"},
                   .default_value = "auto",
                   .for_launch = true,
                   .for_agent = true}},
      .add_launchers =
          [](launcher_registry& reg, backend_settings const& settings) {
            auto builder = docker_builder_for(settings);
            reg.add("local-container", docker_image_launcher{});
            reg.add("local-container", docker_code_launcher{{}, builder, {}, {}});
            reg.add("local-container", docker_git_launcher{{}, builder, {}, {}});
          },
      .reattach = [](backend_settings const&) { return agent::container_reattach(); },
  };
  return b;
}

}  // namespace liftoff

#endif
