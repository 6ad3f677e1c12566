#include "support/aws_test_server.hpp"

#include "support/test_support.hpp"

#include <liftoff/aws/json_client.hpp>
#include <liftoff/aws/model.hpp>
#include <liftoff/detail/base64.hpp>
#include <liftoff/net/client.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using liftoff::error;
using liftoff::aws::json_client;
using liftoff::test::aws_test_server;
namespace scripts = liftoff::test::training_scripts;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

bool server_available() {
  if (aws_test_server::available()) return true;
  WARN("skipped: " << aws_test_server::unavailable_reason());
  return false;
}

liftoff::aws::credentials creds_of(aws_test_server const& server) {
  liftoff::aws::credentials c;
  c.access_key_id = server.config().access_key_id;
  c.secret_access_key = server.config().secret_access_key;
  c.source = "test";
  return c;
}

liftoff::aws::retry_options one_attempt() {
  liftoff::aws::retry_options r;
  r.max_attempts = 1;
  return r;
}

json_client client_for(aws_test_server const& server, liftoff::aws::service_id const& s,
                       std::optional<liftoff::aws::credentials> c = {}, std::string region = "us-east-1") {
  return json_client(s, std::move(region), server.url(), liftoff::aws::static_credentials(c ? *c : creds_of(server)),
                     {}, one_attempt());
}

boost::json::object training_job(std::string name) {
  auto o = boost::json::parse(R"({
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "AlgorithmSpecification": {"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:abc",
                               "TrainingInputMode": "File", "ContainerEntrypoint": ["python", "train.py"]},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "EnableManagedSpotTraining": false,
    "Environment": {"LIFTOFF_RUN_ID": "r1"}
  })").as_object();
  o["TrainingJobName"] = std::move(name);
  return o;
}

boost::json::object job_name(std::string name) { return boost::json::object{{"TrainingJobName", std::move(name)}}; }

boost::json::value must(liftoff::result<boost::json::value> r) {
  if (!r) FAIL(r.error());
  return *r;
}

/// A signed STS query-protocol call through net::client; the XML answer parsed.
struct sts_answer {
  unsigned status = 0;
  boost::property_tree::ptree xml;
};

sts_answer sts_call(aws_test_server const& server, liftoff::aws::credentials c, std::string form) {
  liftoff::net::client_options o;
  liftoff::aws::signing_params p;
  p.region = "us-east-1";
  p.service = "sts";
  o.signer = liftoff::aws::sigv4_signer(liftoff::aws::static_credentials(std::move(c)), p);
  auto client = liftoff::net::client::create(server.url(), o);
  REQUIRE(client.has_value());
  liftoff::net::request req;
  req.method = boost::beast::http::verb::post;
  req.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded; charset=utf-8");
  req.body = std::move(form);
  req.check_status = false;
  auto r = client->send(req);
  if (!r) FAIL(r.error());
  sts_answer a;
  a.status = r->status;
  std::istringstream in(r->body);
  boost::property_tree::read_xml(in, a.xml);
  return a;
}

}  // namespace

TEST_CASE("the fake AWS server checks signatures", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;

  SECTION("a good signature is accepted") {
    must(client_for(server, liftoff::aws::services::sagemaker()).call("CreateTrainingJob", training_job("a")));
    CHECK(server.violations().empty());
  }
  SECTION("a wrong secret is refused and recorded") {
    auto c = creds_of(server);
    c.secret_access_key = "wrong/secret/abcdefghijklmnopqrstuvwxyz0123";
    auto r = client_for(server, liftoff::aws::services::sagemaker(), c).call("DescribeTrainingJob", job_name("a"));
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "InvalidSignatureException"));
    auto const v = server.violations();
    REQUIRE(v.size() == 1);
    CHECK(contains(v[0], "DescribeTrainingJob"));
    CHECK(contains(v[0], "InvalidSignatureException"));
    CHECK(server.requests().at(0).access_key_id == "AKIDLIFTOFFTEST");
  }
  SECTION("an unknown key, a wrong region and expected failures") {
    server.expect_auth_failures();
    auto c = creds_of(server);
    c.access_key_id = "AKIDUNKNOWN";
    auto r = client_for(server, liftoff::aws::services::sagemaker(), c).call("DescribeTrainingJob", job_name("a"));
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "UnrecognizedClientException"));
    auto w = client_for(server, liftoff::aws::services::sagemaker(), {}, "eu-west-1")
                 .call("DescribeTrainingJob", job_name("a"));
    REQUIRE_FALSE(w.has_value());
    CHECK(contains(w.error().message, "eu-west-1"));
    CHECK(server.violations().empty());
  }
  SECTION("temporary credentials need their session token") {
    server.add_credentials("ASIATEMPKEY", "temp/secret/abcdefghijklmnopqrstuvwxyz01", "session-token-1");
    liftoff::aws::credentials c;
    c.access_key_id = "ASIATEMPKEY";
    c.secret_access_key = "temp/secret/abcdefghijklmnopqrstuvwxyz01";
    c.session_token = "session-token-1";
    must(client_for(server, liftoff::aws::services::sagemaker(), c).call("CreateTrainingJob", training_job("t")));
    server.expect_auth_failures();
    c.session_token = "another-token";
    CHECK_FALSE(client_for(server, liftoff::aws::services::sagemaker(), c)
                    .call("DescribeTrainingJob", job_name("t"))
                    .has_value());
  }
}

