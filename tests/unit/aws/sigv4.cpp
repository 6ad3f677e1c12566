#include <liftoff/aws/sigv4.hpp>
#include <liftoff/detail/hex.hpp>

#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>

using namespace std::chrono_literals;
using liftoff::error;
using liftoff::aws::credentials;
using liftoff::aws::http_message;
using liftoff::aws::signing_params;
using liftoff::test::net_exchange;
using liftoff::test::net_test_server;
namespace fs = std::filesystem;
namespace http = boost::beast::http;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

using header_list = std::vector<std::pair<std::string, std::string>>;

/** Reads a request of the test suites' format, which an HTTP parser rejects
    on purpose (spaces in the path, folded and repeated headers): the request
    line splits at the first space and the last " HTTP/1.1"; header lines are
    "Name:value", a line starting with whitespace continues the previous one;
    a blank line starts the body. */
http_message read_vector_request(std::string const& text) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    pos = end + 1;
  }
  http_message m;
  REQUIRE(!lines.empty());
  auto const& first = lines[0];
  auto const space = first.find(' ');
  auto const version = first.rfind(" HTTP/1.1");
  REQUIRE(space != std::string::npos);
  REQUIRE(version != std::string::npos);
  m.method = first.substr(0, space);
  m.target = first.substr(space + 1, version - space - 1);
  std::size_t i = 1;
  for (; i < lines.size(); ++i) {
    auto const& line = lines[i];
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      REQUIRE(!m.headers.empty());
      m.headers.back().second += "\n" + line;
      continue;
    }
    auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    m.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  for (std::size_t j = i + 1; j < lines.size(); ++j) {
    if (j > i + 1) m.body += '\n';
    m.body += lines[j];
  }
  return m;
}

std::string trim(std::string s) {
  auto const b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  auto const e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

/// Headers with lower-case names and trimmed values, sorted: what a signed request must carry.
header_list normalized(header_list h) {
  for (auto& [n, v] : h) {
    for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    v = trim(v);
  }
  std::sort(h.begin(), h.end());
  return h;
}

std::string header_value(header_list const& h, std::string_view name) {
  for (auto const& [n, v] : h)
    if (liftoff::aws::detail::iequals(n, name)) return trim(v);
  return {};
}

/// "2015-08-30T12:36:00Z" or "20150830T123600Z".
std::chrono::system_clock::time_point parse_time(std::string const& s) {
  std::tm tm{};
  int n = s.find('-') != std::string::npos
              ? std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec)
              : std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec);
  REQUIRE(n == 6);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::string read(fs::path const& p) { return liftoff::test::read_file(p); }

std::size_t count_dirs(fs::path const& dir) {
  return static_cast<std::size_t>(
      std::count_if(fs::directory_iterator(dir), fs::directory_iterator(), [](auto const& e) { return e.is_directory(); }));
}

credentials example_credentials() {
  credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  c.source = "test";
  return c;
}

signing_params example_params() {
  signing_params p;
  p.region = "us-east-1";
  p.service = "service";
  p.time = parse_time("20150830T123600Z");
  return p;
}

}  // namespace

