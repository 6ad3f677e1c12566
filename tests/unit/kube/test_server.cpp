#include "support/kube_test_server.hpp"

#include "support/test_support.hpp"

#include <liftoff/net/client.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using liftoff::test::kube_test_server;
using liftoff::test::pod_step;
using liftoff::test::wait_until;
namespace http = boost::beast::http;
namespace json = boost::json;
namespace scripts = liftoff::test::scripts;

namespace {

#define KUBE_SERVER_OR_SKIP()                                      \
  if (!kube_test_server::available()) {                            \
    WARN("skipped: " << kube_test_server::why_not());              \
    return;                                                        \
  }

liftoff::net::client make_client(kube_test_server const& server, std::string const& token = "test-token",
                                 liftoff::net::client_options opts = {}) {
  opts.tls.ca_data = server.ca_pem();
  opts.max_attempts = 1;
  if (!token.empty()) opts.signer = liftoff::net::bearer_token_signer(token);
  return liftoff::net::client::create(server.url(), std::move(opts)).value();
}

liftoff::net::request make_request(http::verb method, std::string target, std::string body = {}) {
  liftoff::net::request req;
  req.method = method;
  req.target = std::move(target);
  req.body = std::move(body);
  req.check_status = false;
  if (!req.body.empty()) req.headers.set(http::field::content_type, "application/json");
  return req;
}

json::object body_of(liftoff::net::response const& r) {
  INFO(r.body);
  return json::parse(r.body).as_object();
}

std::string job_manifest(std::string const& name, std::string const& extra_container_field = {}) {
  return R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":")" + name +
         R"(","labels":{"liftoff.io/run-id":"r1"}},"spec":{"backoffLimit":0,"template":{"metadata":{"labels":{"app":"train"}},)"
         R"("spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox")" +
         extra_container_field + R"(}]}}}})";
}

constexpr char const* jobs = "/apis/batch/v1/namespaces/default/jobs";

std::string text(json::object const& o, std::initializer_list<std::string_view> path) {
  json::value const* v = nullptr;
  json::object const* at = &o;
  for (auto k : path) {
    if (!at) return {};
    v = at->if_contains(k);
    if (!v) return {};
    at = v->if_object();
  }
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool has_condition(json::object const& obj, std::string_view type) {
  auto const* status = obj.if_contains("status");
  auto const* conds = status && status->is_object() ? status->as_object().if_contains("conditions") : nullptr;
  if (!conds || !conds->is_array()) return false;
  return std::any_of(conds->as_array().begin(), conds->as_array().end(), [&](json::value const& c) {
    return c.as_object().at("type").as_string() == type && c.as_object().at("status").as_string() == "True";
  });
}

std::vector<std::string> pod_names(kube_test_server const& server) {
  std::vector<std::string> out;
  for (auto const& p : server.objects("pods", "default")) out.push_back(text(p, {"metadata", "name"}));
  return out;
}

std::string violations_text(kube_test_server const& server) {
  std::string out;
  for (auto const& v : server.violations()) out += v + "\n";
  return out;
}

}  // namespace

