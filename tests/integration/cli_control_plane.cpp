// The control-plane commands of the CLI (login, token, queue, job, launch --queue, run)
// against a real `liftoff server` process.

#include <catch2/catch.hpp>

#include "support/server_process.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>

#include <sys/stat.h>

#include <csignal>
#include <memory>
#include <regex>

namespace t = liftoff::test;
namespace fs = std::filesystem;

namespace {

bool contains(std::string const& haystack, std::string const& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A `liftoff server` on an ephemeral port with a fresh data directory, and a
/// home directory for the CLI's credentials.
class control_plane {
public:
  control_plane() { fs::create_directories(dir_ / "home"); }

  std::string const& url() const { return server_.url(); }
  std::string const& token() const { return server_.token(); }
  fs::path path(std::string const& p) const { return dir_ / p; }
  fs::path credentials_file() const { return dir_ / "home" / ".config" / "liftoff" / "credentials.json"; }

  /// The CLI with its own HOME and no server in the environment: it uses what `login` saved.
  t::command_result cli(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    args.insert(args.begin(), LIFTOFF_CLI);
    env.insert(env.begin(), {"HOME=" + (dir_ / "home").string(), "XDG_CONFIG_HOME=", "LIFTOFF_SERVER=",
                             "LIFTOFF_API_TOKEN="});
    return t::run_command(args, env);
  }
  /// The CLI given the server and the admin token in the environment.
  t::command_result admin(std::vector<std::string> args) const {
    return cli(std::move(args), server_.env());
  }

private:
  t::temp_dir dir_{"liftoff-control-plane"};
  t::server_process server_{LIFTOFF_CLI, dir_ / "data"};
};

/// The run id a push printed ("run RUN_ID (item N) queued on Q").
std::string pushed_run_id(std::string const& out) {
  std::smatch m;
  std::regex re(R"(run ([a-z0-9-]+) \(item [0-9]+\) queued on)");
  REQUIRE(std::regex_search(out, m, re));
  return m[1];
}

void make_job_dir(fs::path const& dir) {
  t::write_file(dir / "job.py", "print('hello from the queue')\n");
  t::write_file(dir / "lib" / "util.py", "X = 1\n");
  t::write_file(dir / "notes.tmp", "ignored\n");
  t::write_file(dir / ".liftoffignore", "*.tmp\n");
}

}  // namespace

TEST_CASE("login checks the token, saves it 0600, and the other commands use it", "[control-plane]") {
  control_plane cp;
  t::write_file(cp.path("token.txt"), cp.token() + "\n");

  auto wrong_file = cp.path("wrong.txt");
  t::write_file(wrong_file, "lft_0000000000000000000000000000000000000000000000000000000000000000\n");
  auto wrong = cp.cli({"login", "--server", cp.url(), "--token-file", wrong_file.string()});
  INFO(wrong.out << wrong.err);
  CHECK(wrong.exit_code == 1);
  CHECK(contains(wrong.err, "liftoff: error"));
  CHECK(contains(wrong.err, "login to " + cp.url() + " failed"));
  CHECK_FALSE(contains(wrong.err, "lft_0000"));
  CHECK_FALSE(fs::exists(cp.credentials_file()));

  auto login = cp.cli({"login", "--server", cp.url(), "--token-file", cp.path("token.txt").string()});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  REQUIRE(fs::exists(cp.credentials_file()));
  struct ::stat st {};
  REQUIRE(::stat(cp.credentials_file().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(contains(login.out + login.err, cp.token()));

  auto tokens = cp.cli({"token", "list"});
  INFO(tokens.out << tokens.err);
  CHECK(tokens.exit_code == 0);
  CHECK(contains(tokens.out, "NAME"));
  CHECK_FALSE(contains(tokens.out, cp.token()));

  SECTION("a new token is printed once and works; revoked, it is refused") {
    auto made = cp.cli({"token", "create", "ci"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    std::smatch m;
    std::regex re("(lft_[0-9a-f]+)");
    REQUIRE(std::regex_search(made.out, m, re));
    std::string fresh = m[1];
    auto as_ci = cp.cli({"queue", "list"}, {"LIFTOFF_SERVER=" + cp.url(), "LIFTOFF_API_TOKEN=" + fresh});
    CHECK(as_ci.exit_code == 0);

    auto listed = cp.cli({"token", "list", "--json"});
    REQUIRE(listed.exit_code == 0);
    std::int64_t id = 0;
    auto const all = boost::json::parse(listed.out);
    for (auto const& k : all.as_array())
      if (k.at("name") == "ci") id = k.at("id").as_int64();
    REQUIRE(id > 0);
    auto revoked = cp.cli({"token", "revoke", std::to_string(id)});
    INFO(revoked.err);
    CHECK(revoked.exit_code == 0);
    auto refused = cp.cli({"queue", "list"}, {"LIFTOFF_SERVER=" + cp.url(), "LIFTOFF_API_TOKEN=" + fresh});
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "liftoff: error"));
    CHECK_FALSE(contains(refused.err, fresh));
  }
  SECTION("roles: a member cannot make tokens or queues; the role is listed; admin-token recovers access") {
    auto made = cp.cli({"token", "create", "alice", "--role", "member"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    CHECK(contains(made.err, "role member"));
    std::smatch m;
    std::regex re("(lft_[0-9a-f]+)");
    REQUIRE(std::regex_search(made.out, m, re));
    std::vector<std::string> as_alice{"LIFTOFF_SERVER=" + cp.url(), "LIFTOFF_API_TOKEN=" + std::string(m[1])};
    auto refused = cp.cli({"token", "create", "mallory", "--role", "admin"}, as_alice);
    CHECK(refused.exit_code == 1);
    CHECK(contains(refused.err, "needs the admin role"));
    CHECK(cp.cli({"queue", "create", "q2", "--resource", "local-process"}, as_alice).exit_code == 1);
    CHECK(cp.cli({"queue", "list"}, as_alice).exit_code == 0);
    auto bad_role = cp.cli({"token", "create", "x", "--role", "root"});
    CHECK(bad_role.exit_code != 0);
    auto listed = cp.cli({"token", "list"});
    CHECK(contains(listed.out, "ROLE"));
    CHECK(contains(listed.out, "member"));
    CHECK(contains(listed.out, "admin"));

    // Every admin token lost: file access to the data directory makes a new one, while the server runs.
    auto recovered = t::run_command({LIFTOFF_CLI, "server", "admin-token", "--data-dir", cp.path("data").string()});
    INFO(recovered.out << recovered.err);
    REQUIRE(recovered.exit_code == 0);
    REQUIRE(std::regex_search(recovered.out, m, re));
    std::vector<std::string> as_new{"LIFTOFF_SERVER=" + cp.url(), "LIFTOFF_API_TOKEN=" + std::string(m[1])};
    auto works = cp.cli({"token", "list", "--json"}, as_new);
    CHECK(works.exit_code == 0);
    CHECK(contains(works.out, "admin-recovery"));
  }
  SECTION("a credentials file readable by others is refused") {
    ::chmod(cp.credentials_file().c_str(), 0644);
    auto r = cp.cli({"queue", "list"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "chmod 600 " + cp.credentials_file().string()));
  }
  SECTION("without login, the error says to log in") {
    fs::remove(cp.credentials_file());
    auto r = cp.cli({"queue", "list"});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "liftoff login"));
  }
}

TEST_CASE("queue create, list, describe and delete", "[control-plane]") {
  control_plane cp;
  auto created = cp.admin({"queue", "create", "cpu", "--resource", "local-process", "--config-template",
                           R"({"resource_args": {"local-process": {"env": {"GPUS": "{{gpus}}"}}},
                               "variables": {"gpus": {"type": "int", "minimum": 0, "maximum": 8, "default": 1}}})"});
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  auto again = cp.admin({"queue", "create", "cpu", "--resource", "local-process"});
  CHECK(again.exit_code == 1);
  CHECK(contains(again.err, "cpu"));

  auto bad_template = cp.admin({"queue", "create", "bad", "--resource", "local-process", "--config-template",
                                R"({"resource_args": {"local-process": {"env": {"X": "{{nope}}"}}}})"});
  CHECK(bad_template.exit_code == 2);
  CHECK(contains(bad_template.err, "nope"));

  auto list = cp.admin({"queue", "list"});
  INFO(list.out << list.err);
  REQUIRE(list.exit_code == 0);
  CHECK(contains(list.out, "cpu"));
  CHECK(contains(list.out, "local-process"));
  CHECK_FALSE(contains(list.out, "bad"));

  auto described = cp.admin({"queue", "describe", "cpu", "--json"});
  INFO(described.out << described.err);
  REQUIRE(described.exit_code == 0);
  auto q = boost::json::parse(described.out).as_object();
  CHECK(q.at("name") == "cpu");
  CHECK(q.at("resource") == "local-process");
  CHECK(q.at("config_template").at("variables").as_object().contains("gpus"));
  auto text = cp.admin({"queue", "describe", "cpu"});
  CHECK(contains(text.out, "gpus"));
  CHECK(contains(text.out, "0..8"));

  auto missing = cp.admin({"queue", "describe", "nothing-here"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "nothing-here"));

  t::temp_dir job;
  make_job_dir(job.path());
  auto pushed = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point", "python3 job.py"});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);

  auto refused = cp.admin({"queue", "delete", "cpu"});
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.err, "--force"));
  CHECK(contains(cp.admin({"queue", "list"}).out, "cpu"));
  auto forced = cp.admin({"queue", "delete", "cpu", "--force"});
  INFO(forced.err);
  CHECK(forced.exit_code == 0);
  CHECK_FALSE(contains(cp.admin({"queue", "list"}).out, "cpu"));
}

TEST_CASE("job create code uploads once and makes a version only when the code changes", "[control-plane]") {
  control_plane cp;
  t::temp_dir job;
  make_job_dir(job.path());

  auto first = cp.admin({"job", "create", "code", "trainer", "--dir", job.path().string(), "--entry-point",
                         "python3 job.py", "--alias", "stable"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.err, "uploaded"));
  CHECK(contains(first.out, "trainer:v0"));

  t::write_file(job / "notes.tmp", "changed, but ignored\n");
  auto second = cp.admin({"job", "create", "code", "trainer", "--dir", job.path().string(), "--entry-point",
                          "python3 job.py"});
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  CHECK_FALSE(contains(second.err, "uploaded"));
  CHECK(contains(second.err, "already on the server"));
  CHECK(contains(second.out, "trainer:v0"));

  auto versions = cp.admin({"job", "describe", "trainer", "--json"});
  INFO(versions.out << versions.err);
  REQUIRE(versions.exit_code == 0);
  auto arr = boost::json::parse(versions.out).as_array();
  REQUIRE(arr.size() == 1);
  auto const& source = arr[0].at("source").as_object();
  CHECK(source.at("code").at("artifact").as_string().starts_with("sha256:"));

  t::write_file(job / "job.py", "print('version two')\n");
  auto third = cp.admin({"job", "create", "code", "trainer", "--dir", job.path().string(), "--entry-point",
                         "python3 job.py"});
  INFO(third.out << third.err);
  REQUIRE(third.exit_code == 0);
  CHECK(contains(third.out, "trainer:v1"));
  auto alias = cp.admin({"job", "alias", "trainer", "production", "v0"});
  INFO(alias.err);
  CHECK(alias.exit_code == 0);
  auto described = cp.admin({"job", "describe", "trainer"});
  CHECK(contains(described.out, "v0"));
  CHECK(contains(described.out, "production"));
  CHECK(contains(described.out, "v1"));

  auto list = cp.admin({"job", "list"});
  CHECK(contains(list.out, "trainer"));
  CHECK(contains(list.out, "v1"));

  auto image = cp.admin({"job", "create", "image", "hello", "--image", "busybox:latest", "--entry-point", "echo hi"});
  INFO(image.err);
  CHECK(image.exit_code == 0);
  CHECK(contains(cp.admin({"job", "list"}).out, "image busybox:latest"));
}

TEST_CASE("launch --queue pushes, run list shows it, run stop stops a queued run", "[control-plane]") {
  control_plane cp;
  REQUIRE(cp.admin({"queue", "create", "cpu", "--resource", "local-process", "--config-template",
                    R"({"resource_args": {"local-process": {"env": {"GPUS": "{{gpus}}", "MODE": "{{mode}}"}}},
                        "variables": {"gpus": {"type": "int", "minimum": 0, "maximum": 8, "default": 1},
                                      "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"}}})"})
              .exit_code == 0);
  t::temp_dir job;
  make_job_dir(job.path());

