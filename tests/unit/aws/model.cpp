#include <liftoff/aws/model.hpp>
#include <liftoff/aws/detail/pattern.hpp>
#include <liftoff/aws/detail/timestamp.hpp>

#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

namespace fs = std::filesystem;
using liftoff::error;
using liftoff::aws::model_problem;
using liftoff::aws::service_model;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

bool spec_present(char const* file) {
  auto const path = liftoff::test::specs_dir() / "sagemaker" / file;
  if (fs::exists(path)) return true;
  WARN("skipped: the SageMaker service model " << path.string() << " is not present");
  return false;
}

/// The full model and the training-job subset, each loaded once per process.
service_model const& spec_model(char const* file) {
  static auto const full = service_model::load(liftoff::test::specs_dir() / "sagemaker" / "service-2.json");
  static auto const subset = service_model::load(liftoff::test::specs_dir() / "sagemaker" / "training-job-subset.json");
  auto const& m = std::string_view(file) == "service-2.json" ? full : subset;
  if (!m) FAIL(m.error());
  return *m;
}

/// A CreateTrainingJob request as the SageMaker target writes one.
boost::json::object training_job() {
  return boost::json::parse(R"({
    "TrainingJobName": "liftoff-train-7f3a-1",
    "RoleArn": "arn:aws:iam::123456789012:role/service-role/SageMakerRole",
    "AlgorithmSpecification": {
      "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:abc",
      "TrainingInputMode": "File",
      "ContainerEntrypoint": ["python", "train.py"],
      "ContainerArguments": ["--epochs", "3"]
    },
    "HyperParameters": {"lr": "0.01"},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
    "EnableManagedSpotTraining": true,
    "Environment": {"LIFTOFF_RUN_ID": "7f3a", "PYTHONUNBUFFERED": "1"},
    "Tags": [{"Key": "liftoff:run-id", "Value": "7f3a"}, {"Key": "team", "Value": "ml research"}]
  })").as_object();
}

/// The problem reported at `path`, failing the test when there is none.
model_problem problem_at(std::vector<model_problem> const& problems, std::string const& path) {
  for (auto const& p : problems)
    if (p.path == path) return p;
  FAIL("no problem at " << path << "; got: " << liftoff::aws::describe(problems));
  return {};
}

}  // namespace

TEST_CASE("a realistic CreateTrainingJob request passes the full model and the subset", "[aws-model]") {
  for (auto const* file : {"service-2.json", "training-job-subset.json"}) {
    if (!spec_present(file)) return;
    auto const& m = spec_model(file);
    INFO(file);
    CHECK(m.has_operation("CreateTrainingJob"));
    CHECK(m.input_shape("CreateTrainingJob") == "CreateTrainingJobRequest");
    CHECK(m.output_shape("DescribeTrainingJob") == "DescribeTrainingJobResponse");
    CHECK(m.metadata().at("targetPrefix").as_string() == "SageMaker");
    auto const problems = m.validate_input("CreateTrainingJob", training_job());
    CHECK(liftoff::aws::describe(problems) == "");
  }
}