TEST_CASE("the fake SageMaker walks a training job through its script", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  server.script("job-1", scripts::succeed({"epoch 1", "epoch 2"}));
  auto sm = client_for(server, liftoff::aws::services::sagemaker());
  must(sm.call("CreateTrainingJob", training_job("job-1")));
  CHECK(server.training_job("job-1")->at("RoleArn").as_string() == "arn:aws:iam::123456789012:role/SageMakerRole");
  CHECK(server.training_job_names() == std::vector<std::string>{"job-1"});

  std::vector<std::string> seen;
  boost::json::value last;
  for (int i = 0; i < 8; ++i) {
    last = must(sm.call("DescribeTrainingJob", job_name("job-1")));
    seen.push_back(std::string(last.at("SecondaryStatus").as_string()));
    if (last.at("TrainingJobStatus").as_string() == "Completed") break;
  }
  CHECK(seen == std::vector<std::string>{"Downloading", "Training", "Uploading", "Completed"});
  CHECK(last.at("TrainingJobArn").as_string() == "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1");
  CHECK(last.at("AlgorithmSpecification").at("TrainingImage").as_string() ==
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:abc");
  auto const& transitions = last.at("SecondaryStatusTransitions").as_array();
  REQUIRE(transitions.size() == 5);
  CHECK(transitions[0].at("Status").as_string() == "Starting");
  CHECK(transitions[0].at("StartTime").is_number());
  CHECK(transitions[0].as_object().contains("EndTime"));
  CHECK(transitions[4].at("Status").as_string() == "Completed");

  // The answer is what the model says DescribeTrainingJob returns.
  auto model = liftoff::aws::service_model::load(liftoff::test::specs_dir() / "sagemaker" / "service-2.json");
  REQUIRE(model.has_value());
  CHECK(liftoff::aws::describe(model->validate("DescribeTrainingJobResponse", last)) == "");
  CHECK(liftoff::aws::describe(model->validate("DescribeTrainingJobResponse", *server.describe("job-1"))) == "");

  auto again = sm.call("CreateTrainingJob", training_job("job-1"));
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == liftoff::make_error_code(error::already_exists));
  auto missing = sm.call("DescribeTrainingJob", job_name("nope"));
  REQUIRE_FALSE(missing.has_value());
  CHECK(contains(missing.error().message, "ValidationException: Requested resource not found"));
  CHECK(server.violations().empty());
}

