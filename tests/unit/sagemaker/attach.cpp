// sagemaker_target::attach and agent::sagemaker_reattach against the local
// server that follows the official SageMaker model: a training job started
// before (by a process that then went away) is found again by its name and
// followed to its end.

#include <liftoff/sagemaker/target.hpp>

#include <liftoff/sagemaker/reattach.hpp>

#include "fixture.hpp"
#include "support/aws_test_server.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

using namespace liftoff;
namespace json = boost::json;
namespace sm = liftoff::sagemaker;
using namespace std::chrono_literals;
using namespace liftoff::test::sagemaker_fixture;
using liftoff::test::aws_test_server;
namespace scripts = liftoff::test::training_scripts;

namespace {

void require_no_violations(aws_test_server const& server) {
  auto const v = server.violations();
  for (auto const& x : v) UNSCOPED_INFO(x);
  REQUIRE(v.empty());
}

/// The job an earlier process created for `s` (attempt `attempt`), with its script.
void add_existing(aws_setup& a, launch_spec const& s, test::training_script script, int attempt = 1) {
  sm::job_inputs in;
  in.image = ecr_image();
  in.environment = sm::detail::job_environment(s, {}, {});
  in.attempt = attempt;
  auto settings = sm::parse_sagemaker_args(s.args_for("sagemaker")).value();
  a.server.add_training_job(sm::make_create_training_job(s, settings, in).value(), std::move(script));
}

test::training_step step(std::string status, std::string secondary, std::vector<std::string> lines = {}) {
  test::training_step st;
  st.status = std::move(status);
  st.secondary = std::move(secondary);
  st.log_lines = std::move(lines);
  return st;
}

}  // namespace

TEST_CASE("a fresh target follows a training job in progress", "[sagemaker-attach]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  add_existing(a, s, scripts::succeed({"resumed line 1", "resumed line 2"}));
  reports r;
  auto found = a.fresh_target().attach(s, r.options());
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  auto run = **found;
  CHECK(run.id() == s.run_id);
  CHECK(run.name() == sm::training_job_name(s));
  CHECK(run.wait().state == run_state::finished);
  CHECK(has_line(run.logs(), "resumed line 1"));
  CHECK(r.count_line("resumed line 2") == 1);
  CHECK(r.saw(run_state::running));
  CHECK(a.server.requests("CreateTrainingJob").empty());
  require_no_violations(a.server);
}

TEST_CASE("a job that ended while nobody watched ends the attached run at once", "[sagemaker-attach]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  add_existing(a, s, {step("Failed", "Failed", {"last words"})});
  auto found = a.fresh_target().attach(s, {});
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  auto run = **found;
  auto const final_status = run.wait();
  CHECK(final_status.state == run_state::failed);
  CHECK(has_line(run.logs(), "last words"));
  require_no_violations(a.server);
}

TEST_CASE("attach follows the newest attempt of the run", "[sagemaker-attach]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  add_existing(a, s, {step("Stopped", "Interrupted")}, 1);
  add_existing(a, s, {step("Completed", "Completed", {"second attempt done"})}, 2);
  auto found = a.fresh_target().attach(s, {});
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->name() == sm::training_job_name(s, 2));
  CHECK((*found)->wait().state == run_state::finished);
  CHECK(has_line((*found)->logs(), "second attempt done"));
  require_no_violations(a.server);
}

TEST_CASE("attach finds nothing for an unknown run id", "[sagemaker-attach]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  auto found = a.fresh_target().attach(s, {});
  REQUIRE(found.has_value());
  CHECK_FALSE(found->has_value());
  s.run_id.clear();
  CHECK_FALSE(a.fresh_target().attach(s, {}).has_value());
  require_no_violations(a.server);
}

TEST_CASE("lines delivered before are kept but not passed on again", "[sagemaker-attach]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  add_existing(a, s, {step("Completed", "Completed", {"line one", "line two", "line three"})});
  reports r;
  auto found = a.fresh_target().attach(s, r.options(), 2);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  auto run = **found;
  CHECK(run.wait().state == run_state::finished);
  CHECK(r.count_line("line one") == 0);
  CHECK(r.count_line("line two") == 0);
  CHECK(r.count_line("line three") == 1);
  CHECK(has_line(run.logs(), "line one"));
  CHECK(has_line(run.logs(), "line three"));
  require_no_violations(a.server);
}

TEST_CASE("agent::sagemaker_reattach follows the run's training job", "[sagemaker-attach]") {
  SKIP_WITHOUT_AWS_SERVER();
  aws_setup a;
  auto s = spec();
  add_existing(a, s, scripts::succeed({"agent sees this"}));
  auto fn = agent::sagemaker_reattach(a.fresh_target());
  reports r;
  liftoff::reattach_request req;
  req.run_id = s.run_id;
  req.resource = "sagemaker";
  req.spec = s;
  req.spec.run_id.clear();  // the request's run id is the one looked for
  req.options = r.options();
  auto found = fn(req);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->id() == s.run_id);
  CHECK((*found)->wait().state == run_state::finished);
  CHECK(r.count_line("agent sees this") == 1);

  req.resource = "kubernetes";
  auto other = fn(req);
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code == make_error_code(error::unsupported));

  req.resource = "sagemaker";
  req.run_id = "zz99yy88";
  auto none = fn(req);
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
  require_no_violations(a.server);
}
