#ifndef LIFTOFF_CORE_RUN_ENVIRONMENT_HPP
#define LIFTOFF_CORE_RUN_ENVIRONMENT_HPP

/** The environment every run gets, whatever its target (DESIGN.md, "What
    every run gets"). Targets add the resource's own variables after these. */

#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

#include <boost/json/serialize.hpp>

#include <string>
#include <utility>
#include <vector>

namespace liftoff {

using environment_list = std::vector<std::pair<std::string, std::string>>;

/** `LIFTOFF_RUN_ID`, `LIFTOFF_PROJECT`, `LIFTOFF_JOB`, `LIFTOFF_RUN_NAME`,
    `LIFTOFF_QUEUE` (when the run came from a queue) and `LIFTOFF_CONFIG` (the
    run config as JSON, `{}` when empty), then `options.environment`. */
inline environment_list run_environment(launch_spec const& spec, launch_options const& options) {
  environment_list env = {
      {"LIFTOFF_RUN_ID", spec.run_id},
      {"LIFTOFF_PROJECT", spec.project},
      {"LIFTOFF_JOB", spec.job_name},
      {"LIFTOFF_RUN_NAME", spec.name},
  };
  if (!spec.queue.empty()) env.emplace_back("LIFTOFF_QUEUE", spec.queue);
  env.emplace_back("LIFTOFF_CONFIG", boost::json::serialize(spec.overrides.run_config));
  for (auto const& [k, v] : options.environment) env.emplace_back(k, v);
  return env;
}

}  // namespace liftoff

#endif
