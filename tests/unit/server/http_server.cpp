#include <liftoff/server/http_server.hpp>

#include "http_test_server.hpp"
#include "support/test_support.hpp"

#include <liftoff/net/client.hpp>
#include <liftoff/server/detail/http_util.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>

using namespace liftoff::test::http_server;

TEST_CASE("API server: health needs no token, everything else a valid one", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);

  auto health = c.call(http::verb::get, "/health", {}, std::string());
  CHECK(health.status == 200);
  CHECK(json::parse(health.body).at("status") == "ok");

  auto none = c.call(http::verb::get, "/queues", {}, std::string());
  CHECK(none.status == 401);
  CHECK(std::string(none.headers[http::field::www_authenticate]) == "Bearer");
  CHECK(contains(error_message_of(none), "Authorization: Bearer"));

  std::string wrong = "lft_" + std::string(64, '0');
  auto bad = c.call(http::verb::get, "/queues?token=" + wrong, {}, wrong);
  CHECK(bad.status == 401);
  CHECK(contains(error_message_of(bad), "not valid"));

  auto ok = c.get("/queues");
  CHECK(ok.status == 200);
  CHECK(ok.body == "[]");

  // The access log names the token, never shows one (even one passed in the query).
  auto log = s.log();
  CHECK(contains(log, "GET /api/v1/queues 401"));
  CHECK(contains(log, "GET /api/v1/queues 200"));
  CHECK(contains(log, " admin"));
  CHECK(contains(log, "token=***"));
  CHECK_FALSE(contains(log, wrong));
  CHECK_FALSE(contains(log, s.token()));
  CHECK_FALSE(contains(log, s.token().substr(4)));
}