TEST_CASE("kube test server: a created Job gets a Pod that runs to completion", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto created = c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("train")));
  REQUIRE(created.status == 201);
  auto job = body_of(created);
  CHECK(text(job, {"metadata", "namespace"}) == "default");
  CHECK(!text(job, {"metadata", "uid"}).empty());
  CHECK(!text(job, {"metadata", "resourceVersion"}).empty());
  CHECK(!text(job, {"metadata", "creationTimestamp"}).empty());

  REQUIRE(wait_until([&] { return server.objects("pods", "default").size() == 1; }));
  auto pod = server.objects("pods", "default").front();
  auto name = text(pod, {"metadata", "name"});
  CHECK(name.size() == std::string("train-").size() + 5);
  CHECK(name.starts_with("train-"));
  CHECK(text(pod, {"metadata", "labels", "job-name"}) == "train");
  CHECK(text(pod, {"metadata", "labels", "batch.kubernetes.io/job-name"}) == "train");
  CHECK(text(pod, {"metadata", "labels", "controller-uid"}) == text(job, {"metadata", "uid"}));
  CHECK(text(pod, {"metadata", "labels", "app"}) == "train");
  auto const& owner = pod.at("metadata").at("ownerReferences").at(0).as_object();
  CHECK(owner.at("kind").as_string() == "Job");
  CHECK(owner.at("uid").as_string() == text(job, {"metadata", "uid"}));

  REQUIRE(wait_until([&] {
    auto j = server.find("jobs", "default", "train");
    return j && has_condition(*j, "Complete");
  }));
  auto done = *server.find("jobs", "default", "train");
  CHECK(done.at("status").at("succeeded").as_int64() == 1);
  CHECK_FALSE(done.at("status").as_object().contains("active"));
  CHECK(!text(done, {"status", "completionTime"}).empty());
  auto finished = *server.find("pods", "default", name);
  CHECK(text(finished, {"status", "phase"}) == "Succeeded");
  auto const& cs = finished.at("status").at("containerStatuses").at(0).as_object();
  CHECK(cs.at("name").as_string() == "main");
  CHECK(cs.at("state").at("terminated").at("exitCode").as_int64() == 0);
  CHECK(cs.at("state").at("terminated").at("reason").as_string() == "Completed");

  auto got = c.send_or_throw(make_request(http::verb::get, std::string(jobs) + "/train"));
  CHECK(got.status == 200);
  CHECK(has_condition(body_of(got), "Complete"));
  INFO(violations_text(server));
  CHECK(server.violations().empty());
}

TEST_CASE("kube test server: a failing Pod fails its Job after the backoff limit", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  server.set_script([](json::object const&) { return scripts::fail(3, {"boom"}); });
  auto c = make_client(server);
  auto manifest = job_manifest("retry");
  manifest.replace(manifest.find("\"backoffLimit\":0"), 16, "\"backoffLimit\":1");
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, manifest)).status == 201);
  REQUIRE(wait_until([&] {
    auto j = server.find("jobs", "default", "retry");
    return j && has_condition(*j, "Failed");
  }));
  auto job = *server.find("jobs", "default", "retry");
  CHECK(job.at("status").at("failed").as_int64() == 2);  // backoffLimit 1: two Pods
  CHECK(server.objects("pods", "default").size() == 2);
  auto const& conds = job.at("status").at("conditions").as_array();
  auto failed = std::find_if(conds.begin(), conds.end(), [](auto const& c) { return c.at("type") == "Failed"; });
  REQUIRE(failed != conds.end());
  CHECK(failed->at("reason").as_string() == "BackoffLimitExceeded");
  CHECK(server.violations().empty());
}

TEST_CASE("kube test server: an invalid object is refused with 422 and recorded", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto r = c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("bad", R"(,"imagePullPolcy":"Always")")));
  REQUIRE(r.status == 422);
  auto status = body_of(r);
  CHECK(status.at("kind").as_string() == "Status");
  CHECK(status.at("reason").as_string() == "Invalid");
  auto const& cause = status.at("details").at("causes").at(0).as_object();
  CHECK(cause.at("field").as_string() == "spec.template.spec.containers[0].imagePullPolcy");
  CHECK(cause.at("reason").as_string() == "FieldValueInvalid");
  REQUIRE(server.violations().size() == 1);
  CHECK_THAT(server.violations().front(), Catch::Contains("imagePullPolcy"));
  CHECK_FALSE(server.find("jobs", "default", "bad"));

  // The API server's own rules: a Job's Pods must not restart in place.
  auto always = job_manifest("always");
  always.replace(always.find("\"Never\""), 7, "\"Always\"");
  auto r2 = c.send_or_throw(make_request(http::verb::post, jobs, always));
  REQUIRE(r2.status == 422);
  CHECK(body_of(r2).at("details").at("causes").at(0).at("field").as_string() == "spec.template.spec.restartPolicy");
}

