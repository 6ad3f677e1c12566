// SageMaker pulls a training job's image from a registry (ECR); local_daemon
// leaves the image docker_builder built in the local engine. The launcher
// must refuse, naming ecr_push, the transport sagemaker_target says it needs.
#include <liftoff/docker/builder.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/sagemaker/target.hpp>
#include <liftoff/transport/local_daemon.hpp>

using pipeline = liftoff::launcher<liftoff::local_dir_source, liftoff::docker_builder, liftoff::local_daemon,
                                   liftoff::sagemaker_target>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::code ? 0 : 1;
}
