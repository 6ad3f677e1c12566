#ifndef LIFTOFF_CORE_TARGET_REATTACH_HPP
#define LIFTOFF_CORE_TARGET_REATTACH_HPP

/** The `reattach_fn` of a resource whose target can find a run again by its
    id (`kubernetes_target`, `sagemaker_target`): what a backend's
    `<backend>/reattach.hpp` builds its one-line reattach function from. */

#include <liftoff/core/backend.hpp>

#include <string>
#include <utility>

namespace liftoff {

/** A `reattach_fn` (`agent_options::reattach`) for the runs of `resource`:
    follows each with `target.attach(spec, options, skip_lines)` (configure
    the target as the agent's launchers configure theirs), so the output lines
    the server already has are not delivered again. Runs of other resources
    get `error::unsupported`: "runs on <resource> are not <what>". */
template <class Target>
reattach_fn target_reattach(std::string resource, std::string what, Target target) {
  static_assert(declares_hook<Target>(hook::attach) && has_attach<Target>,
                "target_reattach needs a target that offers hook::attach: "
                "result<optional<run_type>> attach(spec, options, skip_lines) const");
  return [resource = std::move(resource), what = std::move(what),
          target = std::move(target)](reattach_request const& r) -> result<std::optional<any_run>> {
    if (r.resource != resource) return diagnostic(error::unsupported, "runs on " + r.resource + " are not " + what);
    launch_spec spec = r.spec;
    if (!r.run_id.empty()) spec.run_id = r.run_id;
    auto found = target.attach(spec, r.options, r.delivered_lines);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<any_run>();
    return std::optional<any_run>(any_run(std::move(**found)));
  };
}

namespace agent {
using liftoff::target_reattach;
}  // namespace agent

}  // namespace liftoff

#endif