TEST_CASE("API server: the admin token is made once, kept hashed and written owner-only", "[server]") {
  liftoff::test::temp_dir dir;
  std::string first_token;
  {
    test_server s(dir);
    auto notices = s.notices();
    REQUIRE(notices.size() == 1);
    CHECK(notices[0] == "admin token: " + s.token());
    CHECK(s.token().rfind("lft_", 0) == 0);
    struct stat st {};
    REQUIRE(::stat((dir.path() / "data" / "admin-token").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    first_token = s.token();

    // Tokens made over the API work; revoked ones stop working.
    auto c = make_caller(s);
    auto made = c.post_json("/tokens", json::object{{"name", "ci"}}, 201);
    std::string ci(made.at("token").as_string());
    CHECK_FALSE(made.at("record").as_object().contains("hash"));
    CHECK(c.call(http::verb::get, "/queues", {}, ci).status == 200);
    auto id = made.at("record").at("id").as_int64();
    CHECK(c.call(http::verb::delete_, "/tokens/" + std::to_string(id)).status == 200);
    CHECK(c.call(http::verb::get, "/queues", {}, ci).status == 401);
    // The database holds no token in clear.
    auto db = liftoff::test::read_file(dir.path() / "data" / "liftoff.db");
    CHECK_FALSE(contains(db, first_token));
  }
  test_server again(dir);
  CHECK(again.notices().empty());
  CHECK(again.token() == first_token);
  auto c = make_caller(again);
  CHECK(c.get("/queues").status == 200);
}

TEST_CASE("API server: queues are created, listed with counts, described and deleted", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);

  c.make_queue("gpu", true,
               json::object{{"resource_args", json::object{{"local-process", json::object{{"env", json::object{{"N", "{{n}}"}}}}}}},
                            {"variables", json::object{{"n", json::object{{"type", "int"}, {"default", 1}}}}}});
  c.make_queue("cpu", false);

  auto dup = c.post("/queues", json::object{{"name", "cpu"}, {"resource", "local-process"}});
  CHECK(dup.status == 409);

  auto bad_template = c.post("/queues", json::object{{"name", "x"}, {"resource", "local-process"},
                                                     {"config_template", json::object{{"resourc_args", json::object{}}}}});
  CHECK(bad_template.status == 400);
  CHECK(contains(error_message_of(bad_template), "config_template"));
  auto unknown_field = c.post("/queues", json::object{{"name", "x"}, {"resource", "local-process"}, {"prioritised", true}});
  CHECK(unknown_field.status == 400);
  CHECK(contains(error_message_of(unknown_field), "prioritized"));

  c.push("gpu", "a");
  c.push("gpu", "b");
  auto list = c.get_json("/queues").as_array();
  REQUIRE(list.size() == 2);
  for (auto const& q : list) {
    auto const& counts = q.at("counts");
    if (q.at("name") == "gpu") CHECK(counts.at("queued").as_int64() == 2);
    else CHECK(counts.at("queued").as_int64() == 0);
  }

  auto agent = c.make_agent({"gpu"});
  CHECK(c.lease_name("gpu", agent) == "a");
  auto described = c.get_json("/queues/gpu");
  CHECK(described.at("counts").at("queued").as_int64() == 1);
  CHECK(described.at("counts").at("leased").as_int64() == 1);
  CHECK(described.at("items").as_array().size() == 2);
  CHECK(described.at("config_template").at("variables").at("n").at("type") == "int");

  CHECK(c.get("/queues/nope").status == 404);
  auto refused = c.call(http::verb::delete_, "/queues/gpu");
  CHECK(refused.status == 409);
  CHECK(c.get("/queues/gpu").status == 200);
  CHECK(c.call(http::verb::delete_, "/queues/gpu?force=true").status == 204);
  CHECK(c.get("/queues/gpu").status == 404);
  CHECK(c.call(http::verb::delete_, "/queues/cpu").status == 204);
  CHECK(c.get_json("/queues").as_array().empty());
}

TEST_CASE("API server: a queue without a resource is told the deployment's resources", "[server]") {
  liftoff::test::temp_dir dir;
  SECTION("known") {
    api_server_options o;
    o.resources = {"local-process", "kubernetes"};
    test_server s(dir, o);
    auto c = make_caller(s);
    auto none = c.post("/queues", json::object{{"name", "x"}, {"resource", ""}});
    CHECK(none.status == 400);
    CHECK(error_message_of(none) == "queue: field 'resource': expected one of: local-process, kubernetes");
    auto typo = c.post("/queues", json::object{{"name", "x"}, {"resource", "kubernets"}});
    CHECK(typo.status == 201);
    CHECK(contains(std::string(typo.headers["X-Liftoff-Warning"]), "kubernets"));
  }
  SECTION("not known") {
    test_server s(dir);
    auto c = make_caller(s);
    auto none = c.post("/queues", json::object{{"name", "x"}, {"resource", ""}});
    CHECK(none.status == 400);
    CHECK(error_message_of(none) == "queue: field 'resource': expected a resource name such as the agent's");
    CHECK(c.post("/queues", json::object{{"name", "x"}, {"resource", "kubernets"}}).status == 201);
  }
}

TEST_CASE("API server: a push through the server's service wakes a parked lease", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");
  auto agent = c.make_agent({"q"});
  auto waiting = std::async(std::launch::async, [&] {
    auto mine = make_caller(s);
    return mine.post("/queues/q/lease?wait=20", json::object{{"agent", agent}});
  });
  REQUIRE(liftoff::test::wait_until([&] { return s.server().parked_requests() == 1; }, 10));
  // What a dashboard in the same program does: no HTTP.
  liftoff::server::push_request r;
  r.spec = json::object{{"image", "busybox"}, {"name", "from-service"}};
  auto started = std::chrono::steady_clock::now();
  auto pushed = s.server().service().push("q", r);
  REQUIRE(pushed.has_value());
  auto got = waiting.get();
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  REQUIRE(got.status == 200);
  CHECK(json::parse(got.body).at("id") == pushed->id);
}

TEST_CASE("API server: items leave by priority then push order, or pure FIFO", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("p", true);
  c.make_queue("f", false);
  auto agent = c.make_agent({"p", "f"});

  std::vector<std::pair<std::string, std::string>> pushes = {
      {"l1", "low"}, {"m1", "medium"}, {"h1", "high"}, {"c1", "critical"}, {"m2", "medium"}, {"h2", "high"}, {"l2", "low"}};
  for (auto const& [name, prio] : pushes) {
    c.push("p", name, prio);
    c.push("f", name, prio);
  }
  std::vector<std::string> prioritized, fifo;
  for (std::string n; !(n = c.lease_name("p", agent)).empty();) prioritized.push_back(n);
  for (std::string n; !(n = c.lease_name("f", agent)).empty();) fifo.push_back(n);
  CHECK(prioritized == std::vector<std::string>{"c1", "h1", "h2", "m1", "m2", "l1", "l2"});
  CHECK(fifo == std::vector<std::string>{"l1", "m1", "h1", "c1", "m2", "h2", "l2"});

  auto bad = c.post("/queues/p/items", json::object{{"spec", json::object{{"image", "x"}}}, {"priority", "urgent"}});
  CHECK(bad.status == 400);
  CHECK(contains(error_message_of(bad), "priority"));
}

TEST_CASE("API server: a push fills the queue's template and refuses bad variables", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  json::object tmpl{
      {"resource_args",
       json::object{{"local-process", json::object{{"env", json::object{{"GPUS", "{{gpus}}"}, {"MODE", "run-{{mode}}"}}}}}}},
      {"variables", json::object{{"gpus", json::object{{"type", "int"}, {"minimum", 0}, {"maximum", 8}, {"default", 1}}},
                                 {"mode", json::object{{"type", "string"}, {"enum", json::array{"fast", "slow"}},
                                                       {"default", "fast"}}}}}};
  c.make_queue("t", true, tmpl);

  auto item = c.post_json("/queues/t/items",
                          json::object{{"spec", json::object{{"image", "busybox"}, {"name", "ok"}}},
                                       {"variables", json::object{{"gpus", "4"}, {"mode", "slow"}}}},
                          201);
  auto const& spec = item.at("run_spec").as_object();
  CHECK(spec.at("resource") == "local-process");
  CHECK(spec.at("queue") == "t");
  CHECK(spec.at("run_id") == item.at("run_id"));
  CHECK(spec.at("resource_args").at("local-process").at("env").at("GPUS") == 4);
  CHECK(spec.at("resource_args").at("local-process").at("env").at("MODE") == "run-slow");

  struct bad_case {
    json::object variables;
    std::string names;
  };
  std::vector<bad_case> cases = {
      {json::object{{"gpus", "many"}}, "gpus"},          // wrong type
      {json::object{{"gpus", 9}}, "gpus"},               // out of range
      {json::object{{"mode", "medium"}}, "mode"},        // not in the enum
      {json::object{{"gpu", 2}}, "gpu"},                 // unknown name
  };
  for (auto const& bc : cases) {
    auto r = c.post("/queues/t/items",
                    json::object{{"spec", json::object{{"image", "busybox"}}}, {"variables", bc.variables}});
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(contains(error_message_of(r), "'" + bc.names + "'"));
  }
  auto bad_spec = c.post("/queues/t/items", json::object{{"spec", json::object{{"image", "busybox"}, {"entry_pont", "x"}}}});
  CHECK(bad_spec.status == 400);
  CHECK(contains(error_message_of(bad_spec), "entry_pont"));
  auto missing_artifact = c.post(
      "/queues/t/items", json::object{{"spec", json::object{{"code", json::object{{"artifact", "sha256:" + std::string(64, 'a')}}}}}});
  CHECK(missing_artifact.status == 400);
  CHECK(contains(error_message_of(missing_artifact), "sha256:" + std::string(64, 'a')));

  // Nothing but the first push got in.
  auto items = c.get_json("/queues/t/items").as_array();
  CHECK(items.size() == 1);
}

TEST_CASE("API server: jobs get versions by digest, aliases, and feed pushes", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");

  auto v0 = c.post_json("/jobs", json::object{{"name", "train"}, {"source", json::object{{"image", "busybox:1"}, {"entry_point", "sh -c 'echo 1'"}}}}, 201);
  CHECK(v0.at("version") == 0);
  CHECK(v0.at("digest").as_string().starts_with("sha256:"));
  // The same source, fields in another order: the same version.
  auto same = c.post_json("/jobs", json::object{{"name", "train"}, {"source", json::object{{"entry_point", "sh -c 'echo 1'"}, {"image", "busybox:1"}}}}, 200);
  CHECK(same.at("version") == 0);
  auto v1 = c.post_json("/jobs", json::object{{"name", "train"}, {"source", json::object{{"image", "busybox:2"}}}, {"aliases", json::array{"prod"}}}, 201);
  CHECK(v1.at("version") == 1);
  CHECK(v1.at("aliases").as_array().size() == 2);

  auto two_sources = c.post("/jobs", json::object{{"name", "bad"}, {"source", json::object{{"image", "x"}, {"git", "https://x/y.git"}}}});
  CHECK(two_sources.status == 400);
  auto no_source = c.post("/jobs", json::object{{"name", "bad"}, {"source", json::object{{"entry_point", "x"}}}});
  CHECK(no_source.status == 400);
  auto bad_alias = c.post("/jobs", json::object{{"name", "bad"}, {"source", json::object{{"image", "x"}}}, {"aliases", json::array{"v7"}}});
  CHECK(bad_alias.status == 400);
  CHECK(c.get("/jobs/bad").status == 404);

  CHECK(c.get_json("/jobs").as_array().size() == 1);
  CHECK(c.get_json("/jobs/train").as_array().size() == 2);
  CHECK(c.get_json("/jobs/train/versions/prod").at("version") == 1);
  CHECK(c.call(http::verb::put, "/jobs/train/aliases/prod", R"({"version": "v0"})").status == 200);
  CHECK(c.get_json("/jobs/train/versions/prod").at("version") == 0);

  auto by_alias = c.post_json("/queues/q/items", json::object{{"job", "train:prod"}}, 201);
  CHECK(by_alias.at("run_spec").at("image") == "busybox:1");
  CHECK(by_alias.at("run_spec").at("job_name") == "train");
  auto latest = c.post_json("/queues/q/items", json::object{{"job", "train"}, {"spec", json::object{{"name", "mine"}}}}, 201);
  CHECK(latest.at("run_spec").at("image") == "busybox:2");
  CHECK(latest.at("run_spec").at("name") == "mine");
  auto other_source = c.post_json("/queues/q/items", json::object{{"job", "train:v0"}, {"spec", json::object{{"image", "alpine"}}}}, 201);
  CHECK(other_source.at("run_spec").at("image") == "alpine");
  auto unknown = c.post("/queues/q/items", json::object{{"job", "train:v9"}});
  CHECK(unknown.status == 404);
  CHECK(contains(error_message_of(unknown), "job"));
}

TEST_CASE("API server: a parked lease gets a push at once, and 204 when nothing comes", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");
  c.make_queue("r");
  auto agent = c.make_agent({"q", "r"});

  // Nothing comes: 204 once the wait passed.
  auto t0 = std::chrono::steady_clock::now();
  auto empty = c.post("/queues/q/lease?wait=0.3", json::object{{"agent", agent}});
  CHECK(empty.status == 204);
  CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);

  // A push from another client wakes the parked lease long before its wait ends.
  auto waiting = std::async(std::launch::async, [&] {
    auto mine = make_caller(s);
    return mine.post("/lease?wait=20", json::object{{"agent", agent}, {"queues", json::array{"q", "r"}}});
  });
  REQUIRE(liftoff::test::wait_until([&] { return s.server().parked_requests() == 1; }, 10));
  auto started = std::chrono::steady_clock::now();
  auto pushed = c.push("r", "wake-up");
  auto got = waiting.get();
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  REQUIRE(got.status == 200);
  auto item = json::parse(got.body);
  CHECK(item.at("id") == pushed.at("id"));
  CHECK(item.at("state") == "leased");
  CHECK(s.server().parked_requests() == 0);

  // A client that goes away while parked leaves nothing parked behind.
  {
    auto gone = std::async(std::launch::async, [&] {
      liftoff::net::client_options o;
      o.max_attempts = 1;
      o.request_timeout = 300ms;
      auto http = liftoff::net::client::create(s.server().url(), o).value();
      caller mine{std::move(http), s.token()};
      liftoff::net::request r;
      r.method = http::verb::post;
      r.target = "/api/v1/queues/q/lease?wait=30";
      r.body = json::serialize(json::object{{"agent", agent}});
      r.headers.set(http::field::authorization, "Bearer " + s.token());
      return mine.http.send(std::move(r)).has_value();
    });
    CHECK_FALSE(gone.get());  // timed out on the client's side, which closed the connection
    CHECK(liftoff::test::wait_until([&] { return s.server().parked_requests() == 0; }, 10));
  }
}

