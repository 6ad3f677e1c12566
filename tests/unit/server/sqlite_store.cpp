#include <liftoff/server/sqlite_store.hpp>
#include <liftoff/server/detail/sqlite.hpp>
#include <liftoff/server/detail/sqlite_schema.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using liftoff::run_state;
using liftoff::server::item_state;
using liftoff::server::priority;
using liftoff::server::sqlite_store;
using liftoff::server::store_error;

constexpr auto t0 = liftoff::server::time_point(std::chrono::milliseconds(1'700'000'000'000));

sqlite_store open_store(liftoff::test::temp_dir const& dir) {
  auto s = sqlite_store::open(dir.path() / "data");
  REQUIRE(s.has_value());
  return std::move(*s);
}

void make_queue(sqlite_store& s, std::string name, bool prioritized = true) {
  liftoff::server::queue_record q;
  q.name = std::move(name);
  q.resource = "local-process";
  q.config_template = {{"resource_args", boost::json::object{}}};
  q.prioritized = prioritized;
  REQUIRE(s.create_queue(q).has_value());
}

std::int64_t make_agent(sqlite_store& s, std::vector<std::string> queues, int max_jobs = 1000,
                        liftoff::server::time_point now = t0) {
  auto a = s.register_agent({"agent", "host-1", std::move(queues), max_jobs}, now);
  REQUIRE(a.has_value());
  return a->id;
}

boost::json::object spec(std::string const& name) { return {{"name", name}, {"resource", "local-process"}}; }

std::vector<std::string> lease_names(sqlite_store& s, std::string const& queue, std::int64_t agent) {
  std::vector<std::string> out;
  for (;;) {
    auto i = s.lease(queue, agent, 30s, t0);
    REQUIRE(i.has_value());
    if (!*i) return out;
    out.emplace_back((*i)->run_spec.at("name").as_string());
  }
}

liftoff::server::state_update update(run_state state) {
  liftoff::server::state_update u;
  u.state = state;
  return u;
}

std::vector<run_state> states_of(liftoff::server::run_record const& r) {
  std::vector<run_state> out;
  for (auto const& h : r.history) out.push_back(h.state);
  return out;
}

}  // namespace

TEST_CASE("sqlite_store: a prioritized queue hands out by priority, then first in first out", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "gpu");
  REQUIRE(s.push("gpu", priority::low, spec("a"), {}, t0).has_value());
  REQUIRE(s.push("gpu", priority::high, spec("b"), {}, t0).has_value());
  REQUIRE(s.push("gpu", priority::medium, spec("c"), {}, t0).has_value());
  REQUIRE(s.push("gpu", priority::high, spec("d"), {}, t0).has_value());
  REQUIRE(s.push("gpu", priority::critical, spec("e"), {}, t0).has_value());
  auto listed = s.list_items("gpu", item_state::queued);
  REQUIRE(listed.has_value());
  REQUIRE(listed->size() == 5);
  CHECK(listed->front().run_spec.at("name") == "e");
  auto agent = make_agent(s, {"gpu"});
  CHECK(lease_names(s, "gpu", agent) == std::vector<std::string>{"e", "b", "d", "c", "a"});
}

TEST_CASE("sqlite_store: a queue without prioritization is first in first out", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "fifo", false);
  for (auto [name, p] : std::vector<std::pair<std::string, priority>>{
           {"a", priority::low}, {"b", priority::critical}, {"c", priority::medium}, {"d", priority::high}})
    REQUIRE(s.push("fifo", p, spec(name), {}, t0).has_value());
  auto agent = make_agent(s, {"fifo"});
  CHECK(lease_names(s, "fifo", agent) == std::vector<std::string>{"a", "b", "c", "d"});
}

TEST_CASE("sqlite_store: concurrent leases hand every item to exactly one agent", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  constexpr int items = 500;
  constexpr int threads = 8;
  {
    std::vector<std::thread> pushers;
    for (int t = 0; t < threads; ++t)
      pushers.emplace_back([&, t] {
        for (int i = t; i < items; i += threads) REQUIRE(s.push("q", priority::medium, spec(std::to_string(i))).has_value());
      });
    for (auto& p : pushers) p.join();
  }
  std::vector<std::vector<std::int64_t>> got(threads);
  std::vector<std::int64_t> agents;
  for (int t = 0; t < threads; ++t) agents.push_back(make_agent(s, {"q"}));
  std::atomic<int> failures{0};
  {
    std::vector<std::thread> leasers;
    for (int t = 0; t < threads; ++t)
      leasers.emplace_back([&, t] {
        for (;;) {
          auto i = s.lease("q", agents[t], 60s);
          if (!i) {
            ++failures;
            return;
          }
          if (!*i) return;
          if ((*i)->agent != agents[t]) ++failures;
          got[t].push_back((*i)->id);
        }
      });
    for (auto& l : leasers) l.join();
  }
  CHECK(failures == 0);
  std::set<std::int64_t> all;
  std::size_t total = 0;
  for (auto const& g : got) {
    total += g.size();
    all.insert(g.begin(), g.end());
  }
  CHECK(total == items);
  CHECK(all.size() == items);
  auto leased = s.list_items("q", item_state::leased);
  REQUIRE(leased.has_value());
  CHECK(leased->size() == items);
  for (auto const& i : *leased) CHECK(i.attempts == 1);
}

