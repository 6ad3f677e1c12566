#ifndef LIFTOFF_AWS_JSON_CLIENT_HPP
#define LIFTOFF_AWS_JSON_CLIENT_HPP

/** A client for services that speak the AWS JSON 1.1 protocol (SageMaker,
    ECR, CloudWatch Logs): `POST /` with `X-Amz-Target: <prefix>.<Operation>`
    and `Content-Type: application/x-amz-json-1.1`, signed with SigV4;
    errors read from `__type` / `x-amzn-ErrorType` and `message`; throttling,
    5xx and connection errors retried with exponential backoff and full
    jitter. */

#include <liftoff/detail/config.hpp>
#include <liftoff/aws/credentials.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace liftoff::aws {

/// An error a service answered with.
struct service_error {
  unsigned status = 0;       ///< HTTP status
  std::string code;          ///< "ValidationException" (namespace and ":…" suffix removed)
  std::string message;       ///< the service's message ("" when none)
  std::string request_id;    ///< x-amzn-RequestId
};

/** Reads an error response of the JSON protocol: the code from the
    `x-amzn-ErrorType` header (before any ':'), else the body's `__type`
    or `code` (after any '#'); the message from `message` or `Message`. */
service_error parse_json_error(unsigned status, boost::beast::http::fields const& headers, std::string_view body);

/// Throttling codes the SDKs retry: Throttling, ThrottlingException, TooManyRequestsException, RequestLimitExceeded, …
bool is_throttling(std::string_view code);

/** The diagnostic for an error of `operation` on `service`:
    - refused or expired credentials (UnrecognizedClientException,
      InvalidClientTokenId, InvalidSignatureException, SignatureDoesNotMatch,
      ExpiredToken(Exception), IncompleteSignature,
      MissingAuthenticationToken) → error::unauthorized, naming the
      credentials' source and access key id, with the service's message;
    - AccessDenied(Exception) → error::forbidden;
    - ValidationException, InvalidParameter* → error::invalid_spec;
    - ResourceNotFound, *NotFoundException → error::not_found;
    - ResourceInUse, *AlreadyExists* → error::already_exists;
    - anything else → error::http_status.
    The message reads "SageMaker CreateTrainingJob: ValidationException: …". */
diagnostic to_diagnostic(service_error const& e, service_id const& service, std::string_view operation,
                         credentials const* used = nullptr);

/// Retry behaviour of `json_client` (the SDKs' "standard" mode).
struct retry_options {
  int max_attempts = 5;  ///< the first one included
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds max{std::chrono::seconds(20)};
};

/** One service in one region. Copies share the connection. Safe to use from
    several threads (calls on one client are serialized). */
class json_client {
public:
  /** A client for `service` at `endpoint` ("https://api.sagemaker.us-east-1.amazonaws.com",
      "http://127.0.0.1:PORT"), signing as `region`. */
  json_client(service_id service, std::string region, std::string endpoint, credentials_provider provider,
              net::client_options client = {}, retry_options retry = {});

  /** As the SDKs do: the endpoint from `endpoint_url(o, service, region)`. */
  static json_client for_region(service_id service, std::string region, credentials_options const& o,
                                credentials_provider provider, net::client_options client = {},
                                retry_options retry = {});

  service_id const& service() const noexcept;
  std::string const& region() const noexcept;
  std::string const& endpoint() const noexcept;

  /** Calls `operation` with `input` (already in wire form) and returns the
      response's JSON ({} for an empty body). Failures: `to_diagnostic` of
      the service's error, a connection error naming the endpoint, or
      error::protocol_error for a body that is not JSON. */
  result<boost::json::value> call(std::string_view operation, boost::json::value const& input) const;

  /** The request `call` would send, signed now with the provider's
      credentials, as {"method", "url", "headers": {…}, "body"}: the
      signature and the session token replaced by "<redacted>". For dry runs. */
  result<boost::json::object> describe_request(std::string_view operation, boost::json::value const& input) const;

private:
  struct state;
  std::shared_ptr<state> s_;
};

namespace detail {
/// The JSON 1.1 request for `operation` of `service` with body `input`, unsigned.
net::request json_request(service_id const& service, std::string_view operation, boost::json::value const& input);
}  // namespace detail

}  // namespace liftoff::aws

#if LIFTOFF_HEADER_ONLY
#include <liftoff/aws/impl/json_client.ipp>
#endif

#endif
