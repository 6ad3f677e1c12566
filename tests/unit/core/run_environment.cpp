#include <liftoff/core/run_environment.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

namespace {
std::string value_of(liftoff::environment_list const& env, std::string const& name) {
  auto it = std::find_if(env.begin(), env.end(), [&](auto const& kv) { return kv.first == name; });
  return it == env.end() ? "<absent>" : it->second;
}
}  // namespace

TEST_CASE("every run gets the LIFTOFF environment, then the launch's", "[core]") {
  liftoff::launch_spec spec;
  spec.run_id = "r1";
  spec.project = "p";
  spec.job_name = "j";
  spec.name = "n";
  spec.overrides.run_config = {{"lr", 1}};
  liftoff::launch_options options;
  options.environment["LIFTOFF_SERVER"] = "http://127.0.0.1:8080";
  auto env = liftoff::run_environment(spec, options);
  CHECK(value_of(env, "LIFTOFF_RUN_ID") == "r1");
  CHECK(value_of(env, "LIFTOFF_PROJECT") == "p");
  CHECK(value_of(env, "LIFTOFF_JOB") == "j");
  CHECK(value_of(env, "LIFTOFF_RUN_NAME") == "n");
  CHECK(value_of(env, "LIFTOFF_CONFIG") == R"({"lr":1})");
  CHECK(value_of(env, "LIFTOFF_QUEUE") == "<absent>");
  CHECK(env.back().first == "LIFTOFF_SERVER");
  spec.queue = "gpu";
  spec.overrides.run_config = {};
  env = liftoff::run_environment(spec, {});
  CHECK(value_of(env, "LIFTOFF_QUEUE") == "gpu");
  CHECK(value_of(env, "LIFTOFF_CONFIG") == "{}");
}
