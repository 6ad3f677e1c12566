#include <liftoff/aws/json_client.hpp>

#include "support/aws_test_server.hpp"
#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace std::chrono_literals;
using liftoff::error;
using liftoff::aws::json_client;
using liftoff::test::aws_test_server;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

bool server_available() {
  if (aws_test_server::available()) return true;
  WARN("skipped: " << aws_test_server::unavailable_reason());
  return false;
}

liftoff::aws::credentials creds_of(aws_test_server const& server, std::string source = "test credentials") {
  liftoff::aws::credentials c;
  c.access_key_id = server.config().access_key_id;
  c.secret_access_key = server.config().secret_access_key;
  c.source = std::move(source);
  return c;
}

liftoff::net::client_options quick() {
  liftoff::net::client_options o;
  o.connect_timeout = 2s;
  o.request_timeout = 5s;
  o.max_attempts = 3;  // json_client sets 1: its own policy decides
  return o;
}

liftoff::aws::retry_options fast_retries(int attempts = 4) {
  liftoff::aws::retry_options r;
  r.max_attempts = attempts;
  r.base = 1ms;
  r.max = 5ms;
  return r;
}

json_client sagemaker_client(aws_test_server const& server, liftoff::aws::credentials c, int attempts = 4) {
  return json_client(liftoff::aws::services::sagemaker(), server.config().region, server.url(),
                     liftoff::aws::static_credentials(std::move(c)), quick(), fast_retries(attempts));
}

boost::json::object training_job(std::string name) {
  auto o = boost::json::parse(R"({
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "AlgorithmSpecification": {"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:abc",
                               "TrainingInputMode": "File"},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600}
  })").as_object();
  o["TrainingJobName"] = std::move(name);
  return o;
}

boost::json::object job_name(std::string name) { return boost::json::object{{"TrainingJobName", std::move(name)}}; }

}  // namespace

TEST_CASE("json_client calls an operation and reads the answer", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  auto client = sagemaker_client(server, creds_of(server));
  CHECK(client.endpoint() == server.url());
  CHECK(client.region() == "us-east-1");
  CHECK(client.service().target_prefix == "SageMaker");

  auto created = client.call("CreateTrainingJob", training_job("job-1"));
  if (!created) FAIL(created.error());
  CHECK(created->at("TrainingJobArn").as_string() ==
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1");
  auto described = client.call("DescribeTrainingJob", job_name("job-1"));
  if (!described) FAIL(described.error());
  CHECK(described->at("TrainingJobStatus").as_string() == "InProgress");

  auto const sent = server.requests("CreateTrainingJob");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "POST");
  CHECK(sent[0].target == "/");
  CHECK(sent[0].headers.at("x-amz-target") == "SageMaker.CreateTrainingJob");
  CHECK(sent[0].headers.at("content-type") == "application/x-amz-json-1.1");
  CHECK(contains(sent[0].headers.at("authorization"), "Credential=AKIDLIFTOFFTEST/"));
  CHECK(contains(sent[0].headers.at("authorization"), "/us-east-1/sagemaker/aws4_request"));
  CHECK(sent[0].access_key_id == "AKIDLIFTOFFTEST");
  CHECK(boost::json::parse(sent[0].body) == training_job("job-1"));
  CHECK(server.violations().empty());
}

TEST_CASE("json_client sends {} for an empty input", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  json_client ecr(liftoff::aws::services::ecr(), "us-east-1", server.url(),
                  liftoff::aws::static_credentials(creds_of(server)), quick(), fast_retries());
  auto r = ecr.call("GetAuthorizationToken", nullptr);
  if (!r) FAIL(r.error());
  auto const sent = server.requests("GetAuthorizationToken");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].body == "{}");
  CHECK(sent[0].headers.at("x-amz-target") == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  CHECK(contains(sent[0].headers.at("authorization"), "/us-east-1/ecr/aws4_request"));
  CHECK(server.violations().empty());
}

TEST_CASE("json_client retries throttling and 5xx with backoff, then gives up saying how often it tried", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  auto client = sagemaker_client(server, creds_of(server), 4);
  REQUIRE(client.call("CreateTrainingJob", training_job("job-1")).has_value());

  SECTION("throttling, then success") {
    server.throttle("DescribeTrainingJob", 2);
    auto r = client.call("DescribeTrainingJob", job_name("job-1"));
    if (!r) FAIL(r.error());
    CHECK(server.requests("DescribeTrainingJob").size() == 3);
  }
  SECTION("an internal error, then success") {
    server.fail_internal("DescribeTrainingJob", 1);
    auto r = client.call("DescribeTrainingJob", job_name("job-1"));
    if (!r) FAIL(r.error());
    CHECK(server.requests("DescribeTrainingJob").size() == 2);
  }
  SECTION("retries exhausted") {
    server.throttle("DescribeTrainingJob", 10);
    auto r = client.call("DescribeTrainingJob", job_name("job-1"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::make_error_code(error::http_status));
    CHECK(contains(r.error().message, "SageMaker DescribeTrainingJob: ThrottlingException: Rate exceeded"));
    CHECK(contains(r.error().message, "gave up after 4 attempts"));
    CHECK(server.requests("DescribeTrainingJob").size() == 4);
  }
  SECTION("a client error is not retried") {
    server.expect_invalid_requests();
    auto r = client.call("CreateTrainingJob", training_job("job-1"));  // the name is taken
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::make_error_code(error::already_exists));
    CHECK(contains(r.error().message, "SageMaker CreateTrainingJob: ResourceInUse: "));
    CHECK(server.requests("CreateTrainingJob").size() == 2);
  }
  CHECK(server.violations().empty());
}

