#include <liftoff/local/process.hpp>

#include <liftoff/detail/process.hpp>

#include "support/env_guard.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

using namespace liftoff;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void script(fs::path const& path, std::string const& body) {
  test::write_file(path, "#!/bin/sh\n" + body);
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::add);
}

artifact dir_artifact(fs::path const& dir) {
  artifact a;
  a.kind = artifact_kind::directory;
  a.directory = dir;
  return a;
}

launch_spec job(std::vector<std::string> entry_point) {
  launch_spec s;
  s.source = code_dir{"."};
  s.entry_point = std::move(entry_point);
  s.run_id = "run12345";
  s.project = "proj";
  s.job_name = "trainer";
  s.name = "bright-run";
  return s;
}

/// Collects log lines from the reader threads; lets a test wait for one.
struct log_sink {
  std::mutex m;
  std::condition_variable cv;
  std::vector<log_line> lines;

  std::function<void(log_line const&)> callback() {
    return [this](log_line const& l) {
      std::lock_guard lock(m);
      lines.push_back(l);
      cv.notify_all();
    };
  }
  bool wait_for(std::string const& text, std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, limit, [&] {
      for (auto const& l : lines)
        if (l.text == text) return true;
      return false;
    });
  }
};

std::vector<std::string> texts(std::vector<log_line> const& lines, log_stream s) {
  std::vector<std::string> out;
  for (auto const& l : lines)
    if (l.stream == s) out.push_back(l.text);
  return out;
}

bool group_gone(pid_t pgid) { return ::kill(-pgid, 0) == -1 && errno == ESRCH; }

}  // namespace

TEST_CASE("local_process models the target concept", "[local][local_process]") {
  STATIC_REQUIRE(target<local_process>);
  STATIC_REQUIRE(liftoff::run<local_process::run>);
  STATIC_REQUIRE(local_process::accepts(artifact_kind::directory));
  STATIC_REQUIRE_FALSE(local_process::accepts(artifact_kind::local_image));
  STATIC_REQUIRE_FALSE(local_process::accepts(artifact_kind::registry_image));
}

TEST_CASE("exit 0 finishes; its output is kept", "[local][local_process]") {
  test::temp_dir d;
  script(d / "train.sh", "echo hello \"$@\"\nprintf 'no newline'\n");
  auto spec = job({"./train.sh", "a b"});
  spec.overrides.args = {"c"};
  std::vector<run_state> states;
  launch_options o;
  o.on_status = [&](run_status const& s) { states.push_back(s.state); };
  auto r = local_process{}.start(dir_artifact(d.path()), spec, o);
  REQUIRE(r.has_value());
  CHECK(r->id() == "run12345");
  auto s = r->wait();
  CHECK(s.state == run_state::finished);
  CHECK(s.exit_code == 0);
  CHECK(s.stage == failure_stage::none);
  CHECK(r->status().state == run_state::finished);
  CHECK(texts(r->logs(), log_stream::out) == std::vector<std::string>{"hello a b c", "no newline"});
  CHECK(states == std::vector<run_state>{run_state::running, run_state::finished});
}

TEST_CASE("a non-zero exit fails the run with its code", "[local][local_process]") {
  test::temp_dir d;
  script(d / "fail.sh", "echo about to fail >&2\nexit 3\n");
  auto r = local_process{}.start(dir_artifact(d.path()), job({"./fail.sh"}), {});
  REQUIRE(r.has_value());
  auto s = r->wait();
  CHECK(s.state == run_state::failed);
  CHECK(s.exit_code == 3);
  CHECK(s.stage == failure_stage::run);
  CHECK(s.message == "process exited with code 3");
  CHECK(texts(r->logs(), log_stream::err) == std::vector<std::string>{"about to fail"});
}

