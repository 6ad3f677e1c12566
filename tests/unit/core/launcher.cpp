#include <liftoff/core/launcher.hpp>

#include <catch2/catch.hpp>

#include "unit/core/fake_policies.hpp"

using code_launcher = liftoff::launcher<fake::code_source, fake::image_builder, fake::pass_transport, fake::image_target>;

namespace {
liftoff::launch_spec code_spec() {
  liftoff::launch_spec s;
  s.source = liftoff::code_dir{"/job"};
  s.project = "mnist";
  s.resource_args["fake"] = boost::json::object{{"tag", "${project_name}-${run_id}"}, {"img", "${image_uri}"}};
  return s;
}
}  // namespace

TEST_CASE("a launcher runs its stages in order and substitutes macros before the target", "[core][launcher]") {
  code_launcher l;
  std::vector<liftoff::run_state> states;
  liftoff::launch_options o;
  o.on_status = [&](liftoff::run_status const& s) { states.push_back(s.state); };
  auto r = l.try_launch(code_spec(), o);
  REQUIRE(r.has_value());
  CHECK(l.source_policy().j->calls == std::vector<std::string>{"fetch"});
  CHECK(l.builder_policy().j->calls == std::vector<std::string>{"build"});
  auto const& started = l.target_policy().j->started_with;
  REQUIRE(started.run_id.size() == 8);
  CHECK(r->id() == started.run_id);
  CHECK(started.args_for("fake").at("tag").as_string() == "mnist-" + started.run_id);
  CHECK(started.args_for("fake").at("img").as_string() == "local/img:00");
  CHECK(states == std::vector<liftoff::run_state>{liftoff::run_state::building, liftoff::run_state::starting,
                                                  liftoff::run_state::running});
  CHECK(r->wait().succeeded());
}

TEST_CASE("a failing stage is reported with its stage and later stages do not run", "[core][launcher]") {
  code_launcher l;
  l.builder_policy().fail = true;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().stage == liftoff::failure_stage::build);
  CHECK(r.error().message == "step 2/3: exit code 1");
  CHECK(l.target_policy().j->calls.empty());

  code_launcher l2;
  l2.source_policy().fail = true;
  auto r2 = l2.try_launch(code_spec(), {});
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().stage == liftoff::failure_stage::source);
  CHECK(l2.builder_policy().j->calls.empty());
  CHECK_THROWS_AS(l2.launch(code_spec(), {}), liftoff::exception);
}

TEST_CASE("validation runs before any stage does work", "[core][launcher]") {
  code_launcher l;
  l.target_policy().reject_args = true;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "resource_args.fake.x: expected a string, got array");
  CHECK(l.source_policy().j->calls.empty());
}

TEST_CASE("a launcher refuses a spec whose source is of another kind", "[core][launcher]") {
  code_launcher l;
  liftoff::launch_spec s;
  s.source = liftoff::image_ref{"busybox"};
  auto r = l.validate(s);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "this launcher runs code sources, but the spec's source is image");
}

TEST_CASE("stateless policies cost no space", "[core][launcher]") {
  using empty_launcher = liftoff::launcher<fake::image_source, fake::pass_builder, fake::push_transport, fake::cluster_target>;
  STATIC_REQUIRE(sizeof(empty_launcher) == sizeof(fake::cluster_target));
  empty_launcher l;
  liftoff::launch_spec s;
  s.source = liftoff::image_ref{"busybox"};
  auto r = l.try_launch(s, {});
  REQUIRE(r.has_value());
}
