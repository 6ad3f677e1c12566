// `liftoff launch --resource sagemaker`, end to end: the built CLI against the
// local AWS server that follows the SageMaker service model (aws_test_server,
// in this process, which AWS_ENDPOINT_URL points every service at), and for
// code directories the real Docker engine and the registry at 127.0.0.1:5000
// standing in for ECR. The CLI gets its own HOME and only the server's AWS
// variables, so the machine's ~/.aws and ~/.docker are never read.

#include <catch2/catch.hpp>

#include "support/aws_test_server.hpp"
#include "support/docker_support.hpp"
#include "support/server_process.hpp"
#include "support/test_support.hpp"

#include <liftoff/net/client.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>

namespace t = liftoff::test;
namespace fs = std::filesystem;
namespace json = boost::json;
using t::aws_test_server;

namespace {

constexpr char const* image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train:1";
constexpr char const* base_image = "liftoff-test/busybox:latest";
constexpr char const* registry_address = "127.0.0.1:5000";
constexpr char const* ecr_repository = "liftoff-test/train";

#define SKIP_WITHOUT_MODEL()                                        \
  if (!aws_test_server::available()) {                              \
    WARN("skipped: " << aws_test_server::unavailable_reason());     \
    return;                                                         \
  }

bool contains(std::string const& haystack, std::string const& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A name unique to this test process and call, so concurrent runs share no job or image.
std::string unique_id(std::string const& prefix) {
  static std::atomic<int> counter{0};
  static std::string const salt = std::to_string(std::random_device{}() % 100000);
  return prefix + "-" + std::to_string(::getpid()) + "-" + salt + "-" + std::to_string(counter++);
}

/// The training job members every launch needs, with `extra` merged on top (null removes a member).
std::string sagemaker_args(json::object extra = {}) {
  json::object sm{
      {"RoleArn", "arn:aws:iam::123456789012:role/SageMakerRole"},
      {"ResourceConfig", json::object{{"InstanceType", "ml.m5.xlarge"}, {"InstanceCount", 1}, {"VolumeSizeInGB", 10}}},
      {"OutputDataConfig", json::object{{"S3OutputPath", "s3://liftoff-test/output"}}},
      {"StoppingCondition", json::object{{"MaxRuntimeInSeconds", 3600}}},
  };
  for (auto const& kv : extra) {
    if (kv.value().is_null()) sm.erase(kv.key());
    else sm[kv.key()] = kv.value();
  }
  return json::serialize(json::object{{"sagemaker", sm}});
}

/// The fake AWS, and a HOME of the CLI's own.
class aws_account {
public:
  aws_account() { fs::create_directories(dir / "home"); }

  /// The environment for the CLI: this server's, an empty HOME, nothing of the machine's AWS or registry settings.
  std::vector<std::string> env(std::vector<std::string> extra = {}) const {
    std::vector<std::string> e = {"HOME=" + (dir / "home").string(),
                                  "XDG_CONFIG_HOME=",
                                  "DOCKER_CONFIG=",
                                  "LIFTOFF_REGISTRY=",
                                  "LIFTOFF_SERVER=",
                                  "LIFTOFF_API_TOKEN=",
                                  "AWS_PROFILE=",
                                  "AWS_DEFAULT_REGION=",
                                  "AWS_SESSION_TOKEN=",
                                  "AWS_SHARED_CREDENTIALS_FILE=",
                                  "AWS_CONFIG_FILE=",
                                  "AWS_CONTAINER_CREDENTIALS_FULL_URI=",
                                  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="};
    for (auto const& [k, v] : server.environment()) e.push_back(k + "=" + v);
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  }

  t::command_result cli(std::vector<std::string> args, std::vector<std::string> extra_env = {}) const {
    args.insert(args.begin(), LIFTOFF_CLI);
    return t::run_command(args, env(std::move(extra_env)));
  }

  /// `launch --resource sagemaker` of the test image with `more` flags.
  t::command_result launch_image(std::vector<std::string> more = {}, std::string resource_args = sagemaker_args(),
                                 std::vector<std::string> extra_env = {}) const {
    std::vector<std::string> args = {"launch", "--resource", "sagemaker", "--docker-image", image, "-E",
                                     "python train.py", "-R", std::move(resource_args)};
    args.insert(args.end(), more.begin(), more.end());
    return cli(std::move(args), std::move(extra_env));
  }

  /// The one training job the server was asked to create.
  json::object only_training_job() const {
    auto names = server.training_job_names();
    REQUIRE(names.size() == 1);
    auto job = server.training_job(names.front());
    REQUIRE(job);
    return *job;
  }

  t::temp_dir dir{"liftoff-cli-sagemaker"};
  aws_test_server server;
};

/// The one "liftoff: error" line of stderr (the test fails when there is not exactly one).
std::string error_line(std::string const& err) {
  std::vector<std::string> errors;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("liftoff: error", 0) == 0) errors.push_back(line);
  INFO(err);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

/// A GET (or HEAD) to the test registry's own HTTP API; the error says why none came back.
liftoff::result<liftoff::net::response> registry_get(std::string const& target, bool head = false,
                                                     std::string const& accept = {}) {
  liftoff::net::client_options o;
  o.connect_timeout = std::chrono::seconds(2);
  o.request_timeout = std::chrono::seconds(10);
  auto c = liftoff::net::client::create(std::string("http://") + registry_address, o);
  if (!c) return c.error();
  liftoff::net::request req;
  if (head) req.method = boost::beast::http::verb::head;
  req.target = target;
  if (!accept.empty()) req.headers.set(boost::beast::http::field::accept, accept);
  req.check_status = false;
  return c->send(req);
}

/// False, after saying why, when the Docker engine, its test image or the registry do not answer.
bool docker_and_registry_ready() {
  if (!t::docker_cli_ready()) return false;
  auto r = registry_get("/v2/");
  if (!r || r->status != 200) {
    WARN("skipped: no Docker registry answers at http://" << registry_address << "/v2/ (start one with "
                                                          << ".ci/start-registry): "
                                                          << (r ? std::to_string(r->status) : r.error().what()));
    return false;
  }
  return true;
}

/// The images the engine has with label liftoff.job=`job`.
std::vector<std::string> images_of_job(std::string const& job) {
  std::vector<std::string> found;
  std::istringstream ids(t::docker_cli({"images", "-q", "--filter", "label=liftoff.job=" + job}).out);
  for (std::string id; ids >> id;) found.push_back(id);
  return found;
}

void remove_images_of_job(std::string const& job) {
  for (auto const& id : images_of_job(job)) t::docker_cli({"rmi", "-f", id});
}

}  // namespace

TEST_CASE("a SageMaker dry run prints the signed CreateTrainingJob, redacted, and sends nothing", "[cli-sagemaker]") {
  SKIP_WITHOUT_MODEL();
  aws_account a;
  auto r = a.launch_image({"--dry-run", "-p", "mnist"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(contains(r.out + r.err, a.server.config().secret_access_key));

  std::string run_id;
  std::optional<json::object> create;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    REQUIRE(line.front() == '{');
    auto o = json::parse(line).as_object();
    if (o.at("action") == "launch") run_id = o.at("spec").at("run_id").as_string();
    if (o.at("action") == "aws api" && contains(json::serialize(o.at("request").at("headers")), "SageMaker.CreateTrainingJob"))
      create = o.at("request").as_object();
  }
  REQUIRE_FALSE(run_id.empty());
  REQUIRE(create);
  CHECK(create->at("method") == "POST");
  CHECK(create->at("url").as_string().starts_with(a.server.url()));
  auto const& headers = create->at("headers").as_object();
  std::string auth(headers.at("Authorization").as_string());
  CHECK(contains(auth, "AWS4-HMAC-SHA256 Credential=AKIDLIFTOFFTEST/"));
  CHECK(contains(auth, "/us-east-1/sagemaker/aws4_request"));
  CHECK(contains(auth, "Signature=<redacted>"));
  json::value body = create->at("body");
  if (body.is_string()) body = json::parse(body.as_string());
  CHECK(body.at("AlgorithmSpecification").at("TrainingImage") == image);
  CHECK(contains(std::string(body.at("TrainingJobName").as_string()), run_id));
  CHECK(contains(json::serialize(body.at("Tags")), run_id));
  CHECK(a.server.requests().empty());
}

TEST_CASE("a SageMaker run's output and status reach the caller", "[cli-sagemaker]") {
  SKIP_WITHOUT_MODEL();
  aws_account a;
  SECTION("success") {
    a.server.script("*", t::training_scripts::succeed({"hello from the training job"}));
    auto r = a.launch_image({"-p", "mnist"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "hello from the training job"));
    CHECK(contains(r.err, " finished"));
    auto job = a.only_training_job();
    CHECK(job.at("AlgorithmSpecification").at("TrainingImage") == image);
    CHECK(job.at("ResourceConfig").at("InstanceType") == "ml.m5.xlarge");
    CHECK_FALSE(contains(r.out + r.err, a.server.config().secret_access_key));
    CHECK(a.server.violations().empty());
  }
  SECTION("failure") {
    a.server.script("*", t::training_scripts::fail("AlgorithmError: loss is NaN", {"about to fail"}));
    auto r = a.launch_image();
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK(contains(r.out, "about to fail"));
    CHECK(contains(r.err, "AlgorithmError: loss is NaN"));
    CHECK(a.server.violations().empty());
  }
}

TEST_CASE("SageMaker bad input gets one clear line and creates no training job", "[cli-sagemaker][errors]") {
  SKIP_WITHOUT_MODEL();
  aws_account a;
  a.server.expect_auth_failures();
  SECTION("no credentials anywhere: the message lists where it looked") {
    auto r = a.launch_image({}, sagemaker_args(), {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "AWS_ACCESS_KEY_ID"));
    CHECK(contains(line, (a.dir / "home" / ".aws" / "credentials").string()));
  }
  SECTION("a missing RoleArn is named") {
    auto r = a.launch_image({}, sagemaker_args({{"RoleArn", nullptr}}));
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK(contains(error_line(r.err), "RoleArn"));
  }
  SECTION("a missing OutputDataConfig is named, with what it needs") {
    auto r = a.launch_image({}, sagemaker_args({{"OutputDataConfig", nullptr}}));
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "resource_args.sagemaker.OutputDataConfig"));
    CHECK(contains(line, "S3OutputPath"));
  }
  SECTION("an instance type the model does not know") {
    auto r = a.launch_image({}, sagemaker_args({{"ResourceConfig", json::object{{"InstanceType", "ml.nope.huge"},
                                                                                  {"InstanceCount", 1},
                                                                                  {"VolumeSizeInGB", 10}}}}));
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "ResourceConfig.InstanceType"));
    CHECK(contains(line, "ml.nope.huge"));
  }
  SECTION("an unknown region, with the closest known one") {
    // Without an endpoint override: with one, any region-shaped name is taken as the endpoint's.
    auto r = a.launch_image({"--aws-region", "us-easst-1"}, sagemaker_args(), {"AWS_ENDPOINT_URL="});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "`us-easst-1`"));
    CHECK(contains(line, "is not one liftoff knows"));
    CHECK(contains(line, "us-east-1"));
  }
  SECTION("a region that is not a region name, beside an endpoint override") {
    auto r = a.launch_image({"--aws-region", "useast1"});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    CHECK(contains(error_line(r.err), "`useast1`"));
  }
  INFO("training jobs created: " << a.server.training_job_names().size());
  CHECK(a.server.requests("CreateTrainingJob").empty());
  CHECK(a.server.training_job_names().empty());
}