TEST_CASE("sigv4 helpers: HMAC-SHA256, dates, URI encoding", "[aws-sigv4]") {
  // RFC 4231, test case 2.
  auto const mac = liftoff::aws::detail::hmac_sha256("Jefe", "what do ya want for nothing?");
  CHECK(liftoff::detail::to_hex(std::span<unsigned char const>(reinterpret_cast<unsigned char const*>(mac.data()),
                                                               mac.size())) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(liftoff::aws::detail::amz_date(parse_time("2015-08-30T12:36:00Z")) == "20150830T123600Z");
  CHECK(liftoff::aws::detail::uri_encode("a b/c~-_.+=", false) == "a%20b%2Fc~-_.%2B%3D");
  CHECK(liftoff::aws::detail::uri_encode("a b/c", true) == "a%20b/c");
  CHECK(liftoff::aws::detail::uri_encode("\xe1\x88\xb4", false) == "%E1%88%B4");
}

TEST_CASE("sigv4 encodes a sent path twice when normalizing, once when not", "[aws-sigv4]") {
  auto c = example_credentials();
  auto p = example_params();
  http_message m;
  m.target = "/example%20space/a//b/../c?x=%2f";
  m.headers = {{"Host", "example.amazonaws.com"}};
  auto normalized_sig = liftoff::aws::sign_headers(m, c, p);
  REQUIRE(normalized_sig.has_value());
  CHECK(contains(normalized_sig->canonical_request, "\n/example%2520space/a/c\nx=%2F\n"));

  p.normalize_path = false;
  http_message raw;
  raw.target = "/example%20space/a//b/../c?x=%2f";
  raw.headers = {{"Host", "example.amazonaws.com"}};
  auto raw_sig = liftoff::aws::sign_headers(raw, c, p);
  REQUIRE(raw_sig.has_value());
  CHECK(contains(raw_sig->canonical_request, "\n/example%20space/a//b/../c\nx=%2F\n"));
}

TEST_CASE("signing again replaces the earlier signature's headers", "[aws-sigv4]") {
  auto c = example_credentials();
  c.session_token = "session-token-value";
  auto p = example_params();
  http_message m;
  m.headers = {{"Host", "example.amazonaws.com"}};
  REQUIRE(liftoff::aws::sign_headers(m, c, p).has_value());
  p.time += 1s;
  auto again = liftoff::aws::sign_headers(m, c, p);
  REQUIRE(again.has_value());
  auto count = [&](std::string_view name) {
    return std::count_if(m.headers.begin(), m.headers.end(),
                         [&](auto const& h) { return liftoff::aws::detail::iequals(h.first, name); });
  };
  CHECK(count("Authorization") == 1);
  CHECK(count("X-Amz-Date") == 1);
  CHECK(count("X-Amz-Security-Token") == 1);
  CHECK(header_value(m.headers, "X-Amz-Date") == "20150830T123601Z");
  CHECK(again->signed_headers == "host;x-amz-date;x-amz-security-token");
}

TEST_CASE("sigv4 refuses what it cannot sign, without naming the secret", "[aws-sigv4]") {
  auto c = example_credentials();
  auto p = example_params();
  http_message no_host;
  auto r = liftoff::aws::sign_headers(no_host, c, p);
  REQUIRE(!r.has_value());
  CHECK(r.error().code == error::invalid_request);
  CHECK(contains(r.error().what(), "Host"));
  CHECK(!contains(r.error().what(), c.secret_access_key));

  http_message m;
  m.headers = {{"Host", "example.amazonaws.com"}};
  auto no_secret = c;
  no_secret.secret_access_key.clear();
  no_secret.source = "environment";
  auto r2 = liftoff::aws::sign_query(m, no_secret, p);
  REQUIRE(!r2.has_value());
  CHECK(r2.error().code == error::invalid_request);
  CHECK(contains(r2.error().what(), "secret access key"));
  CHECK(contains(r2.error().what(), "environment"));
}

TEST_CASE("redact_authorization hides the signature and keeps the rest", "[aws-sigv4]") {
  std::string const authz =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  auto const r = liftoff::aws::redact_authorization(authz);
  CHECK(!contains(r, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  CHECK(contains(r, "Signature=<redacted>"));
  CHECK(contains(r, "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"));
  CHECK(contains(r, "SignedHeaders=host;x-amz-date"));
  CHECK(liftoff::aws::redact_authorization("Bearer abcdefgh") == "Bearer <redacted>");
}

// The aws-signing-test-suite (aws-c-auth's): header and query signing for
// every case. Its v4a directory holds ECDSA (SigV4a) cases, which are not
// SigV4 and are not checked.
TEST_CASE("sigv4 follows every case of aws-signing-test-suite/v4", "[aws-sigv4]") {
  auto const dir = liftoff::test::specs_dir() / "sigv4" / "aws-signing-test-suite" / "v4";
  if (!fs::is_directory(dir)) {
    WARN("skipped: the SigV4 test suite " << dir.string() << " is not present");
    return;
  }
  std::size_t checked = 0;
  for (auto const& entry : fs::directory_iterator(dir)) {
    if (!entry.is_directory()) continue;
    auto const c_dir = entry.path();
    auto const name = c_dir.filename().string();
    INFO("case " << name);
    auto const ctx = boost::json::parse(read(c_dir / "context.json")).as_object();
    auto const& cj = ctx.at("credentials").as_object();
    credentials c;
    c.access_key_id = std::string(cj.at("access_key_id").as_string());
    c.secret_access_key = std::string(cj.at("secret_access_key").as_string());
    if (auto const* t = cj.if_contains("token")) c.session_token = std::string(t->as_string());
    signing_params p;
    p.region = std::string(ctx.at("region").as_string());
    p.service = std::string(ctx.at("service").as_string());
    p.time = parse_time(std::string(ctx.at("timestamp").as_string()));
    p.normalize_path = ctx.at("normalize").as_bool();
    p.sign_body = ctx.at("sign_body").as_bool();
    if (auto const* o = ctx.if_contains("omit_session_token")) p.omit_session_token = o->as_bool();
    p.expires = std::chrono::seconds(ctx.at("expiration_in_seconds").to_number<std::int64_t>());

    auto const request = read_vector_request(read(c_dir / "request.txt"));

    // In the headers.
    {
      auto m = request;
      auto r = liftoff::aws::sign_headers(m, c, p);
      REQUIRE(r.has_value());
      CHECK(r->canonical_request == read(c_dir / "header-canonical-request.txt"));
      CHECK(r->string_to_sign == read(c_dir / "header-string-to-sign.txt"));
      CHECK(r->signature == trim(read(c_dir / "header-signature.txt")));
      auto const expected = read_vector_request(read(c_dir / "header-signed-request.txt"));
      CHECK(m.target == expected.target);
      CHECK(normalized(m.headers) == normalized(expected.headers));
      CHECK(m.body == expected.body);
    }
    // In the query string.
    {
      auto m = request;
      auto r = liftoff::aws::sign_query(m, c, p);
      REQUIRE(r.has_value());
      CHECK(r->canonical_request == read(c_dir / "query-canonical-request.txt"));
      CHECK(r->string_to_sign == read(c_dir / "query-string-to-sign.txt"));
      CHECK(r->signature == trim(read(c_dir / "query-signature.txt")));
      auto const expected = read_vector_request(read(c_dir / "query-signed-request.txt"));
      CHECK(m.target == expected.target);
      CHECK(normalized(m.headers) == normalized(expected.headers));
    }
    ++checked;
  }
  REQUIRE(checked > 0);
  REQUIRE(checked == count_dirs(dir));
}

// The older aws4_testsuite: fixed credentials, region, service and time;
// cases are the directories holding <case>.req, some grouped one level down.
TEST_CASE("sigv4 follows every case of aws4_testsuite", "[aws-sigv4]") {
  auto const dir = liftoff::test::specs_dir() / "sigv4" / "aws4_testsuite";
  if (!fs::is_directory(dir)) {
    WARN("skipped: the SigV4 test suite " << dir.string() << " is not present");
    return;
  }
  std::size_t checked = 0;
  std::size_t case_dirs = 0;
  for (auto const& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_directory()) continue;
    auto const c_dir = entry.path();
    if (count_dirs(c_dir) > 0) continue;  // a group of cases
    ++case_dirs;
    auto const name = c_dir.filename().string();
    INFO("case " << c_dir.string());
    auto const base = c_dir / name;
    if (!fs::exists(base.string() + ".req")) continue;

    auto m = read_vector_request(read(base.string() + ".req"));
    auto const expected_signed = read_vector_request(read(base.string() + ".sreq"));
    auto c = example_credentials();
    auto p = example_params();
    auto const creq = read(base.string() + ".creq");
    // The token is in the request or only in the signed one; the canonical request says whether it was signed.
    c.session_token = header_value(m.headers, "X-Amz-Security-Token");
    if (c.session_token.empty()) c.session_token = header_value(expected_signed.headers, "X-Amz-Security-Token");
    p.omit_session_token = !c.session_token.empty() && !contains(creq, "\nx-amz-security-token:");

    auto r = liftoff::aws::sign_headers(m, c, p);
    REQUIRE(r.has_value());
    CHECK(r->canonical_request == creq);
    CHECK(r->string_to_sign == read(base.string() + ".sts"));
    auto const authz = trim(read(base.string() + ".authz"));
    CHECK(header_value(m.headers, "Authorization") == authz);
    // The other headers as the signed request shows them. Its Authorization is
    // not compared: get-vanilla-with-session-token's .sreq repeats
    // get-vanilla's signature, while its .authz and .sts agree with each other.
    auto without_authz = [](header_list h) {
      std::erase_if(h, [](auto const& x) { return liftoff::aws::detail::iequals(x.first, "Authorization"); });
      return normalized(std::move(h));
    };
    CHECK(without_authz(m.headers) == without_authz(expected_signed.headers));
    ++checked;
  }
  REQUIRE(checked > 0);
  REQUIRE(checked == case_dirs);
}

TEST_CASE("sigv4_signer signs every request a net::client sends", "[aws-sigv4]") {
  auto const secret = std::string("liftoff/test/secret/KEY0123456789abcdefghij");
  std::mutex m;
  std::vector<std::string> verdicts;
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    auto const& req = ex.request();
    // Recompute the signature from what arrived: the signed headers, the received date.
    auto const authz = req.header("authorization");
    auto const sh_pos = authz.find("SignedHeaders=");
    std::string verdict = "unsigned";
    if (sh_pos != std::string::npos) {
      auto const sh_end = authz.find(',', sh_pos);
      auto const signed_names = authz.substr(sh_pos + 14, sh_end - sh_pos - 14);
      http_message msg;
      msg.method = req.method;
      msg.target = req.target;
      msg.body = req.body;
      for (auto const& [n, v] : req.headers)
        if (contains(";" + signed_names + ";", ";" + n + ";")) msg.headers.emplace_back(n, v);
      credentials c;
      c.access_key_id = "AKIDLIFTOFFTEST";
      c.secret_access_key = secret;
      c.session_token = req.header("x-amz-security-token");
      signing_params p;
      p.region = "eu-west-1";
      p.service = "sagemaker";
      p.time = parse_time(req.header("x-amz-date"));
      auto r = liftoff::aws::sign_headers(msg, c, p);
      verdict = r && header_value(msg.headers, "Authorization") == authz ? "ok" : "mismatch";
    }
    {
      std::lock_guard lock(m);
      verdicts.push_back(verdict);
    }
    if (verdict == "ok") ex.respond(200, R"({"ok":true})", {{"Content-Type", "application/x-amz-json-1.1"}});
    else ex.respond(403, R"({"__type":"InvalidSignatureException"})");
  });

  int provider_calls = 0;
  liftoff::aws::credentials_provider provider = [&]() -> liftoff::result<credentials> {
    ++provider_calls;
    credentials c;
    c.access_key_id = "AKIDLIFTOFFTEST";
    c.secret_access_key = secret;
    c.session_token = "token-" + std::to_string(provider_calls);
    c.source = "test";
    return c;
  };
  signing_params p;
  p.region = "eu-west-1";
  p.service = "sagemaker";
  liftoff::net::client_options o;
  o.signer = liftoff::aws::sigv4_signer(provider, p);
  o.max_attempts = 1;
  auto client = liftoff::net::client::create(server->url(), o).value();

  liftoff::net::request req;
  req.method = http::verb::post;
  req.target = "/jobs/a%20b?a=b%20c&z=1";
  req.headers.set(http::field::content_type, "application/x-amz-json-1.1");
  req.headers.set("X-Amz-Target", "SageMaker.ListTrainingJobs");
  req.body = R"({"MaxResults": 1})";
  auto r1 = client.send(req);
  INFO((r1 ? std::string() : r1.error().what()));
  REQUIRE(r1.has_value());
  CHECK(r1->status == 200);
  req.method = http::verb::get;
  req.body.clear();
  auto r2 = client.send(req);
  REQUIRE(r2.has_value());
  CHECK(provider_calls == 2);  // asked on every request
  std::lock_guard lock(m);
  REQUIRE(verdicts.size() == 2);
  CHECK(verdicts[0] == "ok");
  CHECK(verdicts[1] == "ok");
}

