// `liftoff launch` on the local-container resource, end to end: the built
// CLI against the real Docker engine (DOCKER_HOST, else the default socket).

#include <catch2/catch.hpp>

#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <sys/stat.h>

#include <csignal>
#include <sstream>

namespace t = liftoff::test;

namespace {

constexpr char const* base_image = "liftoff-test/busybox:latest";

t::command_result liftoff_cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), LIFTOFF_CLI);
  return t::run_command(args, env);
}

t::command_result docker(std::vector<std::string> args) { return t::docker_cli(std::move(args)); }

bool docker_ready() { return t::docker_cli_ready(); }

bool contains(std::string const& haystack, std::string const& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The containers, running or not, that carry this run id.
std::string containers_of(std::string const& run_id) {
  return docker({"ps", "-aq", "--filter", "label=liftoff.run-id=" + run_id}).out;
}

std::string config_with_run_id(std::string const& run_id) { return R"({"run_id": ")" + run_id + R"("})"; }

std::string unique_id(std::string const& prefix) {
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand() % 100000);
}

/// A job directory whose generated image runs on the busybox test image.
void write_code_job(t::temp_dir const& dir) {
  t::write_file(dir / "train.sh", "echo \"training as $(id -u) in $(pwd) run=$LIFTOFF_RUN_ID\"\necho to-stderr >&2\n");
  t::write_file(dir / "secret.txt", "do not ship\n");
  t::write_file(dir / ".dockerignore", "secret.txt\n");
}

/// Removes the images a test built (by their liftoff.job label).
void remove_images_of_job(std::string const& job) {
  auto ids = docker({"images", "-q", "--filter", "label=liftoff.job=" + job}).out;
  std::istringstream in(ids);
  for (std::string id; in >> id;) docker({"rmi", "-f", id});
}

}  // namespace

TEST_CASE("an image runs in a container, and a missing one is pulled or named", "[cli][docker]") {
  if (!docker_ready()) return;
  auto run_id = unique_id("img");
  auto r = liftoff_cli({"launch", "--docker-image", base_image, "--project", "P", "-E",
                        "sh -c 'echo hello from $LIFTOFF_PROJECT; echo oops >&2'", "-c", config_with_run_id(run_id)});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "hello from P"));
  CHECK(contains(r.err, "oops"));
  CHECK(containers_of(run_id).empty());

  auto missing = liftoff_cli({"launch", "--docker-image", "127.0.0.1:9/nope:1"});
  CHECK(missing.exit_code != 0);
  CHECK(contains(missing.err, "liftoff: error"));
  CHECK(contains(missing.err, "127.0.0.1:9/nope:1"));
}

TEST_CASE("a local directory is built from a generated Dockerfile and run as a non-root user", "[cli][docker]") {
  if (!docker_ready()) return;
  t::temp_dir dir;
  write_code_job(dir);
  auto job = unique_id("hello-world-code");
  auto launch = [&] {
    return liftoff_cli({"launch", "--uri", dir.path().string(), "--job-name", job, "--entry-point", "sh train.sh",
                        "--base-image", base_image});
  };
  auto first = launch();
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(contains(first.out, "training as 1000 in /app"));
  CHECK(contains(first.err, "to-stderr"));
  CHECK(contains(first.err, "building image"));

  SECTION("relaunching the unchanged job builds nothing; a one-byte edit rebuilds") {
    auto second = launch();
    INFO(second.err);
    CHECK(second.exit_code == 0);
    CHECK(contains(second.err, "up to date"));
    CHECK_FALSE(contains(second.err, "building image"));
    t::write_file(dir / "train.sh", t::read_file(dir / "train.sh") + "#\n");
    auto third = launch();
    CHECK(third.exit_code == 0);
    CHECK(contains(third.err, "building image"));
  }
  SECTION(".dockerignore keeps files out of the image") {
    auto ls = liftoff_cli({"launch", "--uri", dir.path().string(), "--job-name", job, "--entry-point", "ls /app",
                           "--base-image", base_image});
    CHECK(ls.exit_code == 0);
    CHECK(contains(ls.out, "train.sh"));
    CHECK_FALSE(contains(ls.out, "secret.txt"));
  }
  remove_images_of_job(job);
}

TEST_CASE("a git repository is cloned, built from its Dockerfile and run", "[cli][docker][git]") {
  if (!docker_ready()) return;
  t::temp_dir dir;
  auto work = dir / "work";
  t::write_file(work / "jobs/hello/Dockerfile.liftoff",
                std::string("FROM ") + base_image + "\nCOPY . /job\nWORKDIR /job\n");
  t::write_file(work / "jobs/hello/job.sh", "echo hello from git at $(pwd)\n");
  t::write_file(work / "README", "top level\n");
  auto git = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"git", "-c", "user.name=l", "-c", "user.email=l@liftoff.invalid", "-C",
                                     work.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    REQUIRE(t::run_command(argv).exit_code == 0);
  };
  git({"init", "-q"});
  git({"add", "."});
  git({"commit", "-qm", "job"});
  REQUIRE(t::run_command({"git", "clone", "-q", "--bare", work.string(), (dir / "repo.git").string()}).exit_code == 0);
  auto job = unique_id("hello-world-git");
  auto r = liftoff_cli({"launch", "--uri", "file://" + (dir / "repo.git").string(), "--job-name", job,
                        "--build-context", "jobs/hello", "--dockerfile", "Dockerfile.liftoff", "--entry-point",
                        "sh job.sh"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "hello from git at /job"));
  remove_images_of_job(job);
}

