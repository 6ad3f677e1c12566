#include <liftoff/agent/agent.hpp>

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <type_traits>

namespace t = liftoff::test;
namespace json = boost::json;
using namespace liftoff;
using namespace std::chrono_literals;

namespace {

server::item_record item_with(json::object spec) {
  server::item_record item;
  item.id = 7;
  item.queue = "gpu";
  item.run_id = "run00001";
  item.run_spec = std::move(spec);
  return item;
}

bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("parse_agent_config reads queues, max_jobs, name and per-resource defaults", "[agent]") {
  auto v = json::parse(R"({"queues": ["a", "b"], "max_jobs": 3, "name": "box-1",
                           "resource_args": {"local-container": {"memory": "1g"}},
                           "work_dir": "/srv/agent", "grace_period": 2.5})");
  auto c = agent::parse_agent_config(v, "launch-config.yaml");
  REQUIRE(c.has_value());
  CHECK(c->queues == std::vector<std::string>{"a", "b"});
  CHECK(c->max_jobs == 3);
  CHECK(c->name == "box-1");
  CHECK(json::serialize(c->resource_args) == R"({"local-container":{"memory":"1g"}})");
  CHECK(c->work_dir == "/srv/agent");
  CHECK(c->grace_period == 2500ms);

  auto one = agent::parse_agent_config(json::parse(R"({"queues": "solo"})"), "cfg");
  REQUIRE(one.has_value());
  CHECK(one->queues == std::vector<std::string>{"solo"});
  CHECK_FALSE(one->max_jobs);
}

TEST_CASE("parse_agent_config names the field that is wrong", "[agent]") {
  auto check = [](char const* text, std::string const& expected, error code = error::invalid_spec) {
    auto c = agent::parse_agent_config(json::parse(text), "cfg.yaml");
    REQUIRE_FALSE(c.has_value());
    INFO(c.error().what());
    CHECK(c.error().code == make_error_code(code));
    CHECK(contains(c.error().what(), "cfg.yaml"));
    CHECK(contains(c.error().what(), expected));
  };
  check(R"({"queues": [1]})", "queues[0]");
  check(R"({"max_jobs": 0})", "max_jobs");
  check(R"({"max_jobs": "4"})", "max_jobs");
  check(R"({"resource_args": {"local-process": []}})", "resource_args.local-process");
  check(R"({"grace_period": -1})", "grace_period");
  check(R"({"max_job": 2})", "did you mean 'max_jobs'", error::unknown_field);
  check(R"([1])", "expected an object");
}

TEST_CASE("item_launch_spec takes the item's run id and queue and fills in resource defaults", "[agent]") {
  auto item = item_with(json::object{{"code", "/jobs/x"},
                                     {"entry_point", "./train.sh"},
                                     {"resource", "local-process"},
                                     {"resource_args", {{"local-process", {{"env", {{"A", "spec"}}}}}}}});
  json::object defaults{{"local-process", {{"env", {{"A", "default"}, {"B", "default"}}}, {"workdir", "sub"}}},
                        {"local-container", {{"memory", "1g"}}}};
  auto spec = agent::item_launch_spec(item, defaults);
  REQUIRE(spec.has_value());
  CHECK(spec->run_id == "run00001");
  CHECK(spec->queue == "gpu");
  auto const& args = spec->args_for("local-process");
  // The spec's own value wins over the default; a missing key is filled in.
  CHECK(json::serialize(args.at("env")) == R"({"A":"spec"})");
  CHECK(args.at("workdir").as_string() == "sub");
  CHECK_FALSE(spec->resource_args.contains("local-container"));
}

TEST_CASE("item_launch_spec fails with stage agent, naming the field", "[agent]") {
  auto spec = agent::item_launch_spec(item_with(json::object{{"code", "/jobs/x"}, {"entry_point", 42}}));
  REQUIRE_FALSE(spec.has_value());
  INFO(spec.error().what());
  CHECK(spec.error().stage == failure_stage::agent);
  CHECK(contains(spec.error().what(), "the item's run spec"));
  CHECK(contains(spec.error().what(), "entry_point"));

  auto unknown = agent::item_launch_spec(item_with(json::object{{"code", "/x"}, {"entrypoint", "./a"}}));
  REQUIRE_FALSE(unknown.has_value());
  CHECK(contains(unknown.error().what(), "entrypoint"));
}

