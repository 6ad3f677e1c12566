#ifndef LIFTOFF_AWS_IMPL_JSON_CLIENT_IPP
#define LIFTOFF_AWS_IMPL_JSON_CLIENT_IPP

#include <liftoff/aws/json_client.hpp>

#include <liftoff/aws/sigv4.hpp>
#include <liftoff/net/client.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

namespace liftoff::aws {

namespace detail {

/// "aws.protocoltests#FooError:http://…" → "FooError".
LIFTOFF_DECL std::string json_error_code(std::string_view raw) {
  if (auto colon = raw.find(':'); colon != std::string_view::npos) raw = raw.substr(0, colon);
  if (auto hash = raw.rfind('#'); hash != std::string_view::npos) raw = raw.substr(hash + 1);
  while (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
  while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  return std::string(raw);
}

LIFTOFF_DECL bool json_error_is(std::string_view code, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), code) != names.end();
}

LIFTOFF_DECL bool json_iequals(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

/// The request `json_client::call` sends for `operation` (before Host and the signature are added).
LIFTOFF_DECL net::request json_request(service_id const& service, std::string_view operation,
                                 boost::json::value const& input) {
  net::request req;
  req.method = boost::beast::http::verb::post;
  req.target = "/";
  req.headers.set(boost::beast::http::field::content_type, "application/x-amz-json-1.1");
  req.headers.set("X-Amz-Target", service.target_prefix + "." + std::string(operation));
  bool const empty = input.is_null() || (input.is_object() && input.get_object().empty());
  req.body = empty ? std::string("{}") : boost::json::serialize(input);
  req.idempotent = true;  // AWS operations may be repeated; json_client retries them itself
  req.check_status = false;
  return req;
}

/// Where a set of credentials came from, for messages (never the secret).
struct json_credentials_seen {
  std::string access_key_id;
  std::string source;
};

}  // namespace detail

LIFTOFF_DECL service_error parse_json_error(unsigned status, boost::beast::http::fields const& headers,
                                      std::string_view body) {
  service_error e;
  e.status = status;
  if (auto it = headers.find("x-amzn-RequestId"); it != headers.end()) e.request_id = std::string(it->value());
  if (auto it = headers.find("x-amzn-ErrorType"); it != headers.end()) e.code = detail::json_error_code(it->value());
  boost::system::error_code ec;
  auto doc = body.empty() ? boost::json::value() : boost::json::parse(body, ec);
  if (!ec && doc.is_object()) {
    auto const& o = doc.get_object();
    if (e.code.empty()) {
      for (auto const* key : {"__type", "code", "Code"})
        if (auto const* v = o.if_contains(key); v && v->is_string()) {
          e.code = detail::json_error_code(v->get_string());
          break;
        }
    }
    for (auto const* key : {"message", "Message", "errorMessage"})
      if (auto const* v = o.if_contains(key); v && v->is_string()) {
        e.message = std::string(v->get_string());
        break;
      }
  }
  if (e.code.empty()) {
    if (status == 429) e.code = "TooManyRequestsException";
    else if (status >= 500) e.code = "InternalFailure";
    else e.code = "HTTP " + std::to_string(status);
  }
  if (e.message.empty() && ec && !body.empty()) e.message = std::string(body.substr(0, 200));
  return e;
}

LIFTOFF_DECL bool is_throttling(std::string_view code) {
  return detail::json_error_is(code, {"Throttling", "ThrottlingException", "ThrottledException",
                                      "RequestThrottledException", "TooManyRequestsException",
                                      "ProvisionedThroughputExceededException", "TransactionInProgressException",
                                      "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
                                      "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
                                      "EC2ThrottledException"});
}

LIFTOFF_DECL diagnostic to_diagnostic(service_error const& e, service_id const& service, std::string_view operation,
                                credentials const* used) {
  std::string msg = service.name + " " + std::string(operation) + ": " + e.code;
  if (!e.message.empty()) msg += ": " + e.message;
  auto const& c = e.code;
  error kind = error::http_status;
  if (detail::json_error_is(c, {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
                                "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
                                "IncompleteSignature", "IncompleteSignatureException", "MissingAuthenticationToken",
                                "MissingAuthenticationTokenException", "RequestExpired", "AuthFailure"})) {
    kind = error::unauthorized;
    if (used) {
      msg += " (credentials from " + (used->source.empty() ? std::string("an unnamed source") : used->source) +
             ", access key id " + used->access_key_id + ")";
    }
    if (c.starts_with("Expired") || c == "RequestExpired")
      msg += "; refresh the credentials (a new session token, `aws sso login`) and try again";
    else
      msg += "; check that the access key id and secret belong together and are active, and that the clock is right";
  } else if (detail::json_error_is(c, {"AccessDenied", "AccessDeniedException"})) {
    kind = error::forbidden;
    msg += "; the identity needs a policy allowing " + service.signing_name + ":" + std::string(operation);
  } else if (c == "ValidationException" || c.starts_with("InvalidParameter")) {
    kind = error::invalid_spec;
  } else if (c == "ResourceNotFound" || c == "ResourceNotFoundException" || c.ends_with("NotFoundException")) {
    kind = error::not_found;
  } else if (c == "ResourceInUse" || c == "ResourceInUseException" || c.find("AlreadyExists") != std::string::npos) {
    kind = error::already_exists;
  }
  if (kind == error::http_status) msg += " (HTTP " + std::to_string(e.status) + ")";
  if (!e.request_id.empty()) msg += " [request id " + e.request_id + "]";
  return diagnostic(kind, std::move(msg));
}

struct json_client::state {
  service_id service;
  std::string region;
  std::string endpoint;
  credentials_provider provider;
  net::client_options options;
  retry_options retry;