  auto pushed = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point", "python3 job.py",
                          "--priority", "high", "--set-var", "gpus=2"});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto run_id = pushed_run_id(pushed.out);

  auto runs = cp.admin({"run", "list", "--queue", "cpu"});
  INFO(runs.out << runs.err);
  REQUIRE(runs.exit_code == 0);
  CHECK(contains(runs.out, run_id));
  CHECK(contains(runs.out, "queued"));

  auto spec = cp.admin({"run", "describe", run_id, "--json"});
  INFO(spec.out << spec.err);
  REQUIRE(spec.exit_code == 0);
  auto described = boost::json::parse(spec.out).as_object();
  auto const& s = described.at("spec").as_object();
  CHECK(s.at("code").at("artifact").as_string().starts_with("sha256:"));
  CHECK_FALSE(s.at("code").as_object().contains("path"));  // the local path does not travel
  CHECK(s.at("resource") == "local-process");
  CHECK(s.at("resource_args").at("local-process").at("env").at("GPUS") == 2);

  auto queue = boost::json::parse(cp.admin({"queue", "describe", "cpu", "--json"}).out).as_object();
  REQUIRE(queue.at("items").as_array().size() == 1);
  CHECK(queue.at("items").at(0).at("priority") == "high");

  auto stopped = cp.admin({"run", "stop", run_id});
  INFO(stopped.out << stopped.err);
  CHECK(stopped.exit_code == 0);
  auto after = cp.admin({"run", "describe", run_id});
  INFO(after.out << after.err);
  CHECK(contains(after.out, "stopped"));
  CHECK(contains(cp.admin({"run", "list", "--state", "stopped"}).out, run_id));

  SECTION("a template variable out of range or unknown is named, and nothing is pushed") {
    auto too_many = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point",
                              "python3 job.py", "--set-var", "gpus=20"});
    CHECK(too_many.exit_code == 1);
    CHECK(contains(too_many.err, "gpus"));
    auto not_in_enum = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point",
                                 "python3 job.py", "--set-var", "mode=medium"});
    CHECK(not_in_enum.exit_code == 1);
    CHECK(contains(not_in_enum.err, "mode"));
    auto unknown = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point",
                             "python3 job.py", "--set-var", "gpu=1"});
    CHECK(unknown.exit_code == 1);
    CHECK(contains(unknown.err, "gpu"));
    auto list = boost::json::parse(cp.admin({"run", "list", "--json"}).out).as_array();
    CHECK(list.size() == 1);
  }
  SECTION("a stored job is pushed by name and alias") {
    REQUIRE(cp.admin({"job", "create", "code", "trainer", "--dir", job.path().string(), "--entry-point",
                      "python3 job.py"})
                .exit_code == 0);
    auto by_job = cp.admin({"launch", "--job", "trainer:latest", "--queue", "cpu"});
    INFO(by_job.out << by_job.err);
    REQUIRE(by_job.exit_code == 0);
    auto id = pushed_run_id(by_job.out);
    auto d = boost::json::parse(cp.admin({"run", "describe", id, "--json"}).out).as_object();
    CHECK(d.at("spec").at("code").at("artifact").as_string().starts_with("sha256:"));
    auto missing = cp.admin({"launch", "--job", "nope", "--queue", "cpu"});
    CHECK(missing.exit_code == 1);
    CHECK(contains(missing.err, "nope"));
  }
}

