// The SageMaker training job request without AWS: reading
// resource_args.sagemaker in both spellings, filling in the run, naming the
// job, checking it against the official model, and reading job states.

#include <liftoff/sagemaker/training_job.hpp>

#include "fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/regex.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;
namespace json = boost::json;
namespace sm = liftoff::sagemaker;
using namespace liftoff::test::sagemaker_fixture;

namespace {

json::object snake_args() {
  return json::parse(R"({
    "role_arn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "resource_config": {"instance_type": "ml.m5.xlarge", "instance_count": 1, "volume_size_in_gb": 30},
    "output_data_config": {"s3_output_path": "s3://bucket/models"},
    "stopping_condition": {"max_runtime_in_seconds": 3600}
  })").as_object();
}

sm::job_inputs inputs(launch_spec const& s) {
  sm::job_inputs in;
  in.image = ecr_image();
  in.account = "123456789012";
  in.environment = sm::detail::job_environment(s, {}, {"LIFTOFF_API_TOKEN"});
  return in;
}

result<json::object> request_for(launch_spec const& s, aws::service_model const* model = nullptr,
                                 sm::job_inputs const* in = nullptr) {
  auto settings = sm::parse_sagemaker_args(s.args_for("sagemaker"), model);
  if (!settings) return settings.error();
  auto const given = in ? *in : inputs(s);
  return sm::make_create_training_job(s, *settings, given, model);
}

bool valid_name(std::string const& name) {
  static boost::regex const pattern("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$");
  return name.size() <= 63 && boost::regex_match(name, pattern);
}

}  // namespace

TEST_CASE("PascalCase and snake_case configs read the same, with and without the model", "[sagemaker-job]") {
  auto const pascal = sm::parse_sagemaker_args(pascal_args());
  REQUIRE(pascal.has_value());
  auto const snake = sm::parse_sagemaker_args(snake_args());
  REQUIRE(snake.has_value());
  CHECK(json::serialize(snake->request) == json::serialize(pascal->request));
  CHECK(snake->request.at("ResourceConfig").as_object().contains("VolumeSizeInGB"));
  CHECK(snake->request.at("OutputDataConfig").as_object().contains("S3OutputPath"));

  SKIP_WITHOUT_SAGEMAKER_MODEL();
  auto const* model = spec_model();
  auto const modeled = sm::parse_sagemaker_args(snake_args(), model);
  REQUIRE(modeled.has_value());
  CHECK(json::serialize(modeled->request) == json::serialize(pascal->request));
  // The model matches members whatever their spelling.
  auto odd = json::parse(R"({"hyperparameters": {"learning_rate": 0.1}, "vpcconfig": {"security_group_ids": ["sg-1"],
                            "subnets": ["subnet-1"]}, "output_data_config": {"kms_key_id": "k", "s3_output_path": "s3://b/p"}})")
                 .as_object();
  auto const read = sm::parse_sagemaker_args(odd, model);
  REQUIRE(read.has_value());
  CHECK(read->request.at("HyperParameters").at("learning_rate") == "0.1");
  CHECK(read->request.at("VpcConfig").as_object().contains("SecurityGroupIds"));
  CHECK(read->request.at("OutputDataConfig").as_object().contains("KmsKeyId"));
}

TEST_CASE("liftoff's own keys are read beside the request members", "[sagemaker-job]") {
  auto args = pascal_args();
  args["region"] = "eu-west-1";
  args["profile"] = "ml";
  args["registry"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/train";
  auto const settings = sm::parse_sagemaker_args(args);
  REQUIRE(settings.has_value());
  CHECK(settings->region == "eu-west-1");
  CHECK(settings->profile == "ml");
  CHECK(settings->registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/train");
  CHECK_FALSE(settings->request.contains("region"));
  CHECK_FALSE(settings->request.contains("Region"));

  args["region"] = 5;
  auto const bad = sm::parse_sagemaker_args(args);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("resource_args.sagemaker.region: expected a string") != std::string::npos);
}

TEST_CASE("an unknown key is refused with the closest member", "[sagemaker-job]") {
  auto args = snake_args();
  args["resource_confg"] = json::object{};
  auto const plain = sm::parse_sagemaker_args(args);
  REQUIRE_FALSE(plain.has_value());
  CHECK(plain.error().code == make_error_code(error::unknown_field));
  CHECK(plain.error().message.find("resource_args.sagemaker.resource_confg") != std::string::npos);
  CHECK(plain.error().message.find("ResourceConfig") != std::string::npos);

  auto args2 = pascal_args();
  args2["HyperParameter"] = json::object{};
  auto const plain2 = sm::parse_sagemaker_args(args2);
  REQUIRE_FALSE(plain2.has_value());
  CHECK(plain2.error().message.find("did you mean `HyperParameters`") != std::string::npos);

  SKIP_WITHOUT_SAGEMAKER_MODEL();
  auto const modeled = sm::parse_sagemaker_args(args, spec_model());
  REQUIRE_FALSE(modeled.has_value());
  CHECK(modeled.error().code == make_error_code(error::unknown_field));
  CHECK(modeled.error().message.find("ResourceConfig") != std::string::npos);

  // A nested unknown member is left to the model's check, which names it and the closest.
  auto nested = snake_args();
  nested["resource_config"].as_object()["instance_tipe"] = "ml.m5.xlarge";
  auto const s = spec(nested);
  auto const r = request_for(s, spec_model());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("resource_args.sagemaker.ResourceConfig") != std::string::npos);
  CHECK(r.error().message.find("InstanceType") != std::string::npos);
}