TEST_CASE("a process killed by a signal fails with the signal's name", "[local][local_process]") {
  test::temp_dir d;
  script(d / "crash.sh", "kill -SEGV $$\n");
  auto r = local_process{}.start(dir_artifact(d.path()), job({"./crash.sh"}), {});
  REQUIRE(r.has_value());
  auto s = r->wait();
  CHECK(s.state == run_state::failed);
  CHECK_FALSE(s.exit_code);
  CHECK(s.message == "process killed by signal SIGSEGV (11)");
}

TEST_CASE("stdout and stderr lines arrive live, each with its stream", "[local][local_process]") {
  test::temp_dir d;
  script(d / "live.sh",
         "echo ready\n"
         "echo warning >&2\n"
         "while [ ! -f go ]; do sleep 0.01; done\n"
         "echo after\n");
  log_sink sink;
  launch_options o;
  o.on_log = sink.callback();
  auto r = local_process{}.start(dir_artifact(d.path()), job({"./live.sh"}), o);
  REQUIRE(r.has_value());
  // The process cannot end before the file exists, so these lines came while it ran.
  REQUIRE(sink.wait_for("ready"));
  REQUIRE(sink.wait_for("warning"));
  CHECK(r->status().state == run_state::running);
  test::write_file(d / "go", "");
  CHECK(r->wait().state == run_state::finished);
  auto logs = r->logs();
  CHECK(texts(logs, log_stream::out) == std::vector<std::string>{"ready", "after"});
  CHECK(texts(logs, log_stream::err) == std::vector<std::string>{"warning"});
  std::lock_guard lock(sink.m);
  CHECK(sink.lines.size() == 3);
}

TEST_CASE("the run sees the LIFTOFF_ environment, the launch's and the resource's", "[local][local_process]") {
  test::temp_dir d;
  script(d / "env.sh",
         "for v in LIFTOFF_RUN_ID LIFTOFF_PROJECT LIFTOFF_JOB LIFTOFF_RUN_NAME LIFTOFF_QUEUE LIFTOFF_CONFIG "
         "LIFTOFF_SERVER EXTRA HOME; do\n"
         "  eval \"echo $v=\\${$v-unset}\"\n"
         "done\n");
  auto spec = job({"./env.sh"});
  spec.overrides.run_config = {{"lr", 0.5}};
  spec.resource_args = {{"local-process", {{"env", {{"EXTRA", "from-resource"}}}}}};
  launch_options o;
  o.environment = {{"LIFTOFF_SERVER", "http://127.0.0.1:1"}, {"EXTRA", "from-options"}};

  SECTION("without a queue") {
    auto r = local_process{}.start(dir_artifact(d.path()), spec, o);
    REQUIRE(r.has_value());
    REQUIRE(r->wait().succeeded());
    auto out = texts(r->logs(), log_stream::out);
    CHECK(out == std::vector<std::string>{
                     "LIFTOFF_RUN_ID=run12345", "LIFTOFF_PROJECT=proj", "LIFTOFF_JOB=trainer",
                     "LIFTOFF_RUN_NAME=bright-run", "LIFTOFF_QUEUE=unset", R"(LIFTOFF_CONFIG={"lr":5E-1})",
                     "LIFTOFF_SERVER=http://127.0.0.1:1", "EXTRA=from-resource",
                     "HOME=" + std::string(std::getenv("HOME") ? std::getenv("HOME") : "unset")});
  }
  SECTION("from a queue, with an empty config") {
    spec.queue = "gpu";
    spec.overrides.run_config = {};
    auto r = local_process{}.start(dir_artifact(d.path()), spec, {});
    REQUIRE(r.has_value());
    REQUIRE(r->wait().succeeded());
    auto out = texts(r->logs(), log_stream::out);
    REQUIRE(out.size() == 9);
    CHECK(out[4] == "LIFTOFF_QUEUE=gpu");
    CHECK(out[5] == "LIFTOFF_CONFIG={}");
  }
}

