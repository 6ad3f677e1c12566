#ifndef LIFTOFF_AWS_CREDENTIALS_HPP
#define LIFTOFF_AWS_CREDENTIALS_HPP

/** Where AWS credentials, the region and service endpoints come from, in the
    order the AWS SDKs use:

    1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
       `AWS_SESSION_TOKEN`;
    2. the shared files: `AWS_SHARED_CREDENTIALS_FILE` (default
       `~/.aws/credentials`, sections `[name]`) and `AWS_CONFIG_FILE` (default
       `~/.aws/config`, sections `[profile name]` and `[default]`), profile
       `AWS_PROFILE` (default `default`); a profile with `role_arn` and
       `source_profile` (or `credential_source = Environment`) is assumed
       through STS `AssumeRole` (`role_session_name`, `external_id`,
       `duration_seconds`), the result cached until five minutes before it
       expires;
    3. container credentials: `AWS_CONTAINER_CREDENTIALS_FULL_URI`, or
       `http://169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, with
       `AWS_CONTAINER_AUTHORIZATION_TOKEN` (or the contents of
       `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`) as `Authorization`;
    4. instance metadata, IMDSv2 (`PUT /latest/api/token`, then
       `/latest/meta-data/iam/security-credentials/<role>`), at
       `AWS_EC2_METADATA_SERVICE_ENDPOINT` (default `http://169.254.169.254`),
       unless `AWS_EC2_METADATA_DISABLED=true`.

    The shared files are INI files read with Boost.PropertyTree. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/sigv4.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::aws {

/// One profile of the shared files: its keys, the config file's over the credentials file's.
struct profile {
  std::string name;
  std::map<std::string, std::string> values;  ///< "aws_access_key_id", "region", "role_arn", …
  std::filesystem::path credentials_file;     ///< where its keys were read (empty: none)
  std::filesystem::path config_file;          ///< where its settings were read (empty: none)

  /// The value of `key`, or empty.
  std::string get(std::string_view key) const;
};

/** Where the chain looks. Defaults read the process's environment; tests set
    `environment` to make the chain ignore the real one. */
struct credentials_options {
  /** Variables to use instead of the process environment (for tests and
      embedding programs); nullopt: `getenv`. */
  std::optional<std::map<std::string, std::string>> environment;
  /** The profile; empty: `AWS_PROFILE`, else `default`. A profile set here
      is used even when the environment has keys (as `aws --profile` does). */
  std::string profile;
  /// The home directory for `~/.aws`; empty: `HOME`.
  std::filesystem::path home;
  /// Whether to try container credentials and instance metadata.
  bool use_container = true;
  bool use_instance_metadata = true;
  /// Connection settings for STS, the container endpoint and instance metadata.
  std::chrono::milliseconds metadata_timeout{std::chrono::seconds(1)};
  net::client_options client;

  /// The value of environment variable `name` ("" when unset).
  std::string env(std::string_view name) const;
};

/** Reads profile `name` from the shared files (as `credentials_options`
    finds them). nullopt when neither file has it; a malformed file fails
    with error::parse_error naming the file and line. */
result<std::optional<profile>> load_profile(credentials_options const& o, std::string_view name);

/** The credentials chain above, as one provider with a cache: the first
    source that has credentials is used, and temporary credentials are asked
    for again five minutes before they expire. Copies share the cache; safe
    to call from several threads.

    When no source has credentials, it fails with error::unauthorized and a
    message that lists every place it looked ("no AWS credentials: not in
    the environment (AWS_ACCESS_KEY_ID), not in /root/.aws/credentials
    (profile `default`), …"). A source that has credentials but cannot give
    them (a profile missing `aws_secret_access_key`, an AssumeRole refused)
    fails at once with that source's reason, not falling through. */
credentials_provider default_credentials_chain(credentials_options o = {});

/** `default_credentials_chain(o)`, made once per process and configuration
    (the options' profile, home, sources and environment) and shared by every
    caller, so the policies of one launch (the ECR push, the SageMaker
    target) and all its runs use one cache: temporary credentials are
    fetched once and refreshed before they expire. */
credentials_provider shared_credentials_chain(credentials_options const& o);

/// Fixed credentials (for tests and embedding programs).
credentials_provider static_credentials(credentials c);

/** The region: `explicit_region` when not empty (resource_args), else
    `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region`.
    Fails (error::invalid_spec) when none is set, saying where it looked, or
    when the region is not one liftoff knows (see `known_region`), naming it
    and suggesting the closest. */
result<std::string> resolve_region(credentials_options const& o, std::string_view explicit_region = {});

/// True for the regions of the aws, aws-cn and aws-us-gov partitions liftoff knows.
bool known_region(std::string_view region);

/// An AWS service as liftoff addresses it.
struct service_id {
  std::string name;          ///< the SDK service id: "SageMaker", "STS", "ECR", "CloudWatch Logs"
  std::string signing_name;  ///< "sagemaker", "sts", "ecr", "logs"
  std::string endpoint_prefix;  ///< "api.sagemaker", "sts", "api.ecr", "logs"
  std::string target_prefix;    ///< JSON protocol X-Amz-Target prefix: "SageMaker", "AmazonEC2ContainerRegistry_V20150921", "Logs_20140328"; empty for STS
};

namespace services {
service_id const& sagemaker();
service_id const& sts();
service_id const& ecr();
service_id const& logs();
}  // namespace services

/** The endpoint URL of `s` in `region`: `AWS_ENDPOINT_URL_<SERVICE>` (the
    service id upper-cased, spaces as underscores: `AWS_ENDPOINT_URL_SAGEMAKER`,
    `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`), else `AWS_ENDPOINT_URL`, else the
    profile's `endpoint_url`, else "https://<prefix>.<region>.amazonaws.com"
    (".amazonaws.com.cn" in China). */
std::string endpoint_url(credentials_options const& o, service_id const& s, std::string_view region);

}  // namespace liftoff::aws

#if LIFTOFF_HEADER_ONLY
#include <liftoff/aws/impl/credentials.ipp>
#endif

#endif
