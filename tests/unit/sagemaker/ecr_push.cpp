#include <liftoff/sagemaker/ecr_push.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include "support/aws_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

// ecr_push against the local AWS server's ECR endpoints. The engine is a unix
// socket that does not exist: a test that gets past ECR without needing the
// engine proves that the engine was never contacted.

namespace t = liftoff::test;
namespace json = boost::json;
using liftoff::artifact;
using liftoff::artifact_kind;
using liftoff::ecr_push;
using liftoff::failure_stage;
using liftoff::launch_options;
using liftoff::launch_spec;

namespace {

#define DIGEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
constexpr char const* content_tag = "0123456789abcdef0123456789abcdef";
constexpr char const* pushed_digest = "sha256:feedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeedfeed";

#define SKIP_WITHOUT_SERVER()                                        \
  if (!t::aws_test_server::available()) {                            \
    WARN("skipped: " << t::aws_test_server::unavailable_reason());   \
    return;                                                          \
  }

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// What the builder leaves in the engine: a local image with its content digest.
artifact built_image() { return artifact{artifact_kind::local_image, {}, "liftoff/train:" + std::string(content_tag), "sha256:" DIGEST}; }

launch_spec code_spec(std::string registry = "127.0.0.1:5000/team/train") {
  launch_spec s;
  s.source = liftoff::code_dir{"/job"};
  s.resource = "sagemaker";
  if (!registry.empty()) s.resource_args["sagemaker"] = json::object{{"registry", registry}};
  return s;
}

/// An ecr_push talking to `server` only: its environment, an empty home, an engine that is not there.
ecr_push push_for(t::aws_test_server const& server, t::temp_dir const& home) {
  ecr_push p;
  p.aws.environment = server.environment();
  p.aws.home = home.path();
  p.aws.use_container = false;
  p.aws.use_instance_metadata = false;
  p.push.engine.host = "unix://" + (home.path() / "no-such-docker.sock").string();
  p.push.docker_config = home.path() / "no-docker-config.json";
  p.retry.max_attempts = 2;
  p.retry.base = std::chrono::milliseconds(1);
  return p;
}

}  // namespace

TEST_CASE("parse_ecr_repository reads ECR hosts and stand-in registries", "[ecr]") {
  auto ecr = liftoff::parse_ecr_repository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/train", "here");
  REQUIRE(ecr.has_value());
  CHECK(ecr->host == "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  CHECK(ecr->name == "team/train");
  CHECK(ecr->registry_id == "123456789012");
  CHECK(ecr->region == "eu-west-1");

  auto china = liftoff::parse_ecr_repository("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/train", "here");
  REQUIRE(china.has_value());
  CHECK(china->region == "cn-north-1");
  CHECK(china->name == "train");

  auto local = liftoff::parse_ecr_repository("127.0.0.1:5000/liftoff-test/train", "here");
  REQUIRE(local.has_value());
  CHECK(local->host == "127.0.0.1:5000");
  CHECK(local->name == "liftoff-test/train");
  CHECK(local->registry_id.empty());
  CHECK(local->region.empty());
}

TEST_CASE("parse_ecr_repository refuses what is not a repository, naming where it came from", "[ecr]") {
  for (std::string bad : {"team/train", "train", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/train",
                          "127.0.0.1:5000/Team/Train", "127.0.0.1:5000/train:v1", "127.0.0.1:5000/", "127.0.0.1:5000/a"}) {
    INFO(bad);
    auto r = liftoff::parse_ecr_repository(bad, "resource_args.sagemaker.registry");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::error::invalid_spec);
    CHECK(contains(r.error().message, "resource_args.sagemaker.registry: '" + bad + "' is not an ECR repository"));
    CHECK(contains(r.error().message, "<account>.dkr.ecr.<region>.amazonaws.com/<name>"));
  }
}