TEST_CASE("each kind of problem is reported with its member path", "[aws-model]") {
  if (!spec_present("service-2.json")) return;
  auto const& m = spec_model("service-2.json");

  SECTION("a missing required member") {
    auto body = training_job();
    body.erase("RoleArn");
    auto const problems = m.validate_input("CreateTrainingJob", body);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "RoleArn");
    CHECK(contains(problems[0].message, "required"));
  }
  SECTION("an instance type not in the enum lists allowed values and the closest") {
    auto body = training_job();
    body["ResourceConfig"].as_object()["InstanceType"] = "ml.m5.xlarg";
    auto const p = problem_at(m.validate_input("CreateTrainingJob", body), "ResourceConfig.InstanceType");
    CHECK(contains(p.message, "must be one of ml.m4.xlarge, ml.m4.2xlarge"));
    CHECK(contains(p.message, "values)"));
    CHECK(contains(p.message, "did you mean 'ml.m5.xlarge'"));
  }
  SECTION("numbers below their minimum") {
    // The model allows VolumeSizeInGB 0 (OptionalVolumeSizeInGB has min 0); MaxRuntimeInSeconds has min 1.
    auto body = training_job();
    body["ResourceConfig"].as_object()["VolumeSizeInGB"] = -1;
    body["StoppingCondition"].as_object()["MaxRuntimeInSeconds"] = 0;
    auto const problems = m.validate_input("CreateTrainingJob", body);
    CHECK(problem_at(problems, "ResourceConfig.VolumeSizeInGB").message == "-1 is below the minimum of 0");
    CHECK(problem_at(problems, "StoppingCondition.MaxRuntimeInSeconds").message == "0 is below the minimum of 1");
    body["ResourceConfig"].as_object()["VolumeSizeInGB"] = 0;
    body["StoppingCondition"].as_object()["MaxRuntimeInSeconds"] = 1;
    CHECK(m.validate_input("CreateTrainingJob", body).empty());
  }
  SECTION("an Environment value longer than the maximum, counted in characters") {
    auto body = training_job();
    body["Environment"].as_object()["LONG"] = std::string(513, 'x');
    auto const p = problem_at(m.validate_input("CreateTrainingJob", body), "Environment.LONG");
    CHECK(p.message == "length 513 exceeds the maximum of 512 characters");
    std::string accented;
    for (int i = 0; i < 512; ++i) accented += "\xc3\xa9";  // 512 characters, 1024 bytes
    body["Environment"].as_object()["LONG"] = accented;
    CHECK(m.validate_input("CreateTrainingJob", body).empty());
  }
  SECTION("too many Environment entries") {
    auto body = training_job();
    auto& env = body["Environment"].as_object();
    for (int i = 0; i < 100; ++i) env["VAR_" + std::to_string(i)] = "x";
    auto const p = problem_at(m.validate_input("CreateTrainingJob", body), "Environment");
    CHECK(p.message == "has 102 entries, more than the maximum of 100");
  }
  SECTION("an Environment key that breaks the key pattern") {
    auto body = training_job();
    body["Environment"].as_object()["1-2"] = "x";  // unanchored: any letter or _ would match
    auto const p = problem_at(m.validate_input("CreateTrainingJob", body), "Environment.1-2");
    CHECK(contains(p.message, "the key does not match the pattern [a-zA-Z_][a-zA-Z0-9_]*"));
  }
  SECTION("an unknown member with the closest name") {
    auto body = training_job();
    body["ResourceConfig"].as_object()["InstanceTyp"] = "ml.m5.xlarge";
    body["Tags"].as_array()[1].as_object()["Valeu"] = "x";
    auto const problems = m.validate_input("CreateTrainingJob", body);
    CHECK(contains(problem_at(problems, "ResourceConfig.InstanceTyp").message, "did you mean 'InstanceType'?"));
    CHECK(contains(problem_at(problems, "Tags[1].Valeu").message, "did you mean 'Value'?"));
  }
  SECTION("wrong types") {
    auto body = training_job();
    body["ResourceConfig"].as_object()["InstanceCount"] = "1";
    body["EnableManagedSpotTraining"] = "yes";
    body["HyperParameters"].as_object()["lr"] = 0.01;
    body["Tags"] = boost::json::object{{"Key", "v"}};
    auto const problems = m.validate_input("CreateTrainingJob", body);
    CHECK(problem_at(problems, "ResourceConfig.InstanceCount").message == "must be an integer, not a string");
    CHECK(contains(problem_at(problems, "EnableManagedSpotTraining").message, "must be a boolean"));
    CHECK(problem_at(problems, "HyperParameters.lr").message == "must be a string, not a number");
    CHECK(problem_at(problems, "Tags").message == "must be a list, not an object");
  }
  SECTION("a TrainingJobName that does not match its pattern") {
    auto body = training_job();
    body["TrainingJobName"] = "--";
    auto const p = problem_at(m.validate_input("CreateTrainingJob", body), "TrainingJobName");
    CHECK(contains(p.message, "does not match the pattern [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"));
  }
  SECTION("a RoleArn that is not a role ARN, and a tag value with a tab") {
    auto body = training_job();
    body["RoleArn"] = "arn:aws:iam::12345:role/too-short-account";
    body["Tags"].as_array()[1].as_object()["Value"] = "\t";
    auto const problems = m.validate_input("CreateTrainingJob", body);
    CHECK(contains(problem_at(problems, "RoleArn").message, "does not match the pattern"));
    // The tag pattern is unanchored: only a value with no allowed character at all fails (here: empty match passes).
    CHECK(liftoff::aws::describe(problems).find("Tags[1]") == std::string::npos);
  }
  SECTION("an unknown operation") {
    auto const problems = m.validate_input("CreateTrainingJobs", training_job());
    REQUIRE(problems.size() == 1);
    CHECK(contains(problems[0].message, "SageMaker has no operation CreateTrainingJobs; did you mean CreateTrainingJob?"));
  }
  SECTION("describe joins path and message") {
    auto body = training_job();
    body.erase("RoleArn");
    body.erase("TrainingJobName");
    auto const text = liftoff::aws::describe(m.validate_input("CreateTrainingJob", body));
    CHECK(contains(text, "TrainingJobName: is required"));
    CHECK(contains(text, "; RoleArn: is required"));
  }
}

