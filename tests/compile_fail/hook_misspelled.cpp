// A builder that names hook::plan in its `hooks` but misspells the member
// (`plan` for `planned`): a hook that would be silently ignored is an error.
#include <liftoff/core/launcher.hpp>
#include <liftoff/docker/target.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/transport/local_daemon.hpp>

#include <optional>

struct planning_builder {
  static constexpr liftoff::hook_set hooks = liftoff::hook::plan;
  static constexpr bool accepts(liftoff::artifact_kind k) { return k == liftoff::artifact_kind::directory; }
  static constexpr liftoff::artifact_kind output(liftoff::artifact_kind) { return liftoff::artifact_kind::local_image; }
  liftoff::result<liftoff::artifact> build(liftoff::artifact const&, liftoff::launch_spec const&,
                                           liftoff::launch_options const&);
  liftoff::result<std::optional<liftoff::artifact>> plan(liftoff::artifact const&, liftoff::launch_spec const&) const;
};

using pipeline =
    liftoff::launcher<liftoff::local_dir_source, planning_builder, liftoff::local_daemon, liftoff::docker_target>;

int main() {
  pipeline p;
  return p.handles() == liftoff::source_kind::code ? 0 : 1;
}
