// sagemaker_target against the local server that follows the official
// SageMaker model: training jobs created, followed to their end with their
// CloudWatch logs, failures, spot interruptions, stops, throttling,
// credentials, role names, names taken by earlier attempts and dry runs.

#include <liftoff/sagemaker/target.hpp>

#include "fixture.hpp"
#include "support/aws_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;
namespace json = boost::json;
namespace sm = liftoff::sagemaker;
using namespace std::chrono_literals;
using namespace liftoff::test::sagemaker_fixture;
using liftoff::test::aws_test_server;
namespace scripts = liftoff::test::training_scripts;

namespace {

constexpr char const* api_token = "lft_tok_9f8e7d6c5b4a";

void require_no_violations(aws_test_server const& server) {
  auto const v = server.violations();
  for (auto const& x : v) UNSCOPED_INFO(x);
  REQUIRE(v.empty());
}

/// No secret of the server's credentials, nor the API token, in any text.
void check_no_secret(aws_test_server const& server, std::string const& text) {
  CHECK(text.find(server.config().secret_access_key) == std::string::npos);
  CHECK(text.find(api_token) == std::string::npos);
}

std::string all_text(std::vector<log_line> const& lines) {
  std::string out;
  for (auto const& l : lines) out += l.text + "\n";
  return out;
}

}  // namespace

TEST_CASE("a training job runs to completion with its logs", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  s.overrides.args = {"--epochs", "2"};
  a.server.script(sm::training_job_name(s), scripts::succeed({"epoch 1 loss 0.5", "epoch 2 loss 0.25"}));
  reports r;
  auto o = r.options();
  o.environment["LIFTOFF_API_TOKEN"] = api_token;
  auto started = a.target.start(image(), s, o);
  REQUIRE(started.has_value());
  auto run = *started;
  CHECK(run.name() == sm::training_job_name(s));
  CHECK(run.region() == "us-east-1");
  auto const final_status = run.wait();
  CHECK(final_status.state == run_state::finished);
  CHECK(final_status.exit_code == 0);
  CHECK(run.status().state == run_state::finished);

  CHECK(has_line(run.logs(), "epoch 1 loss 0.5"));
  CHECK(has_line(run.logs(), "epoch 2 loss 0.25"));
  CHECK(r.count_line("epoch 1 loss 0.5") == 1);
  CHECK(r.count_line("epoch 2 loss 0.25") == 1);
  CHECK(r.count_line("SageMaker: Training") >= 1);  // secondary statuses as system lines
  auto const states = r.state_list();
  REQUIRE(states.size() >= 3);
  CHECK(states.front() == run_state::starting);
  CHECK(std::find(states.begin(), states.end(), run_state::running) != states.end());
  CHECK(states.back() == run_state::finished);

  auto const stored = a.server.training_job(run.name());
  REQUIRE(stored.has_value());
  auto const& algo = stored->at("AlgorithmSpecification").as_object();
  CHECK(algo.at("TrainingImage").as_string() == ecr_image());
  CHECK(algo.at("ContainerEntrypoint") == json::array{"python", "train.py"});
  CHECK(algo.at("ContainerArguments") == json::array{"--epochs", "2"});
  auto const& env = stored->at("Environment").as_object();
  CHECK(env.at("LIFTOFF_RUN_ID").as_string() == s.run_id);
  CHECK(env.at("LIFTOFF_JOB").as_string() == "train");
  CHECK_FALSE(env.contains("LIFTOFF_API_TOKEN"));
  bool tagged = false;
  for (auto const& t : stored->at("Tags").as_array())
    tagged = tagged || (t.at("Key").as_string() == sm::run_id_tag && t.at("Value").as_string() == s.run_id);
  CHECK(tagged);
  for (auto const& req : a.server.requests()) check_no_secret(a.server, req.body);
  check_no_secret(a.server, all_text(run.logs()));
  CHECK(a.server.requests("CreateTrainingJob").size() == 1);
  require_no_violations(a.server);
}