TEST_CASE("API server: expired leases go back to the queue, then fail with stage agent", "[server]") {
  liftoff::test::temp_dir dir;
  api_server_options o;
  o.lease_time = 150ms;
  o.sweep_interval = 30ms;
  o.max_attempts = 2;
  test_server s(dir, o);
  auto c = make_caller(s);
  c.make_queue("q");
  auto agent = c.make_agent({"q"});
  auto item = c.push("q", "flaky");
  auto run_id = std::string(item.at("run_id").as_string());

  // First lease expires; a parked lease is woken when the sweep requeues the item.
  CHECK(c.lease_name("q", agent) == "flaky");
  auto again = c.post("/queues/q/lease?wait=10", json::object{{"agent", agent}});
  REQUIRE(again.status == 200);
  CHECK(json::parse(again.body).at("attempts") == 2);
  // Second lease expires too: the limit is reached.
  REQUIRE(liftoff::test::wait_until([&] { return c.get_json("/runs/" + run_id).at("state") == "failed"; }, 10));
  auto run = c.get_json("/runs/" + run_id);
  CHECK(run.at("stage") == "agent");
  CHECK(c.lease_name("q", agent).empty());
  std::vector<std::string> states;
  for (auto const& h : run.at("history").as_array()) states.emplace_back(h.at("state").as_string());
  CHECK(states == std::vector<std::string>{"queued", "leased", "queued", "leased", "failed"});
}