TEST_CASE("sqlite_store: an expired lease requeues the item, then fails it with stage agent", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  auto pushed = s.push("q", priority::medium, spec("x"), "run-x", t0);
  REQUIRE(pushed.has_value());
  auto agent = make_agent(s, {"q"});

  auto first = s.lease("q", agent, 30s, t0);
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  CHECK((*first)->attempts == 1);
  CHECK((*first)->lease_expires_at == t0 + 30s);

  auto none = s.expire_leases(t0 + 10s, 2);
  REQUIRE(none.has_value());
  CHECK(none->empty());
  // A heartbeat keeps the lease alive past its first expiry.
  REQUIRE(s.heartbeat(agent, 30s, t0 + 20s).has_value());
  CHECK(s.expire_leases(t0 + 40s, 2)->empty());

  auto expired = s.expire_leases(t0 + 60s, 2);
  REQUIRE(expired.has_value());
  REQUIRE(expired->size() == 1);
  CHECK(expired->front().requeued);
  CHECK(expired->front().run_id == "run-x");
  CHECK(expired->front().agent == agent);
  auto item = s.get_item(pushed->id);
  REQUIRE(item.has_value());
  CHECK(item->state == item_state::queued);
  CHECK_FALSE(item->agent.has_value());
  CHECK(item->attempts == 1);
  auto run = s.get_run("run-x");
  REQUIRE(run.has_value());
  CHECK(run->state == run_state::queued);
  CHECK(states_of(*run) == std::vector<run_state>{run_state::queued, run_state::leased, run_state::queued});
  CHECK_THAT(run->history.back().message, Catch::Contains("stopped heartbeating"));

  // The old holder can no longer ack: the item went back.
  auto late_ack = s.ack(pushed->id, agent);
  REQUIRE(late_ack.has_error());
  CHECK(late_ack.error().code == store_error::not_holder);
  CHECK_THAT(late_ack.error().message, Catch::Contains("went back to the queue"));

  auto second = s.lease("q", agent, 30s, t0 + 70s);
  REQUIRE(second.has_value());
  REQUIRE(second->has_value());
  CHECK((*second)->attempts == 2);
  auto failed = s.expire_leases(t0 + 200s, 2);
  REQUIRE(failed.has_value());
  REQUIRE(failed->size() == 1);
  CHECK_FALSE(failed->front().requeued);
  CHECK(s.get_item(pushed->id)->state == item_state::failed);
  run = s.get_run("run-x");
  REQUIRE(run.has_value());
  CHECK(run->state == run_state::failed);
  CHECK(run->stage == liftoff::failure_stage::agent);
  CHECK_THAT(run->message, Catch::Contains("gave up after 2 attempt(s)"));
  CHECK(run->ended_at == t0 + 200s);
  CHECK(run->history.back().state == run_state::failed);
  CHECK(s.lease("q", agent, 30s, t0 + 201s)->has_value() == false);
}

TEST_CASE("sqlite_store: only the holder acks; an acked item stays while its agent heartbeats", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  auto pushed = s.push("q", priority::medium, spec("x"), {}, t0);
  REQUIRE(pushed.has_value());
  auto a = make_agent(s, {"q"});
  auto b = make_agent(s, {"q"});
  auto leased = s.lease("q", a, 30s, t0);
  REQUIRE(leased.has_value());
  REQUIRE(leased->has_value());

  auto refused = s.ack(pushed->id, b);
  REQUIRE(refused.has_error());
  CHECK(refused.error().code == store_error::not_holder);
  CHECK_THAT(refused.error().message, Catch::Contains("agent " + std::to_string(a) + " holds it"));
  CHECK(s.get_item(pushed->id)->state == item_state::leased);

  auto acked = s.ack(pushed->id, a);
  REQUIRE(acked.has_value());
  CHECK(acked->state == item_state::acked);
  CHECK(s.ack(pushed->id, a).has_value());  // twice is harmless
  // Heartbeats keep it; the agent's silence past the lease puts it back.
  REQUIRE(s.heartbeat(a, 30s, t0 + 20s).has_value());
  CHECK(s.expire_leases(t0 + 40s, 3)->empty());
  CHECK(s.get_item(pushed->id)->state == item_state::acked);
  CHECK_FALSE(s.lease("q", b, 30s, t0 + 40s)->has_value());
  auto expired = s.expire_leases(t0 + 51s, 3);
  REQUIRE(expired.has_value());
  REQUIRE(expired->size() == 1);
  CHECK(expired->front().requeued);
  auto again = s.lease("q", b, 30s, t0 + 52s);
  REQUIRE(again.has_value());
  REQUIRE(again->has_value());
  CHECK((*again)->id == pushed->id);
  CHECK(s.ack(pushed->id, a).error().code == store_error::not_holder);
  CHECK(s.ack(999, a).error().code == store_error::not_found);
}