TEST_CASE("the fake SageMaker fails, stops and interrupts jobs", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  auto sm = client_for(server, liftoff::aws::services::sagemaker());
  auto run_to_end = [&](std::string const& name) {
    boost::json::value d;
    for (int i = 0; i < 10; ++i) {
      d = must(sm.call("DescribeTrainingJob", job_name(name)));
      auto const s = d.at("TrainingJobStatus").as_string();
      if (s == "Completed" || s == "Failed" || s == "Stopped") break;
    }
    return d;
  };

  SECTION("failure with a reason") {
    server.script("*", scripts::fail("AlgorithmError: exit code 1"));
    must(sm.call("CreateTrainingJob", training_job("f")));
    auto d = run_to_end("f");
    CHECK(d.at("TrainingJobStatus").as_string() == "Failed");
    CHECK(d.at("FailureReason").as_string() == "AlgorithmError: exit code 1");
  }
  SECTION("stopped on request; an ended job cannot be stopped") {
    server.script("s", scripts::run_until_stopped());
    must(sm.call("CreateTrainingJob", training_job("s")));
    for (int i = 0; i < 5; ++i) must(sm.call("DescribeTrainingJob", job_name("s")));
    CHECK(server.describe("s")->at("TrainingJobStatus").as_string() == "InProgress");
    must(sm.call("StopTrainingJob", job_name("s")));
    auto d = must(sm.call("DescribeTrainingJob", job_name("s")));
    CHECK(d.at("TrainingJobStatus").as_string() == "Stopping");
    d = must(sm.call("DescribeTrainingJob", job_name("s")));
    CHECK(d.at("TrainingJobStatus").as_string() == "Stopped");
    CHECK(d.at("SecondaryStatus").as_string() == "Stopped");
    auto r = sm.call("StopTrainingJob", job_name("s"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::make_error_code(error::invalid_spec));
    CHECK(contains(r.error().message, "the training job is in status Stopped"));
  }
  SECTION("a spot interruption") {
    server.add_training_job(training_job("spot"), scripts::spot_interrupted());
    auto d = run_to_end("spot");
    CHECK(d.at("TrainingJobStatus").as_string() == "Stopped");
    CHECK(d.at("SecondaryStatus").as_string() == "Interrupted");
  }
  SECTION("steps with a delay move on with time") {
    liftoff::test::training_script s(2);
    s[1].secondary = "Training";
    s[1].log_lines = {"late line"};
    s[1].delay = 30ms;
    server.script("d", s);
    must(sm.call("CreateTrainingJob", training_job("d")));
    CHECK(must(sm.call("DescribeTrainingJob", job_name("d"))).at("SecondaryStatus").as_string() == "Starting");
    std::this_thread::sleep_for(40ms);
    CHECK(server.describe("d")->at("SecondaryStatus").as_string() == "Starting");  // describe() only looks
    CHECK(must(sm.call("DescribeTrainingJob", job_name("d"))).at("SecondaryStatus").as_string() == "Training");
  }
  CHECK(server.violations().empty());
}

TEST_CASE("the fake SageMaker answers an invalid request with a ValidationException", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  auto sm = client_for(server, liftoff::aws::services::sagemaker());
  auto body = training_job("bad");
  body.erase("RoleArn");
  body["ResourceConfig"].as_object()["InstanceType"] = "ml.nope";
  auto r = sm.call("CreateTrainingJob", body);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == liftoff::make_error_code(error::invalid_spec));
  CHECK(contains(r.error().message, "2 validation errors detected"));
  CHECK(contains(r.error().message, "RoleArn"));
  CHECK(contains(r.error().message, "ResourceConfig.InstanceType"));
  CHECK(server.training_job_names().empty());
  REQUIRE(server.violations().size() == 1);
  CHECK(contains(server.violations()[0], "invalid request"));
}