TEST_CASE("a failed training job fails the run with its reason", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  a.server.script(sm::training_job_name(s), scripts::fail("AlgorithmError: CUDA out of memory", {"loading data"}));
  reports r;
  auto run = a.target.start(image(), s, r.options()).value();
  auto const final_status = run.wait();
  CHECK(final_status.state == run_state::failed);
  CHECK(final_status.stage == failure_stage::run);
  CHECK(final_status.message.find("AlgorithmError: CUDA out of memory") != std::string::npos);
  CHECK(has_line(run.logs(), "loading data"));
  require_no_violations(a.server);
}

TEST_CASE("a spot interruption preempts the run", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto args = pascal_args();
  args["EnableManagedSpotTraining"] = true;
  args["StoppingCondition"] = json::object{{"MaxRuntimeInSeconds", 3600}, {"MaxWaitTimeInSeconds", 7200}};
  auto s = spec(args);
  a.server.script(sm::training_job_name(s), scripts::spot_interrupted());
  auto run = a.target.start(image(), s, {}).value();
  auto const final_status = run.wait();
  CHECK(final_status.state == run_state::preempted);
  CHECK(final_status.message.find("spot") != std::string::npos);
  require_no_violations(a.server);
}

TEST_CASE("cancel stops the training job", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  a.server.script(sm::training_job_name(s), scripts::run_until_stopped({"step 1"}));
  reports r;
  auto run = a.target.start(image(), s, r.options()).value();
  REQUIRE(test::wait_until([&] { return run.status().state == run_state::running; }, 10));
  run.cancel(1s);
  CHECK(run.status().state == run_state::stopped);
  CHECK(run.wait().state == run_state::stopped);
  auto const stops = a.server.requests("StopTrainingJob");
  REQUIRE(stops.size() == 1);
  CHECK(json::parse(stops[0].body).at("TrainingJobName").as_string() == run.name());
  CHECK(r.state_list().back() == run_state::stopped);
  run.cancel(1s);  // an ended run: nothing more is sent
  CHECK(a.server.requests("StopTrainingJob").size() == 1);
  require_no_violations(a.server);
}

TEST_CASE("throttled DescribeTrainingJob calls do not fail the run", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  a.server.throttle("DescribeTrainingJob", 4);
  auto run = a.target.start(image(), spec(), {}).value();
  CHECK(run.wait().state == run_state::finished);
  require_no_violations(a.server);
}

TEST_CASE("refused credentials fail with the service's message and no secret", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  a.server.expect_auth_failures();

  SECTION("a wrong secret") {
    auto env = a.server.environment();
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-right-secret-0123456789";
    auto t = a.target_with(env);
    auto started = t.start(image(), spec(), {});
    REQUIRE_FALSE(started.has_value());
    INFO(started.error().message);
    CHECK(started.error().code == make_error_code(error::unauthorized));
    CHECK(started.error().message.find("CreateTrainingJob") != std::string::npos);
    CHECK(started.error().message.find("not-the-right-secret") == std::string::npos);
  }
  SECTION("expired temporary credentials") {
    std::string const token = "session-token-value-abcdef";
    a.server.add_credentials("ASIAEXPIREDKEY", "expired/secret/value/0123456789", token,
                             std::chrono::system_clock::now() - 1h);
    auto env = a.server.environment();
    env["AWS_ACCESS_KEY_ID"] = "ASIAEXPIREDKEY";
    env["AWS_SECRET_ACCESS_KEY"] = "expired/secret/value/0123456789";
    env["AWS_SESSION_TOKEN"] = token;
    auto started = a.target_with(env).start(image(), spec(), {});
    REQUIRE_FALSE(started.has_value());
    INFO(started.error().message);
    CHECK(started.error().code == make_error_code(error::unauthorized));
    CHECK(started.error().message.find("ExpiredToken") != std::string::npos);
    CHECK(started.error().message.find("expired/secret/value") == std::string::npos);
    CHECK(started.error().message.find(token) == std::string::npos);
  }
  require_no_violations(a.server);
}

