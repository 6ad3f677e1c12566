#ifndef LIFTOFF_SAGEMAKER_ECR_PUSH_HPP
#define LIFTOFF_SAGEMAKER_ECR_PUSH_HPP

/** `ecr_push`: `registry_push` to Amazon ECR. The Docker login comes from
    ECR `GetAuthorizationToken`; `DescribeImages` tells whether ECR has the
    image's content tag already, in which case nothing is built or pushed. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/credentials.hpp>
#include <liftoff/aws/json_client.hpp>
#include <liftoff/docker/registry_push.hpp>

#include <optional>
#include <string>

namespace liftoff {

/// An ECR repository, as read from a repository string.
struct ecr_repository {
  std::string host;        ///< "123456789012.dkr.ecr.us-east-1.amazonaws.com" (any host with AWS_ENDPOINT_URL_ECR set)
  std::string name;        ///< the ECR repository name: the path, "team/train"
  std::string registry_id; ///< the account from an ECR host; empty for other hosts
  std::string region;      ///< the region from an ECR host; empty for other hosts
};

/** Reads "<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>" (or any
    "host[:port]/<name>", whose account and region are then the caller's).
    Fails (error::invalid_spec, naming `origin`) for a string that is not a
    repository. */
result<ecr_repository> parse_ecr_repository(std::string_view repository, std::string_view origin);

/** Transport policy: a `local_image` in, a `registry_image` out, like
    `registry_push`, except that the image is pushed as
    `<repository>:<content tag>` (an ECR repository holds one image name),
    with ECR's credentials.

    The repository is, in order, `push.repository`,
    `resource_args.sagemaker.registry`, `LIFTOFF_REGISTRY`. The region is
    the repository host's, else `region`, else `resource_args.sagemaker.region`,
    else `aws::resolve_region`.

    `deliver`:
    1. `DescribeImages` for the content tag: found → the image is not pushed
       and the result is `<repository>@<imageDigest>`;
    2. `RepositoryNotFoundException` → error::push_failed (stage push):
       "ECR repository `team/train` does not exist in account … (us-east-1):
       create it with `aws ecr create-repository --repository-name team/train --region us-east-1`";
    3. else `GetAuthorizationToken`, the token decoded into user `AWS` and
       its password (never logged), and `registry_push` pushes.
    In a dry run, the ECR requests are emitted signed and redacted as
    `{"stage":"push","action":"aws api","request":{…}}` and the push as
    `registry_push` emits it. */
struct ecr_push {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate | hook::find;
  registry_push push;   ///< the engine, and the repository when set here
  aws::credentials_options aws;
  /// empty: the default chain, with the profile `aws.profile`, else `resource_args.sagemaker.profile`
  aws::credentials_provider credentials;
  std::string region;
  net::client_options client;
  aws::retry_options retry;

  static constexpr bool accepts(artifact_kind k) noexcept { return registry_push::accepts(k); }
  static constexpr artifact_kind output(artifact_kind k) noexcept { return registry_push::output(k); }

  result<void> validate(launch_spec const& spec) const;

  /** Whether ECR has the image `planned` (a `local_image` artifact as the
      builder would make it, with its content digest) already: the
      delivered artifact if so. Lets the launcher skip the build. */
  result<std::optional<artifact>> find(artifact const& planned, launch_spec const& spec,
                                       launch_options const& options) const;

  result<artifact> deliver(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/sagemaker/impl/ecr_push.ipp>
#endif

#endif