TEST_CASE("sigv4_signer: a provider failure fails the request before it is sent", "[aws-sigv4]") {
  auto server = net_test_server::tcp([](net_exchange& ex) { ex.respond(200); });
  liftoff::net::client_options o;
  o.signer = liftoff::aws::sigv4_signer(
      []() -> liftoff::result<credentials> {
        return liftoff::diagnostic(error::unauthorized, "no AWS credentials: not in the environment");
      },
      signing_params{.region = "us-east-1", .service = "sts"});
  auto client = liftoff::net::client::create(server->url(), o).value();
  auto r = client.send(liftoff::net::request{});
  REQUIRE(!r.has_value());
  CHECK(r.error().code == error::unauthorized);
  CHECK(contains(r.error().what(), "no AWS credentials"));
  CHECK(server->requests() == 0);
}

TEST_CASE("a refused signed request's message carries neither secret nor signature", "[aws-sigv4]") {
  std::string seen_authz;
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    seen_authz = ex.request().header("authorization");
    ex.respond(403, R"({"__type":"InvalidSignatureException","message":"bad"})");
  });
  credentials c;
  c.access_key_id = "AKIDLIFTOFFTEST";
  c.secret_access_key = "very/secret/KEY0123456789abcdefghij";
  c.session_token = "session-token-0123456789";
  liftoff::net::client_options o;
  o.signer = liftoff::aws::sigv4_signer([c]() -> liftoff::result<credentials> { return c; },
                                        signing_params{.region = "us-east-1", .service = "sagemaker"});
  o.max_attempts = 1;
  auto client = liftoff::net::client::create(server->url(), o).value();
  auto r = client.send(liftoff::net::request{});
  REQUIRE(!r.has_value());
  CHECK(r.error().code == error::http_status);
  REQUIRE(seen_authz.size() > 64);
  auto const signature = seen_authz.substr(seen_authz.size() - 64);
  CHECK(!contains(r.error().what(), c.secret_access_key));
  CHECK(!contains(r.error().what(), c.session_token));
  CHECK(!contains(r.error().what(), signature));
}
