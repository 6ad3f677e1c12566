#include <liftoff/local/reattach.hpp>

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace t = liftoff::test;
using namespace liftoff;
using namespace std::chrono_literals;

namespace {

bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

/// A unique run id for this test process.
std::string run_id_for(std::string const& what) { return "lft" + std::to_string(::getpid()) + what; }

/// Waits until `n` processes carry `run_id` (a child's environment is readable once it has exec'd).
std::vector<::pid_t> wait_for_processes(std::string const& run_id, std::size_t n) {
  std::vector<::pid_t> found;
  REQUIRE(t::wait_until([&] {
    found = detail::processes_of_run(run_id);
    return found.size() == n;
  }, 5));
  return found;
}

reattach_request request_for(std::string run_id, std::string resource) {
  reattach_request r;
  r.run_id = std::move(run_id);
  r.resource = std::move(resource);
  r.spec.run_id = r.run_id;
  r.options.grace_period = 2s;
  return r;
}

}  // namespace

TEST_CASE("processes_of_run finds what is left of a run by its LIFTOFF_RUN_ID, and stop_processes ends it", "[local]") {
  t::temp_dir dir;
  std::string const run_id = run_id_for("a");
  t::background_command left({"sleep", "30"}, dir / "out", dir / "err", {"LIFTOFF_RUN_ID=" + run_id});
  t::background_command other({"sleep", "30"}, dir / "out2", dir / "err2", {"LIFTOFF_RUN_ID=" + run_id + "x"});
  auto found = wait_for_processes(run_id, 1);
  CHECK(found == std::vector<::pid_t>{left.pid()});

  auto stopped = detail::stop_processes(found, 2s);
  CHECK(stopped == found);
  CHECK(left.wait() == 128 + SIGTERM);
  CHECK(t::process_alive(other.pid()));
  CHECK(detail::processes_of_run("").empty());
}

TEST_CASE("processes_of_run reads every numbered entry of the process table it is given", "[local]") {
  t::temp_dir proc;
  using namespace std::string_literals;
  t::write_file(proc / "4000041" / "environ", "A=1\0LIFTOFF_RUN_ID=r1\0B=2"s);
  t::write_file(proc / "4000007" / "environ", "LIFTOFF_RUN_ID=r1"s);          // the last entry, with no NUL after it
  t::write_file(proc / "4000008" / "environ", "LIFTOFF_RUN_ID=r10\0X=r1\0"s);  // another run, and the id in another variable
  t::write_file(proc / "self" / "environ", "LIFTOFF_RUN_ID=r1\0"s);      // not a pid
  CHECK(detail::processes_of_run("r1", proc.path()) == std::vector<::pid_t>{4000007, 4000041});
  CHECK(detail::processes_of_run("r10", proc.path()) == std::vector<::pid_t>{4000008});
  CHECK(detail::processes_of_run("r2", proc.path()).empty());
}

TEST_CASE("local_process_reattach stops what is left of a local-process run and gives the crash reason", "[local]") {
  t::temp_dir dir;
  auto reattach = agent::local_process_reattach();

  SECTION("one process") {
    std::string const run_id = run_id_for("b");
    t::background_command left({"sleep", "30"}, dir / "out", dir / "err", {"LIFTOFF_RUN_ID=" + run_id});
    wait_for_processes(run_id, 1);
    auto r = reattach(request_for(run_id, "local-process"));
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().what());
    CHECK(r.error().code == make_error_code(error::gone));
    CHECK(r.error().what() == "the agent restarted and could not follow the run again: its process " +
                                  std::to_string(left.pid()) +
                                  " is not the new agent's child (its output and exit cannot be watched), so it was "
                                  "stopped");
    CHECK(left.wait() == 128 + SIGTERM);
  }
  SECTION("several processes, and a run whose spec could not be read (no resource)") {
    std::string const run_id = run_id_for("c");
    t::background_command one({"sleep", "30"}, dir / "out", dir / "err", {"LIFTOFF_RUN_ID=" + run_id});
    t::background_command two({"sleep", "30"}, dir / "out2", dir / "err2", {"LIFTOFF_RUN_ID=" + run_id});
    auto pids = wait_for_processes(run_id, 2);
    auto r = reattach(request_for(run_id, ""));
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().what());
    CHECK(r.error().code == make_error_code(error::gone));
    CHECK(contains(r.error().what(), "its processes " + std::to_string(pids[0]) + ", " + std::to_string(pids[1]) +
                                         " are not the new agent's child"));
    CHECK(one.wait() == 128 + SIGTERM);
    CHECK(two.wait() == 128 + SIGTERM);
  }
  SECTION("nothing left") {
    auto r = reattach(request_for(run_id_for("d"), "local-process"));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == make_error_code(error::gone));
    CHECK(r.error().what() ==
          "the agent restarted and the run's process was not found: it ended with the previous agent");
  }
}

TEST_CASE("local_process_reattach leaves the runs of other resources alone", "[local]") {
  t::temp_dir dir;
  std::string const run_id = run_id_for("e");
  t::background_command other({"sleep", "30"}, dir / "out", dir / "err", {"LIFTOFF_RUN_ID=" + run_id});
  wait_for_processes(run_id, 1);
  auto r = agent::local_process_reattach()(request_for(run_id, "local-container"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == make_error_code(error::unsupported));
  CHECK(r.error().what() == "runs on local-container are not local processes");
  CHECK(t::process_alive(other.pid()));
}