TEST_CASE("expand_agent_macros substitutes the run's values and the environment, and leaves ${image_uri}", "[agent]") {
  launch_spec spec;
  spec.run_id = "abc123";
  spec.project = "mnist";
  spec.name = "first";
  spec.author = "ada";
  spec.resource_args = json::object{
      {"local-container",
       {{"name", "run-${run_id}"},
        {"env", {{"P", "${project_name}/${run_name}/${author}"}, {"T", "${TOKEN_DIR}"}, {"I", "${image_uri}"},
                 {"U", "${NOT_SET}"}}},
        {"list", json::array{"${run_id}", 3}}}}};
  agent::expand_agent_macros(spec, [](std::string_view name) -> std::optional<std::string> {
    if (name == "TOKEN_DIR") return std::string("/secrets");
    return std::nullopt;
  });
  auto const& args = spec.args_for("local-container");
  CHECK(args.at("name").as_string() == "run-abc123");
  auto const& env = args.at("env").as_object();
  CHECK(env.at("P").as_string() == "mnist/first/ada");
  CHECK(env.at("T").as_string() == "/secrets");
  CHECK(env.at("I").as_string() == "${image_uri}");
  CHECK(env.at("U").as_string() == "${NOT_SET}");
  CHECK(json::serialize(args.at("list")) == R"(["abc123",3])");
}

TEST_CASE("the agent takes the backends' reattach functions as they are", "[agent]") {
  // make_reattach() and every backend's reattach function give a liftoff::reattach_fn.
  STATIC_REQUIRE(std::is_same_v<agent::reattach_fn, liftoff::reattach_fn>);
  STATIC_REQUIRE(std::is_same_v<agent::reattach_request, liftoff::reattach_request>);
  STATIC_REQUIRE(std::is_same_v<decltype(agent::agent_options::reattach), liftoff::reattach_fn>);
}

TEST_CASE("an agent refuses options it cannot work with before contacting anyone", "[agent]") {
  agent::agent_options o;
  o.server = {"http://127.0.0.1:1", "lft_x"};
  SECTION("no queue") {
    agent::agent a(o);
    auto r = a.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().what(), "queue"));
  }
  SECTION("max_jobs below 1") {
    o.queues = {"a"};
    o.max_jobs = 0;
    agent::agent a(o);
    auto r = a.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().what(), "max_jobs"));
  }
  SECTION("a name with a slash") {
    o.queues = {"a"};
    o.name = "../x";
    agent::agent a(o);
    auto r = a.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(contains(r.error().what(), "name"));
  }
}

TEST_CASE("an agent waits for a server that does not answer, says so once, and stops when asked", "[agent]") {
  t::temp_dir dir;
  agent::agent_options o;
  o.server = {"http://127.0.0.1:1", "lft_secret_token"};
  o.queues = {"a"};
  o.state_dir = dir / "state";
  o.work_dir = dir / "work";
  o.retry_interval = 10ms;
  o.heartbeat_interval = 50ms;
  std::mutex m;
  std::vector<std::string> events;
  o.on_event = [&](std::string_view e) {
    std::lock_guard lock(m);
    events.emplace_back(e);
  };
  agent::agent a(o);
  std::atomic<bool> done{false};
  result<void> outcome;
  std::thread runner([&] {
    outcome = a.run();
    done = true;
  });
  REQUIRE(t::wait_until([&] {
    std::lock_guard lock(m);
    return !events.empty();
  }, 5));
  std::this_thread::sleep_for(200ms);  // several attempts fail meanwhile
  CHECK_FALSE(done);
  a.request_stop(false);
  runner.join();
  CHECK(outcome.has_value());
  CHECK_FALSE(a.id());
  std::lock_guard lock(m);
  REQUIRE(events.size() == 1);
  CHECK(contains(events[0], "http://127.0.0.1:1 does not answer"));
  CHECK_FALSE(contains(events[0], "lft_secret_token"));
}
