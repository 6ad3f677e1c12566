// `liftoff launch` end to end: the built CLI, real processes, a real git.

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

#include <sys/stat.h>

#include <csignal>
#include <fstream>

namespace t = liftoff::test;

namespace {

t::command_result liftoff_cli(std::vector<std::string> args, std::vector<std::string> env = {},
                              std::filesystem::path const& cwd = {}) {
  args.insert(args.begin(), LIFTOFF_CLI);
  return t::run_command(args, env, cwd);
}

void write_script(std::filesystem::path const& path, std::string const& body) {
  t::write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
}

bool contains(std::string const& haystack, std::string const& needle) {
  return haystack.find(needle) != std::string::npos;
}

void git(std::filesystem::path const& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git", "-c", "user.name=liftoff", "-c", "user.email=t@liftoff.invalid",
                                   "-c", "init.defaultBranch=main", "-C", dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = t::run_command(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("launch runs a local directory job and passes it the LIFTOFF environment", "[cli][local]") {
  t::temp_dir job;
  write_script(job / "train.sh",
               "echo \"run=$LIFTOFF_RUN_ID project=$LIFTOFF_PROJECT job=$LIFTOFF_JOB args=$*\"\n"
               "echo \"config=$LIFTOFF_CONFIG\"\n"
               "echo \"extra=$EXTRA\"\n"
               "echo 'to stderr' >&2\n");
  t::write_file(job / "launch.yaml", "overrides:\n  run_config: {lr: 0.5}\n  args: [--epochs, '2']\n");
  auto r = liftoff_cli({"launch", "-r", "local-process", "--uri", job.path().string(), "-E", "./train.sh", "-p", "mnist", "-J", "hello",
                        "-c", (job / "launch.yaml").string(), "-R",
                        R"({"local-process": {"env": {"EXTRA": "${project_name}!"}}})"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "project=mnist job=hello args=--epochs 2"));
  CHECK(contains(r.out, R"(config={"lr":5E-1})"));
  CHECK(contains(r.out, "extra=mnist!"));
  CHECK(contains(r.err, "to stderr"));
  CHECK_FALSE(contains(r.out, "to stderr"));
  CHECK(contains(r.err, "liftoff: run "));
  CHECK(contains(r.err, " finished"));
}

TEST_CASE("launch runs the bundled hello job", "[cli][local]") {
  auto hello = t::source_dir() / "examples" / "jobs" / "hello";
  auto r = liftoff_cli({"launch", "-r", "local-process", "--uri", hello.string(), "--entry-point", "python3 job.py", "-c",
                        R"({"overrides": {"run_config": {"steps": 2}}})"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "steps"));
  CHECK_FALSE(r.err.empty());
}

TEST_CASE("launch runs a git job at a branch, a tag and a commit", "[cli][git]") {
  t::temp_dir dir;
  auto work = dir / "work";
  std::filesystem::create_directories(work);
  git(work, {"init", "-q"});
  write_script(work / "jobs/hello/run.sh", "echo version one\n");
  git(work, {"add", "."});
  git(work, {"commit", "-qm", "one"});
  git(work, {"tag", "v1"});
  auto first = t::run_command({"git", "-C", work.string(), "rev-parse", "HEAD"}).out;
  first.erase(first.find_last_not_of("\n") + 1);
  write_script(work / "jobs/hello/run.sh", "echo version two\n");
  git(work, {"commit", "-qam", "two"});
  git(work, {"clone", "-q", "--bare", work.string(), (dir / "repo.git").string()});
  auto url = "file://" + (dir / "repo.git").string();

  auto at = [&](std::string const& version) {
    std::vector<std::string> args = {"launch", "-r", "local-process", "--uri", url, "--build-context", "jobs/hello", "-E", "./run.sh"};
    if (!version.empty()) args.insert(args.end(), {"--git-version", version});
    return liftoff_cli(args);
  };
  auto head = at("");
  INFO(head.err);
  CHECK(head.exit_code == 0);
  CHECK(contains(head.out, "version two"));
  CHECK(contains(at("main").out, "version two"));
  CHECK(contains(at("v1").out, "version one"));
  CHECK(contains(at(first).out, "version one"));

  auto missing = at("no-such-tag");
  CHECK(missing.exit_code != 0);
  CHECK(contains(missing.err, "liftoff: error (source): "));
  CHECK(contains(missing.err, "no-such-tag"));
}

TEST_CASE("a failing job's exit code propagates", "[cli][local]") {
  t::temp_dir job;
  write_script(job / "fail.sh", "echo about to fail\nexit 7\n");
  auto r = liftoff_cli({"launch", "-r", "local-process", "--uri", job.path().string(), "-E", "./fail.sh"});
  CHECK(r.exit_code == 7);
  CHECK(contains(r.out, "about to fail"));
  CHECK(contains(r.err, "failed (run): process exited with code 7"));
}

TEST_CASE("Ctrl-C cancels the run and leaves no process behind", "[cli][local][cancel]") {
  t::temp_dir job;
  // The job ignores SIGTERM and leaves a grandchild: only a group kill gets both.
  write_script(job / "stubborn.sh",
               "trap '' TERM\n"
               "sleep 1000 &\n"
               "echo $! > child.pid\n"
               "echo $$ > self.pid\n"
               "echo started\n"
               "while true; do sleep 1; done\n");
  t::background_command cli({LIFTOFF_CLI, "launch", "-r", "local-process", "--uri", job.path().string(), "-E", "./stubborn.sh",
                             "--grace-period", "0.3"},
                            job / "out.txt", job / "err.txt");
  REQUIRE(t::wait_until([&] { return std::filesystem::exists(job / "self.pid") &&
                                     std::filesystem::exists(job / "child.pid") &&
                                     t::read_file(job / "out.txt").find("started") != std::string::npos; }));
  int self = std::stoi(t::read_file(job / "self.pid"));
  int child = std::stoi(t::read_file(job / "child.pid"));
  REQUIRE(t::process_alive(self));
  REQUIRE(t::process_alive(child));
  cli.signal(SIGINT);
  int code = cli.wait();
  INFO(t::read_file(job / "err.txt"));
  CHECK(code == 130);
  CHECK(t::wait_until([&] { return !t::process_alive(self) && !t::process_alive(child); }, 5));
  CHECK(contains(t::read_file(job / "err.txt"), "stopped"));
}

TEST_CASE("a dry run prints what would be done as JSON lines and runs nothing", "[cli][dry-run]") {
  t::temp_dir job;
  write_script(job / "touch.sh", "touch ran\n");
  auto r = liftoff_cli({"launch", "-r", "local-process", "--uri", job.path().string(), "-E", "./touch.sh --flag", "--dry-run", "-p", "p"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(job / "ran"));
  CHECK(contains(r.out, R"("action":"launch")"));
  CHECK(contains(r.out, R"("action":"exec")"));
  CHECK(contains(r.out, R"("--flag")"));
  CHECK(contains(r.out, "LIFTOFF_RUN_ID"));
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) CHECK(line.front() == '{');
}

TEST_CASE("bad input gets one clear line and a non-zero exit", "[cli][errors]") {
  t::temp_dir dir;
  write_script(dir / "ok.sh", "echo ok\n");
  t::write_file(dir / "not-exec.sh", "echo hi\n");
  t::write_file(dir / "bad.json", "{\n  \"project\": \"p\",\n  \"name\": }\n");
  t::write_file(dir / "bad.yaml", "project: [p\n");
  auto d = dir.path().string();

  struct bad_case {
    std::vector<std::string> args;
    std::string expected;
    std::vector<std::string> env;
  };
  std::vector<bad_case> cases = {
      {{"launch", "-r", "local-process", "--uri", d + "/missing", "-E", "x"}, "--uri " + d + "/missing: no such directory"},
      {{"launch", "-r", "local-process", "--uri", d, "-E", "./nope.sh"}, "nope.sh"},
      {{"launch", "-r", "local-process", "--uri", d, "-E", "./not-exec.sh"}, "not-exec.sh"},
      {{"launch", "-r", "local-process", "--uri", d, "-E", "./ok.sh", "-c", d + "/bad.json"}, d + "/bad.json:3:"},
      {{"launch", "-r", "local-process", "--uri", d, "-E", "./ok.sh", "-c", d + "/bad.yaml"}, d + "/bad.yaml:"},
      {{"launch", "--uri", d, "-E", "./ok.sh", "-r", "kubernets"}, "unknown resource 'kubernets'"},
      {{"launch", "-r", "local-process", "--uri", d, "-E", "./ok.sh", "-c", R"({"project": ["x"]})"}, "project: expected a string, got array"},
      {{"launch", "-r", "local-process", "--uri", d, "-E", "./ok.sh", "-R", R"({"local-process": {"env": ["A=1"]}})"},
       "resource_args.local-process.env: expected an object of strings, got array"},
      {{"launch", "-r", "local-process", "--uri", "file://" + d + "/no-repo.git", "-E", "x"}, "no-repo.git"},
      {{"launch", "-r", "local-process", "--uri", "file://" + d + "/no-repo.git", "-E", "x"}, "git is not installed", {"PATH=" + d + "/empty"}},
      {{"launch", "-r", "local-process", "--uri", d}, "entry_point"},
  };
  for (auto const& c : cases) {
    auto r = liftoff_cli(c.args, c.env);
    INFO("args: " << c.args.back() << "\nstderr: " << r.err);
    CHECK(r.exit_code != 0);
    // Progress notes may come first; the error itself is exactly one line, and it says what went wrong.
    std::vector<std::string> errors;
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("liftoff: error", 0) == 0) errors.push_back(line);
    REQUIRE(errors.size() == 1);
    CHECK(contains(errors.front(), c.expected));
    CHECK(contains(r.err, "liftoff: error"));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "ran"));
}

TEST_CASE("every command has --help", "[cli]") {
  auto top = liftoff_cli({"--help"});
  CHECK(top.exit_code == 0);
  CHECK(contains(top.out, "launch"));
  auto launch = liftoff_cli({"launch", "--help"});
  CHECK(launch.exit_code == 0);
  for (auto flag : {"--uri", "--entry-point", "--git-version", "--build-context", "--dockerfile", "--docker-image",
                    "--base-image", "--config", "--resource", "--resource-args", "--project", "--name", "--job-name",
                    "--dry-run"})
    CHECK(contains(launch.out, flag));
  CHECK(liftoff_cli({"launch", "--no-such-flag"}).exit_code == 2);
}

TEST_CASE("resources lists every backend with its resource_args and options", "[cli][backends]") {
  auto r = liftoff_cli({"resources"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  for (auto const* line : {"local-process: ", "local-container: ", "kubernetes: ", "sagemaker: ",
                           "resource_args.local-container:", "--kube-context", "--aws-region", "--builder"})
    CHECK(contains(r.out, line));
  CHECK(contains(r.out, "runs: code, git jobs"));     // local-process
  CHECK(contains(r.out, "runs: image, code, git jobs"));  // local-container

  auto j = liftoff_cli({"resources", "--json"});
  REQUIRE(j.exit_code == 0);
  std::size_t lines = 0;
  for (char c : j.out) lines += c == '\n';
  CHECK(lines == 4);
  CHECK(contains(j.out, R"({"resource":"kubernetes")"));
}

TEST_CASE("launch and launch-agent offer the backends' options", "[cli][backends]") {
  auto launch = liftoff_cli({"launch", "--help"});
  INFO(launch.out);
  for (auto const* flag : {"--kube-context", "--aws-region", "--aws-profile", "--builder"}) CHECK(contains(launch.out, flag));
  CHECK(contains(launch.out, "local-process, local-container (the default), kubernetes or sagemaker"));
  auto agent = liftoff_cli({"launch-agent", "--help"});
  INFO(agent.out);
  CHECK(contains(agent.out, "--builder"));
  CHECK_FALSE(contains(agent.out, "--kube-context"));  // a launch option only
  auto bad = liftoff_cli({"launch", "--builder", "podman", "--uri", ".", "--dry-run"});
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.out + bad.err, "podman"));
}