TEST_CASE("values of the wrong JSON type are refused naming the field", "[sagemaker-job]") {
  auto args = snake_args();
  args["resource_config"] = "ml.m5.xlarge";
  auto const plain = sm::parse_sagemaker_args(args);
  REQUIRE_FALSE(plain.has_value());
  CHECK(plain.error().code == make_error_code(error::invalid_spec));
  CHECK(plain.error().message.find("resource_args.sagemaker.resource_config: expected an object, got string") !=
        std::string::npos);

  auto tags = pascal_args();
  tags["Tags"] = json::object{{"team", "vision"}};
  auto const t = sm::parse_sagemaker_args(tags);
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().message.find("resource_args.sagemaker.Tags: expected an array") != std::string::npos);

  auto hyper = pascal_args();
  hyper["HyperParameters"] = json::object{{"layers", json::array{1, 2}}};
  auto const h = sm::parse_sagemaker_args(hyper);
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().message.find("resource_args.sagemaker.HyperParameters.layers: expected a string, number or "
                               "boolean") != std::string::npos);

  SKIP_WITHOUT_SAGEMAKER_MODEL();
  auto nested = snake_args();
  nested["resource_config"].as_object()["instance_count"] = "two";
  auto const modeled = sm::parse_sagemaker_args(nested, spec_model());
  REQUIRE_FALSE(modeled.has_value());
  CHECK(modeled.error().message.find("resource_args.sagemaker.resource_config.instance_count: expected an integer, "
                                     "got string") != std::string::npos);
  CHECK(modeled.error().message.find("ResourceConfig.InstanceCount") != std::string::npos);
  nested = snake_args();
  nested["enable_managed_spot_training"] = "yes";
  auto const spot = sm::parse_sagemaker_args(nested, spec_model());
  REQUIRE_FALSE(spot.has_value());
  CHECK(spot.error().message.find("resource_args.sagemaker.enable_managed_spot_training: expected true or false") !=
        std::string::npos);
}

TEST_CASE("hyperparameters given as numbers and booleans become strings", "[sagemaker-job]") {
  auto args = pascal_args();
  args["HyperParameters"] = json::parse(R"({"epochs": 3, "lr": 0.5, "augment": true, "model": "resnet"})");
  auto const settings = sm::parse_sagemaker_args(args);
  REQUIRE(settings.has_value());
  auto const& h = settings->request.at("HyperParameters").as_object();
  CHECK(h.at("epochs") == "3");
  CHECK(h.at("lr") == "0.5");
  CHECK(h.at("augment") == "true");
  CHECK(h.at("model") == "resnet");
  // Map keys are kept as written, not PascalCased.
  auto snake = snake_args();
  snake["hyper_parameters"] = json::object{{"learning_rate", 1}};
  snake["environment"] = json::object{{"my_var", "x"}};
  auto const read = sm::parse_sagemaker_args(snake);
  REQUIRE(read.has_value());
  CHECK(read->request.at("HyperParameters").as_object().contains("learning_rate"));
  CHECK(read->request.at("Environment").as_object().contains("my_var"));
}