TEST_CASE("the subset and the full model agree on the training-job shapes", "[aws-model]") {
  if (!spec_present("service-2.json") || !spec_present("training-job-subset.json")) return;
  auto const& full = spec_model("service-2.json");
  auto const& subset = spec_model("training-job-subset.json");
  int compared = 0;
  for (auto const* name : {"CreateTrainingJobRequest", "ResourceConfig", "TrainingInstanceType", "TrainingJobName",
                           "RoleArn", "TrainingEnvironmentMap", "TagList", "Tag", "DescribeTrainingJobResponse",
                           "SecondaryStatusTransition", "StopTrainingJobRequest"}) {
    INFO(name);
    auto const* a = full.shape(name);
    auto const* b = subset.shape(name);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(boost::json::serialize(*a) == boost::json::serialize(*b));
    ++compared;
  }
  CHECK(compared == 11);
  CHECK(full.shape("NoSuchShape") == nullptr);
}

TEST_CASE("every pattern of the full model compiles and the botocore forms match as the service does", "[aws-model]") {
  if (!spec_present("service-2.json")) return;
  auto const& m = spec_model("service-2.json");
  REQUIRE(m.shape("CreateTrainingJobRequest"));
  std::set<std::string> patterns;
  auto doc = boost::json::parse(liftoff::test::read_file(liftoff::test::specs_dir() / "sagemaker" / "service-2.json"));
  for (auto const& kv : doc.at("shapes").as_object())
    if (auto const* p = kv.value().as_object().if_contains("pattern")) patterns.insert(std::string(p->as_string()));
  REQUIRE(patterns.size() > 100);
  std::vector<std::string> broken;
  for (auto const& p : patterns)
    if (!liftoff::aws::detail::compiled_pattern(p)) broken.push_back(p);
  CHECK(broken.empty());

  using liftoff::aws::detail::pattern_matches;
  CHECK(pattern_matches("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "my-job-1"));
  CHECK_FALSE(pattern_matches("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "-job"));
  CHECK(pattern_matches("[\\S\\s]*", "anything\n at all"));
  auto const role = "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$";
  CHECK(pattern_matches(role, "arn:aws:iam::123456789012:role/x"));
  CHECK(pattern_matches(role, "arn:aws-cn:iam::123456789012:role/path/x"));
  CHECK_FALSE(pattern_matches(role, "arn:aws:iam::123456789012:user/x"));
  auto const tag = "^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$";
  CHECK(pattern_matches(tag, "caf\xc3\xa9 12:ok"));
  CHECK_FALSE(pattern_matches(tag, "tab\there"));
  CHECK_FALSE(pattern_matches(tag, "semi;colon"));
  // After a range, '-' is a literal (Java and ECMAScript), not another range.
  CHECK(pattern_matches("^[a-z0-9-\\.]+$", "a-b.c"));
  CHECK_FALSE(pattern_matches("^[a-z0-9-\\.]+$", "a,b"));
  CHECK(pattern_matches("^[-.a-z0-9]+$", "-a.b"));
  // Patterns are searched, not anchored: a match anywhere is enough.
  CHECK(pattern_matches("[a-z]+", "123abc456"));
}

TEST_CASE("serialize and deserialize convert timestamps, blobs and names", "[aws-model]") {
  auto m = service_model::from_json(boost::json::parse(R"({
    "metadata": {"protocol": "json", "targetPrefix": "Test"},
    "operations": {"Op": {"name": "Op", "input": {"shape": "In"}, "output": {"shape": "In"}}},
    "shapes": {
      "In": {"type": "structure", "members": {
        "When": {"shape": "Time"}, "Iso": {"shape": "Time", "timestampFormat": "iso8601"},
        "Data": {"shape": "Blob"}, "Renamed": {"shape": "Str", "jsonName": "wire_name"},
        "List": {"shape": "Times"}, "Nothing": {"shape": "Str"}}},
      "Time": {"type": "timestamp"}, "Blob": {"type": "blob"}, "Str": {"type": "string"},
      "Times": {"type": "list", "member": {"shape": "Time"}}
    }
  })"));
  REQUIRE(m.has_value());
  auto const wire = m->serialize("In", boost::json::parse(R"({
    "When": "2000-01-02T20:34:56Z", "Iso": 946845296, "Data": "binary-value", "Renamed": "x",
    "List": [946845296.5, "2000-01-02T21:34:56+01:00"], "Nothing": null})"));
  REQUIRE(wire.has_value());
  CHECK(boost::json::serialize(*wire) ==
        R"({"When":946845296,"Iso":"2000-01-02T20:34:56Z","Data":"YmluYXJ5LXZhbHVl","wire_name":"x","List":[9.468452965E8,946845296]})");
  auto const back = m->deserialize("In", *wire);
  REQUIRE(back.has_value());
  CHECK(back->at("Data").as_string() == "binary-value");
  CHECK(back->at("Iso").as_int64() == 946845296);
  CHECK(back->at("Renamed").as_string() == "x");
  CHECK_FALSE(back->as_object().contains("wire_name"));

  auto const bad = m->serialize("In", boost::json::parse(R"({"List": [1, "yesterday"]})"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::make_error_code(error::invalid_spec));
  CHECK(contains(bad.error().message, "List[1]: must be a timestamp"));
  auto const unknown = m->serialize("In", boost::json::parse(R"({"Whne": 1})"));
  REQUIRE_FALSE(unknown.has_value());
  CHECK(contains(unknown.error().message, "Whne: is not a member of In"));
}

TEST_CASE("service_model::load names the file and what is wrong", "[aws-model]") {
  liftoff::test::temp_dir dir;
  auto missing = service_model::load(dir / "nope.json");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == liftoff::make_error_code(error::file_not_found));
  CHECK(contains(missing.error().message, "nope.json"));

  liftoff::test::write_file(dir / "bad.json", "{\"operations\": ");
  auto bad = service_model::load(dir / "bad.json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::make_error_code(error::parse_error));
  CHECK(contains(bad.error().message, "bad.json"));

  liftoff::test::write_file(dir / "other.json", "{\"openapi\": \"3.0\"}");
  auto other = service_model::load(dir / "other.json");
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code == liftoff::make_error_code(error::invalid_spec));
  CHECK(contains(other.error().message, "other.json"));
  CHECK(contains(other.error().message, "\"operations\" and \"shapes\""));
}

TEST_CASE("find_model looks in LIFTOFF_AWS_MODELS, then botocore's data directories", "[aws-model]") {
  liftoff::test::temp_dir dir;
  auto const model = R"({"metadata": {"signingName": "sagemaker", "endpointPrefix": "api.sagemaker",
                         "serviceId": "SageMaker"}, "operations": {}, "shapes": {}})";
  liftoff::test::write_file(dir / "data" / "sagemaker" / "2017-07-24" / "service-2.json", model);
  liftoff::test::write_file(dir / "single.json", model);

  liftoff::aws::credentials_options o;
  o.home = dir / "home";
  o.environment = std::map<std::string, std::string>{{"LIFTOFF_AWS_MODELS", (dir / "data").string()}};
  auto found = liftoff::aws::find_model(o, "sagemaker", "2017-07-24");
  REQUIRE(found.has_value());
  CHECK(*found == dir / "data" / "sagemaker" / "2017-07-24" / "service-2.json");
  CHECK((liftoff::aws::find_model(o, "sagemaker", "") == found));  // the newest version
  CHECK_FALSE(liftoff::aws::find_model(o, "sagemaker", "2099-01-01").has_value());

  // A file is used for the service it describes only.
  o.environment = std::map<std::string, std::string>{{"LIFTOFF_AWS_MODELS", (dir / "single.json").string()}};
  CHECK((liftoff::aws::find_model(o, "sagemaker", "2017-07-24") == std::optional<fs::path>(dir / "single.json")));
  CHECK_FALSE((liftoff::aws::find_model(o, "ecr", "2015-09-21") == std::optional<fs::path>(dir / "single.json")));

  // botocore under ~/.local
  liftoff::test::write_file(dir / "home" / ".local" / "lib" / "python3.11" / "site-packages" / "botocore" / "data" /
                                "liftoff-test-service" / "2020-01-01" / "service-2.json",
                            model);
  o.environment = std::map<std::string, std::string>{};
  auto local = liftoff::aws::find_model(o, "liftoff-test-service", "2020-01-01");
  REQUIRE(local.has_value());
  CHECK(contains(local->string(), ".local/lib/python3.11/site-packages/botocore/data"));
}

TEST_CASE("timestamps out of the years 0000-9999 are written at the nearest end, NaN as the epoch", "[aws-model]") {
  using liftoff::aws::detail::format_http_date;
  using liftoff::aws::detail::format_iso8601;
  CHECK(format_iso8601(1e300) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(-1e300) == "0000-01-01T00:00:00Z");
  CHECK(format_iso8601(std::nan("")) == "1970-01-01T00:00:00Z");
  CHECK(format_http_date(1e19) == "Fri, 31 Dec 9999 23:59:59 GMT");
  CHECK(format_iso8601(946845296.5) == "2000-01-02T20:34:56.500Z");
}