TEST_CASE("sqlite_store: reports build the run's history and a terminal state is final", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  auto pushed = s.push("q", priority::high, spec("x"), "run-1", t0);
  REQUIRE(pushed.has_value());
  auto a = make_agent(s, {"q"});
  auto other = make_agent(s, {"q"});
  REQUIRE(s.lease("q", a, 30s, t0)->has_value());

  CHECK(s.report("run-1", other, update(run_state::building), t0).error().code == store_error::not_holder);
  CHECK(s.report("run-1", a, update(run_state::queued), t0).error().code == store_error::invalid_request);
  CHECK(s.report("nope", a, update(run_state::running), t0).error().code == store_error::not_found);

  // A report from the holder acks the item.
  REQUIRE(s.report("run-1", a, {run_state::building, {}, {}, "building image", {"no Dockerfile; generated one"}, ""},
                   t0 + 1s)
              .has_value());
  CHECK(s.get_item(pushed->id)->state == item_state::acked);
  REQUIRE(s.report("run-1", a, update(run_state::starting), t0 + 2s).has_value());
  REQUIRE(s.report("run-1", a, update(run_state::running), t0 + 3s).has_value());
  auto ended = s.report("run-1", a,
                        {run_state::failed, 3, liftoff::failure_stage::run, "process exited with code 3",
                         {"low disk"}, "line 1\nline 2\n"},
                        t0 + 10s);
  REQUIRE(ended.has_value());
  CHECK(ended->state == run_state::failed);
  CHECK(ended->exit_code == 3);
  CHECK(ended->stage == liftoff::failure_stage::run);
  CHECK(ended->message == "process exited with code 3");
  CHECK(ended->warnings == std::vector<std::string>{"no Dockerfile; generated one", "low disk"});
  CHECK(ended->logs_tail == "line 1\nline 2\n");
  CHECK(ended->started_at == t0 + 3s);
  CHECK(ended->ended_at == t0 + 10s);
  CHECK(ended->agent == a);
  CHECK(states_of(*ended) == std::vector<run_state>{run_state::queued, run_state::leased, run_state::building,
                                                    run_state::starting, run_state::running, run_state::failed});
  CHECK(ended->history[2].message == "building image");
  CHECK(ended->history[2].at == t0 + 1s);
  CHECK(s.get_item(pushed->id)->state == item_state::done);

  auto again = s.report("run-1", a, update(run_state::running), t0 + 11s);
  REQUIRE(again.has_error());
  CHECK(again.error().code == store_error::conflict);
  CHECK_THAT(again.error().message, Catch::Contains("already ended as failed"));
  CHECK(s.get_run("run-1")->history.size() == 6);

  auto by_state = s.list_runs({std::nullopt, run_state::failed});
  REQUIRE(by_state.has_value());
  REQUIRE(by_state->size() == 1);
  CHECK(by_state->front().run_id == "run-1");
  CHECK(s.list_runs({std::string("other"), std::nullopt})->empty());
}

TEST_CASE("sqlite_store: a queue with pending items is deleted only with force", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  REQUIRE(s.push("q", priority::medium, spec("x"), "run-q", t0).has_value());
  auto refused = s.delete_queue("q");
  REQUIRE(refused.has_error());
  CHECK(refused.error().code == store_error::conflict);
  CHECK_THAT(refused.error().message, Catch::Contains("1 item(s) queued or leased") && Catch::Contains("force"));
  CHECK(s.get_queue("q").has_value());

  REQUIRE(s.delete_queue("q", true).has_value());
  CHECK(s.get_queue("q").error().code == store_error::not_found);
  auto run = s.get_run("run-q");
  REQUIRE(run.has_value());
  CHECK(run->state == run_state::stopped);
  CHECK(s.delete_queue("q").error().code == store_error::not_found);

  make_queue(s, "empty");
  CHECK(s.delete_queue("empty").has_value());
  auto dup = s.create_queue({"dup", "local-process", {}, true, {}});
  REQUIRE(dup.has_value());
  CHECK(s.create_queue({"dup", "local-process", {}, true, {}}).error().code == store_error::already_exists);
  CHECK(s.create_queue({"bad name", "local-process", {}, true, {}}).error().code == store_error::invalid_request);
}