TEST_CASE("a code directory is built, pushed to ECR, run as a training job, and not rebuilt when ECR has it",
          "[cli-sagemaker][docker][registry]") {
  SKIP_WITHOUT_MODEL();
  if (!docker_and_registry_ready()) return;
  aws_account a;
  a.server.add_repository(ecr_repository);
  a.server.script("*", t::training_scripts::succeed({"ran the pushed image"}));
  t::temp_dir code{"liftoff-cli-sagemaker-code"};
  auto const marker = unique_id("m");  // new content each run: a new content tag, so a real push
  t::write_file(code / "Dockerfile", std::string("FROM ") + base_image + "\nCOPY . /job\nWORKDIR /job\n");
  t::write_file(code / "train.sh", "echo training " + marker + "\n");
  auto const job = unique_id("sm-code");
  auto const repository = std::string(registry_address) + "/" + ecr_repository;
  auto launch = [&] {
    return a.cli({"launch", "--uri", code.path().string(), "--resource", "sagemaker", "--job-name", job, "-E",
                  "sh train.sh", "-R", sagemaker_args({{"registry", repository}})});
  };

  auto first = launch();
  INFO(first.out << first.err);
  CHECK(first.exit_code == 0);
  CHECK(contains(first.err, "building image"));
  CHECK(contains(first.out, "ran the pushed image"));
  CHECK_FALSE(contains(first.out + first.err, a.server.ecr_password()));
  auto stored = a.only_training_job();
  std::string pushed(stored.at("AlgorithmSpecification").at("TrainingImage").as_string());
  REQUIRE(std::regex_match(pushed, std::regex(R"(127\.0\.0\.1:5000/liftoff-test/train@sha256:[0-9a-f]{64})")));
  auto const digest = pushed.substr(pushed.find('@') + 1);
  CHECK(a.server.requests("GetAuthorizationToken").size() == 1);

  // The registry serves that digest under one of the repository's tags: the content tag pushed.
  auto tags = registry_get(std::string("/v2/") + ecr_repository + "/tags/list");
  REQUIRE(tags.has_value());
  INFO(tags->body);
  REQUIRE(tags->status == 200);
  std::string pushed_tag;
  auto const listed = json::parse(tags->body);
  for (auto const& tag : listed.at("tags").as_array()) {
    auto manifest = registry_get(std::string("/v2/") + ecr_repository + "/manifests/" + std::string(tag.as_string()),
                                 true, "application/vnd.docker.distribution.manifest.v2+json");
    if (manifest && manifest->status == 200 && std::string(manifest->headers["Docker-Content-Digest"]) == digest &&
        contains(first.err, repository + ":" + std::string(tag.as_string())))
      pushed_tag = tag.as_string();
  }
  REQUIRE_FALSE(pushed_tag.empty());
  CHECK(a.server.violations().empty());

  // ECR now says it has the tag: the same code is neither built nor pushed again. The local
  // image is removed first, so a build would show as a new image in the engine.
  remove_images_of_job(job);
  REQUIRE(images_of_job(job).empty());
  a.server.add_image(ecr_repository, pushed_tag, digest);
  auto second = launch();
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK(contains(second.err, "nothing to build or push"));
  CHECK_FALSE(contains(second.err, "building image"));
  CHECK_FALSE(contains(second.err, "pushing image"));
  CHECK(images_of_job(job).empty());
  CHECK(a.server.requests("GetAuthorizationToken").size() == 1);
  auto names = a.server.training_job_names();
  REQUIRE(names.size() == 2);
  for (auto const& name : names) {
    auto request = a.server.training_job(name);
    REQUIRE(request);
    CHECK(request->at("AlgorithmSpecification").at("TrainingImage") == pushed.c_str());
  }
  CHECK(a.server.violations().empty());
  remove_images_of_job(job);
}

