// The AWS JSON 1.1 protocol test suites (botocore's awsJson1_1 input and
// output cases), run through service_model's conversions and json_client's
// request building and error parsing.

#include <liftoff/aws/json_client.hpp>
#include <liftoff/aws/model.hpp>

#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <map>

namespace fs = std::filesystem;
using liftoff::aws::service_model;

namespace {

/** Cases liftoff does not apply, with the reason. Everything else in the
    suites must be applied (the counts below are checked). */
std::map<std::string, std::string> const not_applicable = {
    {"AwsJson11EndpointTrait", "host prefixes (the endpoint trait) are not used by SageMaker, ECR or Logs"},
    {"AwsJson11EndpointTraitWithHostLabel", "host prefixes with host labels are not implemented"},
    {"SDKAppliedContentEncoding_awsJson1_1", "request compression (gzip) is not implemented"},
    {"SDKAppendsGzipAndIgnoresHttpProvidedEncoding_awsJson1_1", "request compression (gzip) is not implemented"},
};

fs::path suite_file(char const* name) {
  return liftoff::test::specs_dir() / "sagemaker" / "awsjson1_1-protocol-tests" / name;
}

bool suite_present(char const* name) {
  if (fs::exists(suite_file(name))) return true;
  WARN("skipped: the AWS JSON 1.1 protocol tests " << suite_file(name).string() << " are not present");
  return false;
}

/// JSON equality with numbers compared by value (1 == 1.0, 946845296.123 within rounding).
bool same_json(boost::json::value const& a, boost::json::value const& b) {
  if (a.is_number() && b.is_number()) {
    double const x = a.to_number<double>(), y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    auto const& o = a.get_object();
    auto const& p = b.get_object();
    if (o.size() != p.size()) return false;
    for (auto const& kv : o) {
      auto const* other = p.if_contains(kv.key());
      if (!other || !same_json(kv.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    auto const& x = a.get_array();
    auto const& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same_json(x[i], y[i])) return false;
    return true;
  }
  return a == b;
}

/// The model of one case: the suite's metadata and shapes with the case's operation.
service_model case_model(boost::json::object const& suite, boost::json::object const& given) {
  boost::json::object doc;
  doc["metadata"] = suite.at("metadata");
  doc["shapes"] = suite.at("shapes");
  boost::json::object ops;
  ops[given.at("name").as_string()] = given;
  doc["operations"] = std::move(ops);
  auto m = service_model::from_json(std::move(doc));
  REQUIRE(m.has_value());
  return *m;
}

liftoff::aws::service_id case_service(boost::json::object const& suite) {
  auto const& md = suite.at("metadata").as_object();
  return {"JsonProtocol", "jsonprotocol", "jsonprotocol", std::string(md.at("targetPrefix").as_string())};
}

std::string shape_of(boost::json::object const& given, char const* which) {
  if (auto const* s = given.if_contains(which)) return std::string(s->as_object().at("shape").as_string());
  return {};
}

}  // namespace

TEST_CASE("AWS JSON 1.1 input cases serialize as the suite says", "[aws-protocol]") {
  if (!suite_present("input-json.json")) return;
  auto const suites = boost::json::parse(liftoff::test::read_file(suite_file("input-json.json"))).as_array();
  int applied = 0, skipped = 0;
  for (auto const& sv : suites) {
    auto const& suite = sv.as_object();
    REQUIRE(suite.at("metadata").at("jsonVersion").as_string() == "1.1");
    for (auto const& cv : suite.at("cases").as_array()) {
      auto const& c = cv.as_object();
      std::string const id(c.at("id").as_string());
      INFO("case " << id);
      if (not_applicable.count(id)) {
        ++skipped;
        continue;
      }
      auto const& given = c.at("given").as_object();
      auto const op = std::string(given.at("name").as_string());
      auto const model = case_model(suite, given);
      auto const in = shape_of(given, "input");
      boost::json::value wire = boost::json::object();
      if (!in.empty()) {
        auto r = model.serialize(in, c.at("params"));
        if (!r) FAIL(r.error());
        wire = std::move(*r);
      } else {
        CHECK(c.at("params").as_object().empty());
      }
      auto const req = liftoff::aws::detail::json_request(case_service(suite), op, wire);
      auto const& expected = c.at("serialized").as_object();
      CHECK(boost::beast::http::to_string(req.method) == expected.at("method").as_string());
      // The endpoint's path comes before the target, as net::client puts it.
      std::string host = "example.com";
      if (auto const* h = expected.if_contains("host")) host = std::string(h->as_string());
      auto ep = liftoff::net::parse_endpoint("https://" + host);
      REQUIRE(ep.has_value());
      CHECK(ep->base_path + req.target == expected.at("uri").as_string());
      for (auto const& h : expected.at("headers").as_object()) {
        auto it = req.headers.find(h.key());
        REQUIRE(it != req.headers.end());
        CHECK(it->value() == h.value().as_string());
      }
      if (auto const* body = expected.if_contains("body")) {
        auto const want = boost::json::parse(body->as_string());
        auto const got = boost::json::parse(req.body);
        INFO("sent " << req.body << ", expected " << body->as_string());
        CHECK(same_json(got, want));
      }
      ++applied;
    }
  }
  CHECK(skipped == static_cast<int>(not_applicable.size()));
  REQUIRE(applied >= 45);
  CHECK(applied + skipped == 54);
}

TEST_CASE("AWS JSON 1.1 output cases deserialize as the suite says", "[aws-protocol]") {
  if (!suite_present("output-json.json")) return;
  auto const suites = boost::json::parse(liftoff::test::read_file(suite_file("output-json.json"))).as_array();
  int results = 0, errors = 0;
  for (auto const& sv : suites) {
    auto const& suite = sv.as_object();
    for (auto const& cv : suite.at("cases").as_array()) {
      auto const& c = cv.as_object();
      std::string const id(c.at("id").as_string());
      INFO("case " << id);
      REQUIRE_FALSE(not_applicable.count(id));
      auto const& given = c.at("given").as_object();
      auto const model = case_model(suite, given);
      auto const& response = c.at("response").as_object();
      auto const status = static_cast<unsigned>(response.at("status_code").to_number<int>());
      std::string body;
      if (auto const* b = response.if_contains("body")) body = std::string(b->as_string());
      boost::beast::http::fields headers;
      for (auto const& h : response.at("headers").as_object()) headers.insert(h.key(), h.value().as_string());

      if (auto const* code = c.if_contains("errorCode")) {
        auto const e = liftoff::aws::parse_json_error(status, headers, body);
        CHECK(e.status == status);
        CHECK(e.code == code->as_string());
        if (auto const* message = c.if_contains("errorMessage")) CHECK(e.message == message->as_string());
        // The error's members, read with the error shape.
        auto const& error_shape = given.at("errors").as_array().at(0).at("shape").as_string();
        auto const doc = body.empty() ? boost::json::value(boost::json::object()) : boost::json::parse(body);
        auto r = model.deserialize(error_shape, doc);
        if (!r) FAIL(r.error());
        INFO("read " << boost::json::serialize(*r));
        CHECK(same_json(*r, c.at("error")));
        ++errors;
        continue;
      }
      REQUIRE(status == 200);
      auto const doc = body.find_first_not_of(" \n") == std::string::npos ? boost::json::value(boost::json::object())
                                                                          : boost::json::parse(body);
      auto const out = shape_of(given, "output");
      boost::json::value got = boost::json::object();
      if (!out.empty()) {
        auto r = model.deserialize(out, doc);
        if (!r) FAIL(r.error());
        got = std::move(*r);
      }
      INFO("read " << boost::json::serialize(got) << ", expected " << boost::json::serialize(c.at("result")));
      CHECK(same_json(got, c.at("result")));
      if (auto it = headers.find("X-Amzn-Requestid"); it != headers.end())
        CHECK(liftoff::aws::parse_json_error(400, headers, "{}").request_id == "amazon-uniq-request-id");
      ++results;
    }
  }
  REQUIRE(results >= 40);
  REQUIRE(errors >= 10);
  CHECK(results + errors == 58);
}