TEST_CASE("API server: ack, heartbeat, report, stop and preemption", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");
  auto agent = c.make_agent({"q"});
  auto other = c.make_agent({"q"});
  auto item = c.push("q", "job", "high");
  auto id = std::to_string(item.at("id").as_int64());
  std::string run_id(item.at("run_id").as_string());

  CHECK(c.lease_name("q", agent) == "job");
  CHECK(c.post("/items/" + id + "/ack", json::object{{"agent", other}}).status == 403);
  auto acked = c.post_json("/items/" + id + "/ack", json::object{{"agent", agent}}, 200);
  CHECK(acked.at("state") == "acked");

  auto hb = c.post_json("/agents/" + std::to_string(agent) + "/heartbeat", json::object{}, 200);
  CHECK(hb.at("stop_runs").as_array().empty());
  CHECK(c.post_json("/runs/" + run_id + "/report", json::object{{"agent", agent}, {"state", "running"}}, 200).at("state") ==
        "running");
  auto wrong_state = c.post("/runs/" + run_id + "/report", json::object{{"agent", agent}, {"state", "runing"}});
  CHECK(wrong_state.status == 400);

  // A user asks to stop it: the agent learns on its heartbeat.
  CHECK(c.post_json("/runs/" + run_id + "/stop", json::object{}, 200).at("stop_requested") == true);
  hb = c.post_json("/agents/" + std::to_string(agent) + "/heartbeat", json::object{}, 200);
  REQUIRE(hb.at("stop_runs").as_array().size() == 1);
  CHECK(hb.at("stop_runs").at(0) == json::value(run_id));
  auto stopped = c.post_json("/runs/" + run_id + "/report",
                             json::object{{"agent", agent}, {"state", "stopped"}, {"message", "stopped by a user"}}, 200);
  CHECK(stopped.at("state") == "stopped");
  auto run = c.get_json("/runs/" + run_id);
  CHECK(run.at("spec").at("name") == "job");
  CHECK(c.get_json("/runs?queue=q&state=stopped").as_array().size() == 1);
  CHECK(c.get_json("/runs?active=true").as_array().empty());
  CHECK(c.get("/runs?state=nope").status == 400);

  // A preempted run goes back on its queue with the same run id, in its place in line.
  auto second = c.push("q", "spot", "critical");
  std::string second_id(second.at("run_id").as_string());
  CHECK(c.lease_name("q", agent) == "spot");
  auto pre = c.post_json("/runs/" + second_id + "/report", json::object{{"agent", agent}, {"state", "preempted"}}, 200);
  CHECK(pre.at("state") == "queued");
  std::string message(pre.at("history").as_array().back().at("message").as_string());
  CHECK(message.starts_with("preempted; back on queue"));
  auto queued = c.get_json("/queues/q/items?state=queued").as_array();
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].at("run_id") == json::value(second_id));
  CHECK(queued[0].at("priority") == "critical");

  // Agents: stop request and exit.
  auto a = std::to_string(agent);
  CHECK(c.post_json("/agents/" + a + "/stop", json::object{}, 200).at("stop_requested") == true);
  CHECK(c.post_json("/agents/" + a + "/heartbeat", json::object{}, 200).at("stop_agent") == true);
  CHECK(c.post_json("/agents/" + a + "/stopped", json::object{}, 200).at("state") == "stopped");
  CHECK(c.get_json("/agents").as_array().size() == 2);
  CHECK(c.get("/agents/999").status == 404);
  CHECK(c.get("/agents/abc").status == 400);
}