TEST_CASE("json_client retries connection errors and names the endpoint", "[aws-json]") {
  std::string url;
  {
    // A port that was just in use and is closed now.
    auto closed = liftoff::test::net_test_server::tcp([](liftoff::test::net_exchange& ex) { ex.respond(200, "{}"); });
    url = closed->url();
  }
  liftoff::aws::credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "not-used-secret";
  json_client client(liftoff::aws::services::sagemaker(), "us-east-1", url, liftoff::aws::static_credentials(c),
                     quick(), fast_retries(3));
  auto r = client.call("DescribeTrainingJob", job_name("x"));
  REQUIRE_FALSE(r.has_value());
  CHECK(contains(r.error().message, "SageMaker DescribeTrainingJob"));
  CHECK(contains(r.error().message, "127.0.0.1"));
  CHECK(contains(r.error().message, "gave up after 3 attempts"));
  CHECK_FALSE(contains(r.error().message, "not-used-secret"));
}

TEST_CASE("json_client maps refused credentials to unauthorized, naming the source but never the secret", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  server.expect_auth_failures();

  SECTION("an expired session") {
    std::string const secret = "expired/secret/0123456789abcdefghijklmn";
    std::string const token = "IQoJb3JpZ2luX2VjEXPIREDTOKENVALUE0123456789";
    server.add_credentials("ASIAEXPIREDKEY", secret, token, std::chrono::system_clock::now() - 1h);
    liftoff::aws::credentials c;
    c.access_key_id = "ASIAEXPIREDKEY";
    c.secret_access_key = secret;
    c.session_token = token;
    c.source = "shared credentials file ~/.aws/credentials, profile `dev`";
    auto r = sagemaker_client(server, c).call("DescribeTrainingJob", job_name("x"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::make_error_code(error::unauthorized));
    CHECK(contains(r.error().message, "ExpiredTokenException"));
    CHECK(contains(r.error().message, "profile `dev`"));
    CHECK(contains(r.error().message, "ASIAEXPIREDKEY"));
    CHECK_FALSE(contains(r.error().message, secret));
    CHECK_FALSE(contains(r.error().message, token));
    CHECK(server.requests("DescribeTrainingJob").size() == 1);  // not retried
  }
  SECTION("a wrong secret") {
    auto c = creds_of(server, "environment");
    c.secret_access_key = "wrong/secret/abcdefghijklmnopqrstuvwxyz0123";
    auto r = sagemaker_client(server, c).call("DescribeTrainingJob", job_name("x"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::make_error_code(error::unauthorized));
    CHECK(contains(r.error().message, "InvalidSignatureException"));
    CHECK(contains(r.error().message, "credentials from environment, access key id AKIDLIFTOFFTEST"));
    CHECK_FALSE(contains(r.error().message, c.secret_access_key));
  }
  SECTION("a provider that fails sends nothing") {
    json_client client(liftoff::aws::services::sagemaker(), "us-east-1", server.url(),
                       [] { return liftoff::result<liftoff::aws::credentials>(liftoff::diagnostic(
                                error::unauthorized, "no AWS credentials: not in the environment")); },
                       quick(), fast_retries());
    auto r = client.call("DescribeTrainingJob", job_name("x"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::make_error_code(error::unauthorized));
    CHECK(contains(r.error().message, "no AWS credentials"));
    CHECK(server.requests().empty());
  }
}

TEST_CASE("json_client reports a ValidationException as an invalid spec", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  server.expect_invalid_requests();
  auto body = training_job("job-1");
  body["ResourceConfig"].as_object()["InstanceType"] = "ml.nope";
  auto r = sagemaker_client(server, creds_of(server)).call("CreateTrainingJob", body);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == liftoff::make_error_code(error::invalid_spec));
  CHECK(contains(r.error().message, "SageMaker CreateTrainingJob: ValidationException: "));
  CHECK(contains(r.error().message, "ResourceConfig.InstanceType"));
  CHECK(server.violations().empty());
}

TEST_CASE("describe_request signs and redacts, sending nothing", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  liftoff::aws::credentials c;
  c.access_key_id = "ASIADRYRUNKEY";
  c.secret_access_key = "dry/run/secret/abcdefghijklmnopqrstuvwxyz";
  c.session_token = "IQoJb3JpZ2luX2VjDRYRUNSESSIONTOKEN";
  auto client = sagemaker_client(server, c);
  auto d = client.describe_request("CreateTrainingJob", training_job("job-1"));
  if (!d) FAIL(d.error());
  auto const text = boost::json::serialize(*d);
  CHECK(d->at("method").as_string() == "POST");
  CHECK(d->at("url").as_string() == server.url() + "/");
  auto const& headers = d->at("headers").as_object();
  CHECK(headers.at("X-Amz-Target").as_string() == "SageMaker.CreateTrainingJob");
  std::string const auth(headers.at("Authorization").as_string());
  CHECK(contains(auth, "Credential=ASIADRYRUNKEY/"));
  CHECK(contains(auth, "/us-east-1/sagemaker/aws4_request"));
  CHECK(contains(auth, "Signature=<redacted>"));
  bool token_redacted = false;
  for (auto const& h : headers)
    if (h.key() == "X-Amz-Security-Token" || h.key() == "x-amz-security-token")
      token_redacted = h.value().as_string() == "<redacted>";
  CHECK(token_redacted);
  CHECK(boost::json::parse(d->at("body").as_string()) == training_job("job-1"));
  CHECK_FALSE(contains(text, c.secret_access_key));
  CHECK_FALSE(contains(text, c.session_token));
  CHECK(server.requests().empty());
}

TEST_CASE("json_client is safe to share between threads", "[aws-json]") {
  if (!server_available()) return;
  aws_test_server server;
  auto client = sagemaker_client(server, creds_of(server));
  REQUIRE(client.call("CreateTrainingJob", training_job("job-1")).has_value());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, copy = client] {
      for (int i = 0; i < 5; ++i)
        if (copy.call("DescribeTrainingJob", job_name("job-1"))) ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 20);
  CHECK(server.violations().empty());
}

TEST_CASE("parse_json_error, is_throttling and to_diagnostic", "[aws-json]") {
  boost::beast::http::fields headers;
  headers.set("x-amzn-RequestId", "req-1");
  auto e = liftoff::aws::parse_json_error(400, headers, R"({"__type":"com.amazon#ResourceNotFound","Message":"gone"})");
  CHECK(e.code == "ResourceNotFound");
  CHECK(e.message == "gone");
  CHECK(e.request_id == "req-1");
  headers.set("x-amzn-ErrorType", "AccessDeniedException:http://internal/");
  e = liftoff::aws::parse_json_error(403, headers, R"({"__type":"Other","message":"no"})");
  CHECK(e.code == "AccessDeniedException");
  CHECK(e.message == "no");
  auto const unknown = liftoff::aws::parse_json_error(503, {}, "<html>busy</html>");
  CHECK(unknown.code == "InternalFailure");
  CHECK(unknown.status == 503);

  CHECK(liftoff::aws::is_throttling("ThrottlingException"));
  CHECK(liftoff::aws::is_throttling("Throttling"));
  CHECK(liftoff::aws::is_throttling("TooManyRequestsException"));
  CHECK(liftoff::aws::is_throttling("RequestLimitExceeded"));
  CHECK_FALSE(liftoff::aws::is_throttling("ValidationException"));

  auto const& sm = liftoff::aws::services::sagemaker();
  auto kind = [&](std::string code) {
    liftoff::aws::service_error x;
    x.status = 400;
    x.code = std::move(code);
    x.message = "m";
    return liftoff::aws::to_diagnostic(x, sm, "Op").code;
  };
  CHECK(kind("AccessDeniedException") == liftoff::make_error_code(error::forbidden));
  CHECK(kind("ValidationException") == liftoff::make_error_code(error::invalid_spec));
  CHECK(kind("InvalidParameterValue") == liftoff::make_error_code(error::invalid_spec));
  CHECK(kind("ResourceNotFound") == liftoff::make_error_code(error::not_found));
  CHECK(kind("RepositoryNotFoundException") == liftoff::make_error_code(error::not_found));
  CHECK(kind("ResourceInUse") == liftoff::make_error_code(error::already_exists));
  CHECK(kind("RepositoryAlreadyExistsException") == liftoff::make_error_code(error::already_exists));
  CHECK(kind("InvalidClientTokenId") == liftoff::make_error_code(error::unauthorized));
  CHECK(kind("SignatureDoesNotMatch") == liftoff::make_error_code(error::unauthorized));
  CHECK(kind("SomethingElse") == liftoff::make_error_code(error::http_status));
  liftoff::aws::service_error x;
  x.status = 400;
  x.code = "ValidationException";
  x.message = "1 validation error detected";
  CHECK(liftoff::aws::to_diagnostic(x, sm, "CreateTrainingJob").message ==
        "SageMaker CreateTrainingJob: ValidationException: 1 validation error detected");
}