namespace {

/// The names in an environment of `NAME=value` strings, in order.
std::vector<std::string> names_of(std::vector<std::string> const& env) {
  std::vector<std::string> out;
  for (auto const& kv : env) out.push_back(kv.substr(0, kv.find('=')));
  return out;
}

std::vector<std::string> const agent_environment = {
    "PATH=/usr/bin:/bin",      "HOME=/home/agent",          "LANG=C.UTF-8",        "LC_ALL=C",
    "LC_TIME=en_GB.UTF-8",     "TZ=UTC",                    "USER=agent",          "TMPDIR=/tmp/agent",
    "SHELL=/bin/bash",         "LIFTOFF_API_TOKEN=lft_agent_secret",               "LIFTOFF_SERVER=http://old",
    "AWS_SECRET_ACCESS_KEY=aws_secret",                     "AWS_ACCESS_KEY_ID=AKIA", "FOO=bar",
    "HF_TOKEN=hf_abc",         "LCX=not-a-locale",          "PATHS=not-path"};

}  // namespace

TEST_CASE("a minimal environment keeps what programs need, pass_env and the run's own variables",
          "[local][local_process]") {
  auto spec = job({"env"});
  spec.queue = "q";
  spec.resource_args = {{"local-process", {{"env", {{"EXTRA", "from-resource"}, {"HOME", "/run/home"}}},
                                           {"pass_env", boost::json::array{"HF_TOKEN", "NOT_SET_ANYWHERE"}}}}};
  launch_options o;
  o.environment = {{"LIFTOFF_SERVER", "http://127.0.0.1:1"}};
  local_process p;
  p.environment = local_process::environment_policy::minimal;
  auto env = p.environment_for(spec, o, agent_environment);

  CHECK(names_of(env) == std::vector<std::string>{"PATH", "HOME", "LANG", "LC_ALL", "LC_TIME", "TZ", "USER", "TMPDIR",
                                                  "SHELL", "HF_TOKEN", "LIFTOFF_RUN_ID", "LIFTOFF_PROJECT",
                                                  "LIFTOFF_JOB", "LIFTOFF_RUN_NAME", "LIFTOFF_QUEUE",
                                                  "LIFTOFF_CONFIG", "LIFTOFF_SERVER", "EXTRA"});
  CHECK(detail::env_get(env, "PATH") == "/usr/bin:/bin");
  CHECK(detail::env_get(env, "HF_TOKEN") == "hf_abc");
  CHECK(detail::env_get(env, "HOME") == "/run/home");  // the resource's env wins
  CHECK(detail::env_get(env, "LIFTOFF_RUN_ID") == "run12345");
  CHECK(detail::env_get(env, "LIFTOFF_SERVER") == "http://127.0.0.1:1");
  CHECK(detail::env_get(env, "EXTRA") == "from-resource");
  for (auto const* absent : {"LIFTOFF_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "FOO", "LCX", "PATHS",
                             "NOT_SET_ANYWHERE"})
    CHECK_FALSE(detail::env_get(env, absent));

  SECTION("without pass_env only the minimal set and the run's variables are left") {
    spec.resource_args = {};
    auto bare = p.environment_for(spec, o, agent_environment);
    CHECK_FALSE(detail::env_get(bare, "HF_TOKEN"));
    CHECK(detail::env_get(bare, "HOME") == "/home/agent");
  }
  SECTION("a variable the spec sets outright is the spec's, whatever its name") {
    spec.resource_args = {{"local-process", {{"env", {{"LIFTOFF_API_TOKEN", "lft_the_runs_own"}}}}}};
    CHECK(detail::env_get(p.environment_for(spec, o, agent_environment), "LIFTOFF_API_TOKEN") == "lft_the_runs_own");
  }
}