  std::mutex mutex;  // the net::client is used by one thread at a time
  std::optional<net::client> client;
  std::mt19937_64 rng{std::random_device{}()};

  std::mutex seen_mutex;
  std::optional<detail::json_credentials_seen> seen;

  /// Calls the provider, remembering whose credentials these are.
  result<credentials> credentials_now() {
    if (!provider) return diagnostic(error::unauthorized, "no AWS credentials provider was given to " + service.name);
    auto c = provider();
    if (c) {
      std::lock_guard lock(seen_mutex);
      seen = detail::json_credentials_seen{c->access_key_id, c->source};
    }
    return c;
  }

  signing_params params() const {
    signing_params p;
    p.region = region;
    p.service = service.signing_name;
    return p;
  }
};

LIFTOFF_DECL json_client::json_client(service_id service, std::string region, std::string endpoint,
                                credentials_provider provider, net::client_options client, retry_options retry)
    : s_(std::make_shared<state>()) {
  s_->service = std::move(service);
  s_->region = std::move(region);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  s_->endpoint = std::move(endpoint);
  s_->provider = std::move(provider);
  s_->retry = retry;
  client.max_attempts = 1;  // the AWS retry policy below decides
  std::weak_ptr<state> weak = s_;
  client.signer = [weak](net::request& req) -> result<void> {
    auto st = weak.lock();
    if (!st) return diagnostic(error::cancelled, "the AWS client was destroyed during a request");
    auto c = st->credentials_now();
    if (!c) return c.error();
    return sigv4_signer(static_credentials(*c), st->params())(req);
  };
  s_->options = std::move(client);
}

LIFTOFF_DECL json_client json_client::for_region(service_id service, std::string region, credentials_options const& o,
                                           credentials_provider provider, net::client_options client,
                                           retry_options retry) {
  auto endpoint = endpoint_url(o, service, region);
  return json_client(std::move(service), std::move(region), std::move(endpoint), std::move(provider),
                     std::move(client), retry);
}

LIFTOFF_DECL service_id const& json_client::service() const noexcept { return s_->service; }
LIFTOFF_DECL std::string const& json_client::region() const noexcept { return s_->region; }
LIFTOFF_DECL std::string const& json_client::endpoint() const noexcept { return s_->endpoint; }

LIFTOFF_DECL result<boost::json::value> json_client::call(std::string_view operation,
                                                    boost::json::value const& input) const {
  auto& st = *s_;
  auto const what = st.service.name + " " + std::string(operation);
  auto const req = detail::json_request(st.service, operation, input);
  int const attempts = std::max(1, st.retry.max_attempts);
  std::optional<diagnostic> last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      // Full jitter: a uniform delay up to the exponential cap.
      auto const cap = std::min<std::int64_t>(st.retry.max.count(),
                                              st.retry.base.count() * (std::int64_t(1) << std::min(attempt - 2, 20)));
      std::int64_t delay = 0;
      {
        std::lock_guard lock(st.mutex);
        delay = std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(cap, 0))(st.rng);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    result<net::response> r = diagnostic();
    {
      std::lock_guard lock(st.mutex);
      if (!st.client) {
        auto c = net::client::create(st.endpoint, st.options);
        if (!c)
          return diagnostic(c.error().code, what + ": the endpoint " + st.endpoint + " is not usable: " +
                                                c.error().message);
        st.client.emplace(std::move(*c));
      }
      r = st.client->send(req);
    }
    if (!r) {
      auto const& code = r.error().code;
      bool const connection = code.category() != liftoff_category() || code == error::timeout;
      if (!connection) return r.error();  // the signer or provider refused: retrying will not help
      last = diagnostic(code, what + ": " + r.error().message);
      continue;
    }
    if (r->ok()) {
      if (r->body.empty()) return boost::json::value(boost::json::object());
      boost::system::error_code ec;
      auto doc = boost::json::parse(r->body, ec);
      if (ec)
        return diagnostic(error::protocol_error, what + ": the response from " + st.endpoint +
                                                     " is not JSON (" + ec.message() + ")");
      return doc;
    }
    auto const e = parse_json_error(r->status, r->headers, r->body);
    std::optional<credentials> used;
    if (detail::json_error_is(e.code, {"UnrecognizedClientException", "InvalidClientTokenId",
                                       "InvalidSignatureException", "SignatureDoesNotMatch", "ExpiredToken",
                                       "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken",
                                       "RequestExpired"})) {
      std::lock_guard lock(st.seen_mutex);
      if (st.seen) {
        used.emplace();
        used->access_key_id = st.seen->access_key_id;
        used->source = st.seen->source;
      }
    }
    auto d = to_diagnostic(e, st.service, operation, used ? &*used : nullptr);
    if (!(is_throttling(e.code) || e.status >= 500 || e.status == 429)) return d;
    last = std::move(d);
  }
  auto d = last.value_or(diagnostic(error::http_status, what + ": failed"));
  d.message += " (gave up after " + std::to_string(attempts) + (attempts == 1 ? " attempt)" : " attempts)");
  return d;
}