TEST_CASE("kube test server: unknown paths and query parameters are violations", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto r = c.send_or_throw(make_request(http::verb::get, std::string(jobs) + "?labelSelectr=a%3Db"));
  CHECK(r.status == 400);
  REQUIRE(server.violations().size() == 1);
  CHECK_THAT(server.violations().front(), Catch::Contains("labelSelectr"));

  auto missing = c.send_or_throw(make_request(http::verb::get, "/apis/batch/v1/namespaces/default/jobz"));
  CHECK(missing.status == 404);
  CHECK(server.violations().size() == 2);

  // Declared parameters are fine, and sinceTime on logs (which the document omits) too.
  auto ok = c.send_or_throw(make_request(http::verb::get, std::string(jobs) + "?labelSelector=a%3Db&limit=10"));
  CHECK(ok.status == 200);
  auto list = body_of(ok);
  CHECK(list.at("kind").as_string() == "JobList");
  CHECK(!text(list, {"metadata", "resourceVersion"}).empty());
  CHECK(server.violations().size() == 2);

  auto openapi = c.send_or_throw(make_request(http::verb::get, "/openapi/v2"));
  CHECK(openapi.status == 200);
  CHECK(json::parse(openapi.body).as_object().contains("definitions"));
  CHECK(server.violations().size() == 2);
}

TEST_CASE("kube test server: generateName, AlreadyExists, dry run and missing namespaces", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto manifest = job_manifest("x");
  manifest.replace(manifest.find("\"name\":\"x\""), 10, "\"generateName\":\"run-\"");
  auto r = c.send_or_throw(make_request(http::verb::post, jobs, manifest));
  REQUIRE(r.status == 201);
  auto name = text(body_of(r), {"metadata", "name"});
  CHECK(name.size() == 9);
  CHECK(name.starts_with("run-"));

  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("once"))).status == 201);
  auto again = c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("once")));
  CHECK(again.status == 409);
  CHECK(body_of(again).at("reason").as_string() == "AlreadyExists");

  auto dry = c.send_or_throw(make_request(http::verb::post, std::string(jobs) + "?dryRun=All", job_manifest("dry")));
  CHECK(dry.status == 201);
  CHECK_FALSE(server.find("jobs", "default", "dry"));

  auto nowhere = c.send_or_throw(make_request(http::verb::post, "/apis/batch/v1/namespaces/nowhere/jobs", job_manifest("j")));
  REQUIRE(nowhere.status == 404);
  auto status = body_of(nowhere);
  CHECK(status.at("message").as_string() == "namespaces \"nowhere\" not found");
  CHECK(status.at("details").at("kind").as_string() == "namespaces");

  server.add_namespace("nowhere");
  CHECK(c.send_or_throw(make_request(http::verb::post, "/apis/batch/v1/namespaces/nowhere/jobs", job_manifest("j"))).status == 201);
  CHECK(server.violations().empty());
}

TEST_CASE("kube test server: a watch from a list's resourceVersion sees the Job to completion", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto list = body_of(c.send_or_throw(make_request(http::verb::get, jobs)));
  auto rv = text(list, {"metadata", "resourceVersion"});
  REQUIRE(!rv.empty());

  auto watcher = make_client(server);
  auto stream = watcher.open_or_throw(make_request(
      http::verb::get, std::string(jobs) + "?watch=true&resourceVersion=" + rv + "&labelSelector=liftoff.io%2Frun-id%3Dr1"));
  REQUIRE(stream.status() == 200);
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("watched"))).status == 201);
  // Another Job, which the selector leaves out.
  auto other = job_manifest("other");
  other.replace(other.find("\"r1\""), 4, "\"r2\"");
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, other)).status == 201);

  std::vector<std::string> types;
  for (;;) {
    auto line = stream.read_line_or_throw();
    REQUIRE(line);
    auto event = json::parse(*line).as_object();
    auto const& obj = event.at("object").as_object();
    CHECK(text(obj, {"metadata", "name"}) == "watched");
    types.push_back(std::string(event.at("type").as_string()));
    if (has_condition(obj, "Complete")) break;
  }
  REQUIRE(types.size() >= 3);
  CHECK(types.front() == "ADDED");
  CHECK(std::all_of(types.begin() + 1, types.end(), [](auto const& t) { return t == "MODIFIED"; }));
}

