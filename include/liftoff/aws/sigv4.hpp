#ifndef LIFTOFF_AWS_SIGV4_HPP
#define LIFTOFF_AWS_SIGV4_HPP

/** AWS Signature Version 4 (HMAC-SHA256 through OpenSSL): the canonical
    request, the string to sign and the signature, added to a request as
    headers (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`) or as a
    presigned query string. Follows the AWS test suites case for case. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/net/client.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::aws {

/** A set of AWS credentials. `source` says where they came from
    ("environment", "shared credentials file ~/.aws/credentials, profile
    `dev`", "AssumeRole arn:aws:iam::…:role/x", …), for messages. The secret
    and the session token never appear in messages or logs. */
struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  ///< empty for long-term keys
  /// When temporary credentials stop working; nullopt for long-term keys.
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string source;

  /// True when `expiration` is within `margin` of `now` (never for long-term keys).
  bool expires_within(std::chrono::system_clock::duration margin,
                      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const noexcept;
};

/// Gives the credentials to sign the next request with (refreshing them as needed).
using credentials_provider = std::function<result<credentials>()>;

/// A message to sign. Header names keep their case and may repeat.
struct http_message {
  std::string method = "GET";
  /** Path and query exactly as sent: "/", "/example%20space/", "/?Param1=value1".
      The path's percent-encoding and the query are canonicalized when signing. */
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;  ///< must include Host
  std::string body;
};

/// How to sign.
struct signing_params {
  std::string region;   ///< "us-east-1"
  std::string service;  ///< the signing name: "sagemaker", "sts", "ecr", "logs"
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  /** Normalize the path (remove "." and ".." segments and repeated slashes)
      and encode each segment twice, as every service but S3 expects. */
  bool normalize_path = true;
  /** Add `X-Amz-Content-Sha256` with the body's hash to the signed headers
      (S3 wants it; the other services accept it). The payload hash enters
      the canonical request either way. */
  bool sign_body = false;
  /** Sign without `X-Amz-Security-Token`, adding it after signing (a few
      services expect this); default: the token is signed. */
  bool omit_session_token = false;
  /// For presigned query strings: `X-Amz-Expires`.
  std::chrono::seconds expires{3600};
};

/// The intermediate results of a signature, for tests and for `--dry-run`.
struct signing_result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      ///< 64 lowercase hex digits
  std::string signed_headers; ///< "host;x-amz-date"
  std::string credential_scope;  ///< "20150830/us-east-1/service/aws4_request"
  std::string amz_date;       ///< "20150830T123600Z"
};

/** Signs `m` in its headers: adds `X-Amz-Date`, `X-Amz-Security-Token` (with
    a session token), `X-Amz-Content-Sha256` (with `sign_body`) and
    `Authorization`, replacing those an earlier signature added, and returns
    what was computed. As the SDKs do, `User-Agent`, `Expect`, `Connection`,
    `Transfer-Encoding` and `X-Amzn-Trace-Id` are not signed (proxies change them).
    Fails (error::invalid_request) on a message without a Host header or
    credentials without a key id or secret. */
result<signing_result> sign_headers(http_message& m, credentials const& c, signing_params const& p);

/** Presigns `m` in its query string (`X-Amz-Algorithm`, `X-Amz-Credential`,
    `X-Amz-Date`, `X-Amz-SignedHeaders`, `X-Amz-Expires`,
    `X-Amz-Security-Token`, `X-Amz-Signature`, in that order, after the
    message's own parameters), leaving the headers as they are. */
result<signing_result> sign_query(http_message& m, credentials const& c, signing_params const& p);

/** A `net::request_signer` that signs every attempt of a request in its
    headers, with credentials from `provider` (asked on every attempt, so
    refreshed credentials are used) and `p.region`/`p.service`; the time is
    taken at each attempt. A provider's failure fails the request with it. */
net::request_signer sigv4_signer(credentials_provider provider, signing_params p);

/** An `Authorization` header value with the signature replaced by
    "<redacted>", for `--dry-run` output and logs. */
std::string redact_authorization(std::string_view authorization);

namespace detail {
/// HMAC-SHA256 of `data` under `key`, raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
/// "20150830T123600Z" for `t` (UTC).
std::string amz_date(std::chrono::system_clock::time_point t);
/** RFC 3986 percent-encoding of everything but unreserved characters
    (A-Z a-z 0-9 - _ . ~); '/' kept when `keep_slash`. */
std::string uri_encode(std::string_view s, bool keep_slash);
/// ASCII case-insensitive equality, as header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace detail

}  // namespace liftoff::aws

#if LIFTOFF_HEADER_ONLY
#include <liftoff/aws/impl/sigv4.ipp>
#endif

#endif