TEST_CASE("sqlite_store: a push without a run id gets one that starts with a letter", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  // Kubernetes and SageMaker names must start with a letter; 40 ids drawn from
  // letters and digits alike would almost surely include one that does not.
  for (int i = 0; i < 40; ++i) {
    auto item = s.push("q", priority::medium, spec("n"), {}, t0);
    REQUIRE(item.has_value());
    INFO(item->run_id);
    CHECK(item->run_id.size() == 8);
    CHECK(std::isalpha(static_cast<unsigned char>(item->run_id[0])));
  }
  liftoff::server::queue_record no_resource;
  no_resource.name = "bare";
  auto refused = s.create_queue(no_resource);
  REQUIRE(refused.has_error());
  CHECK(refused.error().code == store_error::invalid_request);
  CHECK(refused.error().what() == "queue 'bare' needs a resource name such as the agent's");
}

TEST_CASE("sqlite_store: a failing operation changes nothing", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  REQUIRE(s.push("q", priority::medium, spec("x"), "taken", t0).has_value());

  auto unknown = s.push("nowhere", priority::medium, spec("y"), {}, t0);
  REQUIRE(unknown.has_error());
  CHECK(unknown.error().code == store_error::not_found);
  CHECK_THAT(unknown.error().message, Catch::Contains("no queue called 'nowhere'"));
  auto dup = s.push("q", priority::medium, spec("z"), "taken", t0);
  REQUIRE(dup.has_error());
  CHECK(dup.error().code == store_error::already_exists);
  CHECK(s.list_runs()->size() == 1);
  CHECK(s.list_items("q")->size() == 1);
  CHECK(s.get_run("taken")->run_id == "taken");

  // In one group commit, the failing operations roll back alone.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r = s.push(t % 2 ? "q" : "missing", priority::low, spec("c"), {}, t0);
        ++(r ? ok : failed);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 40);
  CHECK(failed == 40);
  CHECK(s.list_items("q")->size() == 41);
  CHECK(s.list_runs()->size() == 41);
}

TEST_CASE("sqlite_store: everything pushed and acked is there after reopening", "[store]") {
  liftoff::test::temp_dir dir;
  std::int64_t acked_id = 0;
  std::int64_t agent = 0;
  {
    auto s = open_store(dir);
    make_queue(s, "q", false);
    for (int i = 0; i < 5; ++i) REQUIRE(s.push("q", priority::medium, spec(std::to_string(i)), {}, t0).has_value());
    agent = make_agent(s, {"q"});
    auto leased = s.lease("q", agent, 30s, t0);
    REQUIRE(leased->has_value());
    acked_id = (*leased)->id;
    REQUIRE(s.ack(acked_id, agent).has_value());
    REQUIRE(s.add_job_version("train", {{"image", "x:1"}}, "sha256:1", t0).has_value());
    REQUIRE(s.add_token("ci", liftoff::server::hash_token("secret"), liftoff::server::token_role::admin, t0).has_value());
  }
  auto s = open_store(dir);
  auto q = s.get_queue("q");
  REQUIRE(q.has_value());
  CHECK_FALSE(q->prioritized);
  CHECK(q->config_template.contains("resource_args"));
  CHECK(s.list_items("q", item_state::queued)->size() == 4);
  CHECK(s.get_item(acked_id)->state == item_state::acked);
  CHECK(s.get_agent(agent)->state == liftoff::server::agent_state::running);
  CHECK(s.get_job_version("train")->digest == "sha256:1");
  CHECK(s.find_token(liftoff::server::hash_token("secret"))->has_value());
  // The acked item is not handed out again.
  auto other = make_agent(s, {"q"});
  for (int i = 0; i < 4; ++i) CHECK((*s.lease("q", other, 30s, t0))->id != acked_id);
  CHECK_FALSE(s.lease("q", other, 30s, t0)->has_value());
}

