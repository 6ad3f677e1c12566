#ifndef LIFTOFF_TESTS_UNIT_SAGEMAKER_FIXTURE_HPP
#define LIFTOFF_TESTS_UNIT_SAGEMAKER_FIXTURE_HPP

// What the SageMaker tests share: the official service model (loaded once),
// a launch spec with a complete `resource_args.sagemaker`, an ECR image.

#include <liftoff/sagemaker/training_job.hpp>

#include <liftoff/sagemaker/target.hpp>

#include "support/aws_test_server.hpp"
#include "support/test_support.hpp"

#include <chrono>
#include <mutex>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace liftoff::test::sagemaker_fixture {

inline std::filesystem::path model_file() { return specs_dir() / "sagemaker" / "service-2.json"; }

/// The SageMaker service model of the specs, or nullptr when it is not there.
inline aws::service_model const* spec_model() {
  static auto const loaded = [] {
    std::optional<aws::service_model> m;
    if (!std::filesystem::exists(model_file())) return m;
    auto r = aws::service_model::load(model_file());
    if (r) m = std::move(*r);
    return m;
  }();
  return loaded ? &*loaded : nullptr;
}

/// Skips a test, saying why, when the SageMaker service model is not there.
#define SKIP_WITHOUT_SAGEMAKER_MODEL()                                                                     \
  if (!liftoff::test::sagemaker_fixture::spec_model()) {                                                   \
    WARN("skipped: the SageMaker service model " << liftoff::test::sagemaker_fixture::model_file().string() \
                                                 << " is not present or does not load");                   \
    return;                                                                                                \
  }

/// Skips a test, saying why, when the fake AWS server cannot validate requests.
#define SKIP_WITHOUT_AWS_SERVER()                                                  \
  if (!liftoff::test::aws_test_server::available()) {                              \
    WARN("skipped: " << liftoff::test::aws_test_server::unavailable_reason());     \
    return;                                                                        \
  }

/** The fake AWS server and a target that talks to it only: its environment
    instead of the process's, an empty home (no ~/.aws), no metadata
    endpoints, short polls. */
struct aws_setup {
  aws_setup() : aws_setup(aws_test_server::options{}) {}
  explicit aws_setup(aws_test_server::options o) : server(std::move(o)) { target = fresh_target(); }

  /// A target with the same settings and nothing shared with `target` (as a restarted agent makes it).
  sagemaker_target fresh_target() const { return target_with(server.environment()); }

  sagemaker_target target_with(std::map<std::string, std::string> env) const {
    using namespace std::chrono_literals;
    sagemaker_target t;
    t.aws.environment = std::move(env);
    t.aws.home = home.path();
    t.aws.use_container = false;
    t.aws.use_instance_metadata = false;
    t.poll_min = 20ms;
    t.poll_max = 50ms;
    t.log_poll = 30ms;
    t.retry.base = 5ms;
    t.retry.max = 20ms;
    t.client.request_timeout = 10s;
    return t;
  }

  temp_dir home{"liftoff-sagemaker-home"};
  aws_test_server server;
  sagemaker_target target;
};

inline std::string ecr_image() { return "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train:3c1d"; }

inline artifact image(std::string ref = ecr_image()) {
  return artifact{artifact_kind::registry_image, {}, std::move(ref), "sha256:feed", nullptr};
}

/// The members every training job needs, in PascalCase.
inline boost::json::object pascal_args() {
  return boost::json::parse(R"({
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/models"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600}
  })").as_object();
}

inline launch_spec spec(boost::json::object args = pascal_args()) {
  launch_spec s;
  s.source = image_ref{ecr_image()};
  s.entry_point = {"python", "train.py"};
  s.resource = "sagemaker";
  s.run_id = make_run_id();
  s.job_name = "train";
  s.project = "vision";
  s.resource_args["sagemaker"] = std::move(args);
  return s;
}

/// Collects what a run reports through its launch options.
struct reports {
  std::mutex m;
  std::vector<run_status> states;
  std::vector<log_line> lines;
  launch_options options() {
    launch_options o;
    o.on_status = [this](run_status const& s) {
      std::lock_guard lock(m);
      states.push_back(s);
    };
    o.on_log = [this](log_line const& l) {
      std::lock_guard lock(m);
      lines.push_back(l);
    };
    return o;
  }
  std::vector<run_state> state_list() {
    std::lock_guard lock(m);
    std::vector<run_state> out;
    for (auto const& s : states) out.push_back(s.state);
    return out;
  }
  bool saw(run_state s) {
    std::lock_guard lock(m);
    for (auto const& x : states)
      if (x.state == s) return true;
    return false;
  }
  std::size_t count_line(std::string const& text) {
    std::lock_guard lock(m);
    std::size_t n = 0;
    for (auto const& l : lines)
      if (l.text.find(text) != std::string::npos) ++n;
    return n;
  }
};

inline bool has_line(std::vector<log_line> const& lines, std::string const& text) {
  for (auto const& l : lines)
    if (l.text.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace liftoff::test::sagemaker_fixture

#endif