TEST_CASE("the request gets the image, command, environment and tags of the run", "[sagemaker-job]") {
  auto s = spec();
  s.overrides.args = {"--epochs", "3"};
  launch_options o;
  o.environment["LIFTOFF_API_TOKEN"] = "tok-secret-value-123";
  o.environment["LIFTOFF_SERVER"] = "https://liftoff.example.com";
  auto in = inputs(s);
  in.environment = sm::detail::job_environment(s, o, {"LIFTOFF_API_TOKEN"});
  auto const r = request_for(s, nullptr, &in);
  REQUIRE(r.has_value());
  auto const& req = *r;
  CHECK(req.at("TrainingJobName").as_string() == sm::training_job_name(s));
  auto const& algo = req.at("AlgorithmSpecification").as_object();
  CHECK(algo.at("TrainingImage").as_string() == ecr_image());
  CHECK(algo.at("TrainingInputMode") == "File");
  CHECK(algo.at("ContainerEntrypoint") == json::array{"python", "train.py"});
  CHECK(algo.at("ContainerArguments") == json::array{"--epochs", "3"});
  auto const& env = req.at("Environment").as_object();
  CHECK(env.at("LIFTOFF_RUN_ID").as_string() == s.run_id);
  CHECK(env.at("LIFTOFF_PROJECT") == "vision");
  CHECK(env.at("LIFTOFF_JOB") == "train");
  CHECK(env.at("LIFTOFF_CONFIG") == "{}");
  CHECK(env.at("LIFTOFF_SERVER") == "https://liftoff.example.com");
  CHECK_FALSE(env.contains("LIFTOFF_API_TOKEN"));
  CHECK(json::serialize(req).find("tok-secret-value-123") == std::string::npos);
  auto const& tags = req.at("Tags").as_array();
  REQUIRE(tags.size() == 1);
  CHECK(tags[0].at("Key").as_string() == sm::run_id_tag);
  CHECK(tags[0].at("Value").as_string() == s.run_id);

  // An override entry point replaces the job's.
  s.overrides.entry_point = std::vector<std::string>{"bash", "-c", "echo hi"};
  s.overrides.args.clear();
  auto const r2 = request_for(s);
  REQUIRE(r2.has_value());
  CHECK(r2->at("AlgorithmSpecification").at("ContainerEntrypoint") == json::array{"bash", "-c", "echo hi"});
  CHECK_FALSE(r2->at("AlgorithmSpecification").as_object().contains("ContainerArguments"));

  SKIP_WITHOUT_SAGEMAKER_MODEL();
  auto const modeled = request_for(spec(), spec_model());
  REQUIRE(modeled.has_value());
  CHECK(spec_model()->validate_input("CreateTrainingJob", *modeled).empty());
}

TEST_CASE("the config wins over what the run fills in", "[sagemaker-job]") {
  auto args = pascal_args();
  args["AlgorithmSpecification"] = json::parse(R"({"TrainingImage": "111111111111.dkr.ecr.us-east-1.amazonaws.com/own:1",
      "TrainingInputMode": "FastFile", "ContainerEntrypoint": ["torchrun"]})");
  args["Environment"] = json::object{{"LIFTOFF_PROJECT", "overridden"}, {"EXTRA", "1"}};
  args["Tags"] = json::parse(R"([{"Key": "team", "Value": "vision"}, {"Key": "liftoff:run-id", "Value": "stale"}])");
  args["TrainingJobName"] = "ignored";
  auto const s = spec(args);
  auto const r = request_for(s);
  REQUIRE(r.has_value());
  auto const& algo = r->at("AlgorithmSpecification").as_object();
  CHECK(algo.at("TrainingImage") == "111111111111.dkr.ecr.us-east-1.amazonaws.com/own:1");
  CHECK(algo.at("TrainingInputMode") == "FastFile");
  CHECK(algo.at("ContainerEntrypoint") == json::array{"torchrun"});
  CHECK(r->at("Environment").at("LIFTOFF_PROJECT") == "overridden");
  CHECK(r->at("Environment").at("EXTRA") == "1");
  CHECK(r->at("Environment").at("LIFTOFF_RUN_ID").as_string() == s.run_id);
  auto const& tags = r->at("Tags").as_array();
  REQUIRE(tags.size() == 2);
  CHECK(tags[0].at("Key") == "team");
  CHECK(tags[1].at("Value").as_string() == s.run_id);  // the run's id, not a stale one
  // The name is how the run's job is found again: never the config's.
  CHECK(r->at("TrainingJobName").as_string() == sm::training_job_name(s));
}