TEST_CASE("launch --queue usage errors and dry runs send nothing", "[control-plane]") {
  control_plane cp;
  REQUIRE(cp.admin({"queue", "create", "cpu", "--resource", "local-process"}).exit_code == 0);
  t::temp_dir job;
  make_job_dir(job.path());

  auto no_queue = cp.admin({"launch", "--job", "trainer"});
  CHECK(no_queue.exit_code == 2);
  CHECK(contains(no_queue.err, "liftoff: error"));
  CHECK(contains(no_queue.err, "--queue"));

  auto bad_priority = cp.admin({"launch", "--queue", "cpu", "--docker-image", "busybox", "--priority", "urgent"});
  CHECK(bad_priority.exit_code == 2);
  CHECK(contains(bad_priority.err, "urgent"));

  auto dry = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point", "python3 job.py",
                       "--set-var", "x=1", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  auto line = boost::json::parse(dry.out).as_object();
  CHECK(line.at("action") == "push");
  CHECK(line.at("queue") == "cpu");
  CHECK(line.at("variables").at("x") == "1");
  auto digest = std::string(line.at("spec").at("code").at("artifact").as_string());
  CHECK(digest.starts_with("sha256:"));
  CHECK(boost::json::parse(cp.admin({"run", "list", "--json"}).out).as_array().empty());
  // Nothing was uploaded either: a job from the same directory uploads it now.
  auto made = cp.admin({"job", "create", "code", "trainer", "--dir", job.path().string()});
  CHECK(contains(made.err, "uploaded"));
  CHECK(contains(made.err, digest));
}

