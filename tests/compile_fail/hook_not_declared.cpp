// A policy that offers an optional hook (validate) without naming it in its
// `hooks`: hooks opt in, so the launcher refuses instead of guessing by shape.
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/local/process.hpp>
#include <liftoff/transport/local_daemon.hpp>

struct checking_source {
  static constexpr liftoff::source_kind kind = liftoff::source_kind::code;
  static constexpr liftoff::artifact_kind produces = liftoff::artifact_kind::directory;
  liftoff::result<liftoff::artifact> fetch(liftoff::launch_spec const&, liftoff::launch_options const&);
  liftoff::result<void> validate(liftoff::launch_spec const&) const;
};

using pipeline = liftoff::launcher<checking_source, liftoff::noop_builder, liftoff::local_daemon, liftoff::local_process>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::code ? 0 : 1;
}
