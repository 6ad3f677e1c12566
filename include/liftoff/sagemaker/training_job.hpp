#ifndef LIFTOFF_SAGEMAKER_TRAINING_JOB_HPP
#define LIFTOFF_SAGEMAKER_TRAINING_JOB_HPP

/** The SageMaker side of a run, without contacting AWS: reading
    `resource_args.sagemaker`, building the `CreateTrainingJob` request, and
    turning `DescribeTrainingJob` answers into run states. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/model.hpp>
#include <liftoff/core/run_status.hpp>
#include <liftoff/core/spec.hpp>

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::sagemaker {

/// The CloudWatch Logs group of training jobs.
inline constexpr std::string_view log_group = "/aws/sagemaker/TrainingJobs";
/// The tag carrying the run id on every training job liftoff creates.
inline constexpr std::string_view run_id_tag = "liftoff:run-id";

/** `resource_args.sagemaker`, read. It is a `CreateTrainingJob` body (W&B
    Launch's shape) whose members may be written in the API's PascalCase
    (`ResourceConfig.InstanceType`) or in snake_case
    (`resource_config.instance_type`, `volume_size_in_gb`), beside liftoff's
    own keys:
    - `region`: the AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile);
    - `profile`: the shared-files profile (else AWS_PROFILE);
    - `registry`: the ECR repository the image is pushed to
      ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train").
    Keys of maps (`HyperParameters`, `Environment`, a tag's `Key`/`Value`
    values) are kept as written. The API takes hyperparameters as strings:
    numbers and booleans given in `HyperParameters` are converted to their
    JSON text (`3`, `0.5`, `true`). Members set to null are left out. */
struct job_settings {
  std::string region;
  std::string profile;
  std::string registry;
  /// The request members, in PascalCase.
  boost::json::object request;
};

/** Reads `args`. snake_case keys are matched to the model's member names
    when `model` is given (ignoring case and underscores), else by
    capitalizing each word, with the API's acronyms (`VolumeSizeInGB`,
    `S3Uri`, `KmsKeyId`, …) known. Fails with error::invalid_spec naming the
    field (`resource_args.sagemaker.resource_config`) when a value has the
    wrong JSON type, and error::unknown_field for a top-level key that is
    neither liftoff's nor a `CreateTrainingJob` member (with the closest). */
result<job_settings> parse_sagemaker_args(boost::json::object const& args, aws::service_model const* model = nullptr);

/** The training job name for `spec`'s run: "<prefix>-<run id>" with the
    prefix from the run's name, else its job name, else project, else
    "liftoff"; characters outside [a-zA-Z0-9-] become '-', repeats squeezed,
    cut so the whole stays within 63 characters and matches
    `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. Attempt 2 and later (a name taken
    by an earlier, ended attempt of the same run) end in "-a<attempt>". */
std::string training_job_name(launch_spec const& spec, int attempt = 1);

/// What goes into the request besides the settings.
struct job_inputs {
  std::string image;    ///< the pushed image (AlgorithmSpecification.TrainingImage unless the config names one)
  std::string account;  ///< for a bare role name ("" when RoleArn is a full ARN)
  std::string partition = "aws";
  std::map<std::string, std::string> environment;  ///< the run's LIFTOFF_* (secrets already removed)
  int attempt = 1;
};

/** The `CreateTrainingJob` request: the settings' members, plus
    - `TrainingJobName` (see `training_job_name`; a name in the config is replaced:
      the name is how a run's job is found again);
    - `AlgorithmSpecification.TrainingImage` = `in.image` unless set,
      `TrainingInputMode` "File" unless set, `ContainerEntrypoint` /
      `ContainerArguments` from the run's command (entry point and overrides)
      unless the config sets them;
    - `RoleArn`: a bare role name expanded to "arn:<partition>:iam::<account>:role/<name>";
    - `Environment`: `in.environment` then the config's (the config wins);
    - `Tags`: the config's plus `liftoff:run-id`.
    Fails (error::invalid_spec, naming the member as
    `resource_args.sagemaker.<Member>`) when `RoleArn`, `ResourceConfig`,
    `OutputDataConfig` or `StoppingCondition` is missing (saying what it
    needs), when a role name needs an account and `in.account` is empty, and,
    with `model`, for every problem `model->validate_input` finds (by member
    path, e.g. "Environment.LIFTOFF_X: length 600 exceeds the maximum of 512"). */
result<boost::json::object> make_create_training_job(launch_spec const& spec, job_settings const& settings,
                                                     job_inputs const& in, aws::service_model const* model = nullptr);

/// A `DescribeTrainingJob` answer, read.
struct job_view {
  std::string status;            ///< TrainingJobStatus: InProgress, Completed, Failed, Stopping, Stopped
  std::string secondary_status;  ///< Starting, Downloading, Training, Interrupted, …
  std::string status_message;    ///< the last SecondaryStatusTransitions[].StatusMessage
  std::string failure_reason;
  bool managed_spot = false;     ///< EnableManagedSpotTraining
  std::string run_id;            ///< from the tags, when the answer carries them
};

job_view read_description(boost::json::object const& describe);

/** The run state for a description:
    - InProgress: `starting` until SecondaryStatus is Training (or later), then `running`;
    - Completed → finished (exit code 0);
    - Failed → failed (stage run) with FailureReason and what to do;
    - Stopping → not terminal (as InProgress; a follower keeps the state it had);
    - Stopped → stopped (with SecondaryStatus `MaxRuntimeExceeded`, unless
      `stop_requested`: failed, naming StoppingCondition.MaxRuntimeInSeconds);
    - Failed or Stopped with SecondaryStatus `Interrupted` (a managed-spot
      interruption), unless `stop_requested` → preempted;
    - `MaxWaitTimeExceeded` → failed, saying spot capacity did not come in time. */
run_status status_of(job_view const& v, bool stop_requested);

namespace detail {
/** The training job's `Environment`: the run's `LIFTOFF_*` variables and the
    config's, without the variables named in `secret_names`. */
std::map<std::string, std::string> job_environment(launch_spec const& spec, launch_options const& options,
                                                   std::vector<std::string> const& secret_names);
}  // namespace detail

}  // namespace liftoff::sagemaker

#if LIFTOFF_HEADER_ONLY
#include <liftoff/sagemaker/impl/training_job.ipp>
#endif

#endif