TEST_CASE("an inherited environment keeps all of this process's variables but its credentials",
          "[local][local_process]") {
  auto spec = job({"env"});
  launch_options o;
  local_process p;  // inherit is the default
  REQUIRE(p.environment == local_process::environment_policy::inherit);
  auto env = p.environment_for(spec, o, agent_environment);
  CHECK(detail::env_get(env, "FOO") == "bar");
  CHECK(detail::env_get(env, "AWS_SECRET_ACCESS_KEY") == "aws_secret");
  CHECK(detail::env_get(env, "LIFTOFF_SERVER") == "http://old");
  CHECK_FALSE(detail::env_get(env, "LIFTOFF_API_TOKEN"));
  CHECK(detail::env_get(env, "LIFTOFF_RUN_ID") == "run12345");

  SECTION("withheld names more") {
    p.withheld.push_back("AWS_SECRET_ACCESS_KEY");
    auto fewer = p.environment_for(spec, o, agent_environment);
    CHECK_FALSE(detail::env_get(fewer, "AWS_SECRET_ACCESS_KEY"));
    CHECK(detail::env_get(fewer, "AWS_ACCESS_KEY_ID") == "AKIA");
    spec.resource_args = {{"local-process", {{"pass_env", boost::json::array{"AWS_SECRET_ACCESS_KEY"}}}}};
    auto refused = p.validate(spec);
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(refused.error().message, Catch::Contains("pass_env[0]: AWS_SECRET_ACCESS_KEY"));
  }
}

TEST_CASE("a run under the minimal policy sees none of this process's other variables", "[local][local_process]") {
  test::env_guard token("LIFTOFF_API_TOKEN", "lft_agent_secret");
  test::env_guard aws("AWS_SECRET_ACCESS_KEY", "aws_secret");
  test::env_guard foo("LIFTOFF_TEST_FOO", "foo-value");
  test::env_guard passed("LIFTOFF_TEST_PASSED", "passed-value");
  test::temp_dir d;
  auto spec = job({"env"});
  spec.resource_args = {{"local-process", {{"pass_env", boost::json::array{"LIFTOFF_TEST_PASSED"}}}}};
  local_process p;
  p.environment = local_process::environment_policy::minimal;
  auto r = p.start(dir_artifact(d.path()), spec, {});
  REQUIRE(r.has_value());
  REQUIRE(r->wait().succeeded());
  std::vector<std::string> names;
  for (auto const& line : texts(r->logs(), log_stream::out)) names.push_back(line.substr(0, line.find('=')));
  auto has = [&](std::string const& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(has("LIFTOFF_RUN_ID"));
  CHECK(has("LIFTOFF_TEST_PASSED"));
  CHECK(has("PATH") == (std::getenv("PATH") != nullptr));
  CHECK_FALSE(has("LIFTOFF_API_TOKEN"));
  CHECK_FALSE(has("AWS_SECRET_ACCESS_KEY"));
  CHECK_FALSE(has("LIFTOFF_TEST_FOO"));
}

TEST_CASE("workdir runs the process in a sub-directory of the job", "[local][local_process]") {
  test::temp_dir d;
  fs::create_directory(d / "sub");
  script(d / "pwd.sh", "pwd\n");
  auto spec = job({"./pwd.sh"});
  spec.resource_args = {{"local-process", {{"workdir", "sub"}}}};
  auto r = local_process{}.start(dir_artifact(d.path()), spec, {});
  REQUIRE(r.has_value());
  REQUIRE(r->wait().succeeded());
  CHECK(texts(r->logs(), log_stream::out) == std::vector<std::string>{(d / "sub").string()});

  spec.resource_args = {{"local-process", {{"workdir", "missing"}}}};
  auto bad = local_process{}.start(dir_artifact(d.path()), spec, {});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == error::file_not_found);
  CHECK(bad.error().message.find("workdir") != std::string::npos);
}