namespace {

/// A `liftoff server` with a fresh data directory, the fake AWS, and an agent to run a sagemaker queue.
class queue_setup {
public:
  t::command_result admin(std::vector<std::string> args) const { return aws.cli(std::move(args), server_.env()); }

  /// A `launch-agent` named `name` on `queue`, with the fake AWS's environment.
  std::unique_ptr<t::background_command> agent(std::string const& queue, std::string const& name,
                                               std::string const& log) const {
    std::vector<std::string> argv = {LIFTOFF_CLI,      "launch-agent", "--queue",     queue, "--name", name,
                                     "--state-dir",    path("state").string(), "--heartbeat-interval", "0.2",
                                     "--lease-wait",   "1"};
    return std::make_unique<t::background_command>(argv, path(log + ".out"), path(log + ".err"),
                                                   aws.env(server_.env()));
  }

  json::object describe(std::string const& run_id) const {
    auto r = admin({"run", "describe", run_id, "--json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out).as_object();
  }

  /// Waits until the run's state is one of `states`; its description.
  json::object wait_for(std::string const& run_id, std::vector<std::string> const& states, double seconds = 60) const {
    json::object last;
    bool reached = t::wait_until(
        [&] {
          last = describe(run_id);
          return std::find(states.begin(), states.end(), std::string(last.at("state").as_string())) != states.end();
        },
        seconds);
    INFO(json::serialize(last));
    REQUIRE(reached);
    return last;
  }

  fs::path path(std::string const& p) const { return dir_.path() / p; }

  aws_account aws;

private:
  t::temp_dir dir_{"liftoff-cli-sagemaker-queue"};
  t::server_process server_{LIFTOFF_CLI, dir_.path() / "data"};
};

std::string pushed_run_id(std::string const& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(R"(run ([a-z0-9-]+) \(item [0-9]+\) queued on)")));
  return m[1];
}

}  // namespace