TEST_CASE("without credentials the error says where it looked", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto env = a.server.environment();
  env.erase("AWS_ACCESS_KEY_ID");
  env.erase("AWS_SECRET_ACCESS_KEY");
  auto started = a.target_with(env).start(image(), spec(), {});
  REQUIRE_FALSE(started.has_value());
  INFO(started.error().message);
  CHECK(started.error().code == make_error_code(error::unauthorized));
  CHECK(started.error().message.find("AWS_ACCESS_KEY_ID") != std::string::npos);
  CHECK(started.error().message.find(".aws/credentials") != std::string::npos);
  CHECK(a.server.requests("CreateTrainingJob").empty());
  require_no_violations(a.server);
}

TEST_CASE("a bare role name is expanded with the caller's account", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto args = pascal_args();
  args["RoleArn"] = "SageMakerRole";
  auto started = a.target.start(image(), spec(args), {});
  if (!started) {
    for (auto const& r : a.server.requests()) UNSCOPED_INFO(r.operation << ": " << r.body);
    require_no_violations(a.server);
    FAIL(started.error().message);
  }
  auto run = *started;
  CHECK(run.wait().state == run_state::finished);
  CHECK(a.server.requests("GetCallerIdentity").size() == 1);
  auto const stored = a.server.training_job(run.name());
  REQUIRE(stored.has_value());
  CHECK(stored->at("RoleArn").as_string() == "arn:aws:iam::" + a.server.config().account + ":role/SageMakerRole");
  require_no_violations(a.server);
}

TEST_CASE("configuration errors are found before any request", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;

  SECTION("an unknown region") {
    // An endpoint override admits regions liftoff does not know: without one, the region is checked.
    auto env = a.server.environment();
    env.erase("AWS_ENDPOINT_URL");
    auto args = pascal_args();
    args["region"] = "us-middle-7";
    auto started = a.target_with(env).start(image(), spec(args), {});
    REQUIRE_FALSE(started.has_value());
    INFO(started.error().message);
    CHECK(started.error().code == make_error_code(error::invalid_spec));
    CHECK(started.error().message.find("us-middle-7") != std::string::npos);
  }
  SECTION("a missing required member") {
    auto args = pascal_args();
    args.erase("OutputDataConfig");
    auto started = a.target.start(image(), spec(args), {});
    REQUIRE_FALSE(started.has_value());
    CHECK(started.error().message.find("resource_args.sagemaker.OutputDataConfig is required") != std::string::npos);
    CHECK_FALSE(a.target.validate(spec(args)).has_value());
  }
  SECTION("an invalid instance type, by the model") {
    auto args = pascal_args();
    args["ResourceConfig"].as_object()["InstanceType"] = "ml.banana.huge";
    auto started = a.target.start(image(), spec(args), {});
    REQUIRE_FALSE(started.has_value());
    INFO(started.error().message);
    CHECK(started.error().code == make_error_code(error::invalid_spec));
    CHECK(started.error().message.find("resource_args.sagemaker.ResourceConfig.InstanceType") != std::string::npos);
    CHECK_FALSE(a.target.validate(spec(args)).has_value());
  }
  SECTION("a local image") {
    auto started = a.target.start(artifact{artifact_kind::local_image, {}, "train:latest", {}, nullptr}, spec(), {});
    REQUIRE_FALSE(started.has_value());
    CHECK(started.error().message.find("ecr_push") != std::string::npos);
  }
  CHECK(a.server.requests().empty());
  CHECK(a.target.validate(spec()).has_value());
  require_no_violations(a.server);
}

TEST_CASE("with client-side validation off, SageMaker's ValidationException is the error", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  a.server.expect_invalid_requests();
  a.target.validate_model = false;
  auto args = pascal_args();
  args["ResourceConfig"].as_object()["InstanceType"] = "ml.banana.huge";
  auto started = a.target.start(image(), spec(args), {});
  REQUIRE_FALSE(started.has_value());
  INFO(started.error().message);
  CHECK(started.error().code == make_error_code(error::invalid_spec));
  CHECK(started.error().message.find("ValidationException") != std::string::npos);
  CHECK(started.error().message.find("InstanceType") != std::string::npos);
  CHECK(a.server.requests("CreateTrainingJob").size() == 1);
  require_no_violations(a.server);
}

