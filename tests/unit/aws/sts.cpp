#include <liftoff/aws/sts.hpp>

#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

using namespace std::chrono_literals;
using liftoff::error;
using liftoff::aws::credentials;
using liftoff::aws::sts_client;
using liftoff::test::net_exchange;
using liftoff::test::net_server_request;
using liftoff::test::net_test_server;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

credentials caller() {
  credentials c;
  c.access_key_id = "AKIDSTSTEST";
  c.secret_access_key = "sts/test/secret/KEY0123456789";
  c.source = "shared credentials file /home/u/.aws/credentials, profile `ops`";
  return c;
}

liftoff::net::client_options quick() {
  liftoff::net::client_options o;
  o.backoff_base = 2ms;
  o.backoff_max = 20ms;
  return o;
}

std::chrono::system_clock::time_point parse_amz_date(std::string const& s) {
  std::tm tm{};
  if (std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6)
    return {};
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

/// Whether `r` carries a valid signature of `c` for STS in `region`, recomputed from what arrived.
bool signature_valid(net_server_request const& r, credentials const& c, std::string const& region) {
  auto const authz = r.header("authorization");
  auto const sh = authz.find("SignedHeaders=");
  if (sh == std::string::npos) return false;
  auto const names = ";" + authz.substr(sh + 14, authz.find(',', sh) - sh - 14) + ";";
  liftoff::aws::http_message m;
  m.method = r.method;
  m.target = r.target;
  m.body = r.body;
  for (auto const& [n, v] : r.headers)
    if (contains(names, ";" + n + ";")) m.headers.emplace_back(n, v);
  liftoff::aws::signing_params p;
  p.region = region;
  p.service = "sts";
  p.time = parse_amz_date(r.header("x-amz-date"));
  auto s = liftoff::aws::sign_headers(m, c, p);
  if (!s) return false;
  for (auto const& [n, v] : m.headers)
    if (n == "Authorization") return v == authz;
  return false;
}

std::string error_xml(std::string const& type, std::string const& code, std::string const& message) {
  return R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>)" + type + "</Type><Code>" + code + "</Code><Message>" + message + R"(</Message></Error>
  <RequestId>4f8a2b1c-0000-0000-0000-000000000000</RequestId>
</ErrorResponse>)";
}

std::string const identity_xml = R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/alice</Arn>
    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>)";

std::string const assume_xml = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/train/liftoff</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:liftoff</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAROLE</AccessKeyId>
      <SecretAccessKey>role/secret/KEY</SecretAccessKey>
      <SessionToken>role-session-token</SessionToken>
      <Expiration>2031-07-15T23:28:33.359Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>)";

struct recorder {
  std::mutex m;
  std::vector<net_server_request> seen;
  void add(net_server_request const& r) {
    std::lock_guard lock(m);
    seen.push_back(r);
  }
  std::vector<net_server_request> all() {
    std::lock_guard lock(m);
    return seen;
  }
};

}  // namespace

TEST_CASE("STS GetCallerIdentity: a signed form POST, an XML answer", "[aws-sts]") {
  recorder rec;
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    rec.add(ex.request());
    if (!signature_valid(ex.request(), caller(), "eu-west-1"))
      return ex.respond(403, error_xml("Sender", "SignatureDoesNotMatch", "no"));
    ex.respond(200, identity_xml, {{"Content-Type", "text/xml"}});
  });
  sts_client sts("eu-west-1", server->url(), liftoff::aws::static_credentials(caller()), quick());
  auto id = sts.get_caller_identity();
  INFO((id ? std::string() : id.error().what()));
  REQUIRE(id.has_value());
  CHECK(id->account == "123456789012");
  CHECK(id->arn == "arn:aws:iam::123456789012:user/alice");
  CHECK(id->user_id == "AIDACKCEVSQ6C2EXAMPLE");
  auto const seen = rec.all();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/");
  CHECK(seen[0].header("content-type") == "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(seen[0].body == "Action=GetCallerIdentity&Version=2011-06-15");
  CHECK(contains(seen[0].header("authorization"), "Credential=AKIDSTSTEST/"));
  CHECK(contains(seen[0].header("authorization"), "/eu-west-1/sts/aws4_request"));
}

TEST_CASE("STS AssumeRole sends its parameters percent-encoded and returns temporary credentials", "[aws-sts]") {
  recorder rec;
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    rec.add(ex.request());
    if (!signature_valid(ex.request(), caller(), "us-west-2"))
      return ex.respond(403, error_xml("Sender", "SignatureDoesNotMatch", "no"));
    ex.respond(200, assume_xml, {{"Content-Type", "text/xml"}});
  });
  sts_client sts("us-west-2", server->url(), liftoff::aws::static_credentials(caller()), quick());
  liftoff::aws::assume_role_request r;
  r.role_arn = "arn:aws:iam::123456789012:role/path/train";
  r.session_name = "run@42";
  r.external_id = "a b+c";
  r.duration = 900s;
  auto c = sts.assume_role(r);
  INFO((c ? std::string() : c.error().what()));
  REQUIRE(c.has_value());
  CHECK(c->access_key_id == "ASIAROLE");
  CHECK(c->secret_access_key == "role/secret/KEY");
  CHECK(c->session_token == "role-session-token");
  CHECK(c->source == "AssumeRole arn:aws:iam::123456789012:role/path/train");
  REQUIRE(c->expiration);
  CHECK(std::chrono::system_clock::to_time_t(*c->expiration) == 1941924513);  // 2031-07-15T23:28:33Z
  auto const seen = rec.all();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].body ==
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpath%2Ftrain"
        "&RoleSessionName=run%4042&ExternalId=a%20b%2Bc&DurationSeconds=900");

  liftoff::aws::assume_role_request empty;
  auto bad = sts.assume_role(empty);
  REQUIRE(!bad.has_value());
  CHECK(bad.error().code == error::invalid_spec);
  CHECK(rec.all().size() == 1);
}