TEST_CASE("a failing container's exit code propagates and the container is removed", "[cli][docker]") {
  if (!docker_ready()) return;
  auto run_id = unique_id("fail");
  auto r = liftoff_cli({"launch", "--docker-image", base_image, "-E", "sh -c 'echo failing; exit 5'", "-c",
                        config_with_run_id(run_id)});
  CHECK(r.exit_code == 5);
  CHECK(contains(r.out, "failing"));
  CHECK(contains(r.err, "failed (run)"));
  CHECK(containers_of(run_id).empty());
}

TEST_CASE("Ctrl-C stops the container and leaves none behind", "[cli][docker][cancel]") {
  if (!docker_ready()) return;
  t::temp_dir dir;
  auto run_id = unique_id("cancel");
  t::background_command cli({LIFTOFF_CLI, "launch", "--docker-image", base_image, "-E",
                             "sh -c 'trap \"\" TERM; echo started; while true; do sleep 1; done'", "-c",
                             config_with_run_id(run_id), "--grace-period", "1"},
                            dir / "out.txt", dir / "err.txt");
  REQUIRE(t::wait_until([&] { return contains(t::read_file(dir / "out.txt"), "started"); }, 30));
  CHECK_FALSE(containers_of(run_id).empty());
  cli.signal(SIGINT);
  CHECK(cli.wait() == 130);
  INFO(t::read_file(dir / "err.txt"));
  CHECK(contains(t::read_file(dir / "err.txt"), "stopped"));
  CHECK(containers_of(run_id).empty());
}

TEST_CASE("a container killed for memory fails with out of memory", "[cli][docker][oom]") {
  if (!docker_ready()) return;
  auto r = liftoff_cli({"launch", "--docker-image", base_image, "-E",
                        "sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1'", "-R",
                        R"({"local-container": {"memory": "8m"}})"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(contains(r.err, "out of memory (limit 8 MiB)"));
}

TEST_CASE("resource args outside the allow-list are rejected with the allowed keys", "[cli][docker][errors]") {
  auto r = liftoff_cli({"launch", "--docker-image", base_image, "-R", R"({"local-container": {"privileged": true}})"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "resource_args.local-container: unknown field 'privileged'"));
  CHECK(contains(r.err, "cpus, memory, gpus, shm-size, env, workdir, name, ulimit, pids-limit, platform, network"));
}

TEST_CASE("a dry run prints the Engine API requests and creates nothing", "[cli][docker][dry-run]") {
  t::temp_dir dir;
  write_code_job(dir);
  auto job = unique_id("dry");
  auto r = liftoff_cli({"launch", "--uri", dir.path().string(), "--job-name", job, "--entry-point", "sh train.sh",
                        "--base-image", base_image, "--dry-run", "-c", config_with_run_id(job)});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, R"("action":"docker api")"));
  CHECK(contains(r.out, "/build"));
  CHECK(contains(r.out, "/containers/create"));
  CHECK(contains(r.out, "liftoff.run-id"));
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) CHECK(line.front() == '{');
  if (docker_ready()) {
    CHECK(containers_of(job).empty());
    CHECK(docker({"images", "-q", "--filter", "label=liftoff.job=" + job}).out.empty());
  }
}

TEST_CASE("Docker bad input gets one clear line", "[cli][docker][errors]") {
  t::temp_dir dir;
  write_code_job(dir);
  t::write_file(dir / "failing/Dockerfile", std::string("FROM ") + base_image + "\nRUN false\n");
  t::write_file(dir / "failing/x", "x");
  std::filesystem::create_directory_symlink("/etc", dir / "escape");
  auto d = dir.path().string();

  auto unreachable = liftoff_cli({"launch", "--docker-image", base_image}, {"DOCKER_HOST=unix:///tmp/liftoff-no-engine.sock"});
  CHECK(unreachable.exit_code != 0);
  CHECK(contains(unreachable.err, "unix:///tmp/liftoff-no-engine.sock"));
  CHECK(contains(unreachable.err, "DOCKER_HOST"));

  auto outside = liftoff_cli({"launch", "--uri", d + "/failing", "--build-context", "..", "-E", "sh x"});
  CHECK(outside.exit_code != 0);
  CHECK(contains(outside.err, "build_context"));

  auto no_dockerfile = liftoff_cli({"launch", "--uri", d, "--dockerfile", "Nope.Dockerfile", "-E", "sh train.sh"});
  CHECK(no_dockerfile.exit_code != 0);
  CHECK(contains(no_dockerfile.err, "Nope.Dockerfile"));

  if (!docker_ready()) return;
  auto symlink = liftoff_cli({"launch", "--uri", d, "-E", "sh train.sh", "--base-image", base_image});
  CHECK(symlink.exit_code != 0);
  CHECK(contains(symlink.err, "escape"));

  auto failing = liftoff_cli({"launch", "--uri", d + "/failing", "-E", "sh x", "--job-name", unique_id("failing")});
  CHECK(failing.exit_code != 0);
  CHECK(contains(failing.err, "liftoff: error (build)"));
  CHECK(contains(failing.err, "RUN false"));
}