TEST_CASE("API server: artifacts are stored by digest and streamed back", "[server]") {
  liftoff::test::temp_dir dir;
  api_server_options o;
  o.max_artifact_size = 4 * 1024 * 1024;
  test_server s(dir, o);
  auto c = make_caller(s);

  std::string bytes;
  for (int i = 0; bytes.size() < 3 * 1024 * 1024; ++i) bytes += "line " + std::to_string(i) + "\n";
  auto hex = sha256_hex(bytes);

  CHECK(c.call(http::verb::head, "/artifacts/" + hex).status == 404);
  auto mismatch = c.call(http::verb::put, "/artifacts/" + std::string(64, 'b'), bytes);
  CHECK(mismatch.status == 400);
  CHECK(contains(error_message_of(mismatch), hex));
  CHECK(c.call(http::verb::head, "/artifacts/" + std::string(64, 'b')).status == 404);
  CHECK(c.call(http::verb::put, "/artifacts/" + hex, bytes, std::string("lft_nope")).status == 401);

  auto put = c.call(http::verb::put, "/artifacts/" + hex, bytes);
  REQUIRE(put.status == 201);
  CHECK(json::parse(put.body).at("digest") == json::value("sha256:" + hex));
  CHECK(json::parse(put.body).at("size").to_number<std::uint64_t>() == bytes.size());
  auto head = c.call(http::verb::head, "/artifacts/" + hex);
  CHECK(head.status == 200);
  auto got = c.get("/artifacts/" + hex);
  REQUIRE(got.status == 200);
  CHECK(got.body.size() == bytes.size());
  CHECK(got.body == bytes);
  // No temporary file is left behind.
  CHECK(std::filesystem::is_empty(dir.path() / "data" / "artifacts" / "tmp"));

  // Too large: 413, and the server keeps serving.
  std::string huge(5 * 1024 * 1024, 'x');
  auto too_big = c.call(http::verb::put, "/artifacts/" + sha256_hex(huge), huge);
  CHECK(too_big.status == 413);
  auto c2 = make_caller(s);
  CHECK(c2.get("/queues").status == 200);

  // A job or a push may name it now.
  c2.make_queue("q");
  auto item = c2.post_json("/queues/q/items",
                           json::object{{"spec", json::object{{"code", json::object{{"artifact", "sha256:" + hex}}}}}}, 201);
  CHECK(item.at("run_spec").at("code").at("artifact") == json::value("sha256:" + hex));
}

