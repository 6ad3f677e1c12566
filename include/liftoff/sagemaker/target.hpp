#ifndef LIFTOFF_SAGEMAKER_TARGET_HPP
#define LIFTOFF_SAGEMAKER_TARGET_HPP

/** `sagemaker_target`: runs a job's image as an Amazon SageMaker training
    job (the `sagemaker` resource), watches it with `DescribeTrainingJob`,
    streams its CloudWatch Logs and stops it with `StopTrainingJob`. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/credentials.hpp>
#include <liftoff/aws/json_client.hpp>
#include <liftoff/aws/model.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/sagemaker/training_job.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace liftoff {

struct ecr_push;  // <liftoff/sagemaker/ecr_push.hpp>

namespace detail {
struct sagemaker_run_state;
}

/** Target policy for SageMaker. SageMaker pulls the image from ECR, so the
    pipeline must deliver a registry image: pair it with `ecr_push` (or
    `registry_push`); a `local_daemon` transport is a compile error.

    `start`:
    1. reads `resource_args.sagemaker` (`sagemaker::parse_sagemaker_args`),
       finds the region, the credentials (the chain of `aws::default_credentials_chain`
       with the config's `profile`) and the service model (`model`, else
       `aws::find_model`; without one, client-side validation is skipped
       with a log line and SageMaker's own remains);
    2. expands a bare role name with the account from STS `GetCallerIdentity`;
    3. builds and validates `CreateTrainingJob` (`sagemaker::make_create_training_job`),
       leaving out the environment variables named in `secret_names`
       (SageMaker shows a job's Environment to anyone who may describe it),
       and sends it. When the name is taken by an earlier attempt of the same
       run that has ended (a preempted run requeued), the next attempt's name
       is used; when that job is still in progress, the run follows it;
    4. reports `starting`, then follows the job with `DescribeTrainingJob`
       (every `poll_min`, doubling up to `poll_max` while nothing changes;
       back to `poll_min` on a change), logging each new SecondaryStatus and
       its message as a system line, and ends the run as
       `sagemaker::status_of` decides;
    5. streams the job's CloudWatch Logs (`/aws/sagemaker/TrainingJobs`,
       streams "<job name>/…", each followed from its start as it appears)
       as output lines, and reads them to the end once the job has ended.

    A dry run emits every request it would send, signed, as
    `{"stage":"run","action":"aws api","request":{"method","url","headers","body"}}`
    (the signature and session token redacted; `GetCallerIdentity` included
    when a role name needs the account, whose ARN then reads
    "arn:aws:iam::<account>:role/NAME") and contacts nothing. */
struct sagemaker_target {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate | hook::attach;
  /// What must deliver its images: ECR (a compile error names it for a pipeline that leaves them local).
  using transport_needed = ecr_push;
  /// Where the credentials chain, region and endpoints look (environment, profile, home).
  aws::credentials_options aws;
  /// The credentials; empty: `aws::default_credentials_chain(aws)` (with the config's profile).
  aws::credentials_provider credentials;
  /// The region; empty: `resource_args.sagemaker.region`, then `aws::resolve_region`.
  std::string region;
  /// The SageMaker service model (`service-2.json`); empty: `aws::find_model`.
  std::filesystem::path model;
  /// Validate the request against the model before sending it.
  bool validate_model = true;
  std::chrono::milliseconds poll_min{std::chrono::seconds(2)};
  std::chrono::milliseconds poll_max{std::chrono::seconds(30)};
  /** How often the CloudWatch Logs streams are read while the job runs and
      writes; while they stay quiet the period doubles up to five times this.
      The streams are listed until one appears, then once a minute. */
  std::chrono::milliseconds log_poll{std::chrono::seconds(2)};
  /// Environment variable names left out of the training job's Environment.
  std::vector<std::string> secret_names = {"LIFTOFF_API_TOKEN"};
  /// How many log lines a run keeps (the oldest are dropped first).
  std::size_t max_log_lines = 100000;
  /// Connection settings and retries for the AWS endpoints.
  net::client_options client;
  aws::retry_options retry;

  static constexpr bool accepts(artifact_kind k) noexcept { return k == artifact_kind::registry_image; }

  /** A started run: a cheap, movable handle over state shared with its
      watcher thread. Destroying it neither waits for nor stops the job. */
  class run {
  public:
    std::string id() const;
    run_status status() const;
    run_status wait();
    /** Sends `StopTrainingJob` and returns once the job is `Stopped` (or
        ended otherwise), or after `grace` plus two minutes. The final state
        is `stopped` unless the job had ended. */
    void cancel(std::chrono::milliseconds grace);
    std::vector<log_line> logs() const;
    /// The training job's name; for a dry run, the name it would have.
    std::string name() const;
    std::string region() const;

  private:
    friend struct sagemaker_target;
    explicit run(std::shared_ptr<detail::sagemaker_run_state> s) noexcept : state_(std::move(s)) {}
    std::shared_ptr<detail::sagemaker_run_state> state_;
  };

  using run_type = run;

  /** Checks `resource_args.sagemaker` without contacting AWS: value types,
      unknown keys, the required members, and (with a model) every member's
      constraint. */
  result<void> validate(launch_spec const& spec) const;

  result<run> start(artifact const& in, launch_spec const& spec, launch_options const& options) const;

  /** Finds the training job of a run started before (by this process or
      another, say an agent before it restarted) by its name
      (`sagemaker::training_job_name`, the newest attempt) and follows it as
      `start` would have; a job that ended while nobody watched ends the run
      at once. The first `skip_lines` output lines are kept in `logs()` but
      not passed to `options.on_log`.
      @return the run; nullopt when SageMaker has no job for the run id; a
      diagnostic when SageMaker cannot be asked. */
  result<std::optional<run>> attach(launch_spec const& spec, launch_options const& options,
                                    std::size_t skip_lines = 0) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/sagemaker/impl/target.ipp>
#endif

#endif
