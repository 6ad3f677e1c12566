// The API server as an attacker on the same network would try it: roles,
// agents bound to their tokens, revocation, run states, the data directory,
// and connections that hold on to the server without sending a request.

#include <liftoff/server/http_server.hpp>

#include "http_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace liftoff::test::http_server;
namespace asio = boost::asio;

namespace {

/// A token made by the admin, with `role`.
std::string make_token(caller& admin, std::string const& name, std::string const& role) {
  auto made = admin.post_json("/tokens", json::object{{"name", name}, {"role", role}}, 201);
  CHECK(made.at("record").at("role") == role.c_str());
  return std::string(made.at("token").as_string());
}

/// An agent registered with `token`.
std::int64_t register_agent(caller& c, std::string const& token, std::string const& name = "agent",
                            std::optional<std::int64_t> resume = std::nullopt) {
  json::object body{{"name", name}, {"host", "h"}, {"queues", json::array{"q"}}, {"max_jobs", 4}};
  if (resume) body["resume"] = *resume;
  auto r = c.call(http::verb::post, "/agents", json::serialize(body), token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return json::parse(r.body).at("id").as_int64();
}

mode_t mode_of(std::filesystem::path const& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

/// A connected TCP socket to the server, from `source` (a loopback address).
asio::ip::tcp::socket connect_raw(asio::io_context& io, std::uint16_t port, char const* source = "127.0.0.1") {
  asio::ip::tcp::socket s(io);
  s.open(asio::ip::tcp::v4());
  s.bind(asio::ip::tcp::endpoint(asio::ip::make_address(source), 0));
  s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return s;
}

/// Everything the server sends until it closes the connection (or `limit` passes).
std::string read_until_closed(asio::ip::tcp::socket& s, std::chrono::seconds limit = std::chrono::seconds(20)) {
  std::string out;
  auto until = std::chrono::steady_clock::now() + limit;
  s.non_blocking(true);
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    boost::system::error_code ec;
    auto n = s.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

}  // namespace

TEST_CASE("API server: roles decide who may manage tokens and queues, push and run agents", "[server][security]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto admin = make_caller(s);
  admin.make_queue("q");
  auto member = make_token(admin, "alice", "member");
  auto agent = make_token(admin, "gpu-box", "agent");

  // The admin token of the first start is an admin.
  CHECK(admin.get_json("/whoami").at("role") == "admin");
  CHECK(admin.call(http::verb::get, "/whoami", {}, member).body.find("\"role\":\"member\"") != std::string::npos);

  // A member: no tokens, no queues, no agent endpoints; jobs, pushes, reads, stopping runs.
  auto made = admin.call(http::verb::post, "/tokens", R"({"name": "mine", "role": "admin"})", member);
  CHECK(made.status == 403);
  CHECK(error_code_of(made) == "forbidden");
  CHECK(contains(error_message_of(made), "needs the admin role"));
  CHECK(contains(error_message_of(made), "token 'alice' has the member role"));
  CHECK(!contains(made.body, member));
  CHECK(admin.call(http::verb::get, "/tokens", {}, member).status == 403);
  CHECK(admin.call(http::verb::delete_, "/tokens/1", {}, member).status == 403);
  CHECK(admin.call(http::verb::post, "/queues", R"({"name": "q2", "resource": "local-process"})", member).status == 403);
  CHECK(admin.call(http::verb::delete_, "/queues/q?force=true", {}, member).status == 403);
  auto reg = admin.call(http::verb::post, "/agents", R"({"name": "a", "host": "h", "queues": ["q"]})", member);
  CHECK(reg.status == 403);
  CHECK(contains(error_message_of(reg), "needs the agent or admin role"));
  auto pushed = admin.call(http::verb::post, "/queues/q/items", R"({"spec": {"image": "busybox", "name": "m"}})", member);
  CHECK(pushed.status == 201);
  auto run_id = std::string(json::parse(pushed.body).at("run_id").as_string());
  CHECK(admin.call(http::verb::get, "/runs", {}, member).status == 200);
  CHECK(admin.call(http::verb::get, "/queues/q", {}, member).status == 200);

  // An agent token: not pushes, not tokens, not other runs.
  CHECK(admin.call(http::verb::post, "/queues/q/items", R"({"spec": {"image": "busybox"}})", agent).status == 403);
  CHECK(admin.call(http::verb::get, "/tokens", {}, agent).status == 403);
  CHECK(admin.call(http::verb::get, "/queues", {}, agent).status == 403);
  auto all_runs = admin.call(http::verb::get, "/runs", {}, agent);
  CHECK(all_runs.status == 403);
  CHECK(contains(error_message_of(all_runs), "?agent=ID"));
  CHECK(admin.call(http::verb::get, "/runs/" + run_id, {}, agent).status == 403);

  // It registers its agent and leases as it; then it may read that run.
  auto id = register_agent(admin, agent, "gpu-box");
  auto leased = admin.call(http::verb::post, "/queues/q/lease", json::serialize(json::object{{"agent", id}}), agent);
  REQUIRE(leased.status == 200);
  CHECK(admin.call(http::verb::get, "/runs/" + run_id, {}, agent).status == 200);
  CHECK(admin.call(http::verb::get, "/runs?agent=" + std::to_string(id), {}, agent).status == 200);
  // The member stops the run; the admin stops the agent (a member may not).
  CHECK(admin.call(http::verb::post, "/runs/" + run_id + "/stop", "{}", member).status == 200);
  CHECK(admin.call(http::verb::post, "/agents/" + std::to_string(id) + "/stop", "{}", member).status == 403);
  CHECK(admin.call(http::verb::post, "/agents/" + std::to_string(id) + "/stop", "{}").status == 200);

  // Refusals are logged with the token's name, never the token.
  auto log = s.log();
  CHECK(contains(log, "POST /api/v1/tokens 403"));
  CHECK(!contains(log, member));
  CHECK(!contains(log, agent));
}

TEST_CASE("API server: an agent is bound to the token that registered it", "[server][security]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto admin = make_caller(s);
  admin.make_queue("q");
  auto mine = make_token(admin, "agent-1", "agent");
  auto other = make_token(admin, "agent-2", "agent");
  auto agent1 = register_agent(admin, mine, "one");
  auto run_id = std::string(admin.push("q", "job").at("run_id").as_string());
  auto leased = admin.call(http::verb::post, "/queues/q/lease", json::serialize(json::object{{"agent", agent1}}), mine);
  REQUIRE(leased.status == 200);
  auto item = json::parse(leased.body).at("id").as_int64();
  auto as_agent1 = [&](std::string const& token, http::verb m, std::string const& path, json::object body) {
    return admin.call(m, path, json::serialize(body), token);
  };

  // Another token, claiming to be agent 1 in the body or the path: 403 everywhere, and nothing changes.
  auto a = std::to_string(agent1);
  for (std::string const* token : std::initializer_list<std::string const*>{&other, &s.token()}) {
    INFO("token " << (token == &other ? "agent-2" : "admin"));
    auto report = as_agent1(*token, http::verb::post, "/runs/" + run_id + "/report", {{"agent", agent1}, {"state", "running"}});
    CHECK(report.status == 403);
    CHECK(contains(error_message_of(report), "is bound to another token"));
    CHECK(as_agent1(*token, http::verb::post, "/runs/" + run_id + "/logs", {{"agent", agent1}, {"text", "forged\n"}}).status == 403);
    CHECK(as_agent1(*token, http::verb::post, "/runs/" + run_id + "/report", {{"agent", agent1}, {"state", "finished"}}).status == 403);
    CHECK(as_agent1(*token, http::verb::post, "/agents/" + a + "/heartbeat", {}).status == 403);
    CHECK(as_agent1(*token, http::verb::post, "/agents/" + a + "/stopped", {}).status == 403);
    CHECK(as_agent1(*token, http::verb::post, "/items/" + std::to_string(item) + "/ack", {{"agent", agent1}}).status == 403);
    CHECK(as_agent1(*token, http::verb::post, "/queues/q/lease", {{"agent", agent1}}).status == 403);
    // Resuming agent 1's identity is refused too, not turned into a takeover.
    auto resumed = admin.call(http::verb::post, "/agents",
                              json::serialize(json::object{{"name", "one"}, {"host", "evil"}, {"queues", json::array{"q"}},
                                                           {"resume", agent1}}),
                              *token);
    CHECK(resumed.status == 403);
  }
  auto run = admin.get_json("/runs/" + run_id);
  CHECK(run.at("state") == "leased");
  CHECK(admin.get("/runs/" + run_id + "/logs").body.empty());
  CHECK(admin.get_json("/agents/" + a).at("host") == "h");

  // Its own token does all of it.
  CHECK(as_agent1(mine, http::verb::post, "/agents/" + a + "/heartbeat", {}).status == 200);
  CHECK(as_agent1(mine, http::verb::post, "/runs/" + run_id + "/logs", {{"agent", agent1}, {"text", "hello\n"}}).status == 204);
  CHECK(as_agent1(mine, http::verb::post, "/runs/" + run_id + "/report", {{"agent", agent1}, {"state", "running"}}).status == 200);
  // And a restarted agent resumes its identity with it.
  CHECK(register_agent(admin, mine, "one", agent1) == agent1);
  // One live agent per agent token: a second one (no resume) is refused while the first is alive.
  auto second = admin.call(http::verb::post, "/agents", R"({"name": "two", "host": "h", "queues": ["q"]})", mine);
  CHECK(second.status == 409);
  CHECK(contains(error_message_of(second), "registers one agent"));
}

TEST_CASE("API server: the last admin token cannot be revoked; admin-token recovery", "[server][security]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto admin = make_caller(s);
  auto me = admin.get_json("/whoami").at("id").as_int64();
  auto member = make_token(admin, "bob", "member");

  auto refused = admin.call(http::verb::delete_, "/tokens/" + std::to_string(me));
  CHECK(refused.status == 409);
  CHECK(contains(error_message_of(refused), "last active admin token"));
  CHECK(admin.get("/whoami").status == 200);

  // With a second admin, the first may go; then the second is the last.
  auto second = make_token(admin, "ops", "admin");
  CHECK(admin.call(http::verb::delete_, "/tokens/" + std::to_string(me)).status == 200);
  CHECK(admin.get("/whoami").status == 401);
  admin.token = second;
  auto second_id = admin.get_json("/whoami").at("id").as_int64();
  CHECK(admin.call(http::verb::delete_, "/tokens/" + std::to_string(second_id)).status == 409);
  CHECK(admin.call(http::verb::get, "/whoami", {}, member).status == 200);
}

TEST_CASE("API server: revoking a token ends its parked long-polls with 401 at once", "[server][security]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto admin = make_caller(s);
  admin.make_queue("q");
  auto token = make_token(admin, "agent", "agent");
  auto id = register_agent(admin, token);
  auto token_id = json::parse(admin.call(http::verb::get, "/whoami", {}, token).body).at("id").as_int64();

  auto started = std::chrono::steady_clock::now();
  auto parked = std::async(std::launch::async, [&] {
    auto c = make_caller(s);
    return c.call(http::verb::post, "/queues/q/lease?wait=30", json::serialize(json::object{{"agent", id}}), token);
  });
  REQUIRE(liftoff::test::wait_until([&] { return s.server().parked_requests() == 1; }, 10));
  CHECK(admin.call(http::verb::delete_, "/tokens/" + std::to_string(token_id)).status == 200);
  // A push after the revocation must not reach it.
  admin.push("q", "after-revoke");
  auto r = parked.get();
  CHECK(r.status == 401);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  CHECK(admin.get_json("/queues/q").at("counts").at("queued") == 1);
}

TEST_CASE("API server: run states only move forward; nothing after a final state", "[server][security]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");
  auto agent = c.make_agent({"q"});
  auto run_id = std::string(c.push("q", "r").at("run_id").as_string());
  REQUIRE(c.lease_name("q", agent) == "r");
  auto path = "/runs/" + run_id;
  c.post_json(path + "/report", json::object{{"agent", agent}, {"state", "running"}}, 200);
  c.post_json(path + "/report", json::object{{"agent", agent}, {"state", "running"}}, 200);  // again: harmless
  auto back = c.post(path + "/report", json::object{{"agent", agent}, {"state", "building"}});
  CHECK(back.status == 409);
  CHECK(contains(error_message_of(back), "cannot go back to building"));
  CHECK(c.get_json(path).at("state") == "running");

  c.post_json(path + "/report", json::object{{"agent", agent}, {"state", "finished"}, {"exit_code", 0}}, 200);
  auto late = c.post(path + "/logs", json::object{{"agent", agent}, {"text", "late\n"}});
  CHECK(late.status == 409);
  CHECK(contains(error_message_of(late), "logs are closed"));
  CHECK(c.post(path + "/report", json::object{{"agent", agent}, {"state", "failed"}}).status == 409);
  CHECK(c.get_json(path).at("state") == "finished");
  CHECK(c.get(path + "/logs").body.find("late") == std::string::npos);
}

TEST_CASE("API server: the data directory is private, locked, and its admin token file never overwritten",
          "[server][security]") {
  liftoff::test::temp_dir dir;
  auto data = dir.path() / "data";
  {
    test_server s(dir);
    auto c = make_caller(s);
    c.make_queue("q");
    auto agent = c.make_agent({"q"});
    auto run_id = std::string(c.push("q", "r").at("run_id").as_string());
    REQUIRE(c.lease_name("q", agent) == "r");
    c.post(std::string("/runs/") + run_id + "/logs", json::object{{"agent", agent}, {"text", "x\n"}});
    CHECK(mode_of(data) == 0700);
    CHECK(mode_of(data / "liftoff.db") == 0600);
    CHECK(mode_of(data / "admin-token") == 0600);
    CHECK(mode_of(data / "logs") == 0700);
    CHECK(mode_of(data / "logs" / (run_id + ".log")) == 0600);
    CHECK(mode_of(data / "artifacts" / "sha256") == 0700);

    // A second server on the same directory is refused, naming the holder.
    auto store = liftoff::server::sqlite_store::open(data);
    REQUIRE(store.has_value());
    api_server_options o;
    o.listen = "127.0.0.1:0";
    o.data_dir = data;
    o.log = [](std::string_view) {};
    api_server second(std::move(*store), o);
    auto started = second.start();
    REQUIRE(!started);
    CHECK(contains(started.error().what(), "in use by another liftoff server"));
    CHECK(contains(started.error().what(), "process " + std::to_string(::getpid())));
  }
  auto token_before = liftoff::test::read_file(data / "admin-token");

  // An empty database is refused and the token file stays.
  std::filesystem::rename(data / "liftoff.db", dir.path() / "saved.db");
  for (auto const* suffix : {"-wal", "-shm"}) std::filesystem::remove(data / (std::string("liftoff.db") + suffix));
  { std::ofstream(data / "liftoff.db").flush(); }
  auto empty = liftoff::server::sqlite_store::open(data);
  REQUIRE(!empty);
  CHECK(contains(empty.error().what(), "is empty (0 bytes)"));
  CHECK(liftoff::test::read_file(data / "admin-token") == token_before);

  // A new database in a directory whose admin-token exists: the file is kept, the new token only shown.
  std::filesystem::remove(data / "liftoff.db");
  {
    test_server again(dir);
    auto notices = again.notices();
    REQUIRE(notices.size() == 2);
    CHECK(contains(notices[0], "admin token: lft_"));
    CHECK(contains(notices[1], "exists already"));
  }
  CHECK(liftoff::test::read_file(data / "admin-token") == token_before);
}

TEST_CASE("API server: a damaged or foreign database refuses to start", "[server][security]") {
  liftoff::test::temp_dir dir;
  auto data = dir.path() / "data";
  {
    auto store = liftoff::server::sqlite_store::open(data);
    REQUIRE(store.has_value());
    for (int i = 0; i < 200; ++i) {
      liftoff::server::queue_record q;
      q.name = "queue-" + std::to_string(i);
      q.resource = "local-process";
      q.config_template = json::object{{"padding", std::string(500, 'p')}};
      REQUIRE(store->create_queue(q).has_value());
    }
  }
  // Garbage in the middle of the file (pages 5 to 8), after a checkpoint put everything in it.
  auto file = data / "liftoff.db";
  auto size = std::filesystem::file_size(file);
  REQUIRE(size > 10 * 4096);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4 * 4096);
    std::string garbage(4 * 4096, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto damaged = liftoff::server::sqlite_store::open(data);
  REQUIRE(!damaged);
  INFO(damaged.error().what());
  CHECK((contains(damaged.error().what(), "is damaged") || contains(damaged.error().what(), "malformed")));

  // A SQLite file that is not liftoff's.
  auto other = dir.path() / "other";
  std::filesystem::create_directories(other);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((other / "liftoff.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto foreign = liftoff::server::sqlite_store::open(other);
  REQUIRE(!foreign);
  CHECK(contains(foreign.error().what(), "not a liftoff server's"));
}

TEST_CASE("API server: connection limits answer 503 and keep the server reachable", "[server][security]") {
  liftoff::test::temp_dir dir;
  api_server_options o;
  o.max_connections_per_client = 8;
  o.max_connections = 64;
  o.refusal_log_interval = std::chrono::seconds(60);
  test_server s(dir, o);
  asio::io_context io;
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(connect_raw(io, s.server().port()));
  // The ninth from the same address is refused at once.
  auto ninth = connect_raw(io, s.server().port());
  auto answer = read_until_closed(ninth, std::chrono::seconds(10));
  CHECK(answer.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(contains(answer, "connection limit"));
  for (int i = 0; i < 20; ++i) {
    auto more = connect_raw(io, s.server().port());
    read_until_closed(more, std::chrono::seconds(10));
  }
  // Another address is served meanwhile.
  auto other = connect_raw(io, s.server().port(), "127.0.0.2");
  std::string req = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  asio::write(other, asio::buffer(req));
  auto health = read_until_closed(other);
  CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
  // 21 refusals, logged in one line (the interval is a minute).
  auto log = s.log();
  std::size_t lines = 0;
  for (auto p = log.find("connection(s) with 503"); p != std::string::npos; p = log.find("connection(s) with 503", p + 1))
    ++lines;
  CHECK(lines == 1);
  CHECK(contains(log, "refused 1 connection(s)"));
}

/** A process holding `count` idle connections to 127.0.0.1:`port` (as many
    as it can), writing "N connected" to `out` once they are open, until it is killed
    (tests/support/hold_connections.py). */
static std::unique_ptr<liftoff::test::background_command> flood(std::uint16_t port, int count,
                                                                std::filesystem::path const& out) {
  return std::make_unique<liftoff::test::background_command>(
      std::vector<std::string>{"python3", LIFTOFF_SOURCE_DIR "/tests/support/hold_connections.py", std::to_string(port),
                               std::to_string(count)},
      out,
      out.string() + ".err");
}

TEST_CASE("API server: 20,000 idle sockets from one host do not stop a request from another", "[server][security]") {
  rlimit rl{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 10100) {
    WARN("skipped: the open-files hard limit (" << rl.rlim_max << ") is below the 10,000 sockets of one flood process");
    return;
  }
  liftoff::test::temp_dir dir;
  test_server s(dir);  // the default limits
  // Two processes of 10,000 each, so that no process needs more than 10,000 descriptors.
  auto a = flood(s.server().port(), 10000, dir.path() / "flood-a");
  auto b = flood(s.server().port(), 10000, dir.path() / "flood-b");
  auto connected = [&](std::string const& name) {
    auto text = std::filesystem::exists(dir.path() / name) ? liftoff::test::read_file(dir.path() / name) : "";
    return text.find("connected") != std::string::npos ? std::stoi(text) : -1;
  };
  REQUIRE(liftoff::test::wait_until([&] { return connected("flood-a") >= 0 && connected("flood-b") >= 0; }, 120));
  CHECK(connected("flood-a") + connected("flood-b") == 20000);
  // The server holds only its per-client limit of them.
  CHECK(s.server().connections() <= api_server_options{}.max_connections_per_client);
  asio::io_context io;
  auto other = connect_raw(io, s.server().port(), "127.0.0.2");
  std::string req = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  asio::write(other, asio::buffer(req));
  auto health = read_until_closed(other);
  CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(contains(s.log(), "per client address"));
}

TEST_CASE("API server: slow headers, slow bodies and idle connections are cut off", "[server][security]") {
  liftoff::test::temp_dir dir;
  api_server_options o;
  o.header_timeout = std::chrono::milliseconds(1500);
  o.idle_timeout = std::chrono::milliseconds(1000);
  o.min_upload_rate = 1000;
  o.upload_grace = std::chrono::milliseconds(1000);
  test_server s(dir, o);
  asio::io_context io;

  SECTION("a header sent a byte at a time") {
    auto sock = connect_raw(io, s.server().port());
    std::string req = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 'a') + "\r\n\r\n";
    auto started = std::chrono::steady_clock::now();
    bool closed = false;
    for (char ch : req) {
      boost::system::error_code ec;
      asio::write(sock, asio::buffer(&ch, 1), ec);
      if (ec) {
        closed = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!closed) closed = read_until_closed(sock, std::chrono::seconds(5)).find("200 OK") == std::string::npos;
    CHECK(closed);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(8));
    CHECK(contains(s.log(), "did not arrive within 1500 ms"));
  }
  SECTION("a body slower than the minimum rate gets 408") {
    auto sock = connect_raw(io, s.server().port());
    std::string head = "POST /api/v1/queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token() +
                       "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
    asio::write(sock, asio::buffer(head));
    std::string got;
    for (int i = 0; i < 100 && got.empty(); ++i) {
      boost::system::error_code ec;
      asio::write(sock, asio::buffer(std::string(10, ' ')), ec);
      if (ec) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      sock.non_blocking(true);
      char buf[512];
      auto n = sock.read_some(asio::buffer(buf), ec);
      if (!ec) got.append(buf, n);
    }
    got += read_until_closed(sock, std::chrono::seconds(5));
    CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(contains(got, "slower than the minimum of 1000 bytes/s"));
  }
  SECTION("a kept-alive connection is closed after the idle time") {
    auto sock = connect_raw(io, s.server().port());
    std::string req = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(sock, asio::buffer(req));
    auto started = std::chrono::steady_clock::now();
    auto got = read_until_closed(sock, std::chrono::seconds(10));
    CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(6));
  }
}

TEST_CASE("API server: the access log escapes what it prints", "[server][security]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  CHECK(c.get("/runs?queue=x%0AGET%20/api/v1/forged%20200%20%1b%5b31m").status == 200);
  auto log = s.log();
  CHECK(!contains(log, "\nGET /api/v1/forged"));
  CHECK(!contains(log, "\x1b"));
  CHECK(contains(log, "queue=x%0AGET%20/api/v1/forged"));
  // What the log prints of names and paths goes through this.
  using liftoff::server::detail::log_escape;
  CHECK(log_escape("ci\nGET / 200\x1b[31m\\") == "ci\\nGET / 200\\x1b[31m\\\\");
  CHECK(log_escape(std::string(300, 'a'), 10) == "aaaaaaaaaa\u2026");
}