TEST_CASE("the fake CloudWatch Logs pages a job's log with tokens", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  server.script("*", scripts::succeed({"one", "two", "three", "four", "five"}));
  auto sm = client_for(server, liftoff::aws::services::sagemaker());
  auto logs = client_for(server, liftoff::aws::services::logs());
  must(sm.call("CreateTrainingJob", training_job("job-1")));
  must(sm.call("CreateTrainingJob", training_job("job-10")));
  for (int i = 0; i < 2; ++i) must(sm.call("DescribeTrainingJob", job_name("job-1")));  // now Training

  auto streams = must(logs.call("DescribeLogStreams", boost::json::object{{"logGroupName", "/aws/sagemaker/TrainingJobs"},
                                                                          {"logStreamNamePrefix", "job-1/"}}));
  auto const& list = streams.at("logStreams").as_array();
  REQUIRE(list.size() == 1);
  std::string const stream(list[0].at("logStreamName").as_string());
  CHECK(stream.starts_with("job-1/algo-1-"));

  std::vector<std::string> lines;
  std::string token;
  int pages = 0;
  for (; pages < 10; ++pages) {
    boost::json::object q{{"logGroupName", "/aws/sagemaker/TrainingJobs"}, {"logStreamName", stream},
                          {"startFromHead", true}, {"limit", 2}};
    if (!token.empty()) q["nextToken"] = token;
    auto page = must(logs.call("GetLogEvents", q));
    for (auto const& e : page.at("events").as_array()) {
      lines.push_back(std::string(e.at("message").as_string()));
      CHECK(e.at("timestamp").is_int64());
      CHECK(e.at("ingestionTime").is_int64());
    }
    std::string next(page.at("nextForwardToken").as_string());
    if (next == token) break;  // the same token: nothing new
    token = next;
  }
  CHECK(lines == std::vector<std::string>{"one", "two", "three", "four", "five"});
  CHECK(pages == 3);

  auto missing = logs.call("GetLogEvents", boost::json::object{{"logGroupName", "/aws/sagemaker/TrainingJobs"},
                                                              {"logStreamName", "nope/algo-1-1"}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(contains(missing.error().message, "ResourceNotFoundException"));
  CHECK(server.violations().empty());
}

TEST_CASE("the fake ECR hands out tokens and describes images", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  server.add_repository("empty");
  server.add_image("train", "abc", "sha256:1111");
  auto ecr = client_for(server, liftoff::aws::services::ecr());

  auto token = must(ecr.call("GetAuthorizationToken", boost::json::object()));
  auto const& data = token.at("authorizationData").as_array().at(0);
  auto decoded = liftoff::detail::base64_decode(data.at("authorizationToken").as_string());
  REQUIRE(decoded.has_value());
  CHECK(*decoded == "AWS:" + server.ecr_password());
  CHECK(data.at("proxyEndpoint").as_string() == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
  CHECK(data.at("expiresAt").is_number());
  server.set_proxy_endpoint(server.url());
  token = must(ecr.call("GetAuthorizationToken", boost::json::object()));
  CHECK(token.at("authorizationData").at(0).at("proxyEndpoint").as_string() == server.url());

  auto found = must(ecr.call("DescribeImages", boost::json::parse(R"({"repositoryName": "train",
                                                                      "imageIds": [{"imageTag": "abc"}]})")));
  auto const& detail = found.at("imageDetails").at(0);
  CHECK(detail.at("imageDigest").as_string() == "sha256:1111");
  CHECK(detail.at("imageTags").at(0).as_string() == "abc");
  CHECK(detail.at("repositoryName").as_string() == "train");
  CHECK(detail.at("registryId").as_string() == "123456789012");

  auto no_image = ecr.call("DescribeImages", boost::json::parse(R"({"repositoryName": "empty",
                                                                   "imageIds": [{"imageTag": "abc"}]})"));
  REQUIRE_FALSE(no_image.has_value());
  CHECK(no_image.error().code == liftoff::make_error_code(error::not_found));
  CHECK(contains(no_image.error().message, "ImageNotFoundException"));
  auto no_repo = ecr.call("DescribeImages", boost::json::parse(R"({"repositoryName": "nope"})"));
  REQUIRE_FALSE(no_repo.has_value());
  CHECK(contains(no_repo.error().message, "RepositoryNotFoundException"));
  CHECK(server.violations().empty());
}

TEST_CASE("the fake server throttles and fails operations on request", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  server.throttle("GetAuthorizationToken", 1);
  server.fail_internal("DescribeImages", 1);
  auto ecr = client_for(server, liftoff::aws::services::ecr());
  auto t = ecr.call("GetAuthorizationToken", boost::json::object());
  REQUIRE_FALSE(t.has_value());
  CHECK(contains(t.error().message, "ThrottlingException"));
  CHECK(ecr.call("GetAuthorizationToken", boost::json::object()).has_value());
  auto f = ecr.call("DescribeImages", boost::json::object{{"repositoryName", "x"}});
  REQUIRE_FALSE(f.has_value());
  CHECK(contains(f.error().message, "InternalFailure"));
  CHECK(contains(f.error().message, "HTTP 500"));
  CHECK(server.requests("GetAuthorizationToken").size() == 2);
  CHECK(server.violations().empty());
}

TEST_CASE("the fake STS answers GetCallerIdentity and AssumeRole in XML", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  auto id = sts_call(server, creds_of(server), "Action=GetCallerIdentity&Version=2011-06-15");
  INFO("violations: " << (server.violations().empty() ? std::string() : server.violations()[0]));
  CHECK(id.status == 200);
  CHECK(id.xml.get<std::string>("GetCallerIdentityResponse.GetCallerIdentityResult.Account") == "123456789012");

  server.add_role("arn:aws:iam::123456789012:role/trainer", 1h);
  auto assumed = sts_call(server, creds_of(server),
                          "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"
                          "trainer&RoleSessionName=liftoff");
  REQUIRE(assumed.status == 200);
  auto const& c = assumed.xml.get_child("AssumeRoleResponse.AssumeRoleResult.Credentials");
  liftoff::aws::credentials temp;
  temp.access_key_id = c.get<std::string>("AccessKeyId");
  temp.secret_access_key = c.get<std::string>("SecretAccessKey");
  temp.session_token = c.get<std::string>("SessionToken");
  CHECK(temp.access_key_id.starts_with("ASIA"));
  CHECK_FALSE(c.get<std::string>("Expiration").empty());
  // The temporary key works, and it is the assumed role.
  auto who = sts_call(server, temp, "Action=GetCallerIdentity&Version=2011-06-15");
  CHECK(who.xml.get<std::string>("GetCallerIdentityResponse.GetCallerIdentityResult.Arn") ==
        "arn:aws:sts::123456789012:assumed-role/trainer/liftoff");
  must(client_for(server, liftoff::aws::services::sagemaker(), temp).call("CreateTrainingJob", training_job("x")));

  auto denied = sts_call(server, creds_of(server),
                         "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"
                         "other&RoleSessionName=liftoff");
  CHECK(denied.status == 403);
  CHECK(denied.xml.get<std::string>("ErrorResponse.Error.Code") == "AccessDenied");
  CHECK(server.requests("AssumeRole").size() == 2);
  CHECK(server.violations().empty());
}

TEST_CASE("the fake server serves container and instance-metadata credentials", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  server.serve_metadata_credentials("container-token-1", "liftoff-role");
  auto client = liftoff::net::client::create(server.url());
  REQUIRE(client.has_value());

  liftoff::net::request creds_req;
  creds_req.target = "/container/creds";
  creds_req.headers.set(boost::beast::http::field::authorization, "container-token-1");
  auto r = client->send(creds_req);
  if (!r) FAIL(r.error());
  auto const body = boost::json::parse(r->body);
  liftoff::aws::credentials c;
  c.access_key_id = std::string(body.at("AccessKeyId").as_string());
  c.secret_access_key = std::string(body.at("SecretAccessKey").as_string());
  c.session_token = std::string(body.at("Token").as_string());
  CHECK(body.at("Expiration").is_string());
  must(client_for(server, liftoff::aws::services::sagemaker(), c).call("CreateTrainingJob", training_job("c")));

  liftoff::net::request token_req;
  token_req.method = boost::beast::http::verb::put;
  token_req.target = "/latest/api/token";
  token_req.headers.set("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  auto token = client->send(token_req);
  if (!token) FAIL(token.error());
  liftoff::net::request role_req;
  role_req.target = "/latest/meta-data/iam/security-credentials/";
  role_req.headers.set("X-aws-ec2-metadata-token", token->body);
  auto role = client->send(role_req);
  if (!role) FAIL(role.error());
  CHECK(role->body == "liftoff-role");
  role_req.target += role->body;
  auto instance = client->send(role_req);
  if (!instance) FAIL(instance.error());
  CHECK(boost::json::parse(instance->body).at("Code").as_string() == "Success");
  CHECK(server.violations().empty());

  // IMDSv1 (no token) is refused and recorded.
  role_req.headers.erase("X-aws-ec2-metadata-token");
  role_req.check_status = false;
  auto v1 = client->send(role_req);
  REQUIRE(v1.has_value());
  CHECK(v1->status == 401);
  CHECK(server.violations().size() == 1);
}

TEST_CASE("the fake server's environment points a client at it", "[aws-server]") {
  if (!server_available()) return;
  aws_test_server server;
  auto const env = server.environment();
  CHECK(env.at("AWS_ENDPOINT_URL") == server.url());
  CHECK(env.at("AWS_ACCESS_KEY_ID") == "AKIDLIFTOFFTEST");
  CHECK(env.at("AWS_REGION") == "us-east-1");
  CHECK(env.at("AWS_EC2_METADATA_DISABLED") == "true");
  liftoff::aws::credentials_options o;
  o.environment = env;
  auto model = liftoff::aws::find_model(o, "sagemaker", "2017-07-24");
  REQUIRE(model.has_value());
  CHECK(*model == liftoff::test::specs_dir() / "sagemaker" / "service-2.json");
  auto sm = json_client::for_region(liftoff::aws::services::sagemaker(), "us-east-1", o,
                                    liftoff::aws::default_credentials_chain(o), {}, one_attempt());
  CHECK(sm.endpoint() == server.url());
  must(sm.call("CreateTrainingJob", training_job("env")));
  CHECK(server.violations().empty());
}