TEST_CASE("STS errors: refused credentials name their source, never the secret", "[aws-sts]") {
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    if (contains(ex.request().body, "AssumeRole"))
      return ex.respond(403, error_xml("Sender", "AccessDenied", "User is not authorized to perform sts:AssumeRole"));
    ex.respond(403, error_xml("Sender", "InvalidClientTokenId", "The security token included in the request is invalid."));
  });
  auto c = caller();
  c.session_token = "caller-session-token-0123";
  sts_client sts("us-east-1", server->url(), liftoff::aws::static_credentials(c), quick());
  auto id = sts.get_caller_identity();
  REQUIRE(!id.has_value());
  CHECK(id.error().code == error::unauthorized);
  auto const msg = id.error().what();
  CHECK(contains(msg, "InvalidClientTokenId"));
  CHECK(contains(msg, "The security token included in the request is invalid."));
  CHECK(contains(msg, "profile `ops`"));
  CHECK(contains(msg, "AKIDSTSTEST"));
  CHECK(!contains(msg, c.secret_access_key));
  CHECK(!contains(msg, c.session_token));
  CHECK(server->requests() == 1);  // not retried

  liftoff::aws::assume_role_request r;
  r.role_arn = "arn:aws:iam::123456789012:role/train";
  auto denied = sts.assume_role(r);
  REQUIRE(!denied.has_value());
  CHECK(denied.error().code == error::forbidden);
  CHECK(contains(denied.error().what(), "sts:AssumeRole"));

  // A provider that cannot give credentials fails the call before anything is sent.
  sts_client nobody("us-east-1", server->url(),
                    []() -> liftoff::result<credentials> {
                      return liftoff::diagnostic(error::unauthorized, "no AWS credentials: nowhere");
                    },
                    quick());
  auto none = nobody.get_caller_identity();
  REQUIRE(!none.has_value());
  CHECK(none.error().code == error::unauthorized);
  CHECK(server->requests() == 2);
}

TEST_CASE("STS throttling and server errors are tried again", "[aws-sts]") {
  std::atomic<int> calls{0};
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    int n = ++calls;
    if (n == 1) return ex.respond(400, error_xml("Sender", "Throttling", "Rate exceeded"));
    if (n == 2) return ex.respond(503, error_xml("Receiver", "ServiceUnavailable", "try later"));
    ex.respond(200, identity_xml);
  });
  sts_client sts("us-east-1", server->url(), liftoff::aws::static_credentials(caller()), quick());
  auto id = sts.get_caller_identity();
  INFO((id ? std::string() : id.error().what()));
  REQUIRE(id.has_value());
  CHECK(id->account == "123456789012");
  CHECK(calls == 3);

  std::atomic<int> throttled{0};
  auto always = net_test_server::tcp([&](net_exchange& ex) {
    ++throttled;
    ex.respond(400, error_xml("Sender", "Throttling", "Rate exceeded"));
  });
  sts_client busy("us-east-1", always->url(), liftoff::aws::static_credentials(caller()), quick());
  auto r = busy.get_caller_identity();
  REQUIRE(!r.has_value());
  CHECK(contains(r.error().what(), "Throttling"));
  CHECK(throttled == 4);
}

TEST_CASE("STS: answers that are not the protocol's", "[aws-sts]") {
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    if (contains(ex.request().body, "AssumeRole")) return ex.respond(200, "<AssumeRoleResponse/>");
    ex.respond(200, "{\"json\": true}");
  });
  sts_client sts("us-east-1", server->url(), liftoff::aws::static_credentials(caller()), quick());
  auto id = sts.get_caller_identity();
  REQUIRE(!id.has_value());
  CHECK(id.error().code == error::protocol_error);
  CHECK(contains(id.error().what(), "not XML"));
  liftoff::aws::assume_role_request r;
  r.role_arn = "arn:aws:iam::123456789012:role/train";
  auto c = sts.assume_role(r);
  REQUIRE(!c.has_value());
  CHECK(c.error().code == error::protocol_error);
  CHECK(contains(c.error().what(), "Credentials"));
}

TEST_CASE("sts_client::for_region finds its endpoint as the SDKs do", "[aws-sts]") {
  auto server = net_test_server::tcp([&](net_exchange& ex) { ex.respond(200, identity_xml); });
  liftoff::aws::credentials_options o;
  o.environment.emplace();
  (*o.environment)["AWS_ENDPOINT_URL_STS"] = server->url();
  liftoff::test::temp_dir home;
  o.home = home.path();
  auto sts = sts_client::for_region("ap-northeast-3", o, liftoff::aws::static_credentials(caller()), quick());
  auto id = sts.get_caller_identity();
  REQUIRE(id.has_value());
  CHECK(server->requests() == 1);
}
