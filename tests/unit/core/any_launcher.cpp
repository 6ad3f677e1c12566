#include <liftoff/core/any_launcher.hpp>

#include <catch2/catch.hpp>

#include <liftoff/core/launcher.hpp>

#include "unit/core/fake_policies.hpp"

using code_launcher = liftoff::launcher<fake::code_source, fake::pass_builder, fake::pass_transport, fake::directory_target>;

TEST_CASE("any_launcher and any_run forward to the launcher and its run", "[core][any]") {
  code_launcher inner;
  auto journal = inner.target_policy().j;
  liftoff::any_launcher l(inner);
  CHECK(l.handles() == liftoff::source_kind::code);
  liftoff::launch_spec s;
  s.source = liftoff::code_dir{"/job"};
  s.run_id = "fixed1";
  auto r = l.try_launch(s, {});
  REQUIRE(r.has_value());
  CHECK(journal->calls == std::vector<std::string>{"start"});
  liftoff::any_run run = *r;
  CHECK(run.id() == "fixed1");
  CHECK(run.status().state == liftoff::run_state::running);
  auto copy = run;  // copies share the run
  copy.cancel(std::chrono::milliseconds(1));
  CHECK(run.status().state == liftoff::run_state::stopped);
  CHECK(run.logs().at(0).text == "hello");
}

TEST_CASE("any_launcher reports failures as the launcher does", "[core][any]") {
  code_launcher inner;
  inner.source_policy().fail = true;
  liftoff::any_launcher l(inner);
  liftoff::launch_spec s;
  s.source = liftoff::code_dir{"/nope"};
  auto r = l.try_launch(s, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().stage == liftoff::failure_stage::source);
  CHECK_THROWS_WITH(l.launch(s, {}), "code: /nope: no such directory");
}
