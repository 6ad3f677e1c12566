#ifndef LIFTOFF_AWS_STS_HPP
#define LIFTOFF_AWS_STS_HPP

/** AWS STS over its query protocol (`POST /` form-encoded, `Version=2011-06-15`,
    XML responses read with Boost.PropertyTree): `GetCallerIdentity` (the
    account a bare role name belongs to) and `AssumeRole`. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/credentials.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace liftoff::aws {

struct caller_identity {
  std::string account;  ///< "123456789012"
  std::string arn;      ///< "arn:aws:iam::123456789012:user/alice"
  std::string user_id;
};

struct assume_role_request {
  std::string role_arn;
  std::string session_name = "liftoff";
  std::string external_id;                  ///< optional
  std::optional<std::chrono::seconds> duration;  ///< DurationSeconds
};

class sts_client {
public:
  /// STS at `endpoint`, signing for `region`.
  sts_client(std::string region, std::string endpoint, credentials_provider provider, net::client_options client = {});
  static sts_client for_region(std::string region, credentials_options const& o, credentials_provider provider,
                               net::client_options client = {});

  /** Errors: the service's `<Error><Code>` and `<Message>` through
      `to_diagnostic` (json_client.hpp), so refused credentials are
      error::unauthorized naming their source. */
  result<caller_identity> get_caller_identity() const;
  /// Temporary credentials with `expiration`; `source` reads "AssumeRole <role arn>".
  result<credentials> assume_role(assume_role_request const& r) const;

private:
  std::string region_;
  std::string endpoint_;
  credentials_provider provider_;
  net::client_options client_;
};

}  // namespace liftoff::aws

#if LIFTOFF_HEADER_ONLY
#include <liftoff/aws/impl/sts.ipp>
#endif

#endif
