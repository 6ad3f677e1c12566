#ifndef LIFTOFF_TESTS_SUPPORT_AWS_TEST_SERVER_HPP
#define LIFTOFF_TESTS_SUPPORT_AWS_TEST_SERVER_HPP

// A local HTTP server standing in for SageMaker, STS, ECR and CloudWatch
// Logs (one URL for all, as AWS_ENDPOINT_URL points every service at it),
// plus the container-credentials and instance-metadata (IMDSv2) endpoints:
// - every AWS request must carry a valid SigV4 signature for one of the
//   server's credentials (recomputed with the secret, checked: the scope's
//   date, region and service, X-Amz-Date within 15 minutes, the session
//   token); a bad one is answered as AWS does (403 InvalidSignatureException /
//   SignatureDoesNotMatch, UnrecognizedClientException for an unknown key,
//   ExpiredTokenException for an expired one) and recorded as a violation
//   unless the test `expect_auth_failures()`;
// - JSON 1.1 requests must have Content-Type application/x-amz-json-1.1 and
//   a known X-Amz-Target; every SageMaker request is validated against
//   `specs_dir()/sagemaker/service-2.json` (an invalid one gets a
//   400 ValidationException naming the members, and is recorded as a
//   violation unless the test `expect_invalid_requests()`);
// - SageMaker: CreateTrainingJob (name taken → ResourceInUse),
//   DescribeTrainingJob (ResourceNotFound / ValidationException "Requested
//   resource not found" as the service answers), StopTrainingJob; each job
//   moves through its states on the test's script, one step per
//   DescribeTrainingJob call or per elapsed delay;
// - STS (query protocol, XML): GetCallerIdentity, AssumeRole;
// - ECR: GetAuthorizationToken (base64 "AWS:<password>"), DescribeImages
//   (RepositoryNotFoundException, ImageNotFoundException);
// - CloudWatch Logs: DescribeLogStreams, GetLogEvents (with tokens);
// - throttling: the next N calls of an operation answer 400 ThrottlingException.
// Tests skip (saying why) when the SageMaker model is absent: `available()`.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace liftoff::test {

/// One step of a training job's life.
struct training_step {
  std::string status = "InProgress";     ///< TrainingJobStatus
  std::string secondary = "Starting";    ///< SecondaryStatus
  std::string message;                   ///< the transition's StatusMessage
  std::string failure_reason;            ///< for Failed
  std::vector<std::string> log_lines;    ///< appended to the job's log stream "<name>/algo-1-1700000000" at this step
  std::chrono::milliseconds delay{0};    ///< at least this long after the previous step (else: the next Describe)
};

using training_script = std::vector<training_step>;

namespace training_scripts {
/// Starting → Downloading → Training (the lines) → Completed.
training_script succeed(std::vector<std::string> lines = {"hello from sagemaker"});
/// … Training → Failed with `reason`.
training_script fail(std::string reason, std::vector<std::string> lines = {});
/// … Training, then stays there until stopped (Stopping → Stopped after StopTrainingJob).
training_script run_until_stopped(std::vector<std::string> lines = {});
/// … Training → Interrupted → Stopped (a managed-spot interruption).
training_script spot_interrupted();
}  // namespace training_scripts

/// One request the server received, as parsed.
struct aws_request {
  std::string service;    ///< "sagemaker", "sts", "ecr", "logs", "imds", "container"
  std::string operation;  ///< "CreateTrainingJob", "AssumeRole", …
  std::string method, target;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  std::string access_key_id;  ///< of the signature ("" unsigned)
};

class aws_test_server {
public:
  struct options {
    std::string access_key_id = "AKIDLIFTOFFTEST";
    std::string secret_access_key = "liftoff/test/secret/KEY0123456789abcdefghij";
    std::string region = "us-east-1";
    std::string account = "123456789012";
  };
  aws_test_server();
  explicit aws_test_server(options o);
  ~aws_test_server();

  /// Whether the SageMaker model is there to validate requests (tests SKIP otherwise).
  static bool available();
  static std::string unavailable_reason();

  std::string url() const;  ///< "http://127.0.0.1:PORT"
  options const& config() const;
  /** The environment a client needs: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_EC2_METADATA_DISABLED=true,
      LIFTOFF_AWS_MODELS (the spec's model). */
  std::map<std::string, std::string> environment() const;

  // ---- credentials ------------------------------------------------------
  /** Accepts another key (temporary ones need `session_token`); an
      `expires` in the past makes requests fail with ExpiredTokenException. */
  void add_credentials(std::string access_key_id, std::string secret, std::string session_token = {},
                       std::optional<std::chrono::system_clock::time_point> expires = {});
  /** AssumeRole of `role_arn` returns fresh temporary credentials (accepted
      by the server), valid for `duration`. Unknown roles: AccessDenied. */
  void add_role(std::string role_arn, std::chrono::seconds duration = std::chrono::hours(1));
  /** Serves container credentials at "/container/creds" (requiring
      Authorization `token` when not empty) and IMDSv2 at "/latest/…"
      (role `role_name`), both returning a fresh temporary key. */
  void serve_metadata_credentials(std::string container_token, std::string role_name = "liftoff-instance-role");
  /// Auth failures answered are expected by the test (not violations).
  void expect_auth_failures();
  /// Invalid SageMaker requests answered with ValidationException are expected (not violations).
  void expect_invalid_requests();

  // ---- SageMaker --------------------------------------------------------
  /// The script of the job named `name`; "*": of jobs without their own (default: succeed()).
  void script(std::string name, training_script s);
  /** A job that exists already (an earlier attempt, a job a restarted agent
      re-attaches to): its CreateTrainingJob `request` and its script. */
  void add_training_job(boost::json::object request, training_script s);
  /// The stored CreateTrainingJob request of `name`, or nullopt.
  std::optional<boost::json::object> training_job(std::string const& name) const;
  /// The current DescribeTrainingJob answer for `name`.
  std::optional<boost::json::object> describe(std::string const& name) const;
  std::vector<std::string> training_job_names() const;

  // ---- ECR --------------------------------------------------------------
  void add_repository(std::string name);
  void add_image(std::string repository, std::string tag, std::string digest);
  /// The registry password GetAuthorizationToken hands out (user "AWS").
  std::string ecr_password() const;
  /// proxyEndpoint of the token: "https://<account>.dkr.ecr.<region>.amazonaws.com" unless set.
  void set_proxy_endpoint(std::string url);

  // ---- faults -----------------------------------------------------------
  /// The next `times` calls of `operation` answer 400 ThrottlingException.
  void throttle(std::string operation, int times);
  /// The next `times` calls of `operation` answer 500 InternalFailure.
  void fail_internal(std::string operation, int times);

  // ---- what happened ----------------------------------------------------
  std::vector<aws_request> requests() const;
  std::vector<aws_request> requests(std::string const& operation) const;
  /// Requests that broke the protocol, the signature rules or the model (empty in a passing test).
  std::vector<std::string> violations() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace liftoff::test

#endif
