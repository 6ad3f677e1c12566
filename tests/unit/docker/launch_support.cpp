#include <liftoff/docker/launch_support.hpp>

#include <catch2/catch.hpp>

#include <vector>

using liftoff::launch_options;
namespace json = boost::json;

TEST_CASE("docker::connect_for_launch: a dry run records with the stage, and chains on_request", "[docker]") {
  std::vector<json::object> actions, chained;
  launch_options o;
  o.on_dry_run = [&](json::object const& a) { actions.push_back(a); };
  liftoff::docker::engine_options base;
  base.on_request = [&](json::object const& r) { chained.push_back(r); };
  auto e = liftoff::docker::connect_for_launch(base, o, "run");
  REQUIRE(e.has_value());
  CHECK(e->dry_run());
  o.on_dry_run = {};  // the engine kept its own copy
  REQUIRE(e->inspect_image("busybox").has_value());
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].at("stage").as_string() == "run");
  CHECK(actions[0].at("action").as_string() == "docker api");
  CHECK(actions[0].at("request").at("method").as_string() == "GET");
  CHECK(chained.size() == 1);
  CHECK(liftoff::docker::run_id_label == "liftoff.run-id");
}

TEST_CASE("docker::connect_for_launch: without a dry run it connects for real", "[docker]") {
  launch_options o;
  liftoff::docker::engine_options base;
  base.host = "unix:///nonexistent/liftoff-docker.sock";
  auto e = liftoff::docker::connect_for_launch(base, o, "build");
  REQUIRE_FALSE(e.has_value());
  CHECK_THAT(e.error().what(), Catch::Contains("/nonexistent/liftoff-docker.sock"));
}