TEST_CASE("sqlite_store: after kill -9, every push and ack that returned is on disk", "[store]") {
  liftoff::test::temp_dir dir;
  {
    auto s = open_store(dir);
    make_queue(s, "q");
  }
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto opened = sqlite_store::open(dir.path() / "data");
    if (!opened) ::_exit(2);
    auto& s = *opened;
    auto agent = s.register_agent({"crash", "host", {"q"}, 1'000'000});
    if (!agent) ::_exit(3);
    auto say = [&](char kind, std::int64_t id) {
      auto line = std::string(1, kind) + " " + std::to_string(id) + "\n";
      if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(4);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&] {
        for (;;)
          if (auto r = s.push("q", priority::medium, spec("crash"))) say('P', r->id);
      });
    threads.emplace_back([&] {
      for (;;) {
        auto r = s.lease("q", agent->id, 60s);
        if (r && *r && s.ack((**r).id, agent->id)) say('A', (**r).id);
      }
    });
    for (auto& t : threads) t.join();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  int pushes = 0;
  int acks = 0;
  std::size_t scanned = 0;
  auto const deadline = std::chrono::steady_clock::now() + 5s;
  while ((pushes < 150 || acks < 20) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    for (auto nl = text.find('\n', scanned); nl != std::string::npos; nl = text.find('\n', scanned)) {
      ++(text[scanned] == 'A' ? acks : pushes);
      scanned = nl + 1;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  // What the child wrote before it died.
  for (;;) {
    char buf[4096];
    auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);

  std::set<std::int64_t> pushed, acked;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (lines.eof()) break;  // a line without its newline was cut by the kill
    if (line.size() < 3) continue;
    (line[0] == 'A' ? acked : pushed).insert(std::stoll(line.substr(2)));
  }
  INFO("pushes " << pushed.size() << ", acks " << acked.size());
  REQUIRE(pushed.size() > 0);
  REQUIRE(acked.size() > 0);

  auto s = open_store(dir);
  for (auto id : pushed) {
    auto i = s.get_item(id);
    REQUIRE(i.has_value());
    CHECK(i->run_id.size() == 8);
  }
  for (auto id : acked) CHECK(s.get_item(id)->state == item_state::acked);
  // Nothing acked is handed out again (its agent's lease still stands).
  auto agent = make_agent(s, {"q"}, 1'000'000);
  for (;;) {
    auto r = s.lease("q", agent, 60s);
    REQUIRE(r.has_value());
    if (!*r) break;
    CHECK(acked.count((**r).id) == 0);
  }
}

TEST_CASE("sqlite_store: concurrent writes share commits", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  auto before = s.stats();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (s.push("q", priority::medium, spec("g"))) ++ok;
    });
  for (auto& t : threads) t.join();
  auto after = s.stats();
  auto commits = after.commits - before.commits;
  auto operations = after.operations - before.operations;
  INFO("commits " << commits << " for " << operations << " operations");
  CHECK(ok == 800);
  CHECK(operations == 800);
  CHECK(commits < operations);
  CHECK(s.list_items("q")->size() == 800);
}

TEST_CASE("sqlite_store: job versions change with the digest, aliases move", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  auto v0 = s.add_job_version("train", {{"image", "a"}}, "sha256:a", t0);
  REQUIRE(v0.has_value());
  CHECK(v0->version == 0);
  CHECK(v0->aliases == std::vector<std::string>{"latest"});
  auto same = s.add_job_version("train", {{"image", "a"}}, "sha256:a", t0 + 1s);
  REQUIRE(same.has_value());
  CHECK(same->version == 0);
  CHECK(same->created_at == t0);
  auto v1 = s.add_job_version("train", {{"image", "b"}}, "sha256:b", t0 + 2s);
  REQUIRE(v1.has_value());
  CHECK(v1->version == 1);
  CHECK(s.get_job_version("train", "v0")->aliases.empty());
  CHECK(s.get_job_version("train")->version == 1);

  REQUIRE(s.set_job_alias("train", "prod", "v0").has_value());
  CHECK(s.get_job_version("train", "prod")->version == 0);
  REQUIRE(s.set_job_alias("train", "prod", "latest").has_value());  // moved
  auto prod = s.get_job_version("train", "prod");
  CHECK(prod->version == 1);
  CHECK(prod->aliases == std::vector<std::string>{"latest", "prod"});
  CHECK(prod->source.at("image") == "b");

  CHECK(s.set_job_alias("train", "latest", "v0").error().code == store_error::invalid_request);
  CHECK(s.set_job_alias("train", "v7", "v0").error().code == store_error::invalid_request);
  auto missing = s.get_job_version("train", "v9");
  REQUIRE(missing.has_error());
  CHECK(missing.error().code == store_error::not_found);
  CHECK_THAT(missing.error().message, Catch::Contains("v0…v1") && Catch::Contains("latest, prod"));
  CHECK(s.get_job_version("nojob").error().code == store_error::not_found);

  // Re-adding an older digest returns that version and moves `latest` to it.
  auto back = s.add_job_version("train", {{"image", "a"}}, "sha256:a", t0 + 3s);
  CHECK(back->version == 0);
  CHECK(s.get_job_version("train")->version == 0);
  REQUIRE(s.add_job_version("eval", {}, "sha256:e", t0).has_value());
  CHECK(s.list_job_versions("train")->size() == 2);
  auto jobs = s.list_jobs();
  REQUIRE(jobs->size() == 2);
  CHECK(jobs->at(0).job == "eval");
  CHECK(jobs->at(1).job == "train");
  CHECK(jobs->at(1).version == 0);
}

