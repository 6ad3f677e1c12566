// kubernetes_target::attach and agent::kubernetes_reattach against the local
// API server that follows the official OpenAPI document: a run started by
// one target object (a process that then went away) is found again by a
// fresh one and followed, cancelled or ended as a started run is.

#include <liftoff/kube/target.hpp>

#include <liftoff/kube/reattach.hpp>

#include "kube_cluster.hpp"
#include "support/kube_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

using namespace liftoff;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::kube_test_server;

namespace {

using namespace test::kube_cluster;

/// Collects what a run reports through its launch options.
struct reports {
  std::mutex m;
  std::vector<run_state> states;
  std::vector<std::string> lines;
  launch_options options() {
    launch_options o;
    o.on_status = [this](run_status const& s) {
      std::lock_guard lock(m);
      states.push_back(s.state);
    };
    o.on_log = [this](log_line const& l) {
      std::lock_guard lock(m);
      lines.push_back(l.text);
    };
    return o;
  }
  bool saw_line(std::string const& text) {
    std::lock_guard lock(m);
    for (auto const& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

/// Starts a run with the first target and lets its handle go; its Job's name.
std::string start_and_drop(cluster& c, launch_spec const& s, bool wait_for_end) {
  launch_options o;
  o.environment["LIFTOFF_API_TOKEN"] = "secret-token-value";
  auto run = c.target.start(image(), s, o).value();
  if (wait_for_end) CHECK(run.wait().state == run_state::finished);
  else REQUIRE(test::wait_until([&] { return run.status().state == run_state::running; }));
  return run.name();
}

}  // namespace

TEST_CASE("a running Job is found again after a restart, followed and cancelled", "[kube-attach]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) { return test::scripts::run_forever({"working"}); });
  auto s = spec();
  auto job_name = start_and_drop(c, s, false);
  REQUIRE_FALSE(c.server.objects("secrets", "default").empty());

  reports r;
  auto found = c.fresh_target().attach(s, r.options());
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  auto run = **found;
  CHECK(run.id() == s.run_id);
  CHECK(run.name() == job_name);
  CHECK(run.namespace_name() == "default");
  CHECK(test::wait_until([&] { return run.status().state == run_state::running; }));
  // The output is read again from the container's start.
  CHECK(test::wait_until([&] { return r.saw_line("working"); }));

  run.cancel(2s);
  CHECK(run.status().state == run_state::stopped);
  CHECK_FALSE(c.server.find("jobs", "default", job_name));
  // The Secret the first target created was found and removed with the run.
  CHECK(c.server.objects("secrets", "default").empty());
  {
    std::lock_guard lock(r.m);
    REQUIRE_FALSE(r.states.empty());
    CHECK(r.states.back() == run_state::stopped);
  }
  CHECK(c.server.violations().empty());
}

TEST_CASE("a Job that finished while nobody watched ends the attached run at once", "[kube-attach]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) { return test::scripts::succeed({"line one", "line two"}); });
  auto s = spec();
  start_and_drop(c, s, true);

  reports r;
  auto found = c.fresh_target().attach(s, r.options(), 1);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  auto run = **found;
  auto st = run.wait();
  CHECK(st.state == run_state::finished);
  CHECK(st.exit_code == 0);
  // The line already delivered is kept, but not passed on again.
  CHECK(has_line(run.logs(), "line one"));
  CHECK(has_line(run.logs(), "line two"));
  CHECK_FALSE(r.saw_line("line one"));
  CHECK(r.saw_line("line two"));
  {
    std::lock_guard lock(r.m);
    REQUIRE_FALSE(r.states.empty());
    CHECK(r.states.back() == run_state::finished);
  }
  CHECK(c.server.violations().empty());
}

TEST_CASE("a failed Job found again ends the run failed with its exit code", "[kube-attach]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) { return test::scripts::fail(3, {"bad"}); });
  auto s = spec();
  {
    auto first = c.target.start(image(), s, {}).value();
    CHECK(first.wait().state == run_state::failed);
  }
  auto found = c.fresh_target().attach(s, {});
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  auto st = (*found)->wait();
  CHECK(st.state == run_state::failed);
  CHECK(st.exit_code == 3);
  CHECK(st.stage == failure_stage::run);
}

TEST_CASE("attaching to a run the cluster does not have finds nothing", "[kube-attach]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  // Another run's Job is there: it must not be taken for this one.
  auto other = spec();
  auto other_job = start_and_drop(c, other, true);

  SECTION("an unknown run id") {
    auto found = c.fresh_target().attach(spec(), {});
    REQUIRE(found.has_value());
    CHECK_FALSE(found->has_value());
  }
  SECTION("a namespace that no longer exists") {
    auto found = c.fresh_target().attach(spec(json::parse(R"({"namespace": "gone"})")), {});
    REQUIRE(found.has_value());
    CHECK_FALSE(found->has_value());
  }
  SECTION("a spec without a run id is an error") {
    auto s = spec();
    s.run_id.clear();
    auto found = c.fresh_target().attach(s, {});
    REQUIRE_FALSE(found.has_value());
    CHECK_THAT(found.error().what(), Catch::Contains("run id"));
  }
  CHECK(c.server.find("jobs", "default", other_job));
  CHECK(c.server.violations().empty());
}

TEST_CASE("a cluster that refuses the credentials is an error, not a missing run", "[kube-attach]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.write_kubeconfig(c.kubeconfig, "token: wrong-token");
  auto found = c.fresh_target().attach(spec(), {});
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().code == error::unauthorized);
  CHECK_THAT(found.error().what(), !Catch::Contains("wrong-token"));
}

TEST_CASE("an agent finds its Kubernetes runs again through kubernetes_reattach", "[kube-attach]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) { return test::scripts::run_forever({"step 1", "step 2"}); });
  auto s = spec();
  auto job_name = start_and_drop(c, s, false);
  auto reattach = agent::kubernetes_reattach(c.fresh_target());

  SECTION("a kubernetes run is followed, skipping what the server has, and cancelled") {
    reports r;
    liftoff::reattach_request req;
    req.run_id = s.run_id;
    req.resource = "kubernetes";
    req.spec = s;
    req.spec.run_id.clear();  // the request's run id is the one looked for
    req.options = r.options();
    req.delivered_lines = 1;
    auto found = reattach(req);
    REQUIRE(found.has_value());
    REQUIRE(found->has_value());
    auto run = **found;
    CHECK(run.id() == s.run_id);
    CHECK(test::wait_until([&] { return run.status().state == run_state::running; }));
    CHECK(test::wait_until([&] { return r.saw_line("step 2"); }));
    CHECK_FALSE(r.saw_line("step 1"));
    run.cancel(2s);
    CHECK(run.status().state == run_state::stopped);
    CHECK_FALSE(c.server.find("jobs", "default", job_name));
  }
  SECTION("a run gone from the cluster is nullopt") {
    liftoff::reattach_request req;
    req.run_id = make_run_id();
    req.resource = "kubernetes";
    req.spec = spec();
    req.spec.run_id = req.run_id;
    auto found = reattach(req);
    REQUIRE(found.has_value());
    CHECK_FALSE(found->has_value());
    // Clean up the running Job.
    kubernetes_target t = c.fresh_target();
    auto leftover = t.attach(s, {});
    REQUIRE(leftover.has_value());
    REQUIRE(leftover->has_value());
    (*leftover)->cancel(2s);
  }
  SECTION("other resources are not its business") {
    liftoff::reattach_request req;
    req.run_id = s.run_id;
    req.resource = "local-container";
    req.spec = s;
    auto found = reattach(req);
    REQUIRE_FALSE(found.has_value());
    CHECK(found.error().code == error::unsupported);
    auto leftover = c.fresh_target().attach(s, {});
    REQUIRE(leftover.has_value());
    REQUIRE(leftover->has_value());
    (*leftover)->cancel(2s);
  }
}
