// The control plane's guarantees with real processes: a real `liftoff server`,
// real `liftoff launch-agent`s, the CLI, and kill -9 of each.

#include <catch2/catch.hpp>

#include <liftoff/client/client.hpp>

#include <boost/json/parse.hpp>

#include "support/docker_support.hpp"
#include "support/server_process.hpp"
#include "support/test_support.hpp"

#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace t = liftoff::test;
namespace server = liftoff::server;
using namespace std::chrono_literals;

namespace {

t::command_result liftoff_cli(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), LIFTOFF_CLI);
  return t::run_command(args, env);
}

liftoff::client::api_client connect(t::server_process const& s) {
  auto c = liftoff::client::api_client::create(s.url(), s.token());
  REQUIRE(c.has_value());
  return std::move(*c);
}

/// A `liftoff launch-agent` process, its output in files under `dir`.
struct agent_process {
  agent_process(t::server_process const& s, t::temp_dir const& dir, std::string const& name,
                std::vector<std::string> flags)
      : out(dir / (name + ".out")), err(dir / (name + ".err")) {
    std::vector<std::string> argv{LIFTOFF_CLI, "launch-agent", "--name", name};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto env = s.env();
    env.push_back("XDG_STATE_HOME=" + (dir / ("state-" + name)).string());
    env.push_back("XDG_CACHE_HOME=" + (dir / ("cache-" + name)).string());
    proc = std::make_unique<t::background_command>(argv, out, err, env);
  }
  std::string log() const {
    std::error_code ec;
    return (std::filesystem::exists(out, ec) ? t::read_file(out) : "") +
           (std::filesystem::exists(err, ec) ? t::read_file(err) : "");
  }
  std::filesystem::path out, err;
  std::unique_ptr<t::background_command> proc;
};

void write_script(std::filesystem::path const& path, std::string const& body) {
  t::write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
}

