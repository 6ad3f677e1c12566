#include <liftoff/local/launchers.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <type_traits>

using namespace liftoff;
namespace fs = std::filesystem;

TEST_CASE("the local launchers compose", "[local][launcher]") {
  STATIC_REQUIRE(std::is_same_v<local_code_launcher::run_type, local_process::run>);
  STATIC_REQUIRE(local_code_launcher::handles() == source_kind::code);
  STATIC_REQUIRE(local_git_launcher::handles() == source_kind::git);
}

TEST_CASE("local_code_launcher runs a shell-script job end to end", "[local][launcher]") {
  test::temp_dir d;
  test::write_file(d / "job/train.sh", "#!/bin/sh\necho \"training $LIFTOFF_PROJECT/$LIFTOFF_RUN_ID $1\"\nexit 0\n");
  fs::permissions(d / "job/train.sh", fs::perms::owner_all, fs::perm_options::add);

  launch_spec spec;
  spec.source = code_dir{d / "job"};
  spec.entry_point = {"./train.sh"};
  spec.overrides.args = {"--fast"};
  spec.project = "demo";
  spec.resource = "local-process";
  spec.resource_args = {{"local-process", {{"env", {{"TAG", "${project_name}-${run_id}"}}}}}};

  std::vector<run_state> states;
  std::vector<std::string> lines;
  std::mutex m;
  launch_options o;
  o.on_status = [&](run_status const& s) { std::lock_guard l(m); states.push_back(s.state); };
  o.on_log = [&](log_line const& l) { std::lock_guard g(m); lines.push_back(l.text); };

  auto run = local_code_launcher{}.launch(spec, o);
  auto s = run.wait();
  CHECK(s.state == run_state::finished);
  CHECK(run.id().size() == 8);
  std::lock_guard l(m);
  CHECK(lines == std::vector<std::string>{"training demo/" + run.id() + " --fast"});
  CHECK(states == std::vector<run_state>{run_state::building, run_state::starting, run_state::running,
                                         run_state::finished});
}

TEST_CASE("local_code_launcher marks the failing stage", "[local][launcher]") {
  test::temp_dir d;
  launch_spec spec;
  spec.source = code_dir{d / "missing"};
  spec.entry_point = {"./train.sh"};
  auto r = local_code_launcher{}.try_launch(spec, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().stage == failure_stage::source);
  CHECK(r.error().code == error::file_not_found);

  spec.source = code_dir{d.path()};
  auto n = local_code_launcher{}.try_launch(spec, {});
  REQUIRE_FALSE(n.has_value());
  CHECK(n.error().stage == failure_stage::run);
  CHECK(n.error().code == error::not_executable);

  spec.resource_args = {{"local-process", {{"env", boost::json::array{}}}}};
  auto v = local_code_launcher{}.try_launch(spec, {});
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message == "resource_args.local-process.env: expected an object of strings, got array");
}

TEST_CASE("local_git_launcher dry run clones nothing and runs nothing", "[local][launcher]") {
  std::vector<std::string> actions;
  launch_options o;
  o.on_dry_run = [&](boost::json::object const& a) { actions.push_back(std::string(a.at("action").as_string())); };
  launch_spec spec;
  spec.source = git_ref{"https://example.com/team/repo.git", "main"};
  spec.entry_point = {"python", "train.py"};
  auto r = local_git_launcher{}.try_launch(spec, o);
  REQUIRE(r.has_value());
  CHECK(r->status().state == run_state::finished);
  CHECK(actions == std::vector<std::string>{"git clone", "exec"});
}