TEST_CASE("launch --queue --wait follows the run with an agent and exits with its status; run logs print it",
          "[control-plane][agent]") {
  control_plane cp;
  REQUIRE(cp.admin({"queue", "create", "cpu", "--resource", "local-process"}).exit_code == 0);
  t::background_command agent({LIFTOFF_CLI, "launch-agent", "--queue", "cpu", "--name", "waiter", "--heartbeat-interval", "0.2"}, cp.path("agent.out"),
                              cp.path("agent.err"),
                              {"HOME=" + cp.path("home").string(), "LIFTOFF_SERVER=" + cp.url(),
                               "LIFTOFF_API_TOKEN=" + cp.token()});
  t::temp_dir job;
  t::write_file(job / "run.sh", "#!/bin/sh\necho first line\necho second line >&2\nexit 3\n");
  ::chmod((job / "run.sh").c_str(), 0755);

  auto waited = cp.admin({"launch", "--queue", "cpu", "--uri", job.path().string(), "--entry-point", "./run.sh",
                          "--wait"});
  INFO(waited.out << waited.err << t::read_file(cp.path("agent.err")));
  CHECK(waited.exit_code == 3);
  CHECK(contains(waited.out, "first line"));
  CHECK(contains(waited.out, "second line"));
  CHECK(contains(waited.err, "failed"));
  auto run_id = pushed_run_id(waited.out);

  auto logs = cp.admin({"run", "logs", run_id});
  CHECK(logs.exit_code == 0);
  // stdout and stderr are read separately, so their lines may interleave either way.
  CHECK((logs.out == "first line\nsecond line\n" || logs.out == "second line\nfirst line\n"));
  auto followed = cp.admin({"run", "logs", "-f", run_id});
  CHECK(followed.exit_code == 0);
  CHECK(followed.out == logs.out);
  auto described = cp.admin({"run", "describe", run_id});
  CHECK(contains(described.out, "exit code: 3"));
  CHECK(contains(described.out, "running"));  // in the history

  auto agents = cp.admin({"agent", "list", "--json"});
  INFO(agents.out << agents.err);
  REQUIRE(agents.exit_code == 0);
  auto const list = boost::json::parse(agents.out);
  REQUIRE(list.as_array().size() == 1);
  auto id = list.as_array()[0].at("id").as_int64();
  auto stop = cp.admin({"agent", "stop", std::to_string(id)});
  CHECK(stop.exit_code == 0);
  CHECK(t::wait_until([&] { return !t::process_alive(agent.pid()); }, 20));
}
