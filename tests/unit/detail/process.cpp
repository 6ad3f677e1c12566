#include <liftoff/detail/process.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <sstream>

using namespace liftoff;
namespace fs = std::filesystem;

namespace {

detail::spawn_options sh(std::string script) {
  detail::spawn_options o;
  o.argv = {"/bin/sh", "-c", std::move(script)};
  o.env = detail::current_environment();
  return o;
}

}  // namespace

TEST_CASE("find_executable searches a PATH value, not the shell", "[local][process]") {
  auto found = detail::find_executable("sh", "/nonexistent:/usr/bin:/bin");
  REQUIRE(!found.empty());
  CHECK(found.filename() == "sh");
  test::temp_dir empty;
  CHECK(detail::find_executable("sh", empty.path().string()).empty());
  CHECK(detail::find_executable("sh", "").empty());

  // A file that is not executable is not a program.
  test::write_file(empty / "tool", "#!/bin/sh\n");
  CHECK(detail::find_executable("tool", empty.path().string()).empty());
  fs::permissions(empty / "tool", fs::perms::owner_exec, fs::perm_options::add);
  CHECK(detail::find_executable("tool", "::" + empty.path().string()) == empty / "tool");
}

TEST_CASE("environment helpers replace variables by exact name", "[local][process]") {
  std::vector<std::string> env = {"PATH=/bin", "PATHX=1"};
  detail::env_set(env, "PATH", "/usr/bin");
  detail::env_set(env, "NEW", "a=b");
  CHECK(env == std::vector<std::string>{"PATH=/usr/bin", "PATHX=1", "NEW=a=b"});
  CHECK(detail::env_get(env, "NEW") == "a=b");
  CHECK(detail::env_get(env, "PATHX") == "1");
  CHECK_FALSE(detail::env_get(env, "PAT"));
}

TEST_CASE("run_process captures stdout, stderr and the exit code", "[local][process]") {
  auto r = detail::run_process(sh("echo out; echo err >&2; exit 7"));
  REQUIRE(r.has_value());
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  CHECK(r->status.exited());
  CHECK(r->status.code == 7);
  CHECK_FALSE(r->status.success());
  CHECK(r->status.describe() == "exited with code 7");
}

TEST_CASE("run_process reads both pipes at once, so a chatty child cannot block", "[local][process]") {
  // 1 MiB to each stream: far more than a pipe holds.
  auto r = detail::run_process(sh("head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2"));
  REQUIRE(r.has_value());
  CHECK(r->out.size() == 1048576);
  CHECK(r->err.size() == 1048576);
  CHECK(r->status.success());
}

TEST_CASE("a child killed by a signal is described by the signal's name", "[local][process]") {
  auto r = detail::run_process(sh("kill -SEGV $$"));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->status.exited());
  CHECK(r->status.signal == SIGSEGV);
  CHECK(r->status.describe() == "killed by signal SIGSEGV (11)");
  CHECK(detail::signal_name(SIGTERM) == "SIGTERM");
}

TEST_CASE("the child gets the given environment, directory, its own process group and no stdin",
          "[local][process]") {
  test::temp_dir dir;
  auto o = sh("echo \"$ONLY_VAR\"; pwd; ps -o pgid= -p $$; cat; echo done");
  o.env = {"ONLY_VAR=hello", "PATH=/usr/bin:/bin"};
  o.cwd = dir.path();
  auto r = detail::run_process(o);
  REQUIRE(r.has_value());
  std::istringstream lines(r->out);
  std::string var, cwd, pgid, done;
  std::getline(lines, var);
  std::getline(lines, cwd);
  std::getline(lines, pgid);
  std::getline(lines, done);
  CHECK(var == "hello");
  CHECK(fs::path(cwd) == dir.path());
  CHECK(std::stoi(pgid) != ::getpgrp());  // not ours: a group of its own
  CHECK(done == "done");                   // `cat` read EOF from /dev/null
}

TEST_CASE("spawn_process reports what could not be started", "[local][process]") {
  detail::spawn_options o;
  o.argv = {"/nonexistent/program"};
  auto r = detail::spawn_process(o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code.value() == ENOENT);
  CHECK(r.error().message.find("/nonexistent/program") != std::string::npos);

  detail::spawn_options none;
  CHECK_FALSE((detail::spawn_process(none)).has_value());
}

TEST_CASE("last_line finds the last non-blank line", "[local][process]") {
  CHECK(detail::last_line("hint: a\nfatal: repository 'x' does not exist\n\n  ") ==
        "fatal: repository 'x' does not exist");
  CHECK(detail::last_line("  one  ") == "one");
  CHECK(detail::last_line("\n\n").empty());
  CHECK(detail::last_line("").empty());
}
