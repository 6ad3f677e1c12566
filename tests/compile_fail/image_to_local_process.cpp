// An image source with no build step yields an image; local_process runs
// code from a directory. The launcher must refuse with its sentence.
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/image.hpp>
#include <liftoff/local/process.hpp>
#include <liftoff/transport/local_daemon.hpp>

using pipeline = liftoff::launcher<liftoff::image_source, liftoff::noop_builder, liftoff::local_daemon,
                                   liftoff::local_process>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::image ? 0 : 1;
}