TEST_CASE("resource_args.local-process is checked field by field", "[local][local_process]") {
  auto spec = job({"true"});
  auto error_for = [&](boost::json::value args) {
    spec.resource_args = {{"local-process", args}};
    auto v = local_process{}.validate(spec);
    REQUIRE_FALSE(v.has_value());
    return v.error().message;
  };
  CHECK(error_for(boost::json::array{"A=1"}) == "resource_args.local-process: expected an object, got array");
  CHECK(error_for({{"env", boost::json::array{"A=1"}}}) ==
        "resource_args.local-process.env: expected an object of strings, got array");
  CHECK(error_for({{"env", {{"A", 1}}}}) == "resource_args.local-process.env.A: expected a string, got integer");
  CHECK(error_for({{"env", {{"A=B", "x"}}}}) ==
        "resource_args.local-process.env: 'A=B' is not a valid environment variable name");
  CHECK(error_for({{"workdir", 3}}) == "resource_args.local-process.workdir: expected a string, got integer");
  CHECK(error_for({{"workdir", "/abs"}}) ==
        "resource_args.local-process.workdir: expected a directory relative to the job's directory, got '/abs'");
  CHECK(error_for({{"pass_env", "FOO"}}) ==
        "resource_args.local-process.pass_env: expected an array of variable names, got string");
  CHECK(error_for({{"pass_env", boost::json::array{"FOO", 1}}}) ==
        "resource_args.local-process.pass_env[1]: expected a variable name (a string), got integer");
  CHECK(error_for({{"pass_env", boost::json::array{"FOO", "A=B"}}}) ==
        "resource_args.local-process.pass_env[1]: 'A=B' is not a valid environment variable name (letters, digits "
        "and _, not starting with a digit)");
  CHECK(error_for({{"pass_env", boost::json::array{"1X"}}}) ==
        "resource_args.local-process.pass_env[0]: '1X' is not a valid environment variable name (letters, digits "
        "and _, not starting with a digit)");
  CHECK_THAT(error_for({{"pass_env", boost::json::array{""}}}), Catch::Contains("pass_env[0]: '' is not a valid"));
  CHECK(error_for({{"pass_env", boost::json::array{"LIFTOFF_API_TOKEN"}}}) ==
        "resource_args.local-process.pass_env[0]: LIFTOFF_API_TOKEN is the launching program's credential and is "
        "never passed to a run; give the run its own value in resource_args.local-process.env");
  CHECK(error_for({{"evn", {}}}) ==
        "resource_args.local-process: unknown field 'evn' (did you mean 'env'?); allowed: env, pass_env, workdir");
  CHECK(error_for({{"passenv", {}}}) == "resource_args.local-process: unknown field 'passenv' (did you mean "
                                        "'pass_env'?); allowed: env, pass_env, workdir");
  CHECK(error_for({{"gpus", 1}}) ==
        "resource_args.local-process: unknown field 'gpus'; allowed: env, pass_env, workdir");

  spec.resource_args = {{"local-process",
                         {{"env", {{"A", "1"}}},
                          {"pass_env", boost::json::array{"HF_TOKEN", "_x1"}},
                          {"workdir", "sub"}}},
                        {"kubernetes", 1}};
  CHECK((local_process{}.validate(spec)).has_value());

  // start() checks too: nothing runs with bad arguments.
  spec.resource_args = {{"local-process", {{"bogus", 1}}}};
  test::temp_dir d;
  auto r = local_process{}.start(dir_artifact(d.path()), spec, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::unknown_field);
}

TEST_CASE("a bad entry point is named, with what to do", "[local][local_process]") {
  test::temp_dir d;
  auto start = [&](std::vector<std::string> argv) {
    auto r = local_process{}.start(dir_artifact(d.path()), job(std::move(argv)), {});
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };

  auto empty = start({});
  CHECK(empty.code == error::invalid_spec);
  CHECK(empty.message == "entry_point: the job has no entry point; give one with --entry-point");

  auto missing = start({"./nope.sh"});
  CHECK(missing.code == error::not_executable);
  CHECK(missing.message.find("./nope.sh") != std::string::npos);
  CHECK(missing.message.find("does not exist") != std::string::npos);

  auto unknown = start({"no-such-program-anywhere"});
  CHECK(unknown.code == error::not_executable);
  CHECK(unknown.message.find("no-such-program-anywhere not found on PATH or in the job's directory") !=
        std::string::npos);

  test::write_file(d / "plain.sh", "echo hi\n");
  auto plain = start({"./plain.sh"});
  CHECK(plain.code == error::not_executable);
  CHECK(plain.message.find("./plain.sh is not executable") != std::string::npos);
  CHECK(plain.message.find("chmod +x ./plain.sh") != std::string::npos);

  auto bare = start({"plain.sh"});  // found in the job's directory, still not executable
  CHECK(bare.code == error::not_executable);
  CHECK(bare.message.find("chmod +x plain.sh") != std::string::npos);

  fs::create_directory(d / "adir");
  CHECK(start({"./adir"}).message.find("is a directory") != std::string::npos);

  test::write_file(d / "noshebang", "\x7f" "ELF garbage");
  fs::permissions(d / "noshebang", fs::perms::owner_all, fs::perm_options::add);
  auto garbage = start({"./noshebang"});
  CHECK(garbage.code == error::not_executable);
  CHECK(garbage.message.find("#!") != std::string::npos);
}

