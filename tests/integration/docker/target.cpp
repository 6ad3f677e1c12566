// docker_target and docker_image_launcher against the real Docker engine at
// DOCKER_HOST or unix:///var/run/docker.sock, with the base image
// .ci/start-docker makes. Skipped, saying why, when no engine answers.

#include <liftoff/docker/target.hpp>

#include <liftoff/docker/launchers.hpp>

#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <unistd.h>

using namespace liftoff;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr char const* base_image = liftoff::test::docker_base_image;

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

using liftoff::test::engine_or_skip;

/// A run id unique to this test process and call, so tests never see each other's containers.
std::string unique_run_id() {
  static std::string const prefix = [] {
    std::random_device rd;
    return "it" + std::to_string(::getpid()) + "x" + std::to_string(rd() % 100000);
  }();
  static std::atomic<int> n{0};
  return prefix + "r" + std::to_string(++n);
}

/// The containers carrying a run id (stopped ones too).
std::vector<json::object> containers_of(docker::engine& e, std::string const& run_id, bool all = true) {
  auto l = e.list_containers({"liftoff.run-id=" + run_id}, all);
  REQUIRE(l.has_value());
  return *l;
}

/// Removes whatever a test's run left behind, whatever happens in it.
struct cleanup {
  docker::engine& e;
  std::string run_id;
  ~cleanup() {
    if (auto l = e.list_containers({"liftoff.run-id=" + run_id}, true))
      for (auto const& c : *l) (void)e.remove_container(c.at("Id").as_string(), true);
  }
};

launch_spec job(std::string const& script) {
  launch_spec s;
  s.source = image_ref{base_image};
  s.entry_point = {"sh", "-c", script};
  s.resource = "local-container";
  s.run_id = unique_run_id();
  s.project = "proj";
  s.job_name = "busy-job";
  s.name = "busy-run";
  return s;
}

artifact image() {
  artifact a;
  a.kind = artifact_kind::registry_image;
  a.image = base_image;
  return a;
}

/// Collects what a run reports, from its threads.
struct sink {
  std::mutex m;
  std::condition_variable cv;
  std::vector<log_line> lines;
  std::vector<run_status> statuses;
  std::vector<std::string> progress;
  std::atomic<int> in_on_log{0};
  bool overlapped = false;

  launch_options options() {
    launch_options o;
    o.on_log = [this](log_line const& l) {
      if (in_on_log++ != 0) overlapped = true;
      {
        std::lock_guard lock(m);
        lines.push_back(l);
      }
      cv.notify_all();
      --in_on_log;
    };
    o.on_status = [this](run_status const& s) {
      std::lock_guard lock(m);
      statuses.push_back(s);
    };
    o.on_progress = [this](std::string_view p) {
      std::lock_guard lock(m);
      progress.emplace_back(p);
    };
    return o;
  }
  bool wait_for(std::string const& text, std::chrono::milliseconds limit = 20s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, limit, [&] {
      for (auto const& l : lines)
        if (l.text == text) return true;
      return false;
    });
  }
  std::vector<run_state> states() {
    std::lock_guard lock(m);
    std::vector<run_state> out;
    for (auto const& s : statuses) out.push_back(s.state);
    return out;
  }
};

std::vector<std::string> texts(std::vector<log_line> const& lines, log_stream s) {
  std::vector<std::string> out;
  for (auto const& l : lines)
    if (l.stream == s) out.push_back(l.text);
  return out;
}

docker_target::run start(launch_spec const& spec, launch_options const& o, docker_target t = {}) {
  auto r = t.start(image(), spec, o);
  INFO((r ? std::string() : r.error().what()));
  REQUIRE(r.has_value());
  return std::move(*r);
}

}  // namespace

TEST_CASE("docker_target runs a container and streams its output", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("echo out; echo err >&2; echo more; exit 0");
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = start(spec, s.options());
  CHECK(run.id() == spec.run_id);
  CHECK_FALSE(run.container_id().empty());
  auto st = run.wait();
  CHECK(st.state == run_state::finished);
  CHECK(st.exit_code == 0);
  CHECK(texts(run.logs(), log_stream::out) == std::vector<std::string>{"out", "more"});
  CHECK(texts(run.logs(), log_stream::err) == std::vector<std::string>{"err"});
  CHECK(texts(s.lines, log_stream::out) == std::vector<std::string>{"out", "more"});
  CHECK_FALSE(s.overlapped);
  CHECK(s.states() == std::vector<run_state>{run_state::running, run_state::finished});
  // Removed when it ended.
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_target delivers lines while the container runs", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("echo first; sleep 2; echo second");
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = start(spec, s.options());
  REQUIRE(s.wait_for("first"));
  CHECK(run.status().state == run_state::running);
  CHECK(run.wait().state == run_state::finished);
  CHECK(texts(run.logs(), log_stream::out) == std::vector<std::string>{"first", "second"});
}

