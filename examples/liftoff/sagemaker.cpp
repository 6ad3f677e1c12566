// The `sagemaker` resource of the CLI and the agent: its launchers and how an
// agent follows its runs again after a restart. The SageMaker and AWS headers
// are compiled here only.

#include "commands.hpp"

#include <liftoff/agent/sagemaker.hpp>
#include <liftoff/sagemaker_launchers.hpp>

namespace liftoff::cli {

// The region, profile and ECR repository come from resource_args.sagemaker
// (where --aws-region and --aws-profile put them), else the environment.
void add_sagemaker_launchers(launcher_registry& registry) {
  registry.add("sagemaker", sagemaker_image_launcher{});
  registry.add("sagemaker", sagemaker_code_launcher{});
  registry.add("sagemaker", sagemaker_git_launcher{});
}

result<std::optional<any_run>> reattach_sagemaker(agent::reattach_request const& request) {
  static auto const reattach = agent::sagemaker_reattach();
  return reattach(request);
}

}  // namespace liftoff::cli
