// kubernetes_target against the local API server that follows the official
// OpenAPI document: Jobs created and watched to their end, logs, failures,
// preemption, cancellation, dropped watches, credentials and dry runs.

#include <liftoff/kube/target.hpp>
#include <liftoff/detail/base64.hpp>

#include "support/env_guard.hpp"
#include "kube_cluster.hpp"
#include "support/kube_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace liftoff;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::kube_test_server;

namespace {

using namespace test::kube_cluster;

int count_requests(kube_test_server const& s, std::string const& method, std::string const& path_part) {
  int n = 0;
  for (auto const& r : s.requests())
    if (r.method == method && r.path.find(path_part) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("a Job runs to completion: its log is streamed and nothing breaks the spec", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) { return test::scripts::succeed({"epoch 1", "epoch 2"}); });
  std::vector<run_state> states;
  std::mutex m;
  launch_options o;
  o.on_status = [&](run_status const& s) {
    std::lock_guard lock(m);
    states.push_back(s.state);
  };
  o.environment["LIFTOFF_API_TOKEN"] = "secret-token-value";
  auto s = spec();
  auto started = c.target.start(image(), s, o);
  REQUIRE(started.has_value());
  auto run = *started;
  auto final_status = run.wait();
  CHECK(final_status.state == run_state::finished);
  for (auto const& l : run.logs()) UNSCOPED_INFO(l.text);
  for (auto const& r : c.server.requests()) UNSCOPED_INFO(r.method << " " << r.path << "?" << r.query);
  CHECK(has_line(run.logs(), "epoch 1"));
  CHECK(has_line(run.logs(), "epoch 2"));
  {
    std::lock_guard lock(m);
    REQUIRE(states.size() >= 2);
    CHECK(states.front() == run_state::starting);
    CHECK(states.back() == run_state::finished);
  }
  CHECK(c.server.violations().empty());
  auto job = c.server.find("jobs", "default", run.name());
  REQUIRE(job);
  CHECK(job->at("metadata").at("labels").at("liftoff.io/run-id").as_string() == s.run_id);
  CHECK(job->at("metadata").at("labels").at("liftoff.io/agent") == "agent-7");
  auto text = json::serialize(*job);
  CHECK(text.find("secret-token-value") == std::string::npos);
  CHECK(text.find("secretKeyRef") != std::string::npos);
  // The Secret was created before the Job and removed after the run.
  CHECK(count_requests(c.server, "POST", "/secrets") == 1);
  CHECK(c.server.objects("secrets", "default").empty());
  // One shared pair of watches, not one per run.
  CHECK(count_requests(c.server, "POST", "/jobs") == 1);
}

TEST_CASE("failed runs say why: exit code, out of memory, image pull, preemption", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  SECTION("exit code") {
    c.server.set_script([](json::object const&) { return test::scripts::fail(4, {"bad things"}); });
    auto run = c.target.start(image(), spec(), {}).value();
    auto st = run.wait();
    CHECK(st.state == run_state::failed);
    CHECK(st.exit_code == 4);
    CHECK(st.stage == failure_stage::run);
    CHECK(has_line(run.logs(), "bad things"));
  }
  SECTION("out of memory") {
    c.server.set_script([](json::object const&) { return test::scripts::oom_killed(); });
    auto run = c.target
                   .start(image(), spec(json::parse(R"({"spec": {"template": {"spec": {"containers": [
                       {"name": "main", "resources": {"limits": {"memory": "64Mi"}}}]}}}})")),
                          {})
                   .value();
    auto st = run.wait();
    CHECK(st.state == run_state::failed);
    CHECK_THAT(st.message, Catch::StartsWith("out of memory (limit 64Mi)"));
  }
  SECTION("an image that cannot be pulled fails after the grace period, and its Job is deleted") {
    c.server.set_script([](json::object const&) { return test::scripts::image_pull_backoff("nope/missing:1"); });
    auto run = c.target.start(image("nope/missing:1"), spec(), {}).value();
    auto st = run.wait();
    CHECK(st.state == run_state::failed);
    CHECK_THAT(st.message, Catch::Contains("nope/missing:1") && Catch::Contains("cannot be pulled"));
    CHECK_FALSE(c.server.find("jobs", "default", run.name()));
  }
  SECTION("eviction is a preemption") {
    c.server.set_script([](json::object const&) { return test::scripts::evicted(); });
    auto run = c.target.start(image(), spec(), {}).value();
    auto st = run.wait();
    CHECK(st.state == run_state::preempted);
  }
  SECTION("an unschedulable pod is a warning, not a failure") {
    c.server.set_script([](json::object const&) {
      return test::scripts::unschedulable_then_run("0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");
    });
    auto run = c.target.start(image(), spec(), {}).value();
    auto st = run.wait();
    CHECK(st.state == run_state::finished);
    CHECK(has_line(run.logs(), "Insufficient nvidia.com/gpu"));
  }
  CHECK(c.server.violations().empty());
}