TEST_CASE("docker_target reports a non-zero exit as a failure", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("echo bye; exit 3");
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = start(spec, s.options());
  auto st = run.wait();
  CHECK(st.state == run_state::failed);
  CHECK(st.stage == failure_stage::run);
  CHECK(st.exit_code == 3);
  CHECK(st.message == "container exited with code 3");
  CHECK(s.states().back() == run_state::failed);
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_target gives the container the run's environment and the resource's",
          "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("echo \"$LIFTOFF_RUN_ID|$LIFTOFF_PROJECT|$LIFTOFF_JOB|$LIFTOFF_RUN_NAME|$LIFTOFF_CONFIG\"; "
                  "echo \"$FOO|$BAR|$LIFTOFF_SERVER\"; pwd");
  spec.overrides.run_config = {{"epochs", 3}};
  spec.resource_args["local-container"] =
      json::object{{"env", json::object{{"FOO", "foo value"}, {"BAR", "b=c"}}}, {"workdir", "/tmp"}};
  cleanup c{*e, spec.run_id};
  sink s;
  auto o = s.options();
  o.environment = {{"LIFTOFF_SERVER", "http://127.0.0.1:1"}};
  auto run = start(spec, o);
  REQUIRE(run.wait().state == run_state::finished);
  CHECK(texts(run.logs(), log_stream::out) ==
        std::vector<std::string>{spec.run_id + "|proj|busy-job|busy-run|{\"epochs\":3}", "foo value|b=c|http://127.0.0.1:1",
                                 "/tmp"});
}

TEST_CASE("docker_target labels its containers with the run id", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("sleep 30");
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = start(spec, s.options());
  auto running = containers_of(*e, spec.run_id, false);
  REQUIRE(running.size() == 1);
  CHECK(running[0].at("Id").as_string() == run.container_id());
  auto const& labels = running[0].at("Labels").as_object();
  CHECK(labels.at("liftoff.run-id").as_string() == spec.run_id);
  CHECK(labels.at("liftoff.project") == "proj");
  CHECK(labels.at("liftoff.job") == "busy-job");
  run.cancel(0ms);
  CHECK(run.status().state == run_state::stopped);
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_target cancel stops, then kills, and leaves no container", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("trap '' TERM; echo ready; while true; do sleep 1; done");
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = start(spec, s.options());
  REQUIRE(s.wait_for("ready"));
  auto const t0 = std::chrono::steady_clock::now();
  run.cancel(1s);
  auto const took = std::chrono::steady_clock::now() - t0;
  // The TERM is ignored: the kill comes after the grace period.
  CHECK(took >= 900ms);
  CHECK(took < 15s);
  auto st = run.status();
  CHECK(st.state == run_state::stopped);
  CHECK(st.message == "cancelled");
  CHECK(run.wait().state == run_state::stopped);
  CHECK(s.states().back() == run_state::stopped);
  CHECK(containers_of(*e, spec.run_id).empty());
  run.cancel(1s);  // a second cancel does nothing
  CHECK(run.status().state == run_state::stopped);
}

TEST_CASE("docker_target reports a container killed for memory", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  // dd is the container's main process, so the OOM kill ends the container (exit 137).
  auto spec = job("echo start; exec dd if=/dev/zero of=/dev/null bs=64M count=1");
  spec.resource_args["local-container"] = json::object{{"memory", "8m"}};
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = start(spec, s.options());
  auto st = run.wait();
  INFO(st.message);
  CHECK(st.state == run_state::failed);
  CHECK(st.stage == failure_stage::run);
  CHECK(st.message == "out of memory (limit 8 MiB)");
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_target keeps the container when asked", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("exit 0");
  cleanup c{*e, spec.run_id};
  sink s;
  docker_target t;
  t.remove = false;
  auto run = start(spec, s.options(), t);
  CHECK(run.wait().state == run_state::finished);
  auto kept = containers_of(*e, spec.run_id);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].at("Id").as_string() == run.container_id());
}