TEST_CASE("kube test server: watches without a resourceVersion, with bookmarks and a timeout", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  server.set_script([](json::object const&) { return scripts::run_forever(); });
  auto c = make_client(server);
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("present"))).status == 201);
  auto stream = c.open_or_throw(
      make_request(http::verb::get, std::string(jobs) + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=1"));
  auto first = json::parse(*stream.read_line_or_throw()).as_object();
  CHECK(first.at("type").as_string() == "ADDED");
  CHECK(text(first.at("object").as_object(), {"metadata", "name"}) == "present");
  bool bookmark = false;
  while (auto line = stream.read_line_or_throw())
    if (json::parse(*line).at("type").as_string() == "BOOKMARK") bookmark = true;
  CHECK(bookmark);  // and the stream ended at its timeout
}

TEST_CASE("kube test server: a compacted resourceVersion gets a 410 Expired event", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto rv = text(body_of(c.send_or_throw(make_request(http::verb::get, jobs))), {"metadata", "resourceVersion"});
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("a"))).status == 201);
  server.compact();
  auto stream = c.open_or_throw(make_request(http::verb::get, std::string(jobs) + "?watch=true&resourceVersion=" + rv));
  auto line = stream.read_line_or_throw();
  REQUIRE(line);
  auto event = json::parse(*line).as_object();
  CHECK(event.at("type").as_string() == "ERROR");
  CHECK(event.at("object").at("code").as_int64() == 410);
  CHECK(event.at("object").at("reason").as_string() == "Expired");
  CHECK_THAT(std::string(event.at("object").at("message").as_string()), Catch::StartsWith("too old resource version: " + rv));
  CHECK(stream.read_line_or_throw() == std::nullopt);
}

TEST_CASE("kube test server: logs follow the container to its end", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  server.set_script([](json::object const&) {
    auto s = scripts::succeed({"one", "two", "three"});
    pod_step hold;
    hold.what = pod_step::action::hold;
    hold.delay = 200ms;
    s.insert(s.begin() + 3, hold);  // after the first line
    return s;
  });
  auto c = make_client(server);
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("logs"))).status == 201);
  REQUIRE(wait_until([&] { return !server.objects("pods", "default").empty(); }));
  auto pod = pod_names(server).front();
  auto log_path = "/api/v1/namespaces/default/pods/" + pod + "/log";

  // Before the container starts: the API server's 400.
  auto early = c.send_or_throw(make_request(http::verb::get, log_path));
  if (early.status == 400) CHECK_THAT(early.body, Catch::Contains("waiting to start") || Catch::Contains("host assigned"));

  REQUIRE(wait_until([&] {
    auto p = server.find("pods", "default", pod);
    return p && text(*p, {"status", "phase"}) == "Running";
  }));
  auto stream = c.open_or_throw(make_request(http::verb::get, log_path + "?follow=true&container=main"));
  REQUIRE(stream.status() == 200);
  std::vector<std::string> lines;
  while (auto line = stream.read_line_or_throw()) lines.push_back(*line);
  CHECK(lines == std::vector<std::string>{"one", "two", "three"});
  auto p = server.find("pods", "default", pod);
  CHECK(text(*p, {"status", "phase"}) == "Succeeded");

  auto stamped = c.send_or_throw(make_request(http::verb::get, log_path + "?timestamps=true&sinceTime=2000-01-01T00:00:00Z"));
  REQUIRE(stamped.status == 200);
  auto first_line = stamped.body.substr(0, stamped.body.find('\n'));
  CHECK_THAT(first_line, Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one)"));
  CHECK_THAT(stamped.body, Catch::EndsWith("Z three\n"));
  CHECK(server.violations().empty());
}