TEST_CASE("cancel deletes the Job in the foreground and its Secret", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) { return test::scripts::run_forever({"working"}); });
  launch_options o;
  o.environment["LIFTOFF_API_TOKEN"] = "t";
  auto run = c.target.start(image(), spec(), o).value();
  for (int i = 0; i < 200 && run.status().state != run_state::running; ++i) std::this_thread::sleep_for(20ms);
  CHECK(run.status().state == run_state::running);
  run.cancel(2s);
  CHECK(run.status().state == run_state::stopped);
  CHECK_FALSE(c.server.find("jobs", "default", run.name()));
  CHECK(c.server.objects("secrets", "default").empty());
  bool foreground = false;
  for (auto const& r : c.server.requests())
    if (r.method == "DELETE" && r.path.find("/jobs/") != std::string::npos)
      foreground = r.body.find("Foreground") != std::string::npos;
  CHECK(foreground);
}

TEST_CASE("the watches survive dropped connections and 410 Gone", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  c.server.set_script([](json::object const&) {
    auto script = test::scripts::succeed({"first", "second"});
    for (auto& step : script) step.delay = 150ms;
    return script;
  });
  auto run = c.target.start(image(), spec(), {}).value();
  std::this_thread::sleep_for(200ms);
  c.server.drop_streams();
  std::this_thread::sleep_for(150ms);
  c.server.compact();
  c.server.drop_streams();
  auto st = run.wait();
  CHECK(st.state == run_state::finished);
  CHECK(c.server.violations().empty());
}

TEST_CASE("what the cluster refuses is said before anything is created", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  SECTION("a manifest that breaks the schema names the field") {
    cluster c;
    auto r = c.target.start(image(),
                            spec(json::parse(R"({"spec": {"backoffLimit": "three", "template": {"spec": {
                                "containers": [{"name": "main", "imagePullPolcy": "Always"}]}}}})")),
                            {});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == error::invalid_spec);
    CHECK_THAT(r.error().what(), Catch::Contains("spec.template.spec.containers[0].imagePullPolcy") &&
                                     Catch::Contains("spec.backoffLimit"));
    CHECK(count_requests(c.server, "POST", "/jobs") == 0);
  }
  SECTION("a namespace that does not exist") {
    cluster c;
    auto r = c.target.start(image(), spec(json::parse(R"({"namespace": "nowhere"})")), {});
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().what(), Catch::Contains("nowhere"));
  }
  SECTION("a refused token names the identity") {
    cluster c;
    c.server.write_kubeconfig(c.kubeconfig, "token: wrong-token");
    auto r = c.target.start(image(), spec(), {});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == error::unauthorized);
    CHECK_THAT(r.error().what(), Catch::Contains("alice") && !Catch::Contains("wrong-token"));
  }
  SECTION("a user without permission") {
    kube_test_server::options o;
    o.tokens = {{"bob-token", "bob"}};
    o.forbidden_users = {"bob"};
    cluster c(o);
    c.server.write_kubeconfig(c.kubeconfig, "token: bob-token");
    c.target.validate_schema = false;
    auto r = c.target.start(image(), spec(), {});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == error::forbidden);
    CHECK_THAT(r.error().what(), Catch::Contains("forbidden"));
  }
  SECTION("secure mode") {
    cluster c;
    auto r = c.target.start(
        image(), spec(json::parse(R"({"spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "m"}]}}}})")),
        {});
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().what(), Catch::Contains("spec.template.spec.hostNetwork"));
    CHECK(c.server.requests().size() <= 1);  // at most the schema fetch
  }
}

TEST_CASE("a client certificate made at test time authenticates", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  test::test_ca client_ca("client CA");
  kube_test_server::options o;
  o.client_ca_pem = client_ca.cert_pem();
  cluster c(o);
  auto cert = client_ca.issue_client("carol");
  auto b64 = [](std::string const& s) { return liftoff::detail::base64_encode(s); };
  c.server.write_kubeconfig(c.kubeconfig, "client-certificate-data: " + b64(cert.cert) +
                                              "\nclient-key-data: " + b64(cert.key));
  auto run = c.target.start(image(), spec(), {}).value();
  CHECK(run.wait().state == run_state::finished);
  bool as_carol = false;
  for (auto const& r : c.server.requests())
    if (r.method == "POST") as_carol = r.identity == "cert:carol";
  CHECK(as_carol);
}

TEST_CASE("a dry run prints every request and sends none", "[kube-target]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  std::vector<json::object> actions;
  launch_options o;
  o.on_dry_run = [&](json::object const& a) { actions.push_back(a); };
  o.environment["LIFTOFF_API_TOKEN"] = "dry-secret";
  auto run = c.target.start(image(), spec(), o);
  REQUIRE(run.has_value());
  CHECK(c.server.requests().empty());
  REQUIRE(actions.size() == 4);  // the Secret, the Job, two watches
  CHECK(actions[0].at("request").at("method") == "POST");
  CHECK(actions[1].at("request").at("path") == "/apis/batch/v1/namespaces/default/jobs?fieldValidation=Strict");
  CHECK(actions[1].at("request").at("body").at("kind") == "Job");
  std::string all;
  for (auto const& a : actions) all += json::serialize(a);
  CHECK(all.find("dry-secret") == std::string::npos);
  CHECK(all.find("<redacted>") != std::string::npos);
}