TEST_CASE("ecr_push validates its repository and region before anything runs", "[ecr]") {
  t::temp_dir home{"liftoff-ecr"};
  ecr_push p;
  p.aws.environment = std::map<std::string, std::string>{{"AWS_REGION", "us-east-1"}};
  p.aws.home = home.path();

  SECTION("a code job needs a repository") {
    auto r = p.validate(code_spec(""));
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "set resource_args.sagemaker.registry"));
    CHECK(contains(r.error().message, "LIFTOFF_REGISTRY"));
  }
  SECTION("an image job needs none") {
    launch_spec s;
    s.source = liftoff::image_ref{"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train:v1"};
    s.resource = "sagemaker";
    CHECK(p.validate(s).has_value());
  }
  SECTION("LIFTOFF_REGISTRY is read from the configured environment") {
    p.aws.environment->emplace("LIFTOFF_REGISTRY", "127.0.0.1:5000/Bad Name");
    auto r = p.validate(code_spec(""));
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "LIFTOFF_REGISTRY: '127.0.0.1:5000/Bad Name' is not an ECR repository"));
  }
  SECTION("the policy's repository comes first") {
    p.push.repository = "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/train";
    CHECK(p.validate(code_spec("not a repository")).has_value());
  }
  SECTION("a registry that is not a string") {
    auto s = code_spec("");
    s.resource_args["sagemaker"] = json::object{{"registry", 5}};
    auto r = p.validate(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "resource_args.sagemaker.registry: expected a string"));
  }
  SECTION("an unknown region") {
    auto s = code_spec();
    s.resource_args["sagemaker"].as_object()["region"] = "us-middle-7";
    auto r = p.validate(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().message, "us-middle-7"));
  }
}

TEST_CASE("an image ECR has already is found without the engine", "[ecr]") {
  SKIP_WITHOUT_SERVER();
  t::aws_test_server server;
  server.add_repository("team/train");
  server.add_image("team/train", content_tag, pushed_digest);
  t::temp_dir home{"liftoff-ecr"};
  auto p = push_for(server, home);
  std::vector<liftoff::log_line> lines;
  launch_options o;
  o.on_log = [&](liftoff::log_line const& l) { lines.push_back(l); };

  SECTION("find, for the launcher") {
    auto found = p.find(built_image(), code_spec(), o);
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    CHECK((*found)->kind == artifact_kind::registry_image);
    CHECK((*found)->image == std::string("127.0.0.1:5000/team/train@") + pushed_digest);
    CHECK((*found)->digest == "sha256:" DIGEST);
    REQUIRE(lines.size() == 1);
    CHECK(contains(lines[0].text, "is already in ECR"));
    CHECK(contains(lines[0].text, "nothing to build or push"));
  }
  SECTION("deliver") {
    auto out = p.deliver(built_image(), code_spec(), o);
    REQUIRE(out.has_value());
    CHECK(out->image == std::string("127.0.0.1:5000/team/train@") + pushed_digest);
    CHECK(server.requests("GetAuthorizationToken").empty());
  }
  auto asked = server.requests("DescribeImages");
  REQUIRE(asked.size() == 1);
  auto body = boost::json::parse(asked[0].body).as_object();
  CHECK(body.at("repositoryName").as_string() == "team/train");
  CHECK(body.at("imageIds").at(0).at("imageTag").as_string() == content_tag);
  CHECK_FALSE(body.contains("registryId"));
  CHECK(server.violations().empty());
}

TEST_CASE("find says nothing is there for a missing tag, and deliver logs in before pushing", "[ecr]") {
  SKIP_WITHOUT_SERVER();
  t::aws_test_server server;
  server.add_repository("team/train");
  t::temp_dir home{"liftoff-ecr"};
  auto p = push_for(server, home);

  auto found = p.find(built_image(), code_spec(), {});
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());

  // No engine answers, so the push itself fails, after the login; the password stays out of the message.
  auto out = p.deliver(built_image(), code_spec(), {});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().stage == failure_stage::push);
  CHECK(contains(out.error().message, "no-such-docker.sock"));
  CHECK_FALSE(contains(out.error().message, server.ecr_password()));
  CHECK(server.requests("GetAuthorizationToken").size() == 1);
  CHECK(server.violations().empty());
}