TEST_CASE("sqlite_store: tokens are found by hash until revoked", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  auto token = liftoff::server::make_token();
  auto hash = liftoff::server::hash_token(token);
  auto refused = s.add_token("ci", token, liftoff::server::token_role::member, t0);
  REQUIRE(refused.has_error());
  CHECK_THAT(refused.error().message, Catch::Contains("never the token itself"));

  auto added = s.add_token("ci", hash, liftoff::server::token_role::member, t0);
  REQUIRE(added.has_value());
  CHECK(s.add_token("again", hash, liftoff::server::token_role::member, t0).error().code == store_error::already_exists);
  auto found = s.find_token(hash);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  CHECK((*found)->name == "ci");
  CHECK_FALSE(s.find_token(liftoff::server::hash_token("guess"))->has_value());
  REQUIRE(s.revoke_token(added->id).has_value());
  CHECK_FALSE(s.find_token(hash)->has_value());
  auto all = s.list_tokens();
  REQUIRE(all->size() == 1);
  CHECK(all->front().revoked);
  CHECK(all->front().hash == hash);
  CHECK(s.revoke_token(42).error().code == store_error::not_found);
}

TEST_CASE("sqlite_store: agents show their state, get lost, and are asked to stop", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  CHECK(s.register_agent({"a", "h", {"nope"}, 1}, t0).error().code == store_error::not_found);
  CHECK(s.register_agent({"a", "h", {"q"}, 0}, t0).error().code == store_error::invalid_request);
  auto agent = make_agent(s, {"q"}, 1, t0);
  CHECK(s.get_agent(agent)->state == liftoff::server::agent_state::polling);

  REQUIRE(s.push("q", priority::medium, spec("1"), "r1", t0).has_value());
  REQUIRE(s.push("q", priority::medium, spec("2"), "r2", t0).has_value());
  REQUIRE(s.lease("q", agent, 30s, t0)->has_value());
  CHECK(s.get_agent(agent)->state == liftoff::server::agent_state::running);
  CHECK_FALSE(s.lease("q", agent, 30s, t0)->has_value());  // max_jobs = 1

  // Stopping a queued run takes it off the queue; stopping a held one tells its agent.
  auto stopped = s.request_stop_run("r2", t0 + 1s);
  REQUIRE(stopped.has_value());
  CHECK(stopped->state == run_state::stopped);
  REQUIRE(s.request_stop_run("r1", t0 + 1s).has_value());
  REQUIRE(s.request_stop_agent(agent).has_value());
  auto reply = s.heartbeat(agent, 30s, t0 + 2s);
  REQUIRE(reply.has_value());
  CHECK(reply->stop_runs == std::vector<std::string>{"r1"});
  CHECK(reply->stop_agent);
  CHECK(s.request_stop_run("r2", t0).error().code == store_error::conflict);

  auto lost = s.mark_lost_agents(t0 + 60s, 30s);
  REQUIRE(lost.has_value());
  REQUIRE(lost->size() == 1);
  CHECK(lost->front().state == liftoff::server::agent_state::lost);
  CHECK(s.mark_lost_agents(t0 + 61s, 30s)->empty());
  REQUIRE(s.heartbeat(agent, 30s, t0 + 62s).has_value());
  CHECK(s.get_agent(agent)->state == liftoff::server::agent_state::running);
  REQUIRE(s.agent_stopped(agent).has_value());
  CHECK(s.get_agent(agent)->state == liftoff::server::agent_state::stopped);
  CHECK(s.lease("q", agent, 30s, t0).error().code == store_error::conflict);
  CHECK(s.list_agents()->size() == 1);
}