LIFTOFF_DECL result<boost::json::object> json_client::describe_request(std::string_view operation,
                                                                 boost::json::value const& input) const {
  auto& st = *s_;
  auto ep = net::parse_endpoint(st.endpoint);
  if (!ep)
    return diagnostic(ep.error().code, st.service.name + " " + std::string(operation) + ": the endpoint " +
                                           st.endpoint + " is not usable: " + ep.error().message);
  auto const req = detail::json_request(st.service, operation, input);
  http_message m;
  m.method = "POST";
  m.target = ep->base_path + req.target;
  m.headers.emplace_back("Host", ep->host_header());
  for (auto const& f : req.headers) m.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  m.body = req.body;
  auto c = st.credentials_now();
  if (!c) return c.error();
  auto signed_ = sign_headers(m, *c, st.params());
  if (!signed_) return signed_.error();
  boost::json::object headers;
  for (auto const& [name, value] : m.headers) {
    if (boost::beast::http::string_to_field(name) == boost::beast::http::field::authorization)
      headers[name] = redact_authorization(value);
    else if (detail::json_iequals(name, "X-Amz-Security-Token"))
      headers[name] = "<redacted>";
    else headers[name] = value;
  }
  boost::json::object out;
  out["method"] = "POST";
  out["url"] = st.endpoint + req.target;
  out["headers"] = std::move(headers);
  out["body"] = req.body;
  return out;
}

}  // namespace liftoff::aws

#endif
