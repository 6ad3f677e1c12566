#ifndef LIFTOFF_SAGEMAKER_LAUNCHERS_HPP
#define LIFTOFF_SAGEMAKER_LAUNCHERS_HPP

/** The launchers that run jobs as Amazon SageMaker training jobs (the
    `sagemaker` resource). Code is built by the local Docker engine and
    pushed to ECR (`resource_args.sagemaker.registry` or `LIFTOFF_REGISTRY`);
    an image job runs its image as it is. */

#include <liftoff/docker/builder.hpp>
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/git.hpp>
#include <liftoff/source/image.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/sagemaker/target.hpp>
#include <liftoff/sagemaker/ecr_push.hpp>

namespace liftoff {

/// Runs an image (`--docker-image`, an ECR image) as a SageMaker training job.
using sagemaker_image_launcher = launcher<image_source, noop_builder, ecr_push, sagemaker_target>;
/// Builds an image from a local code directory, pushes it to ECR and runs it as a training job.
using sagemaker_code_launcher = launcher<local_dir_source, docker_builder, ecr_push, sagemaker_target>;
/// Clones a git repository, builds and pushes its image to ECR, and runs it as a training job.
using sagemaker_git_launcher = launcher<git_source, docker_builder, ecr_push, sagemaker_target>;

}  // namespace liftoff

#endif