TEST_CASE("a missing ECR repository is told with the command that creates it", "[ecr]") {
  SKIP_WITHOUT_SERVER();
  t::aws_test_server server;
  t::temp_dir home{"liftoff-ecr"};
  auto p = push_for(server, home);
  std::string const expected =
      "ECR repository `team/train` does not exist in account of the credentials (us-east-1; from "
      "resource_args.sagemaker.registry): create it with `aws ecr create-repository --repository-name team/train "
      "--region us-east-1`";

  auto found = p.find(built_image(), code_spec(), {});
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().message == expected);
  CHECK(found.error().stage == failure_stage::push);

  auto out = p.deliver(built_image(), code_spec(), {});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == liftoff::error::push_failed);
  CHECK(out.error().stage == failure_stage::push);
  CHECK(out.error().message == expected);
  CHECK(server.requests("GetAuthorizationToken").empty());
  CHECK(server.violations().empty());
}

TEST_CASE("an ECR host gives the account and the region", "[ecr]") {
  SKIP_WITHOUT_SERVER();
  t::aws_test_server::options so;
  so.region = "eu-west-1";
  t::aws_test_server server(so);
  server.add_repository("team/train");
  t::temp_dir home{"liftoff-ecr"};
  auto p = push_for(server, home);
  p.aws.environment->erase("AWS_REGION");  // the host says where

  auto found = p.find(built_image(), code_spec("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/train"), {});
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
  auto asked = server.requests("DescribeImages");
  REQUIRE(asked.size() == 1);
  CHECK(boost::json::parse(asked[0].body).at("registryId").as_string() == "123456789012");
  CHECK(contains(asked[0].headers.at("authorization"), "/eu-west-1/ecr/aws4_request"));
  CHECK(server.violations().empty());
}

TEST_CASE("a dry run shows the signed ECR requests and the push, redacted, and sends nothing", "[ecr]") {
  SKIP_WITHOUT_SERVER();
  t::aws_test_server server;
  t::temp_dir home{"liftoff-ecr"};
  auto p = push_for(server, home);
  std::vector<json::object> emitted;
  launch_options o;
  o.on_dry_run = [&](json::object const& a) { emitted.push_back(a); };

  auto out = p.deliver(built_image(), code_spec(), o);
  REQUIRE(out.has_value());
  CHECK(out->image == std::string("127.0.0.1:5000/team/train:") + content_tag);

  std::vector<std::string> operations;
  bool pushed = false;
  for (auto const& a : emitted) {
    auto const text = json::serialize(a);
    INFO(text);
    CHECK(a.at("stage").as_string() == "push");
    CHECK_FALSE(contains(text, server.config().secret_access_key));
    if (a.at("action").as_string() == "aws api") {
      operations.emplace_back(a.at("operation").as_string());
      auto const& request = a.at("request").as_object();
      CHECK(request.at("method").as_string() == "POST");
      CHECK(request.at("url").as_string().starts_with(server.url()));
      auto const& auth = request.at("headers").at("Authorization").as_string();
      CHECK(contains(std::string(auth), "Credential=AKIDLIFTOFFTEST/"));
      CHECK(contains(std::string(auth), "/us-east-1/ecr/aws4_request"));
      CHECK(contains(std::string(auth), "<redacted>"));
      CHECK_FALSE(contains(std::string(auth), "Signature=0"));
    } else if (contains(text, "/push")) {
      pushed = true;
      CHECK(contains(text, "REDACTED"));
    }
  }
  CHECK(operations == std::vector<std::string>{"DescribeImages", "GetAuthorizationToken"});
  CHECK(pushed);
  CHECK(server.requests().empty());
}

TEST_CASE("ecr_push passes a registry image through and refuses a directory", "[ecr]") {
  ecr_push p;
  artifact image{artifact_kind::registry_image, {}, "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train:v1"};
  auto same = p.deliver(image, code_spec(), {});
  REQUIRE(same.has_value());
  CHECK(same->image == image.image);

  auto dir = p.deliver(artifact{artifact_kind::directory, "/job"}, code_spec(), {});
  REQUIRE_FALSE(dir.has_value());
  CHECK(dir.error().stage == failure_stage::push);
  CHECK(contains(dir.error().message, "cannot push a directory"));

  // A dry run looks nothing up: the launcher then shows the build and the push.
  launch_options o;
  o.on_dry_run = [](json::object const&) {};
  auto found = p.find(built_image(), code_spec(), o);
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
}