TEST_CASE("an agent runs a sagemaker queue's item and, restarted, follows its training job to the end",
          "[cli-sagemaker][agent]") {
  SKIP_WITHOUT_MODEL();
  queue_setup q;
  // Slow enough that the agent can be killed while the job trains.
  t::training_script script = t::training_scripts::succeed({"first line"});
  for (auto& step : script) step.delay = std::chrono::milliseconds(1500);
  q.aws.server.script("*", script);
  auto created = q.admin({"queue", "create", "sm", "--resource", "sagemaker"});
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  auto const name = unique_id("smagent");
  auto agent = q.agent("sm", name, "agent1");

  auto pushed = q.admin({"launch", "--queue", "sm", "--docker-image", image, "-E", "python train.py", "-R",
                         sagemaker_args()});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto run_id = pushed_run_id(pushed.out);

  // Once the training job exists, the agent goes away without a word, and comes back under its name.
  REQUIRE(t::wait_until([&] { return !q.aws.server.training_job_names().empty(); }, 30));
  agent->signal(SIGKILL);
  agent->wait();
  auto restarted = q.agent("sm", name, "agent2");

  auto run = q.wait_for(run_id, {"finished", "failed", "stopped", "crashed"});
  INFO(json::serialize(run) << "\nagent 1:\n" << t::read_file(q.path("agent1.err")) << "\nagent 2:\n"
                            << t::read_file(q.path("agent2.err")));
  CHECK(run.at("state") == "finished");
  // One training job: the restarted agent followed it rather than starting another.
  CHECK(q.aws.server.training_job_names().size() == 1);
  CHECK(q.aws.server.requests("CreateTrainingJob").size() == 1);
  auto logs = q.admin({"run", "logs", run_id});
  CHECK(contains(logs.out, "first line"));
  CHECK(q.aws.server.violations().empty());
  restarted->signal(SIGTERM);
  CHECK(restarted->wait() == 0);
}