TEST_CASE("entry points resolve on PATH, then in the job's directory", "[local][local_process]") {
  test::temp_dir d;
  script(d / "tool.sh", "echo from job dir\n");
  auto r = local_process{}.start(dir_artifact(d.path()), job({"tool.sh"}), {});
  REQUIRE(r.has_value());
  REQUIRE(r->wait().succeeded());
  CHECK(texts(r->logs(), log_stream::out) == std::vector<std::string>{"from job dir"});

  auto sh = local_process{}.start(dir_artifact(d.path()), job({"sh", "-c", "echo from PATH"}), {});
  REQUIRE(sh.has_value());
  REQUIRE(sh->wait().succeeded());
  CHECK(texts(sh->logs(), log_stream::out) == std::vector<std::string>{"from PATH"});

  // The run's own PATH decides.
  test::temp_dir bin;
  script(bin / "only-here", "echo found via run PATH\n");
  launch_options o;
  o.environment["PATH"] = bin.path().string() + ":/usr/bin:/bin";
  auto custom = local_process{}.start(dir_artifact(d.path()), job({"only-here"}), o);
  REQUIRE(custom.has_value());
  REQUIRE(custom->wait().succeeded());
  CHECK(texts(custom->logs(), log_stream::out) == std::vector<std::string>{"found via run PATH"});
}

TEST_CASE("cancel kills the whole process group, even what ignores SIGTERM", "[local][local_process]") {
  test::temp_dir d;
  // Ignoring TERM is inherited: the background sleep ignores it too, so only SIGKILL ends them.
  script(d / "stubborn.sh",
         "trap '' TERM\n"
         "sleep 1000 &\n"
         "echo started\n"
         "while :; do sleep 0.05; done\n");
  log_sink sink;
  launch_options o;
  o.on_log = sink.callback();
  auto r = local_process{}.start(dir_artifact(d.path()), job({"./stubborn.sh"}), o);
  REQUIRE(r.has_value());
  pid_t pgid = r->process_group();
  REQUIRE(pgid > 0);
  REQUIRE(sink.wait_for("started"));
  CHECK_FALSE(group_gone(pgid));

  auto t0 = std::chrono::steady_clock::now();
  r->cancel(200ms);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= 200ms);
  CHECK(took < 15s);
  CHECK(group_gone(pgid));
  auto s = r->status();
  CHECK(s.state == run_state::stopped);
  CHECK(r->wait().state == run_state::stopped);
}

TEST_CASE("cancel ends a cooperative process within the grace period", "[local][local_process]") {
  test::temp_dir d;
  script(d / "polite.sh", "trap 'echo bye; exit 0' TERM\necho started\nwhile :; do sleep 0.05; done\n");
  log_sink sink;
  launch_options o;
  o.on_log = sink.callback();
  auto r = local_process{}.start(dir_artifact(d.path()), job({"./polite.sh"}), o);
  REQUIRE(r.has_value());
  REQUIRE(sink.wait_for("started"));
  auto t0 = std::chrono::steady_clock::now();
  r->cancel(10s);
  CHECK(std::chrono::steady_clock::now() - t0 < 9s);
  CHECK(r->status().state == run_state::stopped);
  CHECK(group_gone(r->process_group()));
  CHECK(sink.wait_for("bye", 1s));
}