TEST_CASE("docker_target says why an image cannot be pulled", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("true");
  cleanup c{*e, spec.run_id};
  sink s;
  artifact a;
  a.kind = artifact_kind::registry_image;
  a.image = "127.0.0.1:9/nope:1";
  auto r = docker_target{}.start(a, spec, s.options());
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().what());
  CHECK(contains(r.error().what(), "cannot run 127.0.0.1:9/nope:1: the engine does not have it, and pulling"));
  CHECK(contains(r.error().what(), "127.0.0.1:9"));
  CHECK(s.progress.size() >= 1);
  CHECK(s.progress.front() == "pulling 127.0.0.1:9/nope:1");
  CHECK(s.statuses.empty());
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_target fails to start a missing entry point and leaves nothing", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto spec = job("true");
  spec.entry_point = {"/no/such/program"};
  cleanup c{*e, spec.run_id};
  sink s;
  auto r = docker_target{}.start(image(), spec, s.options());
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().what());
  CHECK(contains(r.error().what(), "/no/such/program"));
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_image_launcher runs an image end to end", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  launch_spec spec;
  spec.source = image_ref{base_image};
  spec.entry_point = {"sh", "-c", "echo \"hello from $LIFTOFF_PROJECT\"; echo \"$LIFTOFF_RUN_ID\""};
  spec.project = "launch-proj";
  spec.resource = "local-container";
  spec.run_id = unique_run_id();
  cleanup c{*e, spec.run_id};
  sink s;
  auto run = docker_image_launcher{}.launch(spec, s.options());
  CHECK(run.wait().state == run_state::finished);
  CHECK(texts(run.logs(), log_stream::out) == std::vector<std::string>{"hello from launch-proj", spec.run_id});
  CHECK(s.states() == std::vector<run_state>{run_state::building, run_state::starting, run_state::running,
                                             run_state::finished});
  CHECK(containers_of(*e, spec.run_id).empty());
}

TEST_CASE("docker_target asks the engine for the platform", "[docker][docker_target][integration]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto info = e->inspect_image(base_image);
  REQUIRE(info.has_value());
  std::string const native = std::string((*info)->at("Os").as_string()) + "/" +
                             std::string((*info)->at("Architecture").as_string());
  std::string const other = native == "linux/s390x" ? "linux/amd64" : "linux/s390x";
  std::string const image_name(base_image);
  auto spec = job("echo ok");
  cleanup c{*e, spec.run_id};

  SECTION("an image the engine has only for another platform is pulled for it; without the registry that fails") {
    sink s;
    spec.resource_args["local-container"] = json::object{{"platform", other}};
    auto r = docker_target{}.start(image(), spec, s.options());
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().what());
    CHECK(r.error().code == error::http_status);
    CHECK(r.error().what().starts_with("cannot run " + image_name + " for platform " + other +
                                       ": the engine has it only for " + native + ", and pulling " + image_name +
                                       " for " + other + ": "));
    CHECK(std::find(s.progress.begin(), s.progress.end(), "pulling " + image_name + " for " + other) != s.progress.end());
    CHECK(containers_of(*e, spec.run_id).empty());
    // The image of the native platform is still there.
    auto after = e->inspect_image(base_image);
    REQUIRE(after.has_value());
    REQUIRE(after->has_value());
    CHECK((*after)->at("Architecture") == (*info)->at("Architecture"));
  }

  SECTION("an image built by this engine is not pulled: the engine's refusal names the platform") {
    sink s;
    spec.resource_args["local-container"] = json::object{{"platform", other}};
    auto local = image();
    local.kind = artifact_kind::local_image;
    auto r = docker_target{}.start(local, spec, s.options());
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().what());
    CHECK(r.error().code == error::http_status);
    CHECK(r.error().what().starts_with("creating a container: the engine has no image '" + image_name +
                                       "' for platform " + other + " ("));
    CHECK(contains(r.error().what(), "wanted " + other));  // the engine's own message
    CHECK(r.error().what().ends_with("); pull or build it for that platform first"));
    CHECK(s.progress.empty());
    CHECK(containers_of(*e, spec.run_id).empty());
  }

  SECTION("the native platform runs without a pull") {
    sink s;
    spec.resource_args["local-container"] = json::object{{"platform", native}};
    auto run = start(spec, s.options());
    CHECK(run.wait().state == run_state::finished);
    CHECK(texts(run.logs(), log_stream::out) == std::vector<std::string>{"ok"});
    CHECK(std::none_of(s.progress.begin(), s.progress.end(), [](auto const& p) { return p.starts_with("pulling"); }));
  }
}