TEST_CASE("sqlite_store: the data directory is created and a newer schema is refused", "[store]") {
  liftoff::test::temp_dir dir;
  auto nested = dir.path() / "a" / "b";
  {
    auto s = sqlite_store::open(nested);
    REQUIRE(s.has_value());
    CHECK(std::filesystem::exists(nested / "liftoff.db"));
  }
  {
    liftoff::server::detail::sqlite_connection db(nested / "liftoff.db");
    db.run("UPDATE schema_version SET version = 99");
  }
  auto s = sqlite_store::open(nested);
  REQUIRE(s.has_error());
  CHECK(s.error().code == store_error::storage_failed);
  CHECK_THAT(s.error().message, Catch::Contains("schema version 99") && Catch::Contains("newer liftoff"));
}

TEST_CASE("sqlite_store: tokens of an older database become admins; agents are bound to their token", "[store]") {
  liftoff::test::temp_dir dir;
  auto file = dir.path() / "liftoff.db";
  {
    // A database as the first schema left it, with one token and one agent.
    liftoff::server::detail::sqlite_connection db(file);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    db.exec(liftoff::server::detail::sqlite_migrations[0]);
    db.exec("INSERT INTO schema_version (version) VALUES (1)");
    db.run("INSERT INTO tokens (name, hash, created_at) VALUES ('old', ?1, 0)", liftoff::server::hash_token("old"));
    db.exec("INSERT INTO queues (name, resource, config_template, prioritized, created_at) "
            "VALUES ('q', 'local-process', '{}', 1, 0)");
    db.exec("INSERT INTO agents (name, host, queues, max_jobs, state, last_heartbeat, registered_at) "
            "VALUES ('a', 'h', '[\"q\"]', 1, 'active', 0, 0)");
  }
  auto s = sqlite_store::open(dir.path());
  REQUIRE(s.has_value());
  auto old = s->find_token(liftoff::server::hash_token("old"));
  REQUIRE(old.has_value());
  REQUIRE(old->has_value());
  CHECK((*old)->role == liftoff::server::token_role::admin);
  // The older agent is bound to nobody; the first token to resume it binds it, and another token then cannot.
  CHECK_FALSE(s->get_agent(1)->token.has_value());
  liftoff::server::agent_registration r{"a", "h2", {"q"}, 1, 1, 7};
  auto resumed = s->register_agent(r, t0);
  REQUIRE(resumed.has_value());
  CHECK(resumed->id == 1);
  CHECK(resumed->token == 7);
  r.token = 8;
  auto taken = s->register_agent(r, t0);
  REQUIRE(taken.has_error());
  CHECK(taken.error().code == store_error::not_holder);
  CHECK(s->get_agent(1)->host == "h2");
  // The last admin stays; a member goes.
  auto member = s->add_token("m", liftoff::server::hash_token("m"), liftoff::server::token_role::member, t0);
  REQUIRE(member.has_value());
  CHECK(s->revoke_token(member->id).has_value());
  auto last = s->revoke_token((*old)->id);
  REQUIRE(last.has_error());
  CHECK(last.error().code == store_error::conflict);
  CHECK(s->find_token(liftoff::server::hash_token("old"))->has_value());
}

TEST_CASE("sqlite_store: the database is in WAL mode", "[store]") {
  liftoff::test::temp_dir dir;
  { auto s = open_store(dir); }
  liftoff::server::detail::sqlite_connection db(dir.path() / "data" / "liftoff.db");
  auto& mode = db.query("PRAGMA journal_mode");
  REQUIRE(mode.step());
  CHECK(mode.text(0) == "wal");
  mode.reset();
  auto& version = db.query("SELECT version FROM schema_version");
  REQUIRE(version.step());
  CHECK(version.int64(0) == static_cast<std::int64_t>(liftoff::server::detail::sqlite_migrations.size()));
}

TEST_CASE("sqlite_store: a restarted agent resumes its id and keeps its items", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  make_queue(s, "other");
  auto agent = make_agent(s, {"q"}, 2);
  REQUIRE(s.push("q", priority::medium, spec("1"), "r1", t0).has_value());
  REQUIRE(s.lease("q", agent, 30s, t0)->has_value());

  liftoff::server::agent_registration again{"agent", "host-2", {"q", "other"}, 3, agent};
  auto resumed = s.register_agent(again, t0 + 1s);
  REQUIRE(resumed.has_value());
  CHECK(resumed->id == agent);
  CHECK(resumed->host == "host-2");
  CHECK(resumed->max_jobs == 3);
  CHECK(resumed->queues == std::vector<std::string>{"q", "other"});
  CHECK(s.get_item(1)->agent == agent);
  CHECK(s.list_agents()->size() == 1);

  // Another name, or a stopped agent, is not taken over: a new agent is made.
  liftoff::server::agent_registration other{"someone-else", "h", {"q"}, 1, agent};
  auto fresh = s.register_agent(other, t0);
  REQUIRE(fresh.has_value());
  CHECK(fresh->id != agent);
  REQUIRE(s.agent_stopped(agent).has_value());
  auto after_stop = s.register_agent(again, t0 + 2s);
  REQUIRE(after_stop.has_value());
  CHECK(after_stop->id != agent);
}