TEST_CASE("API server: run logs are appended by the holding agent and read by offset", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");
  auto agent = c.make_agent({"q"});
  auto other = c.make_agent({"q"});
  auto item = c.push("q", "logged");
  std::string run_id(item.at("run_id").as_string());
  REQUIRE(c.lease_name("q", agent) == "logged");

  auto empty = c.get("/runs/" + run_id + "/logs");
  CHECK(empty.status == 200);
  CHECK(empty.body.empty());
  CHECK(std::string(empty.headers["X-Liftoff-Next-Offset"]) == "0");
  CHECK(std::string(empty.headers["X-Liftoff-Run-State"]) == "leased");

  CHECK(c.post("/runs/" + run_id + "/logs", json::object{{"agent", other}, {"text", "intruder\n"}}).status == 403);
  CHECK(c.post("/runs/" + run_id + "/logs", json::object{{"agent", agent}, {"text", "hello\n"}}).status == 204);
  CHECK(c.post("/runs/" + run_id + "/logs", json::object{{"agent", agent}, {"text", "world\n"}}).status == 204);
  auto all = c.get("/runs/" + run_id + "/logs");
  CHECK(all.body == "hello\nworld\n");
  CHECK(std::string(all.headers["X-Liftoff-Next-Offset"]) == "12");
  auto tail = c.get("/runs/" + run_id + "/logs?offset=6");
  CHECK(tail.body == "world\n");
  CHECK(c.get("/runs/" + run_id + "/logs?offset=99").status == 400);
  CHECK(c.get("/runs/nope/logs").status == 404);

  // A follower waits for new text: an append wakes it.
  auto follower = std::async(std::launch::async, [&] {
    auto mine = make_caller(s);
    return mine.get("/runs/" + run_id + "/logs?offset=12&wait=20");
  });
  REQUIRE(liftoff::test::wait_until([&] { return s.server().parked_requests() == 1; }, 10));
  CHECK(c.post("/runs/" + run_id + "/logs", json::object{{"agent", agent}, {"text", "more\n"}}).status == 204);
  auto more = follower.get();
  CHECK(more.body == "more\n");
  CHECK(std::string(more.headers["X-Liftoff-Next-Offset"]) == "17");

  // The run ending wakes a follower too.
  auto ended = std::async(std::launch::async, [&] {
    auto mine = make_caller(s);
    return mine.get("/runs/" + run_id + "/logs?offset=17&wait=20");
  });
  REQUIRE(liftoff::test::wait_until([&] { return s.server().parked_requests() == 1; }, 10));
  c.post_json("/runs/" + run_id + "/report", json::object{{"agent", agent}, {"state", "finished"}, {"exit_code", 0}}, 200);
  auto last = ended.get();
  CHECK(last.body.empty());
  CHECK(std::string(last.headers["X-Liftoff-Run-State"]) == "finished");
}

