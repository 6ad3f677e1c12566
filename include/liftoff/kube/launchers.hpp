#ifndef LIFTOFF_KUBE_LAUNCHERS_HPP
#define LIFTOFF_KUBE_LAUNCHERS_HPP

/** The launchers that run jobs on a Kubernetes cluster (the `kubernetes`
    resource). Code is built by the local Docker engine and pushed to a
    registry the cluster can pull from (`resource_args.kubernetes.registry`
    or `LIFTOFF_REGISTRY`), or built in the cluster by Kaniko; an image job
    runs its image as it is. */

#include <liftoff/docker/builder.hpp>
#include <liftoff/kube/kaniko.hpp>
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/git.hpp>
#include <liftoff/source/image.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/kube/target.hpp>
#include <liftoff/docker/registry_push.hpp>

namespace liftoff {

/// Runs an image (`--docker-image`) as a Kubernetes Job.
using kubernetes_image_launcher = launcher<image_source, noop_builder, registry_push, kubernetes_target>;
/// Builds an image from a local code directory, pushes it and runs it as a Kubernetes Job.
using kubernetes_code_launcher = launcher<local_dir_source, docker_builder, registry_push, kubernetes_target>;
/// Clones a git repository, builds and pushes an image from it, and runs it as a Kubernetes Job.
using kubernetes_git_launcher = launcher<git_source, docker_builder, registry_push, kubernetes_target>;
/// Builds the image from a local code directory in the cluster with Kaniko (no Docker engine needed), and runs it.
using kubernetes_kaniko_code_launcher = launcher<local_dir_source, kaniko_builder, registry_push, kubernetes_target>;
/// Clones a git repository, builds its image in the cluster with Kaniko, and runs it.
using kubernetes_kaniko_git_launcher = launcher<git_source, kaniko_builder, registry_push, kubernetes_target>;

}  // namespace liftoff

#endif