TEST_CASE("kube test server: a waiting container's log is a 400 like the API server's", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  server.set_script([](json::object const&) { return scripts::image_pull_backoff("nope:1"); });
  auto c = make_client(server);
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("pull"))).status == 201);
  REQUIRE(wait_until([&] {
    auto pods = server.objects("pods", "default");
    return !pods.empty() && pods.front().at("status").as_object().contains("containerStatuses") &&
           text(pods.front().at("status").at("containerStatuses").at(0).as_object(), {"state", "waiting", "reason"}) ==
               "ImagePullBackOff";
  }));
  auto pod = pod_names(server).front();
  auto r = c.send_or_throw(make_request(http::verb::get, "/api/v1/namespaces/default/pods/" + pod + "/log"));
  CHECK(r.status == 400);
  CHECK(body_of(r).at("message").as_string() ==
        "container \"main\" in pod \"" + pod + "\" is waiting to start: trying and failing to pull image");
}

TEST_CASE("kube test server: DELETE removes the Job and, unless orphaned, its Pods", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  server.set_script([](json::object const&) { return scripts::run_forever({"working"}); });
  auto c = make_client(server);
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("gone"))).status == 201);
  REQUIRE(wait_until([&] { return !server.objects("pods", "default").empty(); }));
  auto pod = pod_names(server).front();
  auto stream = c.open_or_throw(make_request(http::verb::get, "/api/v1/namespaces/default/pods?watch=true&resourceVersion=" +
                                                                  text(*server.find("pods", "default", pod), {"metadata", "resourceVersion"})));

  auto r = c.send_or_throw(make_request(http::verb::delete_, std::string(jobs) + "/gone?propagationPolicy=Background"));
  CHECK(r.status == 200);
  CHECK_FALSE(server.find("jobs", "default", "gone"));
  CHECK(server.objects("pods", "default").empty());
  bool deleted = false;
  while (!deleted) {
    auto line = stream.read_line_or_throw();
    REQUIRE(line);
    deleted = json::parse(*line).at("type").as_string() == "DELETED";
  }
  stream.close();
  CHECK(c.send_or_throw(make_request(http::verb::get, std::string(jobs) + "/gone")).status == 404);

  // batch/v1 Jobs orphan their Pods by default, with the API server's warning.
  REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("kept"))).status == 201);
  REQUIRE(wait_until([&] { return !server.objects("pods", "default").empty(); }));
  auto orphaned = c.send_or_throw(make_request(http::verb::delete_, std::string(jobs) + "/kept"));
  CHECK(orphaned.status == 200);
  CHECK_THAT(std::string(orphaned.headers[http::field::warning]), Catch::Contains("child pods are preserved"));
  CHECK_FALSE(server.find("jobs", "default", "kept"));
  CHECK(server.objects("pods", "default").size() == 1);
  CHECK(server.violations().empty());
}

TEST_CASE("kube test server: credentials are required and checked", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server::options o;
  o.tokens.emplace_back("bob-token", "bob");
  o.forbidden_users = {"bob"};
  kube_test_server server(o);

  auto anonymous = make_client(server, "");
  auto r = anonymous.send_or_throw(make_request(http::verb::get, jobs));
  CHECK(r.status == 401);
  CHECK(body_of(r).at("reason").as_string() == "Unauthorized");
  auto wrong = make_client(server, "not-a-token");
  CHECK(wrong.send_or_throw(make_request(http::verb::get, jobs)).status == 401);

  auto bob = make_client(server, "bob-token");
  auto denied = bob.send_or_throw(make_request(http::verb::post, jobs, job_manifest("j")));
  REQUIRE(denied.status == 403);
  CHECK(body_of(denied).at("message").as_string() ==
        "jobs.batch is forbidden: User \"bob\" cannot create resource \"jobs\" in API group \"batch\" in the namespace "
        "\"default\"");

  auto alice = make_client(server);
  CHECK(alice.send_or_throw(make_request(http::verb::get, jobs)).status == 200);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].identity.empty());
  CHECK(reqs[2].identity == "token:bob");
  CHECK(reqs[3].identity == "token:alice");
  CHECK(reqs[3].path == jobs);
}

