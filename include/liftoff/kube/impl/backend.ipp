#ifndef LIFTOFF_KUBE_IMPL_BACKEND_IPP
#define LIFTOFF_KUBE_IMPL_BACKEND_IPP

#include <liftoff/kube/backend.hpp>
#include <liftoff/docker/backend.hpp>

#include <liftoff/kube/launchers.hpp>
#include <liftoff/kube/reattach.hpp>

namespace liftoff {

namespace detail {

/// The same target settings for the launchers and for re-attaching, so that labels and rules match.
LIFTOFF_DECL kubernetes_target kubernetes_target_for(backend_settings const& settings) {
  kubernetes_target kube;
  kube.agent = settings.agent;
  kube.secure_mode = settings.secure_mode;
  return kube;
}

}  // namespace detail

LIFTOFF_DECL backend const& kubernetes_backend() {
  static backend const b{
      .resource = "kubernetes",
      .summary = "a Kubernetes Job, or a custom resource with pod templates (kubeconfig as kubectl finds it)",
      .default_for = {},
      .resource_args = {{"context", "the kubeconfig context (default: the current one)"},
                        {"namespace", "the namespace of the workload"},
                        {"manifest", "the workload: a batch/v1 Job (default) or a custom resource"},
                        {"container", "the container the run's image and command go to"},
                        {"plural", "the plural resource name of a custom resource"},
                        {"registry", "where built images are pushed (else LIFTOFF_REGISTRY)"},
                        {"image_pull_grace_seconds", "how long an image may fail to pull before the run fails"},
                        {"ttl_seconds_after_finished", "how long the cluster keeps an ended Job"},
                        {"kaniko", "how Kaniko builds: its image, cache and resources"}},
      .options = {{.flag = "--kube-context",
                   .help = "The kubeconfig context to run in (--resource kubernetes; default: the current context)",
                   .resource_arg = "context"},
                  {.flag = "--builder",
                   .help = "How --resource kubernetes builds code: docker (this machine's engine, then pushed) or "
                           "kaniko (in the cluster)",
                   .setting = "builder",
                   .choices = {"docker", "kaniko"},
                   .default_value = "docker",
                   .for_launch = true,
                   .for_agent = true}},
      .add_launchers =
          [](launcher_registry& reg, backend_settings const& settings) {
            auto kube = detail::kubernetes_target_for(settings);
            reg.add("kubernetes", kubernetes_image_launcher{{}, {}, {}, kube});
            if (settings.value("builder", "docker") == "kaniko") {
              kaniko_builder kaniko;
              kaniko.agent = settings.agent;
              reg.add("kubernetes", kubernetes_kaniko_code_launcher{{}, kaniko, {}, kube});
              reg.add("kubernetes", kubernetes_kaniko_git_launcher{{}, kaniko, {}, kube});
            } else {
              auto builder = docker_builder_for(settings);
              reg.add("kubernetes", kubernetes_code_launcher{{}, builder, {}, kube});
              reg.add("kubernetes", kubernetes_git_launcher{{}, builder, {}, kube});
            }
          },
      .reattach =
          [](backend_settings const& settings) {
            return agent::kubernetes_reattach(detail::kubernetes_target_for(settings));
          },
  };
  return b;
}

}  // namespace liftoff

#endif