TEST_CASE("API server: bad requests get 4xx and the server keeps serving", "[server]") {
  liftoff::test::temp_dir dir;
  api_server_options o;
  o.max_body_size = 64 * 1024;
  test_server s(dir, o);
  auto c = make_caller(s);

  auto malformed = c.call(http::verb::post, "/queues", "{\"name\": \"q\",\n \"resource\": }");
  CHECK(malformed.status == 400);
  CHECK(error_code_of(malformed) == "parse_error");
  CHECK(contains(error_message_of(malformed), "request body:2:"));

  std::string big = "{\"name\": \"" + std::string(100 * 1024, 'x') + "\"}";
  auto too_big = c.call(http::verb::post, "/queues", big);
  CHECK(too_big.status == 413);
  CHECK(error_code_of(too_big) == "body_too_large");

  auto c2 = make_caller(s);
  CHECK(c2.get("/queues").status == 200);
  CHECK(c2.get_json("/queues").as_array().empty());

  auto unknown = c2.get("/nothing/here");
  CHECK(unknown.status == 404);
  CHECK(error_code_of(unknown) == "not_found");
  auto outside = c2.call(http::verb::get, "/../metrics");
  CHECK(outside.status == 404);
  auto wrong_method = c2.call(http::verb::patch, "/queues");
  CHECK(wrong_method.status == 405);
  std::string allow(wrong_method.headers[http::field::allow]);
  CHECK(contains(allow, "GET"));
  CHECK(contains(allow, "POST"));
  CHECK(c2.call(http::verb::delete_, "/runs").status == 405);
  CHECK(c2.get("/queues").status == 200);
}

TEST_CASE("API server: stop answers parked long-polls and returns", "[server]") {
  liftoff::test::temp_dir dir;
  test_server s(dir);
  auto c = make_caller(s);
  c.make_queue("q");
  auto agent = c.make_agent({"q"});
  auto parked = std::async(std::launch::async, [&] {
    auto mine = make_caller(s);
    return mine.post("/queues/q/lease?wait=30", json::object{{"agent", agent}}).status;
  });
  REQUIRE(liftoff::test::wait_until([&] { return s.server().parked_requests() == 1; }, 10));
  s.stop();
  CHECK(parked.get() == 204);
}

TEST_CASE("API server: request helpers", "[server]") {
  using namespace liftoff::server::detail;
  CHECK(canonical_json(json::parse(R"({"b": 1, "a": {"d": [1, {"y": 2, "x": 1}], "c": null}})")) ==
        R"({"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1})");
  CHECK(json_digest(json::parse(R"({"a":1,"b":2})")) == json_digest(json::parse(R"({"b":2,"a":1})")));
  CHECK(json_digest(json::parse(R"({"a":1})")) != json_digest(json::parse(R"({"a":2})")));
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(is_sha256_hex(std::string(64, 'f')));
  CHECK_FALSE(is_sha256_hex(std::string(64, 'F')));
  CHECK_FALSE(is_sha256_hex(std::string(63, 'f')));

  auto listen = parse_listen_address("[::1]:0");
  REQUIRE(listen.has_value());
  CHECK(listen->address().is_v6());
  CHECK_FALSE(parse_listen_address("127.0.0.1").has_value());
  CHECK_FALSE(parse_listen_address("127.0.0.1:99999").has_value());
  CHECK_FALSE(parse_listen_address("example:80").has_value());
}