TEST_CASE("kube test server: a client certificate from the configured CA is a user", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  liftoff::test::test_ca users("users CA");
  kube_test_server::options o;
  o.client_ca_pem = users.cert_pem();
  kube_test_server server(o);
  auto carol = users.issue_client("carol");
  liftoff::net::client_options opts;
  opts.tls.client_cert_data = carol.cert;
  opts.tls.client_key_data = carol.key;
  auto c = make_client(server, "", opts);
  CHECK(c.send_or_throw(make_request(http::verb::get, jobs)).status == 200);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests().front().identity == "cert:carol");
}

TEST_CASE("kube test server: drop_streams ends open watches", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  auto c = make_client(server);
  auto stream = c.open_or_throw(make_request(http::verb::get, std::string(jobs) + "?watch=true"));
  REQUIRE(stream.status() == 200);
  server.drop_streams();
  auto line = stream.read_line();
  // A dropped connection: an error, or (if the close raced the read) the end.
  CHECK((!line || !*line));
}

TEST_CASE("kube test server: write_kubeconfig describes the server", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  kube_test_server server;
  liftoff::test::temp_dir dir;
  server.write_kubeconfig(dir / "config");
  auto config = YAML::LoadFile((dir / "config").string());
  CHECK(config["current-context"].as<std::string>() == "test");
  CHECK(config["clusters"][0]["cluster"]["server"].as<std::string>() == server.url());
  CHECK(!config["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>().empty());
  CHECK(config["users"][0]["name"].as<std::string>() == "alice");
  CHECK(config["users"][0]["user"]["token"].as<std::string>() == "test-token");

  server.write_kubeconfig(dir / "exec", "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: get-token\n");
  auto exec = YAML::LoadFile((dir / "exec").string());
  CHECK(exec["users"][0]["user"]["exec"]["command"].as<std::string>() == "get-token");
  CHECK_FALSE(exec["users"][0]["user"]["token"]);
}

TEST_CASE("kube test server: every common script leaves valid objects", "[kube-server]") {
  KUBE_SERVER_OR_SKIP();
  struct expectation {
    liftoff::test::pod_script script;
    std::string phase;     // the Pod's last phase
    std::string job_done;  // the Job's final condition, or "" when it stays active
  };
  std::vector<expectation> cases = {
      {scripts::oom_killed(), "Failed", "Failed"},
      {scripts::evicted(), "Failed", "Failed"},
      {scripts::unschedulable_then_run("0/1 nodes are available: 1 Insufficient nvidia.com/gpu."), "Succeeded", "Complete"},
      {scripts::image_pull_backoff("nope:1"), "Pending", ""},
  };
  for (auto const& e : cases) {
    kube_test_server server;
    server.set_script([&](json::object const&) { return e.script; });
    auto c = make_client(server);
    REQUIRE(c.send_or_throw(make_request(http::verb::post, jobs, job_manifest("s"))).status == 201);
    INFO("expecting phase " << e.phase);
    if (e.job_done.empty()) {
      REQUIRE(wait_until([&] {
        auto pods = server.objects("pods", "default");
        return !pods.empty() && pods.front().at("status").as_object().contains("containerStatuses") &&
               text(pods.front().at("status").at("containerStatuses").at(0).as_object(), {"state", "waiting", "reason"}) ==
                   "ImagePullBackOff";
      }));
    } else {
      REQUIRE(wait_until([&] {
        auto j = server.find("jobs", "default", "s");
        return j && has_condition(*j, e.job_done);
      }));
    }
    CHECK(text(server.objects("pods", "default").front(), {"status", "phase"}) == e.phase);
    INFO(violations_text(server));
    CHECK(server.violations().empty());
  }
}
