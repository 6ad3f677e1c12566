#ifndef LIFTOFF_SAGEMAKER_IMPL_BACKEND_IPP
#define LIFTOFF_SAGEMAKER_IMPL_BACKEND_IPP

#include <liftoff/sagemaker/backend.hpp>

#include <liftoff/sagemaker/launchers.hpp>
#include <liftoff/sagemaker/reattach.hpp>

namespace liftoff {

LIFTOFF_DECL backend const& sagemaker_backend() {
  static backend const b{
      .resource = "sagemaker",
      .summary = "an Amazon SageMaker training job (credentials and region as the AWS CLI finds them)",
      .default_for = {},
      .resource_args = {{"region", "the AWS region (default: AWS_REGION, the profile's region)"},
                        {"profile", "the AWS profile (default: AWS_PROFILE, else default)"},
                        {"registry", "the ECR repository built images are pushed to (else LIFTOFF_REGISTRY)"},
                        {"RoleArn, ResourceConfig, …",
                         "any CreateTrainingJob member, in PascalCase or snake_case"}},
      .options = {{.flag = "--aws-region",
                   .help = "The AWS region of a --resource sagemaker run and its ECR repository (default: "
                           "resource_args.sagemaker.region, AWS_REGION, the profile's region)",
                   .resource_arg = "region"},
                  {.flag = "--aws-profile",
                   .help = "The AWS profile of ~/.aws/config and ~/.aws/credentials for --resource sagemaker "
                           "(default: AWS_PROFILE, else default)",
                   .resource_arg = "profile"}},
      // The region, profile and ECR repository come from resource_args.sagemaker, else the environment.
      .add_launchers =
          [](launcher_registry& reg, backend_settings const&) {
            reg.add("sagemaker", sagemaker_image_launcher{});
            reg.add("sagemaker", sagemaker_code_launcher{});
            reg.add("sagemaker", sagemaker_git_launcher{});
          },
      .reattach = [](backend_settings const&) { return agent::sagemaker_reattach(); },
  };
  return b;
}

}  // namespace liftoff

#endif
