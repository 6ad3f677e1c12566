// Positive control: the local-directory pipeline compiles, so the failing
// cases beside it fail for their own reason and not a broken include.
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/local/process.hpp>
#include <liftoff/transport/local_daemon.hpp>

using pipeline = liftoff::launcher<liftoff::local_dir_source, liftoff::noop_builder, liftoff::local_daemon,
                                   liftoff::local_process>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::code ? 0 : 1;
}
