// From Job, custom-resource and Pod objects to run states.

#include <liftoff/kube/status.hpp>

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::object obj(char const* text) { return json::parse(text).as_object(); }

json::object pod(char const* status, char const* spec = R"({"containers": [{"name": "main"}]})") {
  auto p = obj(R"({"kind": "Pod", "metadata": {"name": "job-abcde"}})");
  p["status"] = json::parse(status);
  p["spec"] = json::parse(spec);
  return p;
}

}  // namespace

TEST_CASE("a Job that completes finishes the run; its running pod is followed", "[kube-status]") {
  kube::run_tracker t(true);
  CHECK(t.status().state == run_state::starting);
  t.on_pod(pod(R"({"phase": "Running", "containerStatuses": [{"name": "main", "state": {"running": {}}}]})"), false);
  CHECK(t.status().state == run_state::running);
  auto targets = t.take_log_targets();
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].pod == "job-abcde");
  CHECK(targets[0].container == "main");
  CHECK(t.take_log_targets().empty());
  t.on_workload(obj(R"({"kind": "Job", "status": {"conditions": [{"type": "Complete", "status": "True"}]}})"), false);
  CHECK(t.status().state == run_state::finished);
}

TEST_CASE("a failed Job is explained by its pod: exit code, OOM, disruption", "[kube-status]") {
  auto failed_job = obj(R"({"kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True",
      "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}})");
  SECTION("exit code") {
    kube::run_tracker t(true);
    t.on_pod(pod(R"({"phase": "Failed", "containerStatuses": [{"name": "main",
        "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}]})"), false);
    t.on_workload(failed_job, false);
    CHECK(t.status().state == run_state::failed);
    CHECK(t.status().exit_code == 3);
    CHECK_THAT(t.status().message, Catch::Contains("exited with code 3"));
  }
  SECTION("the Job's failure arrives before its pod's: the pod explains it afterwards") {
    kube::run_tracker t(true);
    t.on_workload(failed_job, false);
    CHECK(t.status().state == run_state::failed);
    CHECK_THAT(t.status().message, Catch::Contains("BackoffLimitExceeded"));
    t.on_pod(pod(R"({"phase": "Failed", "containerStatuses": [{"name": "main",
        "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]})",
                 R"({"containers": [{"name": "main", "resources": {"limits": {"memory": "64Mi"}}}]})"),
             false);
    CHECK(t.status().state == run_state::failed);
    CHECK_THAT(t.status().message, Catch::StartsWith("out of memory (limit 64Mi)"));
  }
  SECTION("eviction") {
    kube::run_tracker t(true);
    t.on_pod(pod(R"({"phase": "Failed", "conditions": [{"type": "DisruptionTarget", "status": "True",
        "reason": "EvictionByEvictionAPI", "message": "Eviction API: evicting"}]})"), false);
    t.on_workload(failed_job, false);
    CHECK(t.status().state == run_state::preempted);
    CHECK_THAT(t.status().message, Catch::Contains("EvictionByEvictionAPI"));
  }
}

TEST_CASE("a pod stuck pulling its image fails the run after the grace period", "[kube-status]") {
  kube::run_tracker t(true, 30s);
  auto start = kube::run_tracker::clock::now();
  t.on_pod(pod(R"({"phase": "Pending", "containerStatuses": [{"name": "main", "image": "nope/missing:1",
      "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope/missing:1\""}}}]})"),
           false, start);
  t.tick(start + 29s);
  CHECK(t.status().state == run_state::starting);
  t.tick(start + 31s);
  CHECK(t.status().state == run_state::failed);
  CHECK(t.gave_up());
  CHECK_THAT(t.status().message, Catch::Contains("nope/missing:1") && Catch::Contains("ImagePullBackOff"));
}

TEST_CASE("an unschedulable pod gives one warning per message", "[kube-status]") {
  kube::run_tracker t(true);
  auto p = pod(R"({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
      "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}]})");
  t.on_pod(p, false);
  t.on_pod(p, false);
  auto w = t.take_warnings();
  REQUIRE(w.size() == 1);
  CHECK_THAT(w[0], Catch::Contains("cannot be scheduled") && Catch::Contains("Insufficient nvidia.com/gpu"));
  CHECK(t.status().state == run_state::starting);
}

TEST_CASE("custom resources end by their conditions or phase", "[kube-status]") {
  kube::run_tracker a(false);
  a.on_workload(obj(R"({"kind": "PyTorchJob", "status": {"conditions": [
      {"type": "Created", "status": "True"}, {"type": "Running", "status": "True"}]}})"), false);
  CHECK(a.status().state == run_state::running);
  a.on_workload(obj(R"({"kind": "PyTorchJob", "status": {"conditions": [
      {"type": "Running", "status": "False"}, {"type": "Succeeded", "status": "True"}]}})"), false);
  CHECK(a.status().state == run_state::finished);

  kube::run_tracker b(false);
  b.on_workload(obj(R"({"kind": "Job", "apiVersion": "batch.volcano.sh/v1alpha1",
      "status": {"state": {"phase": "Failed"}, "message": "task failed"}})"), false);
  CHECK(b.status().state == run_state::failed);
  CHECK_THAT(b.status().message, Catch::Contains("task failed"));
}

TEST_CASE("a workload deleted before it finished ends the run", "[kube-status]") {
  kube::run_tracker t(true);
  t.on_workload(obj(R"({"kind": "Job", "metadata": {"name": "j1"}})"), true);
  CHECK(t.workload_deleted());
  CHECK(t.status().state == run_state::failed);
  CHECK_THAT(t.status().message, Catch::Contains("Job j1 was deleted"));
}
