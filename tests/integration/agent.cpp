// `liftoff launch-agent` end to end: a real `liftoff server`, real agents, real processes.

#include <liftoff/client/client.hpp>

#include <catch2/catch.hpp>

#include "support/docker_support.hpp"
#include "support/server_process.hpp"
#include "support/test_support.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <regex>

namespace t = liftoff::test;
namespace json = boost::json;
using namespace liftoff;
using namespace std::chrono_literals;

namespace {

bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

/// A `liftoff server` on a free port with a fresh data directory, and an admin client.
class test_server {
public:
  test_server() {
    auto c = client::api_client::create(server_.url(), server_.token());
    REQUIRE(c.has_value());
    api_.emplace(std::move(*c));
  }

  std::string const& url() const { return server_.url(); }
  std::string const& token() const { return server_.token(); }
  client::api_client& api() { return *api_; }
  std::filesystem::path dir() const { return dir_.path(); }

private:
  t::temp_dir dir_{"liftoff-agent-server"};
  t::server_process server_{LIFTOFF_CLI, dir_ / "data", {"--lease-seconds", "30"}};
  std::optional<client::api_client> api_;
};

/// A `liftoff launch-agent` process; its events go to a file.
class test_agent {
public:
  /// `env`: variables the agent gets on top of the test's environment and its token.
  test_agent(test_server& s, std::string name, std::filesystem::path const& home, std::vector<std::string> extra = {},
             std::vector<std::string> env = {})
      : name_(std::move(name)), out_(home / (name_ + ".out")), err_(home / (name_ + ".err")) {
    std::vector<std::string> argv = {LIFTOFF_CLI,       "launch-agent",      "--queue",
                                     "q",               "--server",          s.url(),
                                     "--name",          name_,               "--state-dir",
                                     (home / "state").string(), "--work-dir", (home / "work").string(),
                                     "--heartbeat-interval", "0.2",          "--grace-period",
                                     "2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    // The admin token, unless `env` gives the agent one of its own.
    if (std::none_of(env.begin(), env.end(), [](auto const& e) { return e.rfind("LIFTOFF_API_TOKEN=", 0) == 0; }))
      env.push_back("LIFTOFF_API_TOKEN=" + s.token());
    proc_ = std::make_unique<t::background_command>(argv, out_, err_, env);
  }
  ~test_agent() {
    // Stop it as a user would, so no run is left behind; the background_command kills what remains.
    if (proc_ && t::process_alive(proc_->pid())) {
      proc_->signal(SIGTERM);
      t::wait_until([&] { return !t::process_alive(proc_->pid()); }, 10);
    }
  }

  t::background_command& process() { return *proc_; }
  std::string events() const { return t::read_file(err_); }

  /// Waits until the agent says it registered; its id on the server.
  std::int64_t wait_registered() {
    std::smatch m;
    std::string text;
    bool ok = t::wait_until([&] {
      text = events();
      return std::regex_search(text, m, std::regex("agent ([0-9]+) (registered|resumed)"));
    }, 10);
    INFO(text);
    REQUIRE(ok);
    return std::stoll(m[1]);
  }

private:
  std::string name_;
  std::filesystem::path out_;
  std::filesystem::path err_;
  std::unique_ptr<t::background_command> proc_;
};

std::string push_command(client::api_client& api, std::filesystem::path const& code, std::vector<std::string> argv) {
  json::array ep;
  for (auto& a : argv) ep.emplace_back(a);
  client::push_request r;
  r.queue = "q";
  r.spec = json::object{{"code", code.string()}, {"entry_point", std::move(ep)}};
  auto item = api.push(r);
  INFO((item ? "" : item.error().what()));
  REQUIRE(item.has_value());
  return item->run_id;
}

server::run_record wait_for_run(client::api_client& api, std::string const& run_id, std::function<bool(run_state)> pred,
                                double seconds = 10) {
  server::run_record last;
  bool ok = t::wait_until([&] {
    auto r = api.get_run(run_id);
    if (!r) return false;
    last = *r;
    return pred(r->state);
  }, seconds);
  INFO("run " << run_id << " is " << to_string(last.state) << ": " << last.message);
  REQUIRE(ok);
  return last;
}

server::run_record wait_ended(client::api_client& api, std::string const& run_id, double seconds = 10) {
  return wait_for_run(api, run_id, [](run_state s) { return is_terminal(s); }, seconds);
}

std::string server_logs(client::api_client& api, std::string const& run_id) {
  auto l = api.logs(run_id);
  REQUIRE(l.has_value());
  return l->text;
}

struct fixture {
  fixture() {
    auto q = server.api().create_queue("q", "local-process");
    INFO((q ? "" : q.error().what()));
    REQUIRE(q.has_value());
  }
  test_server server;
  t::temp_dir home{"liftoff-agent-home"};
};

}  // namespace

TEST_CASE("an agent runs local-process items: finished with logs, failed with exit code and stage run", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir code;
  t::write_file(code / "hello.txt", "from the job's directory\n");
  test_agent agent(f.server, "worker", f.home.path(), {"--max-jobs", "2"});
  auto id = agent.wait_registered();

  auto ok = push_command(api, code.path(), {"sh", "-c", "cat hello.txt; echo \"run=$LIFTOFF_RUN_ID queue=$LIFTOFF_QUEUE\"; echo oops >&2"});
  auto bad = push_command(api, code.path(), {"sh", "-c", "echo about to fail; exit 7"});

  auto done = wait_ended(api, ok);
  CHECK(done.state == run_state::finished);
  CHECK(done.exit_code == 0);
  CHECK(done.agent == id);
  auto logs = server_logs(api, ok);
  CHECK(contains(logs, "from the job's directory\n"));
  CHECK(contains(logs, "run=" + ok + " queue=q\n"));
  CHECK(contains(logs, "oops\n"));
  CHECK(contains(done.logs_tail, "run=" + ok));
  std::vector<run_state> states;
  for (auto const& h : done.history) states.push_back(h.state);
  CHECK(states == std::vector<run_state>{run_state::queued, run_state::leased, run_state::building,
                                          run_state::starting, run_state::running, run_state::finished});

  auto failed = wait_ended(api, bad);
  CHECK(failed.state == run_state::failed);
  CHECK(failed.exit_code == 7);
  CHECK(failed.stage == failure_stage::run);
  CHECK(contains(failed.message, "7"));
  CHECK(contains(failed.logs_tail, "about to fail"));

  // A launch that fails before starting is reported with its stage, and the agent keeps going.
  auto missing = push_command(api, code.path(), {"./no-such-script.sh"});
  auto never = wait_ended(api, missing);
  CHECK(never.state == run_state::failed);
  CHECK(never.stage == failure_stage::run);
  CHECK(contains(never.message, "no-such-script.sh"));
  CHECK(wait_ended(api, push_command(api, code.path(), {"true"})).state == run_state::finished);

  auto events = agent.events();
  CHECK(contains(events, "run " + ok + " leased from q"));
  CHECK(contains(events, "run " + ok + " finished (exit 0)"));
  CHECK(contains(events, "run " + bad + " failed (run, exit 7)"));
  CHECK_FALSE(contains(events, f.server.token()));
}

TEST_CASE("an agent fetches a code artifact from the server and runs it", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir src;
  t::write_file(src / "job" / "train.sh", "#!/bin/sh\necho trained from $(basename \"$PWD\")\n");
  ::chmod((src / "job" / "train.sh").c_str(), 0755);
  auto tarball = src / "code.tar.gz";
  auto digest = client::pack_code_artifact(src / "job", tarball);
  REQUIRE(digest.has_value());
  REQUIRE(api.upload_artifact(*digest, tarball).has_value());

  test_agent agent(f.server, "fetcher", f.home.path());
  agent.wait_registered();
  client::push_request r;
  r.queue = "q";
  r.spec = json::object{{"code", {{"artifact", *digest}}}, {"entry_point", "./train.sh"}};
  auto item = api.push(r);
  REQUIRE(item.has_value());
  auto done = wait_ended(api, item->run_id);
  INFO(done.message);
  CHECK(done.state == run_state::finished);
  CHECK(server_logs(api, item->run_id) == "trained from code\n");
  // The run's directory is gone once the run has ended.
  CHECK_FALSE(std::filesystem::exists(f.home / "work" / item->run_id));
}

TEST_CASE("an agent's local run gets a minimal environment, never the agent's token or keys", "[agent]") {
  test_server srv;
  auto& api = srv.api();
  // The queue's owner lets its runs see one of the agent's variables.
  auto q = api.create_queue("q", "local-process",
                            {{"resource_args", {{"local-process", {{"pass_env", json::array{"LIFTOFF_TEST_PASSED"}}}}}}});
  INFO((q ? "" : q.error().what()));
  REQUIRE(q.has_value());
  // A queue without a template, whose pushers name pass_env themselves (a template's pass_env wins over theirs).
  REQUIRE(api.create_queue("open", "local-process").has_value());
  t::temp_dir home;
  t::temp_dir code;
  std::string const foo = "foo-" + std::to_string(std::random_device{}());
  test_agent agent(srv, "private", home.path(), {"--queue", "open"},
                   {"AWS_SECRET_ACCESS_KEY=aws-secret-value", "AWS_ACCESS_KEY_ID=AKIATESTKEY", "FOO=" + foo,
                    "LIFTOFF_TEST_PASSED=passed-value"});
  agent.wait_registered();

  client::push_request r;
  r.queue = "q";
  r.spec = json::object{{"code", code.path().string()},
                        {"entry_point", json::array{"env"}},
                        {"resource_args",
                         {{"local-process",
                           {{"env", {{"FROM_SPEC", "spec-value"}, {"NOT_THE_TOKEN", "${LIFTOFF_API_TOKEN}"}}}}}}}};
  auto item = api.push(r);
  REQUIRE(item.has_value());
  auto done = wait_ended(api, item->run_id);
  INFO(done.message);
  CHECK(done.state == run_state::finished);
  auto logs = server_logs(api, item->run_id);
  INFO(logs);
  CHECK((contains(logs, "\nPATH=") || logs.starts_with("PATH=")));
  CHECK(contains(logs, "LIFTOFF_RUN_ID=" + item->run_id + "\n"));
  CHECK(contains(logs, "LIFTOFF_SERVER=" + srv.url() + "\n"));
  CHECK(contains(logs, "LIFTOFF_TEST_PASSED=passed-value\n"));
  CHECK(contains(logs, "FROM_SPEC=spec-value\n"));
  CHECK(contains(logs, "NOT_THE_TOKEN=${LIFTOFF_API_TOKEN}\n"));  // the macro has no value
  CHECK_FALSE(contains(logs, srv.token()));
  CHECK_FALSE(contains(logs, "LIFTOFF_API_TOKEN="));
  CHECK_FALSE(contains(logs, "AWS_SECRET_ACCESS_KEY"));
  CHECK_FALSE(contains(logs, "aws-secret-value"));
  CHECK_FALSE(contains(logs, "AWS_ACCESS_KEY_ID"));
  CHECK_FALSE(contains(logs, foo));

  // Naming the token in pass_env fails the run, saying why.
  r.queue = "open";
  r.spec = json::object{{"code", code.path().string()},
                        {"entry_point", json::array{"env"}},
                        {"resource_args", {{"local-process", {{"pass_env", json::array{"LIFTOFF_API_TOKEN"}}}}}}};
  auto asks = api.push(r);
  REQUIRE(asks.has_value());
  auto refused = wait_ended(api, asks->run_id);
  CHECK(refused.state == run_state::failed);
  CHECK(contains(refused.message, "resource_args.local-process.pass_env[0]: LIFTOFF_API_TOKEN"));
  CHECK_FALSE(contains(server_logs(api, asks->run_id), srv.token()));
}

TEST_CASE("an agent unpacks a setuid file without its setuid bit", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir src;
  t::write_file(src / "job" / "tool", "#!/bin/sh\necho tool\n");
  REQUIRE(::chmod((src / "job" / "tool").c_str(), 04755) == 0);
  struct stat st {};
  REQUIRE(::stat((src / "job" / "tool").c_str(), &st) == 0);
  if ((st.st_mode & 07777) != 04755) {
    WARN("SKIPPED: this filesystem does not keep a setuid bit set by its owner (nosuid?), so there is none to drop");
    return;
  }
  auto tarball = src / "code.tar.gz";
  auto digest = client::pack_code_artifact(src / "job", tarball);
  REQUIRE(digest.has_value());
  REQUIRE(api.upload_artifact(*digest, tarball).has_value());

  test_agent agent(f.server, "unpacker", f.home.path());
  agent.wait_registered();
  client::push_request r;
  r.queue = "q";
  r.spec = json::object{{"code", {{"artifact", *digest}}},
                        {"entry_point", json::array{"sh", "-c", "stat -c %a tool; ./tool"}}};
  auto item = api.push(r);
  REQUIRE(item.has_value());
  auto done = wait_ended(api, item->run_id);
  INFO(done.message);
  CHECK(done.state == run_state::finished);
  CHECK(server_logs(api, item->run_id) == "755\ntool\n");
}

TEST_CASE("an agent refuses a code artifact that expands past its limits, naming it and the flag", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir src;
  // 10 MiB of zeros: a tarball of a few kilobytes.
  t::write_file(src / "job" / "zeros.bin", std::string(std::size_t(10) << 20, '\0'));
  t::write_file(src / "job" / "train.sh", "#!/bin/sh\necho should not run\n");
  auto tarball = src / "code.tar.gz";
  auto digest = client::pack_code_artifact(src / "job", tarball);
  REQUIRE(digest.has_value());
  REQUIRE(std::filesystem::file_size(tarball) < 100 * 1024);
  REQUIRE(api.upload_artifact(*digest, tarball).has_value());

  auto push_artifact = [&] {
    client::push_request r;
    r.queue = "q";
    r.spec = json::object{{"code", {{"artifact", *digest}}}, {"entry_point", json::array{"sh", "train.sh"}}};
    auto item = api.push(r);
    REQUIRE(item.has_value());
    return item->run_id;
  };

  // An agent with `flag` at `limit` refuses the artifact, naming it, the limit (`exceeded`) and the flag.
  auto refused_with = [&](std::string const& name, std::string const& flag, std::string const& limit,
                          std::string const& exceeded) {
    test_agent agent(f.server, name, f.home.path(), {flag, limit});
    agent.wait_registered();
    auto run_id = push_artifact();
    auto done = wait_ended(api, run_id);
    CHECK(done.state == run_state::failed);
    CHECK(done.stage == failure_stage::source);
    INFO(done.message);
    CHECK(contains(done.message, *digest));
    CHECK(contains(done.message, exceeded));
    CHECK(contains(done.message, "raise " + flag));
    CHECK_FALSE(contains(server_logs(api, run_id), "should not run"));
    CHECK(t::wait_until([&] { return !std::filesystem::exists(f.home / "work" / run_id); }, 5));
  };
  SECTION("too big unpacked") { refused_with("small", "--max-unpacked-size", "1m", "more than 1 MiB"); }
  SECTION("too many entries") { refused_with("few", "--max-archive-entries", "1", "more than 1 entry"); }
}

TEST_CASE("a stop requested on the server stops the run; a stop of the agent makes it exit", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir code;
  test_agent agent(f.server, "stoppable", f.home.path());
  auto id = agent.wait_registered();

  auto run_id = push_command(api, code.path(), {"sh", "-c", "echo started; exec sleep 30"});
  wait_for_run(api, run_id, [](run_state s) { return s == run_state::running; });
  REQUIRE(api.request_stop_run(run_id).has_value());
  auto stopped = wait_ended(api, run_id);
  CHECK(stopped.state == run_state::stopped);
  CHECK(contains(stopped.message, "user"));
  CHECK(contains(server_logs(api, run_id), "started\n"));

  REQUIRE(api.request_stop_agent(id).has_value());
  CHECK(t::wait_until([&] { return !t::process_alive(agent.process().pid()); }, 10));
  CHECK(agent.process().wait() == 0);
  auto me = api.get_agent(id);
  REQUIRE(me.has_value());
  CHECK(me->state == server::agent_state::stopped);
}

TEST_CASE("SIGTERM cancels the agent's runs, and with --drain waits for them", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir code;

  SECTION("without --drain the run is stopped") {
    test_agent agent(f.server, "plain", f.home.path());
    agent.wait_registered();
    auto run_id = push_command(api, code.path(), {"sh", "-c", "exec sleep 30"});
    wait_for_run(api, run_id, [](run_state s) { return s == run_state::running; });
    agent.process().signal(SIGTERM);
    CHECK(agent.process().wait() == 0);
    auto r = api.get_run(run_id);
    REQUIRE(r.has_value());
    CHECK(r->state == run_state::stopped);
  }
  SECTION("with --drain the run ends on its own first") {
    test_agent agent(f.server, "drainer", f.home.path(), {"--drain"});
    agent.wait_registered();
    auto run_id = push_command(api, code.path(), {"sh", "-c", "sleep 1; echo drained"});
    wait_for_run(api, run_id, [](run_state s) { return s == run_state::running; });
    agent.process().signal(SIGTERM);
    // Work pushed after the signal is not taken.
    auto later = push_command(api, code.path(), {"true"});
    CHECK(agent.process().wait() == 0);
    auto r = api.get_run(run_id);
    REQUIRE(r.has_value());
    CHECK(r->state == run_state::finished);
    CHECK(contains(server_logs(api, run_id), "drained\n"));
    auto l = api.get_run(later);
    REQUIRE(l.has_value());
    CHECK(l->state == run_state::queued);
    CHECK(contains(agent.events(), "waiting for 1 run to end"));
  }
}

TEST_CASE("a restarted agent keeps its id and reports a local run it cannot follow as crashed", "[agent]") {
  fixture f;
  auto& api = f.server.api();
  t::temp_dir code;
  std::int64_t first_id = 0;
  std::string run_id;
  {
    test_agent agent(f.server, "phoenix", f.home.path());
    first_id = agent.wait_registered();
    run_id = push_command(api, code.path(), {"sh", "-c", "echo $$ > pid; echo up; exec sleep 30"});
    wait_for_run(api, run_id, [](run_state s) { return s == run_state::running; });
    // Once its output is on the server (sent every half second), the agent dies.
    REQUIRE(t::wait_until([&] { return contains(server_logs(api, run_id), "up\n"); }, 5));
    agent.process().signal(SIGKILL);
    agent.process().wait();
  }
  REQUIRE(t::wait_until([&] { return std::filesystem::exists(code / "pid"); }, 5));
  int const pid = std::stoi(t::read_file(code / "pid"));
  CHECK(t::process_alive(pid));  // the run outlived its agent

  test_agent again(f.server, "phoenix", f.home.path());
  CHECK(again.wait_registered() == first_id);
  auto r = wait_ended(api, run_id);
  CHECK(r.state == run_state::crashed);
  CHECK(r.stage == failure_stage::agent);
  CHECK(contains(r.message, "agent restarted"));
  CHECK(contains(r.message, std::to_string(pid)));
  CHECK(t::wait_until([&] { return !t::process_alive(pid); }, 5));
  CHECK(contains(again.events(), "resumed"));
}

TEST_CASE("an agent with an agent token runs, restarts and recovers as itself; a member token cannot register",
          "[agent]") {
  fixture f;
  auto& api = f.server.api();
  auto made = api.create_token("gpu-box", server::token_role::agent);
  REQUIRE(made.has_value());
  std::vector<std::string> as_agent{"LIFTOFF_API_TOKEN=" + made->first};
  t::temp_dir code;
  std::int64_t id = 0;
  std::string held;
  {
    test_agent agent(f.server, "gpu-box", f.home.path(), {}, as_agent);
    id = agent.wait_registered();
    auto done = wait_ended(api, push_command(api, code.path(), {"sh", "-c", "echo as-agent"}));
    CHECK(done.state == run_state::finished);
    CHECK(contains(done.logs_tail, "as-agent"));
    held = push_command(api, code.path(), {"sh", "-c", "echo up; exec sleep 30"});
    wait_for_run(api, held, [](run_state s) { return s == run_state::running; });
    agent.process().signal(SIGKILL);
    agent.process().wait();
  }
  auto agents = api.list_agents();
  REQUIRE(agents.has_value());
  REQUIRE(agents->size() == 1);
  CHECK(agents->front().token == made->second.id);
  // Restarted with its token, it resumes its id and finds the run it held (listing only its own runs).
  test_agent again(f.server, "gpu-box", f.home.path(), {}, as_agent);
  CHECK(again.wait_registered() == id);
  CHECK(wait_ended(api, held).state == run_state::crashed);

  auto member = api.create_token("alice", server::token_role::member);
  REQUIRE(member.has_value());
  t::temp_dir other_home{"liftoff-agent-member"};
  test_agent refused(f.server, "alice-agent", other_home.path(), {}, {"LIFTOFF_API_TOKEN=" + member->first});
  REQUIRE(t::wait_until([&] { return !t::process_alive(refused.process().pid()); }, 20));
  CHECK(refused.process().wait() != 0);
  CHECK(contains(refused.events(), "needs the agent or admin role"));
  CHECK_FALSE(contains(refused.events(), member->first));
}

TEST_CASE("a restarted agent finds its container run again by its label and follows it to the end", "[agent][docker]") {
  auto engine = t::engine_or_skip();
  if (!engine) return;
  test_server srv;
  auto& api = srv.api();
  REQUIRE(api.create_queue("q", "local-container").has_value());
  t::temp_dir home;
  client::push_request r;
  r.queue = "q";
  r.spec = json::object{{"image", t::docker_base_image},
                        {"entry_point", json::array{"sh", "-c", "echo up; sleep 2; echo bye; exit 3"}}};
  auto item = api.push(r);
  REQUIRE(item.has_value());
  std::int64_t first_id = 0;
  {
    test_agent agent(srv, "keeper", home.path());
    first_id = agent.wait_registered();
    wait_for_run(api, item->run_id, [](run_state s) { return s == run_state::running; }, 30);
    REQUIRE(t::wait_until([&] { return contains(server_logs(api, item->run_id), "up\n"); }, 10));
    agent.process().signal(SIGKILL);
    agent.process().wait();
  }
  test_agent again(srv, "keeper", home.path());
  CHECK(again.wait_registered() == first_id);
  auto done = wait_ended(api, item->run_id, 30);
  INFO(done.message << "\n" << again.events());
  CHECK(done.state == run_state::failed);
  CHECK(done.exit_code == 3);
  CHECK(done.stage == failure_stage::run);
  // The output the first agent sent is not sent again.
  CHECK(server_logs(api, item->run_id) == "up\nbye\n");
  CHECK(contains(again.events(), "found again on local-container"));
  auto left = engine->list_containers({"liftoff.run-id=" + item->run_id}, true);
  REQUIRE(left.has_value());
  CHECK(left->empty());
}