TEST_CASE("a bare role name is expanded with the account", "[sagemaker-job]") {
  auto args = pascal_args();
  args["RoleArn"] = "SageMakerRole";
  auto const s = spec(args);
  auto const r = request_for(s);
  REQUIRE(r.has_value());
  CHECK(r->at("RoleArn") == "arn:aws:iam::123456789012:role/SageMakerRole");

  auto in = inputs(s);
  in.partition = "aws-cn";
  in.account = "210987654321";
  auto const cn = request_for(s, nullptr, &in);
  REQUIRE(cn.has_value());
  CHECK(cn->at("RoleArn") == "arn:aws-cn:iam::210987654321:role/SageMakerRole");

  in.account.clear();
  auto const none = request_for(s, nullptr, &in);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().message.find("resource_args.sagemaker.RoleArn") != std::string::npos);
  CHECK(none.error().message.find("arn:aws:iam::<account>:role/SageMakerRole") != std::string::npos);

  // A full ARN is kept even without an account.
  auto const full = request_for(spec(), nullptr, &in);
  REQUIRE(full.has_value());
  CHECK(full->at("RoleArn") == "arn:aws:iam::123456789012:role/SageMakerRole");
}

TEST_CASE("missing required members say what they need", "[sagemaker-job]") {
  struct expectation {
    char const* member;
    char const* hint;
  };
  for (auto const& [member, hint] : {expectation{"RoleArn", "IAM role"}, expectation{"ResourceConfig", "InstanceType"},
                                     expectation{"OutputDataConfig", "S3OutputPath"},
                                     expectation{"StoppingCondition", "MaxRuntimeInSeconds"}}) {
    auto args = pascal_args();
    args.erase(member);
    auto const r = request_for(spec(args));
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().message);
    CHECK(r.error().code == make_error_code(error::invalid_spec));
    CHECK(r.error().message.find(std::string("resource_args.sagemaker.") + member + " is required") !=
          std::string::npos);
    CHECK(r.error().message.find(hint) != std::string::npos);
  }
}

TEST_CASE("the model's constraints are checked with the member path", "[sagemaker-job]") {
  SKIP_WITHOUT_SAGEMAKER_MODEL();
  auto const* model = spec_model();

  SECTION("an invalid instance type") {
    auto args = snake_args();
    args["resource_config"].as_object()["instance_type"] = "ml.banana.huge";
    auto const r = request_for(spec(args), model);
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().message);
    CHECK(r.error().code == make_error_code(error::invalid_spec));
    CHECK(r.error().message.find("resource_args.sagemaker.ResourceConfig.InstanceType") != std::string::npos);
    CHECK(r.error().message.find("ml.m4.xlarge") != std::string::npos);  // the allowed values are listed
  }
  SECTION("a volume size below the minimum") {
    auto args = snake_args();
    args["resource_config"].as_object()["volume_size_in_gb"] = -1;
    auto const r = request_for(spec(args), model);
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().message);
    CHECK(r.error().message.find("resource_args.sagemaker.ResourceConfig.VolumeSizeInGB") != std::string::npos);
    CHECK(r.error().message.find("minimum of 0") != std::string::npos);
  }
  SECTION("an environment value too long names the variable") {
    auto s = spec();
    s.overrides.run_config["notes"] = std::string(600, 'x');
    auto const r = request_for(s, model);
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().message);
    CHECK(r.error().message.find("resource_args.sagemaker.Environment.LIFTOFF_CONFIG") != std::string::npos);
    CHECK(r.error().message.find("512") != std::string::npos);
  }
  SECTION("without the model, nothing is checked beyond the required members") {
    auto args = snake_args();
    args["resource_config"].as_object()["instance_type"] = "ml.banana.huge";
    CHECK(request_for(spec(args)).has_value());
  }
}

