// A target policy that has everything but start(): the launcher must name
// the Target policy's requirements.
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/transport/local_daemon.hpp>

#include <chrono>
#include <string>
#include <vector>

struct startless_run {
  std::string id() const { return "r"; }
  liftoff::run_status status() { return {}; }
  liftoff::run_status wait() { return {}; }
  void cancel(std::chrono::milliseconds) {}
  std::vector<liftoff::log_line> logs() const { return {}; }
};

struct startless_target {
  using run_type = startless_run;
  static constexpr bool accepts(liftoff::artifact_kind k) { return k == liftoff::artifact_kind::directory; }
  // no start(in, spec, options)
};

static_assert(liftoff::run<startless_run>, "the run type itself is complete");

using pipeline =
    liftoff::launcher<liftoff::local_dir_source, liftoff::noop_builder, liftoff::local_daemon, startless_target>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::code ? 0 : 1;
}
