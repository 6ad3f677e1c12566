#ifndef LIFTOFF_AWS_IMPL_STS_IPP
#define LIFTOFF_AWS_IMPL_STS_IPP

#include <liftoff/aws/sts.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <algorithm>
#include <random>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace liftoff::aws {

struct service_error;

LIFTOFF_DECL sts_client::sts_client(std::string region, std::string endpoint, credentials_provider provider,
                              net::client_options client)
    : region_(std::move(region)),
      endpoint_(std::move(endpoint)),
      provider_(std::move(provider)),
      client_(std::move(client)) {}

LIFTOFF_DECL sts_client sts_client::for_region(std::string region, credentials_options const& o,
                                         credentials_provider provider, net::client_options client) {
  auto endpoint = endpoint_url(o, services::sts(), region);
  return sts_client(std::move(region), std::move(endpoint), std::move(provider), std::move(client));
}

namespace detail {

using form_params = std::vector<std::pair<std::string, std::string>>;

/// The query protocol's body: "Action=AssumeRole&Version=2011-06-15&RoleArn=…", percent-encoded.
LIFTOFF_DECL std::string form_encode(form_params const& params) {
  std::string out;
  for (auto const& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  return out;
}

LIFTOFF_DECL bool sts_throttling(std::string_view code) noexcept {
  return code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" ||
         code == "TooManyRequestsException" || code == "RequestThrottled" || code == "RequestThrottledException" ||
         code == "SlowDown" || code == "PriorRequestNotComplete" || code == "ProvisionedThroughputExceededException" ||
         code == "IDPCommunicationError";
}

/** The sentence for an error STS answered with, through `to_diagnostic`
    (json_client.hpp, included at the end of this file). A template so that
    the call is resolved where it is instantiated: json_client.hpp includes
    credentials.hpp, which includes this file, so a program that includes
    json_client.hpp first reaches this point before `to_diagnostic` is declared. */
template <class ServiceError = service_error>
diagnostic sts_diagnostic(unsigned status, std::string const& code, std::string const& message,
                          std::string const& request_id, std::string_view operation, credentials const& used) {
  ServiceError e;
  e.status = status;
  e.code = code.empty() ? "HTTP " + std::to_string(status) : code;
  e.message = message;
  e.request_id = request_id;
  return to_diagnostic(e, services::sts(), operation, &used);
}

/** One call of the query protocol: the form body signed with "sts", the
    XML answer parsed. Throttling, 5xx and connection failures are tried
    again, up to four attempts with exponential backoff and full jitter. */
LIFTOFF_DECL result<boost::property_tree::ptree> sts_call(std::string const& region, std::string const& endpoint,
                                                    credentials_provider const& provider, net::client_options opts,
                                                    std::string const& action, form_params params) {
  if (!provider) return diagnostic(error::unauthorized, "STS " + action + ": no AWS credentials provider was given");
  auto creds = provider();
  if (!creds) return creds.error();
  signing_params sp;
  sp.region = region;
  sp.service = services::sts().signing_name;
  opts.signer = sigv4_signer(static_credentials(*creds), sp);
  auto const backoff_base = opts.backoff_base;
  auto const backoff_max = opts.backoff_max;
  opts.max_attempts = 1;  // retried here, where throttling answers are understood
  auto client = net::client::create(endpoint, std::move(opts));
  if (!client)
    return diagnostic(error::invalid_spec,
                      "STS endpoint `" + endpoint + "`: " + client.error().what() + "; check AWS_ENDPOINT_URL_STS");

  params.insert(params.begin(), {{"Action", action}, {"Version", "2011-06-15"}});
  auto const body = form_encode(params);
  constexpr int max_attempts = 4;
  std::minstd_rand rng(std::random_device{}());
  auto wait = [&](int attempt) {
    auto cap = std::min<std::int64_t>(backoff_max.count(), backoff_base.count() << std::min(attempt - 1, 16));
    std::uniform_int_distribution<std::int64_t> d(0, std::max<std::int64_t>(cap, 0));
    std::this_thread::sleep_for(std::chrono::milliseconds(d(rng)));
  };

  for (int attempt = 1;; ++attempt) {
    net::request req;
    req.method = boost::beast::http::verb::post;
    req.target = "/";
    req.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded; charset=utf-8");
    req.body = body;
    req.check_status = false;
    auto resp = client->send(std::move(req));
    if (!resp) {
      // A connection failure or timeout may heal; a refused signature (the provider) will not.
      bool transient = resp.error().code.category() != liftoff_category() || resp.error().code == error::timeout;
      if (transient && attempt < max_attempts) {
        wait(attempt);
        continue;
      }
      return resp.error();
    }

    boost::property_tree::ptree tree;
    bool xml = true;
    try {
      std::istringstream in(resp->body);
      boost::property_tree::read_xml(in, tree, boost::property_tree::xml_parser::trim_whitespace);
    } catch (boost::property_tree::xml_parser_error const&) {
      xml = false;
    }
    if (resp->ok()) {
      if (!xml)
        return diagnostic(error::protocol_error,
                          "STS " + action + " at " + endpoint + " answered with a body that is not XML");
      return tree;
    }
    std::string code, message, request_id;
    if (xml) {
      code = tree.get<std::string>("ErrorResponse.Error.Code", "");
      message = tree.get<std::string>("ErrorResponse.Error.Message", "");
      request_id = tree.get<std::string>("ErrorResponse.RequestId", "");
    }
    if (request_id.empty()) request_id = std::string(resp->headers["x-amzn-RequestId"]);
    bool retry = resp->status >= 500 || resp->status == 429 || sts_throttling(code);
    if (retry && attempt < max_attempts) {
      wait(attempt);
      continue;
    }
    return sts_diagnostic(resp->status, code, message, request_id, action, *creds);
  }
}

LIFTOFF_DECL result<credentials> assume_role_for_profile(credentials_options const& o, std::string const& region,
                                                   credentials const& source, std::string const& role_arn,
                                                   std::string const& session_name, std::string const& external_id,
                                                   std::optional<std::chrono::seconds> duration) {
  auto sts = sts_client::for_region(region, o, static_credentials(source), o.client);
  assume_role_request r;
  r.role_arn = role_arn;
  r.session_name = session_name;
  r.external_id = external_id;
  r.duration = duration;
  return sts.assume_role(r);
}

}  // namespace detail

LIFTOFF_DECL result<caller_identity> sts_client::get_caller_identity() const {
  auto tree = detail::sts_call(region_, endpoint_, provider_, client_, "GetCallerIdentity", {});
  if (!tree) return tree.error();
  auto const* result = tree->get_child_optional("GetCallerIdentityResponse.GetCallerIdentityResult").get_ptr();
  if (!result || result->get<std::string>("Account", "").empty())
    return diagnostic(error::protocol_error,
                      "STS GetCallerIdentity at " + endpoint_ +
                          " answered without GetCallerIdentityResponse/GetCallerIdentityResult/Account");
  caller_identity id;
  id.account = result->get<std::string>("Account", "");
  id.arn = result->get<std::string>("Arn", "");
  id.user_id = result->get<std::string>("UserId", "");
  return id;
}

LIFTOFF_DECL result<credentials> sts_client::assume_role(assume_role_request const& r) const {
  if (r.role_arn.empty())
    return diagnostic(error::invalid_spec, "STS AssumeRole needs a role ARN (role_arn), such as "
                                           "arn:aws:iam::123456789012:role/training");
  detail::form_params params{{"RoleArn", r.role_arn},
                             {"RoleSessionName", r.session_name.empty() ? std::string("liftoff") : r.session_name}};
  if (!r.external_id.empty()) params.emplace_back("ExternalId", r.external_id);
  if (r.duration) params.emplace_back("DurationSeconds", std::to_string(r.duration->count()));
  auto tree = detail::sts_call(region_, endpoint_, provider_, client_, "AssumeRole", std::move(params));
  if (!tree) return tree.error();
  auto const* c = tree->get_child_optional("AssumeRoleResponse.AssumeRoleResult.Credentials").get_ptr();
  std::string const missing = "STS AssumeRole at " + endpoint_ + " answered without ";
  if (!c) return diagnostic(error::protocol_error, missing + "AssumeRoleResponse/AssumeRoleResult/Credentials");
  credentials out;
  out.access_key_id = c->get<std::string>("AccessKeyId", "");
  out.secret_access_key = c->get<std::string>("SecretAccessKey", "");
  out.session_token = c->get<std::string>("SessionToken", "");
  if (out.access_key_id.empty() || out.secret_access_key.empty() || out.session_token.empty())
    return diagnostic(error::protocol_error, missing + "Credentials/AccessKeyId, SecretAccessKey and SessionToken");
  auto const expiration = c->get<std::string>("Expiration", "");
  out.expiration = detail::parse_iso8601(expiration);
  if (!out.expiration)
    return diagnostic(error::protocol_error, "STS AssumeRole at " + endpoint_ + " answered with Expiration `" +
                                                 expiration + "`, not an ISO 8601 time");
  out.source = "AssumeRole " + r.role_arn;
  return out;
}

}  // namespace liftoff::aws

#include <liftoff/aws/json_client.hpp>

#endif