TEST_CASE("training job names follow SageMaker's pattern and length", "[sagemaker-job]") {
  launch_spec s;
  s.run_id = "ab12cd34";
  s.job_name = "train";
  CHECK(sm::training_job_name(s) == "train-ab12cd34");
  CHECK(sm::training_job_name(s, 2) == "train-ab12cd34-a2");
  s.name = "My Run: v2 (final)!!";
  CHECK(sm::training_job_name(s) == "My-Run-v2-final-ab12cd34");
  s.name = "___";
  CHECK(sm::training_job_name(s) == "train-ab12cd34");  // nothing usable: the job name
  s.job_name.clear();
  s.project = "proj.x";
  CHECK(sm::training_job_name(s) == "proj-x-ab12cd34");
  s.project.clear();
  CHECK(sm::training_job_name(s) == "liftoff-ab12cd34");

  s.name = std::string(200, 'n') + "--ü--";
  for (int attempt : {1, 2, 10}) {
    auto const name = sm::training_job_name(s, attempt);
    INFO(name);
    CHECK(valid_name(name));
    CHECK(name.size() == 63);
    CHECK(name.find("ab12cd34") != std::string::npos);
    if (attempt > 1) CHECK(name.ends_with("-a" + std::to_string(attempt)));
  }
  s.name = std::string(56, 'x') + "-" + "y";  // the cut falls on a dash
  CHECK(valid_name(sm::training_job_name(s)));
  s.run_id = std::string(80, 'r');
  s.name = "run";
  auto const long_id = sm::training_job_name(s, 3);
  INFO(long_id);
  CHECK(valid_name(long_id));
  CHECK(long_id.ends_with("-a3"));
}

TEST_CASE("descriptions are read and mapped to run states", "[sagemaker-job]") {
  auto const d = json::parse(R"({
    "TrainingJobName": "train-ab12cd34", "TrainingJobStatus": "Failed", "SecondaryStatus": "Failed",
    "FailureReason": "AlgorithmError: exit code 1", "EnableManagedSpotTraining": true,
    "Environment": {"LIFTOFF_RUN_ID": "ab12cd34"},
    "SecondaryStatusTransitions": [{"Status": "Starting", "StatusMessage": "Preparing"},
                                   {"Status": "Failed", "StatusMessage": "Training job failed"}]
  })").as_object();
  auto const v = sm::read_description(d);
  CHECK(v.status == "Failed");
  CHECK(v.secondary_status == "Failed");
  CHECK(v.failure_reason == "AlgorithmError: exit code 1");
  CHECK(v.status_message == "Training job failed");
  CHECK(v.managed_spot);
  CHECK(v.run_id == "ab12cd34");

  struct row {
    char const* status;
    char const* secondary;
    bool stop_requested;
    run_state expected;
  };
  row const table[] = {
      {"InProgress", "Starting", false, run_state::starting},
      {"InProgress", "Downloading", false, run_state::starting},
      {"InProgress", "Training", false, run_state::running},
      {"InProgress", "Uploading", false, run_state::running},
      {"Completed", "Completed", false, run_state::finished},
      {"Failed", "Failed", false, run_state::failed},
      {"Stopped", "Stopped", true, run_state::stopped},
      {"Stopped", "Stopped", false, run_state::stopped},
      {"Stopped", "Interrupted", false, run_state::preempted},
      {"Failed", "Interrupted", false, run_state::preempted},
      {"Stopped", "Interrupted", true, run_state::stopped},
      {"Stopped", "MaxWaitTimeExceeded", false, run_state::failed},
      {"Failed", "MaxWaitTimeExceeded", false, run_state::failed},
      {"Stopped", "MaxRuntimeExceeded", false, run_state::failed},
  };
  for (auto const& r : table) {
    sm::job_view jv;
    jv.status = r.status;
    jv.secondary_status = r.secondary;
    auto const st = sm::status_of(jv, r.stop_requested);
    INFO(r.status << " / " << r.secondary << " stop_requested=" << r.stop_requested);
    CHECK(st.state == r.expected);
  }
  auto view = [](char const* status, char const* secondary) {
    sm::job_view jv;
    jv.status = status;
    jv.secondary_status = secondary;
    return jv;
  };
  CHECK_FALSE(sm::status_of(view("Stopping", "Stopping"), true).terminal());

  auto const failed = sm::status_of(v, false);
  CHECK(failed.state == run_state::failed);
  CHECK(failed.stage == failure_stage::run);
  CHECK(failed.message.find("AlgorithmError: exit code 1") != std::string::npos);
  CHECK(failed.message.find("CloudWatch") != std::string::npos);
  CHECK(sm::status_of(view("Completed", "Completed"), false).exit_code == 0);
  auto const spot = sm::status_of(view("Stopped", "Interrupted"), false);
  CHECK(spot.message.find("spot") != std::string::npos);
  auto const wait = sm::status_of(view("Stopped", "MaxWaitTimeExceeded"), false);
  CHECK(wait.message.find("spot capacity did not come in time") != std::string::npos);
  CHECK(wait.message.find("MaxWaitTimeInSeconds") != std::string::npos);
}