TEST_CASE("a name taken by an ended attempt of the run moves to the next attempt", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  // The first attempt was interrupted and has ended; the run was put back on its queue.
  sm::job_inputs in;
  in.image = ecr_image();
  in.environment = sm::detail::job_environment(s, {}, {});
  auto first = sm::make_create_training_job(s, sm::parse_sagemaker_args(s.args_for("sagemaker")).value(), in).value();
  test::training_step ended;
  ended.status = "Stopped";
  ended.secondary = "Interrupted";
  a.server.add_training_job(first, {ended});
  auto run = a.target.start(image(), s, {}).value();
  CHECK(run.name() == sm::training_job_name(s, 2));
  CHECK(run.name().ends_with("-a2"));
  CHECK(run.wait().state == run_state::finished);
  CHECK(a.server.training_job(sm::training_job_name(s, 2)).has_value());
  require_no_violations(a.server);
}

TEST_CASE("a name taken by an attempt still in progress is followed", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  sm::job_inputs in;
  in.image = ecr_image();
  in.environment = sm::detail::job_environment(s, {}, {});
  auto first = sm::make_create_training_job(s, sm::parse_sagemaker_args(s.args_for("sagemaker")).value(), in).value();
  a.server.add_training_job(first, scripts::succeed({"from the first start"}));
  auto run = a.target.start(image(), s, {}).value();
  CHECK(run.name() == sm::training_job_name(s));
  CHECK(run.wait().state == run_state::finished);
  CHECK(has_line(run.logs(), "from the first start"));
  CHECK(a.server.training_job_names().size() == 1);
  require_no_violations(a.server);
}

TEST_CASE("a dry run emits signed, redacted requests and sends nothing", "[sagemaker-target]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  std::string const token = "dry-run-session-token-xyz";
  auto env = a.server.environment();
  env["AWS_SESSION_TOKEN"] = token;
  auto t = a.target_with(env);
  auto args = pascal_args();
  args["RoleArn"] = "SageMakerRole";
  auto s = spec(args);
  std::vector<json::object> emitted;
  launch_options o;
  o.on_dry_run = [&](json::object const& action) { emitted.push_back(action); };
  o.environment["LIFTOFF_API_TOKEN"] = api_token;
  auto started = t.start(image(), s, o);
  REQUIRE(started.has_value());
  CHECK(started->status().state == run_state::finished);
  CHECK(started->name() == sm::training_job_name(s));
  REQUIRE(emitted.size() >= 2);
  bool saw_create = false, saw_sts = false;
  for (auto const& e : emitted) {
    auto const text = json::serialize(e);
    INFO(text);
    CHECK(e.at("stage").as_string() == "run");
    CHECK(e.at("action").as_string() == "aws api");
    auto const& req = e.at("request").as_object();
    CHECK(req.contains("method"));
    CHECK(req.contains("url"));
    check_no_secret(a.server, text);
    CHECK(text.find(token) == std::string::npos);
    std::string auth;
    for (auto const& [k, v] : req.at("headers").as_object())
      if (k == "Authorization" || k == "authorization") auth = std::string(v.as_string());
    CHECK(auth.find("Credential=" + a.server.config().access_key_id + "/") != std::string::npos);
    CHECK(auth.find("<redacted>") != std::string::npos);
    if (text.find("CreateTrainingJob") != std::string::npos) {
      saw_create = true;
      CHECK(auth.find("/us-east-1/sagemaker/aws4_request") != std::string::npos);
      CHECK(text.find("arn:aws:iam::<account>:role/SageMakerRole") != std::string::npos);
      CHECK(text.find(ecr_image()) != std::string::npos);
    }
    if (text.find("GetCallerIdentity") != std::string::npos) {
      saw_sts = true;
      CHECK(auth.find("/us-east-1/sts/aws4_request") != std::string::npos);
    }
  }
  CHECK(saw_create);
  CHECK(saw_sts);
  CHECK(a.server.requests().empty());
  require_no_violations(a.server);
}
