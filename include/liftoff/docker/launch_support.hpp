#ifndef LIFTOFF_DOCKER_LAUNCH_SUPPORT_HPP
#define LIFTOFF_DOCKER_LAUNCH_SUPPORT_HPP

/** What the Docker policies (`docker_builder`, `docker_target`) share for a
    launch: the label names liftoff puts on images and containers, and the
    engine connection that honours a dry run. */

#include <liftoff/core/error.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/docker/engine.hpp>

#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace liftoff::docker {

/// Label carrying the run id on every container, so a restarted agent finds its runs.
inline constexpr std::string_view run_id_label = "liftoff.run-id";
/// Label carrying the project name.
inline constexpr std::string_view project_label = "liftoff.project";
/// Label carrying the job name.
inline constexpr std::string_view job_label = "liftoff.job";
/// Label carrying the digest of the source an image was built from.
inline constexpr std::string_view source_digest_label = "liftoff.source-digest";

/** Connects to the engine for one stage of a launch. In a dry run
    (`options.dry_run()`), the engine records instead of sending: each request
    is emitted into `options.on_dry_run` as
    `{"stage": <stage>, "action": "docker api", "request": {…}}`, and
    `base.on_request` (when set) still sees it.
    @param base where the engine is, and its settings
    @param options the launch's options; only `on_dry_run` is kept (copied)
    @param stage the stage name in emitted actions ("build", "run")
    @return the engine, or the diagnostic of `engine::connect`. */
inline result<engine> connect_for_launch(engine_options base, launch_options const& options,
                                         std::string_view stage) {
  if (options.dry_run()) {
    auto emit = options.on_dry_run;  // a copy: the engine may outlive `options`
    auto chained = std::move(base.on_request);
    base.on_request = [emit = std::move(emit), chained = std::move(chained),
                       stage = std::string(stage)](boost::json::object const& request) {
      if (chained) chained(request);
      boost::json::object action;
      action["stage"] = stage;
      action["action"] = "docker api";
      action["request"] = request;
      emit(action);
    };
  }
  return engine::connect(std::move(base));
}

}  // namespace liftoff::docker

#endif