TEST_CASE("what a process leaves behind in its group does not outlive it", "[local][local_process]") {
  test::temp_dir d;
  script(d / "leaver.sh", "sleep 1000 &\necho $!\n");
  auto r = local_process{}.start(dir_artifact(d.path()), job({"./leaver.sh"}), {});
  REQUIRE(r.has_value());
  auto s = r->wait();
  CHECK(s.state == run_state::finished);
  r->cancel(100ms);  // the run is over: cancel only makes sure nothing is left
  CHECK(r->status().state == run_state::finished);
  CHECK(group_gone(r->process_group()));
}

TEST_CASE("a run keeps only the newest lines", "[local][local_process]") {
  test::temp_dir d;
  script(d / "many.sh", "i=1; while [ $i -le 100 ]; do echo line $i; i=$((i+1)); done\n");
  local_process target;
  target.max_log_lines = 10;
  auto r = target.start(dir_artifact(d.path()), job({"./many.sh"}), {});
  REQUIRE(r.has_value());
  REQUIRE(r->wait().succeeded());
  auto logs = r->logs();
  REQUIRE(logs.size() == 10);
  CHECK(logs.front().text == "line 91");
  CHECK(logs.back().text == "line 100");
}

TEST_CASE("dropping the handle of a running process neither blocks nor stops it", "[local][local_process]") {
  test::temp_dir d;
  script(d / "slow.sh", "sleep 0.5\ntouch finished-by-itself\n");
  auto t0 = std::chrono::steady_clock::now();
  {
    auto r = local_process{}.start(dir_artifact(d.path()), job({"./slow.sh"}), {});
    REQUIRE(r.has_value());
    auto moved = std::move(*r);
    CHECK(moved.status().state == run_state::running);
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 400ms);
  for (int i = 0; i < 500 && !fs::exists(d / "finished-by-itself"); ++i) std::this_thread::sleep_for(10ms);
  CHECK(fs::exists(d / "finished-by-itself"));
}

TEST_CASE("a dry run emits the exec action and starts nothing", "[local][local_process]") {
  test::temp_dir d;
  script(d / "train.sh", "touch ran\n");
  auto spec = job({"./train.sh", "--epochs", "3"});
  spec.resource_args = {{"local-process", {{"env", {{"CUDA_VISIBLE_DEVICES", "0"}}}}}};
  std::vector<boost::json::object> actions;
  launch_options o;
  o.environment = {{"SECRET_TOKEN", "hunter2"}, {"LIFTOFF_SERVER", "http://x"}};
  o.on_dry_run = [&](boost::json::object const& a) { actions.push_back(a); };
  auto r = local_process{}.start(dir_artifact(d.path()), spec, o);
  REQUIRE(r.has_value());
  CHECK(r->status().state == run_state::finished);
  CHECK(r->wait().state == run_state::finished);
  r->cancel(0ms);
  REQUIRE(actions.size() == 1);
  auto const& a = actions[0];
  CHECK(a.at("stage") == "run");
  CHECK(a.at("action") == "exec");
  CHECK(a.at("argv") == boost::json::array{"./train.sh", "--epochs", "3"});
  CHECK(a.at("cwd").as_string() == d.path().string());
  auto const& env = a.at("env").as_object();
  CHECK(env.at("LIFTOFF_RUN_ID") == "run12345");
  CHECK(env.at("LIFTOFF_CONFIG") == "{}");
  CHECK(env.at("LIFTOFF_SERVER") == "http://x");
  CHECK(env.at("CUDA_VISIBLE_DEVICES") == "0");
  CHECK_FALSE(env.contains("SECRET_TOKEN"));
  CHECK_FALSE(env.contains("PATH"));
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(fs::exists(d / "ran"));
}
