// A Kubernetes cluster pulls images from a registry; local_daemon leaves the
// image docker_builder built in the local engine. The launcher must refuse,
// naming registry_push.
#include <liftoff/docker/builder.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/kube/target.hpp>
#include <liftoff/transport/local_daemon.hpp>

using pipeline = liftoff::launcher<liftoff::local_dir_source, liftoff::docker_builder, liftoff::local_daemon,
                                   liftoff::kubernetes_target>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::code ? 0 : 1;
}