bool contains(std::string const& haystack, std::string const& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> lines_of(std::string const& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string l; std::getline(is, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

int count_state(server::run_record const& r, liftoff::run_state s) {
  int n = 0;
  for (auto const& h : r.history) n += h.state == s;
  return n;
}

}  // namespace

TEST_CASE("500 items on one queue, three agents: every item runs exactly once, never twice at once",
          "[control-plane][agent]") {
  t::temp_dir dir;
  t::server_process srv(LIFTOFF_CLI, dir / "data");
  auto api = connect(srv);
  REQUIRE(api.create_queue("many", "local-process").has_value());

  // Each run takes a lock named after its run id; a second holder at the
  // same time, or a second run of the same item, leaves a trace.
  auto marks = dir / "marks";
  std::filesystem::create_directories(marks);
  write_script(dir / "job" / "run.sh",
               "m='" + marks.string() + "'\n"
               "mkdir \"$m/$LIFTOFF_RUN_ID.lock\" 2>/dev/null || { echo \"$LIFTOFF_RUN_ID\" >> \"$m/overlap\"; exit 1; }\n"
               "echo \"$LIFTOFF_RUN_ID\" >> \"$m/ran\"\n"
               "rmdir \"$m/$LIFTOFF_RUN_ID.lock\"\n");
  boost::json::object spec{{"code", (dir / "job").string()}, {"entry_point", "./run.sh"}};

  constexpr int items = 500;
  std::set<std::string> pushed;
  for (int i = 0; i < items; ++i) {
    liftoff::client::push_request r;
    r.queue = "many";
    r.spec = spec;
    r.priority = i % 3 == 0 ? server::priority::high : server::priority::medium;
    auto item = api.push(r);
    REQUIRE(item.has_value());
    pushed.insert(item->run_id);
  }
  REQUIRE(pushed.size() == items);

  std::vector<std::unique_ptr<agent_process>> agents;
  for (auto name : {"a1", "a2", "a3"})
    agents.push_back(std::make_unique<agent_process>(srv, dir, name,
                                                     std::vector<std::string>{"--queue", "many", "--max-jobs", "4"}));

  auto ended = [&] {
    liftoff::client::run_query q;
    q.queue = "many";
    q.limit = 1000;
    auto runs = api.list_runs(q);
    if (!runs) return false;
    for (auto const& r : *runs)
      if (!liftoff::is_terminal(r.state)) return false;
    return runs->size() == items;
  };
  bool all_ended = t::wait_until(ended, 240);
  INFO(agents[0]->log());
  REQUIRE(all_ended);

  std::error_code ec;
  CHECK_FALSE(std::filesystem::exists(marks / "overlap", ec));
  auto ran = lines_of(t::read_file(marks / "ran"));
  std::multiset<std::string> counted(ran.begin(), ran.end());
  CHECK(ran.size() == items);
  for (auto const& id : pushed) CHECK(counted.count(id) == 1);

  liftoff::client::run_query q;
  q.queue = "many";
  q.limit = 1000;
  auto runs = api.list_runs(q);
  REQUIRE(runs.has_value());
  std::set<std::int64_t> agents_used;
  for (auto const& r : *runs) {
    CHECK(r.state == liftoff::run_state::finished);
    CHECK(count_state(r, liftoff::run_state::leased) == 1);
    if (r.agent) agents_used.insert(*r.agent);
  }
  CHECK(agents_used.size() == 3);  // the work was shared
}

TEST_CASE("kill -9 of an agent mid-run: its item is leased again once the lease expires, and the history says so",
          "[control-plane][agent]") {
  t::temp_dir dir;
  t::server_process srv(LIFTOFF_CLI, dir / "data", {"--lease-seconds", "2", "--max-attempts", "2"});
  auto api = connect(srv);
  REQUIRE(api.create_queue("q", "local-process").has_value());
  // The first attempt blocks until the test lets it go; the second finishes at once.
  write_script(dir / "job" / "run.sh",
               "if [ ! -e '" + (dir / "first").string() + "' ]; then touch '" + (dir / "first").string() +
                   "'; sleep 30; fi\necho done\n");
  liftoff::client::push_request r;
  r.queue = "q";
  r.spec = boost::json::object{{"code", (dir / "job").string()}, {"entry_point", "./run.sh"}};
  auto item = api.push(r);
  REQUIRE(item.has_value());

  auto doomed = std::make_unique<agent_process>(srv, dir, "doomed", std::vector<std::string>{"--queue", "q"});
  REQUIRE(t::wait_until([&] { return std::filesystem::exists(dir / "first"); }, 20));
  REQUIRE(t::wait_until([&] { return api.get_run(item->run_id)->state == liftoff::run_state::running; }, 10));
  doomed->proc->signal(SIGKILL);
  doomed->proc->wait();
  // The killed agent's run process may outlive it; it is not ours to watch any more.

  agent_process rescuer(srv, dir, "rescuer", {"--queue", "q"});
  bool finished = t::wait_until(
      [&] {
        auto run = api.get_run(item->run_id);
        return run && run->state == liftoff::run_state::finished;
      },
      30);
  INFO(rescuer.log());
  REQUIRE(finished);
  auto run = api.get_run(item->run_id);
  REQUIRE(run.has_value());
  CHECK(count_state(*run, liftoff::run_state::leased) == 2);
  bool expiry_noted = false;
  for (auto const& h : run->history)
    if (h.state == liftoff::run_state::queued && contains(h.message, "lease")) expiry_noted = true;
  CHECK(expiry_noted);
  CHECK(api.list_items("q", server::item_state::queued)->empty());
}

TEST_CASE("an item whose agents keep dying fails with stage agent after the attempt limit", "[control-plane][agent]") {
  t::temp_dir dir;
  t::server_process srv(LIFTOFF_CLI, dir / "data", {"--lease-seconds", "1", "--max-attempts", "2"});
  auto api = connect(srv);
  REQUIRE(api.create_queue("q", "local-process").has_value());
  liftoff::client::push_request r;
  r.queue = "q";
  r.spec = boost::json::object{{"code", dir.path().string()}, {"entry_point", "sleep 30"}};
  auto item = api.push(r);
  REQUIRE(item.has_value());
  // Two agents in turn take the item and die without a word.
  auto agent = api.register_agent({"silent", "host", {"q"}, 1});
  REQUIRE(agent.has_value());
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::optional<server::item_record> got;
    REQUIRE(t::wait_until(
        [&] {
          auto l = api.lease(agent->id, {"q"}, 500ms);
          if (l && *l) got = **l;
          return got.has_value();
        },
        15));
    CHECK(got->run_id == item->run_id);
  }
  REQUIRE(t::wait_until([&] { return api.get_run(item->run_id)->state == liftoff::run_state::failed; }, 15));
  auto run = api.get_run(item->run_id);
  CHECK(run->stage == liftoff::failure_stage::agent);
  CHECK(count_state(*run, liftoff::run_state::leased) == 2);
}

TEST_CASE("kill -9 of the server while clients push and agents ack: nothing that got a 2xx is lost or handed out twice",
          "[control-plane]") {
  t::temp_dir dir;
  auto srv = std::make_unique<t::server_process>(LIFTOFF_CLI, dir / "data");
  auto const url = srv->url();
  auto const token = srv->token();
  auto const port = srv->port();
  {
    auto api = connect(*srv);
    REQUIRE(api.create_queue("q", "local-process").has_value());
  }
  std::mutex m;
  std::set<std::string> pushed;        // run ids whose push got a 2xx
  std::set<std::int64_t> acked;        // items whose ack got a 2xx
  std::map<std::int64_t, std::int64_t> acked_by;
  std::atomic<bool> stop{false};
  std::atomic<int> pushes{0}, acks{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < 3; ++p)
    threads.emplace_back([&] {
      auto c = liftoff::client::api_client::create(url, token);
      if (!c) return;
      while (!stop) {
        liftoff::client::push_request r;
        r.queue = "q";
        r.spec = boost::json::object{{"image", "busybox"}};
        auto item = c->push(r);
        if (!item) return;  // the server died
        std::lock_guard l(m);
        pushed.insert(item->run_id);
        ++pushes;
      }
    });
  for (int a = 0; a < 2; ++a)
    threads.emplace_back([&, a] {
      auto c = liftoff::client::api_client::create(url, token);
      if (!c) return;
      auto agent = c->register_agent({"acker-" + std::to_string(a), "host", {"q"}, 100000});
      if (!agent) return;
      while (!stop) {
        auto item = c->lease(agent->id, {"q"}, 200ms);
        if (!item) return;
        if (!*item) continue;
        auto ok = c->ack((*item)->id, agent->id);
        if (!ok) return;
        std::lock_guard l(m);
        acked.insert((*item)->id);
        acked_by[(*item)->id] = agent->id;
        ++acks;
      }
    });
  REQUIRE(t::wait_until([&] { return pushes > 200 && acks > 100; }, 30));
  ::kill(srv->pid(), SIGKILL);
  for (auto& th : threads) th.join();
  srv->stop(SIGKILL);
  srv.reset();

  t::server_process again(LIFTOFF_CLI, dir / "data", {}, port);
  auto api = connect(again);
  INFO(pushed.size() << " pushes and " << acked.size() << " acks got a 2xx before the kill");
  for (auto const& id : pushed) {
    auto run = api.get_run(id);
    REQUIRE(run.has_value());
  }
  auto items = api.list_items("q");
  REQUIRE(items.has_value());
  std::map<std::int64_t, server::item_record> by_id;
  for (auto& i : *items) by_id[i.id] = i;
  for (auto id : acked) {
    REQUIRE(by_id.count(id) == 1);
    CHECK(by_id[id].state == server::item_state::acked);
    CHECK(by_id[id].agent == acked_by[id]);
  }
  // Whatever is handed out now was never acked before.
  auto agent = api.register_agent({"after", "host", {"q"}, 100000});
  REQUIRE(agent.has_value());
  int handed = 0;
  for (;;) {
    auto item = api.lease(agent->id, {"q"}, 0ms);
    REQUIRE(item.has_value());
    if (!*item) break;
    CHECK(acked.count((*item)->id) == 0);
    ++handed;
  }
  CHECK(handed > 0);  // pushes outran acks, so some were still queued
}

TEST_CASE("end to end: the CLI pushes, two agents run the work on local-process and local-container",
          "[control-plane][agent]") {
  t::temp_dir dir;
  t::server_process srv(LIFTOFF_CLI, dir / "data");
  auto env = srv.env();
  env.push_back("HOME=" + (dir / "home").string());
  env.push_back("XDG_CONFIG_HOME=");
  auto cli = [&](std::vector<std::string> args) { return liftoff_cli(std::move(args), env); };

  REQUIRE(cli({"queue", "create", "cpu", "--resource", "local-process"}).exit_code == 0);
  auto engine = t::engine_or_skip();  // without an engine, the container half is skipped (said in the output)
  std::vector<std::string> queues{"--queue", "cpu"};
  if (engine) {
    REQUIRE(cli({"queue", "create", "box", "--resource", "local-container"}).exit_code == 0);
    queues.insert(queues.end(), {"--queue", "box"});
  }
  auto flags = queues;
  flags.insert(flags.end(), {"--max-jobs", "2"});
  agent_process a1(srv, dir, "a1", flags);
  agent_process a2(srv, dir, "a2", flags);

  write_script(dir / "job" / "train.sh", "echo \"hello from $LIFTOFF_RUN_ID on $LIFTOFF_QUEUE\"\nexit \"${1:-0}\"\n");
  auto ok = cli({"launch", "--queue", "cpu", "--uri", (dir / "job").string(), "--entry-point", "./train.sh", "--wait"});
  INFO(ok.out << ok.err << a1.log() << a2.log());
  CHECK(ok.exit_code == 0);
  // The job's own line (the CLI's "queued on cpu" must not satisfy this).
  CHECK(std::regex_search(ok.out + ok.err, std::regex("hello from [a-z0-9]+ on cpu")));
  auto failing =
      cli({"launch", "--queue", "cpu", "--uri", (dir / "job").string(), "--entry-point", "./train.sh 4", "--wait"});
  CHECK(failing.exit_code == 4);

  if (engine) {
    auto boxed = cli({"launch", "--queue", "box", "--docker-image", t::docker_base_image, "--entry-point",
                      "echo hi from a container", "--wait"});
    INFO(boxed.out << boxed.err);
    CHECK(boxed.exit_code == 0);
    CHECK(contains(boxed.out + boxed.err, "hi from a container"));
  }

  auto runs = cli({"run", "list", "--json"});
  REQUIRE(runs.exit_code == 0);
  auto list = boost::json::parse(runs.out).as_array();
  CHECK(list.size() == (engine ? 3u : 2u));
  auto agents = cli({"agent", "list"});
  CHECK(contains(agents.out, "a1"));
  CHECK(contains(agents.out, "a2"));
}