TEST_CASE("sqlite_store: runs can be listed by agent and by whether they ended", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  auto a = make_agent(s, {"q"});
  auto b = s.register_agent({"b", "host", {"q"}, 10}, t0)->id;
  for (auto id : {"r1", "r2", "r3"}) REQUIRE(s.push("q", priority::medium, spec(id), id, t0).has_value());
  REQUIRE(s.lease("q", a, 30s, t0)->has_value());  // r1
  REQUIRE(s.lease("q", b, 30s, t0)->has_value());  // r2
  REQUIRE(s.lease("q", a, 30s, t0)->has_value());  // r3
  REQUIRE(s.report("r1", a, update(run_state::finished), t0 + 1s).has_value());

  liftoff::server::run_filter by_a;
  by_a.agent = a;
  CHECK(s.list_runs(by_a)->size() == 2);
  by_a.active_only = true;
  auto active = s.list_runs(by_a);
  REQUIRE(active.has_value());
  REQUIRE(active->size() == 1);
  CHECK(active->front().run_id == "r3");
  liftoff::server::run_filter by_b;
  by_b.agent = b;
  REQUIRE(s.list_runs(by_b)->size() == 1);
  CHECK(s.list_runs(by_b)->front().run_id == "r2");
}

TEST_CASE("sqlite_store: a preempted run goes back on its queue with its run id, a bounded number of times",
          "[store]") {
  liftoff::test::temp_dir dir;
  liftoff::server::sqlite_store_options o;
  o.max_preemptions = 2;
  auto opened = sqlite_store::open(dir.path() / "data", o);
  REQUIRE(opened.has_value());
  auto& s = *opened;
  make_queue(s, "q");
  auto agent = make_agent(s, {"q"});
  REQUIRE(s.push("q", priority::low, spec("spot"), "r1", t0).has_value());
  REQUIRE(s.push("q", priority::low, spec("later"), "r2", t0 + 1s).has_value());
  for (int round = 1; round <= 2; ++round) {
    auto held = s.lease("q", agent, 30s, t0 + 2s);
    REQUIRE(held.has_value());
    REQUIRE(held->has_value());
    CHECK((*held)->run_id == "r1");  // its place in line is kept
    REQUIRE(s.report("r1", agent, update(run_state::running), t0 + 3s).has_value());
    auto back = s.report("r1", agent, update(run_state::preempted), t0 + 4s);
    REQUIRE(back.has_value());
    CHECK(back->state == run_state::queued);
    CHECK(back->history.back().message.find("preemption " + std::to_string(round) + " of at most 2") !=
          std::string::npos);
    CHECK(s.get_item((*held)->id)->state == item_state::queued);
  }
  REQUIRE(s.lease("q", agent, 30s, t0 + 5s)->has_value());
  auto final_report = s.report("r1", agent, update(run_state::preempted), t0 + 6s);
  REQUIRE(final_report.has_value());
  CHECK(final_report->state == run_state::preempted);
  CHECK(s.get_item(1)->state == item_state::done);
  auto states = states_of(*final_report);
  CHECK(std::count(states.begin(), states.end(), run_state::preempted) == 3);
}

TEST_CASE("sqlite_store: items are counted by state without loading them", "[store]") {
  liftoff::test::temp_dir dir;
  auto s = open_store(dir);
  make_queue(s, "q");
  make_queue(s, "empty");
  auto agent = make_agent(s, {"q"});
  for (auto id : {"r1", "r2", "r3", "r4"}) REQUIRE(s.push("q", priority::medium, spec(id), id, t0).has_value());
  auto first = s.lease("q", agent, 30s, t0);
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  REQUIRE(s.lease("q", agent, 30s, t0)->has_value());
  REQUIRE(s.report((*first)->run_id, agent, update(run_state::finished), t0 + 1s).has_value());

  auto counts = s.count_items("q");
  REQUIRE(counts.has_value());
  CHECK((*counts)[item_state::queued] == 2);
  CHECK((*counts)[item_state::leased] == 1);
  CHECK((*counts)[item_state::done] == 1);
  CHECK_FALSE(counts->contains(item_state::failed));
  CHECK(s.count_items("empty")->empty());
  CHECK(s.count_items("nope").error().code == store_error::not_found);
}
