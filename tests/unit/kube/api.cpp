#include <liftoff/kube/api.hpp>

#include "support/net_test_certs.hpp"
#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using liftoff::error;
using liftoff::kube::api;
using liftoff::kube::connection_config;
using liftoff::kube::list_options;
using liftoff::test::net_exchange;
using liftoff::test::net_server_request;
using liftoff::test::net_test_server;
namespace kinds = liftoff::kube::kinds;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

liftoff::test::test_ca const& ca() {
  static liftoff::test::test_ca instance;
  return instance;
}

liftoff::test::pem_pair const& server_cert() {
  static auto const cert = ca().issue_server({"localhost"}, {"127.0.0.1"});
  return cert;
}

std::string const secret_token = "sekret-token-0123456789";

connection_config config_for(net_test_server const& server) {
  connection_config c;
  c.server = server.url();
  c.context = "dev";
  c.cluster_name = "local";
  c.user_name = "alice";
  c.origin = "/home/u/.kube/config";
  c.tls.ca_data = ca().cert_pem();
  c.token = secret_token;
  return c;
}

liftoff::net::client_options quick() {
  liftoff::net::client_options o;
  o.backoff_base = 5ms;
  o.max_attempts = 1;
  return o;
}

/// Records the requests a handler saw.
struct recorder {
  std::mutex m;
  std::vector<net_server_request> seen;
  void add(net_server_request const& r) {
    std::lock_guard lock(m);
    seen.push_back(r);
  }
  net_server_request at(std::size_t i) {
    std::lock_guard lock(m);
    return seen.at(i);
  }
  std::size_t size() {
    std::lock_guard lock(m);
    return seen.size();
  }
};

std::string status_body(int code, std::string const& reason, std::string const& message,
                        boost::json::object details = {}) {
  boost::json::object o{{"kind", "Status"},     {"apiVersion", "v1"}, {"metadata", boost::json::object{}},
                        {"status", "Failure"}, {"message", message}, {"reason", reason},
                        {"code", code}};
  if (!details.empty()) o["details"] = std::move(details);
  return boost::json::serialize(o);
}

net_test_server::tls_config server_tls(bool require_client_cert = false) {
  return {server_cert().cert, server_cert().key, require_client_cert ? ca().cert_pem() : std::string()};
}

}  // namespace

TEST_CASE("resource kinds build the API paths", "[kube-api]") {
  CHECK(kinds::job().collection_path("ns1") == "/apis/batch/v1/namespaces/ns1/jobs");
  CHECK(kinds::job().object_path("ns1", "train-1") == "/apis/batch/v1/namespaces/ns1/jobs/train-1");
  CHECK(kinds::job().collection_path("") == "/apis/batch/v1/jobs");
  CHECK(kinds::pod().collection_path("ns1") == "/api/v1/namespaces/ns1/pods");
  CHECK(kinds::secret().object_path("a", "b") == "/api/v1/namespaces/a/secrets/b");
  CHECK(kinds::job().qualified() == "jobs.batch");
  CHECK(kinds::pod().qualified() == "pods");

  auto job = liftoff::kube::kind_of("batch/v1", "Job");
  CHECK(job.plural == "jobs");
  auto crd = liftoff::kube::kind_of("kubeflow.org/v1", "PyTorchJob");
  CHECK(crd.plural == "pytorchjobs");
  CHECK(crd.namespaced);
  CHECK(crd.collection_path("ml") == "/apis/kubeflow.org/v1/namespaces/ml/pytorchjobs");
  CHECK(crd.qualified() == "pytorchjobs.kubeflow.org");
  CHECK(liftoff::kube::kind_of("networking.k8s.io/v1", "NetworkPolicy").plural == "networkpolicies");
  CHECK(liftoff::kube::kind_of("networking.k8s.io/v1", "Ingress").plural == "ingresses");
  CHECK(liftoff::kube::kind_of("x.io/v1", "Thing", "thingies").plural == "thingies");
  auto ns = liftoff::kube::kind_of("v1", "Namespace");
  CHECK_FALSE(ns.namespaced);
  CHECK(ns.object_path("ignored", "team-a") == "/api/v1/namespaces/team-a");
}

TEST_CASE("create, get, list and remove send the right requests with the bearer token", "[kube-api]") {
  recorder rec;
  auto server = net_test_server::tls(
      [&](net_exchange& ex) {
        rec.add(ex.request());
        auto const& r = ex.request();
        if (r.method == "POST") ex.respond(201, r.body, {{"Content-Type", "application/json"}});
        else if (r.method == "DELETE") ex.respond(200, status_body(200, "", ""), {{"Content-Type", "application/json"}});
        else if (contains(r.target, "/jobs/"))
          ex.respond(200, R"({"kind":"Job","metadata":{"name":"train-1"}})", {{"Content-Type", "application/json"}});
        else
          ex.respond(200, R"({"kind":"JobList","metadata":{"resourceVersion":"42"},"items":[]})",
                     {{"Content-Type", "application/json"}});
      },
      server_tls());
  api k(config_for(*server), quick());
  CHECK(k.config().user_name == "alice");

  boost::json::object job{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", "train-1"}}}};
  auto created = k.create(kinds::job(), "ns1", job);
  REQUIRE(created.has_value());
  CHECK(*created == job);
  auto dry = k.create(kinds::job(), "ns1", job, true);
  REQUIRE(dry.has_value());
  auto got = k.get(kinds::job(), "ns1", "train-1");
  REQUIRE(got.has_value());
  CHECK(got->at("metadata").at("name") == "train-1");
  list_options lo;
  lo.label_selector = "liftoff.io/run-id=abc";
  auto listed = k.list(kinds::job(), "ns1", lo);
  REQUIRE(listed.has_value());
  CHECK(listed->at("metadata").at("resourceVersion") == "42");
  REQUIRE(k.remove(kinds::job(), "ns1", "train-1").has_value());

  REQUIRE(rec.size() == 5);
  for (std::size_t i = 0; i < rec.size(); ++i) {
    CHECK(rec.at(i).header("Authorization") == "Bearer " + secret_token);
    CHECK(rec.at(i).header("Accept") == "application/json");
  }
  auto post = rec.at(0);
  CHECK(post.method == "POST");
  CHECK(post.target == "/apis/batch/v1/namespaces/ns1/jobs?fieldValidation=Strict");
  CHECK(post.header("Content-Type") == "application/json");
  CHECK(boost::json::parse(post.body) == job);
  CHECK(rec.at(1).target == "/apis/batch/v1/namespaces/ns1/jobs?fieldValidation=Strict&dryRun=All");
  CHECK(rec.at(2).method == "GET");
  CHECK(rec.at(2).target == "/apis/batch/v1/namespaces/ns1/jobs/train-1");
  CHECK(rec.at(3).target == "/apis/batch/v1/namespaces/ns1/jobs?labelSelector=liftoff.io%2Frun-id%3Dabc");
  auto del = rec.at(4);
  CHECK(del.method == "DELETE");
  CHECK(del.target == "/apis/batch/v1/namespaces/ns1/jobs/train-1");
  CHECK(boost::json::parse(del.body) ==
        boost::json::parse(R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"})"));
  // The calls of one thread reuse one pooled connection.
  CHECK(server->connections() == 1);
}

TEST_CASE("a client certificate is presented when configured", "[kube-api]") {
  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        boost::json::object o{{"subject", ex.request().client_cert_subject},
                              {"authorization", ex.request().header("Authorization")}};
        ex.respond(200, boost::json::serialize(o), {{"Content-Type", "application/json"}});
      },
      server_tls(true));
  auto client = ca().issue_client("alice");
  auto c = config_for(*server);
  c.token.clear();
  c.tls.client_cert_data = client.cert;
  c.tls.client_key_data = client.key;
  api k(c, quick());
  auto got = k.get(kinds::pod(), "ns1", "p");
  REQUIRE(got.has_value());
  CHECK(contains(std::string(got->at("subject").as_string()), "CN=alice"));
  CHECK(got->at("authorization") == "");

  // Without one the server refuses the handshake.
  auto bare = config_for(*server);
  auto refused = api(bare, quick()).get(kinds::pod(), "ns1", "p");
  REQUIRE_FALSE(refused.has_value());
  CHECK_FALSE(contains(refused.error().message, secret_token));
}

TEST_CASE("an untrusted server certificate fails with a clear message", "[kube-api]") {
  auto self_signed = liftoff::test::make_self_signed_server_cert({"localhost"}, {"127.0.0.1"});
  auto server = net_test_server::tls([](net_exchange& ex) { ex.respond(200, "{}"); },
                                     {self_signed.cert, self_signed.key, {}});
  api k(config_for(*server), quick());
  auto got = k.get(kinds::job(), "ns1", "x");
  REQUIRE_FALSE(got.has_value());
  CHECK(contains(got.error().message, "GET " + server->url() + "/apis/batch/v1/namespaces/ns1/jobs/x"));
  CHECK(contains(got.error().message, "TLS certificate verification failed"));
  CHECK_FALSE(contains(got.error().message, secret_token));
  CHECK(server->requests() == 0);
}

TEST_CASE("401 is error::unauthorized naming the identity, never the token", "[kube-api]") {
  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        ex.respond(401, status_body(401, "Unauthorized", "Unauthorized"), {{"Content-Type", "application/json"}});
      },
      server_tls());
  api k(config_for(*server), quick());
  auto got = k.get(kinds::job(), "ns1", "x");
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == error::unauthorized);
  CHECK(got.error().message == "the cluster at " + server->url() +
                                   " refused the credentials of user `alice` of context `dev` "
                                   "(/home/u/.kube/config): Unauthorized");
  // A static token is not retried.
  CHECK(server->requests() == 1);
}

TEST_CASE("401 with an exec plugin runs it again and retries once", "[kube-api]") {
  liftoff::test::temp_dir dir("liftoff-kube-api-exec");
  liftoff::test::write_file(dir / "plugin.sh", R"(#!/bin/sh
echo run >> ")" + (dir / "runs").string() + R"("
n=$(wc -l < ")" + (dir / "runs").string() + R"(" | tr -d ' ')
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token-'$n'"}}'
)");
  ::chmod((dir / "plugin.sh").c_str(), 0755);

  std::atomic<int> accept_from{2};  // the server accepts exec-token-N for N >= this
  recorder rec;
  auto server = net_test_server::tls(
      [&](net_exchange& ex) {
        rec.add(ex.request());
        auto auth = ex.request().header("Authorization");
        int n = auth.starts_with("Bearer exec-token-") ? std::stoi(auth.substr(18)) : 0;
        if (n >= accept_from) ex.respond(200, R"({"kind":"Pod"})", {{"Content-Type", "application/json"}});
        else ex.respond(401, status_body(401, "Unauthorized", "Unauthorized"), {{"Content-Type", "application/json"}});
      },
      server_tls());
  auto c = config_for(*server);
  c.token.clear();
  liftoff::kube::exec_plugin p;
  p.api_version = "client.authentication.k8s.io/v1";
  p.command = (dir / "plugin.sh").string();
  c.exec = p;
  api k(c, quick());

  auto got = k.get(kinds::pod(), "ns1", "p");
  REQUIRE(got.has_value());
  CHECK(k.creds().exec_runs() == 2);
  REQUIRE(rec.size() == 2);
  CHECK(rec.at(0).header("Authorization") == "Bearer exec-token-1");
  CHECK(rec.at(1).header("Authorization") == "Bearer exec-token-2");

  // The fresh token is cached.
  REQUIRE(k.get(kinds::pod(), "ns1", "p").has_value());
  CHECK(k.creds().exec_runs() == 2);

  // A token refused twice gives the error after exactly one retry.
  accept_from = 100;
  auto refused = k.get(kinds::pod(), "ns1", "p");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == error::unauthorized);
  CHECK(contains(refused.error().message, "user `alice` of context `dev`"));
  CHECK_FALSE(contains(refused.error().message, "exec-token"));
  CHECK(rec.size() == 5);
  CHECK(k.creds().exec_runs() == 3);
}

TEST_CASE("a client certificate from an exec plugin is presented", "[kube-api]") {
  liftoff::test::temp_dir dir("liftoff-kube-api-exec");
  auto client = ca().issue_client("exec-user");
  boost::json::object cred{{"apiVersion", "client.authentication.k8s.io/v1beta1"},
                           {"kind", "ExecCredential"},
                           {"status", {{"clientCertificateData", client.cert}, {"clientKeyData", client.key}}}};
  liftoff::test::write_file(dir / "cred.json", boost::json::serialize(cred));
  liftoff::test::write_file(dir / "plugin.sh", "#!/bin/sh\ncat \"$CRED\"\n");
  ::chmod((dir / "plugin.sh").c_str(), 0755);

  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        boost::json::object o{{"subject", ex.request().client_cert_subject},
                              {"authorization", ex.request().header("Authorization")}};
        ex.respond(200, boost::json::serialize(o), {{"Content-Type", "application/json"}});
      },
      server_tls(true));
  auto c = config_for(*server);
  c.token.clear();
  liftoff::kube::exec_plugin p;
  p.api_version = "client.authentication.k8s.io/v1beta1";
  p.command = (dir / "plugin.sh").string();
  p.env = {{"CRED", (dir / "cred.json").string()}};
  c.exec = p;
  api k(c, quick());
  auto tls = k.creds().tls();
  REQUIRE(tls.has_value());
  CHECK(tls->client_cert_data == client.cert);
  CHECK(k.creds().token().value().empty());

  auto got = k.get(kinds::pod(), "ns1", "p");
  REQUIRE(got.has_value());
  CHECK(contains(std::string(got->at("subject").as_string()), "CN=exec-user"));
  CHECK(got->at("authorization").as_string().empty());
  CHECK(k.creds().exec_runs() == 1);
}

TEST_CASE("error statuses map to liftoff errors with the Status message", "[kube-api]") {
  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        auto const& t = ex.request().target;
        net_test_server* unused = nullptr;
        (void)unused;
        std::vector<std::pair<std::string, std::string>> json{{"Content-Type", "application/json"}};
        if (contains(t, "/forbidden/"))
          ex.respond(403,
                     status_body(403, "Forbidden",
                                 "jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API "
                                 "group \"batch\" in the namespace \"forbidden\""),
                     json);
        else if (contains(t, "/namespaces/nope/"))
          ex.respond(404, status_body(404, "NotFound", "namespaces \"nope\" not found",
                                      {{"name", "nope"}, {"kind", "namespaces"}}),
                     json);
        else if (contains(t, "/jobs/missing"))
          ex.respond(404, status_body(404, "NotFound", "jobs.batch \"missing\" not found",
                                      {{"name", "missing"}, {"group", "batch"}, {"kind", "jobs"}}),
                     json);
        else if (contains(t, "/namespaces/taken/"))
          ex.respond(409, status_body(409, "AlreadyExists", "jobs.batch \"train-1\" already exists"), json);
        else if (contains(t, "/namespaces/invalid/"))
          ex.respond(422,
                     status_body(422, "Invalid", "Job.batch \"train-1\" is invalid",
                                 {{"name", "train-1"},
                                  {"kind", "Job"},
                                  {"causes", boost::json::array{{{"reason", "FieldValueRequired"},
                                                                 {"message", "Required value"},
                                                                 {"field", "spec.template.spec.containers"}},
                                                                {{"reason", "FieldValueNotSupported"},
                                                                 {"message", "Unsupported value: \"Always\""},
                                                                 {"field", "spec.template.spec.restartPolicy"}}}}}),
                     json);
        else
          ex.respond(500, "internal trouble");
      },
      server_tls());
  api k(config_for(*server), quick());
  boost::json::object job{{"kind", "Job"}};

  auto forbidden = k.create(kinds::job(), "forbidden", job);
  REQUIRE_FALSE(forbidden.has_value());
  CHECK(forbidden.error().code == error::forbidden);
  CHECK(forbidden.error().message ==
        "user `alice` of context `dev` (/home/u/.kube/config) is not allowed: jobs.batch is forbidden: User \"alice\" "
        "cannot create resource \"jobs\" in API group \"batch\" in the namespace \"forbidden\"");

  auto no_ns = k.create(kinds::job(), "nope", job);
  REQUIRE_FALSE(no_ns.has_value());
  CHECK(no_ns.error().code == error::not_found);
  CHECK(no_ns.error().message == "namespace `nope` does not exist in context `dev`");

  auto missing = k.get(kinds::job(), "ns1", "missing");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == error::not_found);
  CHECK(missing.error().message ==
        "GET " + server->url() + "/apis/batch/v1/namespaces/ns1/jobs/missing: jobs.batch \"missing\" not found");
  auto gone = k.remove(kinds::job(), "ns1", "missing");
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == error::not_found);

  auto taken = k.create(kinds::job(), "taken", job);
  REQUIRE_FALSE(taken.has_value());
  CHECK(taken.error().code == error::already_exists);
  CHECK(contains(taken.error().message, "jobs.batch \"train-1\" already exists"));

  auto invalid = k.create(kinds::job(), "invalid", job);
  REQUIRE_FALSE(invalid.has_value());
  CHECK(invalid.error().code == error::invalid_spec);
  CHECK(contains(invalid.error().message, "Job.batch \"train-1\" is invalid"));
  CHECK(contains(invalid.error().message, "`spec.template.spec.containers`: Required value"));
  CHECK(contains(invalid.error().message, "`spec.template.spec.restartPolicy`: Unsupported value: \"Always\""));

  auto other = k.get(kinds::job(), "ns1", "boom");
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code == error::http_status);
  CHECK(contains(other.error().message, "500 Internal Server Error: internal trouble"));

  // send() without check_status returns the response as it is.
  liftoff::net::request raw;
  raw.target = "/apis/batch/v1/namespaces/ns1/jobs/boom";
  raw.check_status = false;
  auto r = k.send(raw);
  REQUIRE(r.has_value());
  CHECK(r->status == 500);
}

TEST_CASE("error_for maps a 409 conflict and a 404 in-cluster namespace", "[kube-api]") {
  connection_config c;
  c.server = "https://10.96.0.1:443";
  c.user_name = "serviceaccount";
  c.origin = "in-cluster service account";
  api k(c);
  liftoff::net::response r;
  r.status = 409;
  r.reason = "Conflict";
  r.summary = "PUT https://10.96.0.1:443/x";
  r.body = status_body(409, "Conflict", "the object has been modified");
  auto d = k.error_for(r);
  CHECK(d.code == error::conflict);
  CHECK(d.message == "PUT https://10.96.0.1:443/x: the object has been modified");

  r.status = 404;
  r.body = status_body(404, "NotFound", "namespaces \"x\" not found", {{"name", "x"}, {"kind", "namespaces"}});
  CHECK(k.error_for(r).message == "namespace `x` does not exist in the cluster at https://10.96.0.1:443");

  r.status = 403;
  r.body = "not json";
  auto f = k.error_for(r);
  CHECK(f.code == error::forbidden);
  CHECK(f.message == "user `serviceaccount` (in-cluster service account) is not allowed: not json");
}

TEST_CASE("a watch reads events as they come, then an ERROR 410 event, then the end", "[kube-api]") {
  std::mutex m;
  std::condition_variable cv;
  bool client_read_first = false;
  recorder rec;
  auto server = net_test_server::tls(
      [&](net_exchange& ex) {
        rec.add(ex.request());
        ex.begin_chunked(200, {{"Content-Type", "application/json"}});
        ex.send_chunk(R"({"type":"ADDED","object":{"kind":"Job","metadata":{"name":"a","resourceVersion":"6"}}})"
                      "\n");
        {
          std::unique_lock lock(m);
          cv.wait_for(lock, 5s, [&] { return client_read_first; });
        }
        ex.send_chunk(R"({"type":"MODIFIED","object":{"kind":"Job","metadata":{"name":"a","resourceVersion":"7"}}})"
                      "\n\n");
        ex.send_chunk(R"({"type":"BOOKMARK","object":{"kind":"Job","metadata":{"resourceVersion":"8"}}})"
                      "\n");
        ex.send_chunk(R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
                      R"j("message":"too old resource version: 5 (8)","reason":"Expired","code":410}})j"
                      "\n");
        ex.end_chunked();
      },
      server_tls());
  api k(config_for(*server), quick());
  list_options o;
  o.label_selector = "liftoff.io/run-id=r 1";
  o.resource_version = "5";
  o.timeout_seconds = 30;
  auto w = k.watch(kinds::job(), "ns1", o);
  REQUIRE(w.has_value());

  auto first = w->next();
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  CHECK((*first)->type == "ADDED");
  CHECK((*first)->object.at("metadata").at("resourceVersion") == "6");
  {
    std::lock_guard lock(m);
    client_read_first = true;
  }
  cv.notify_all();

  std::vector<std::string> types;
  boost::json::object error_object;
  for (;;) {
    auto e = w->next();
    REQUIRE(e.has_value());
    if (!*e) break;
    types.push_back((*e)->type);
    if ((*e)->type == "ERROR") error_object = (*e)->object;
  }
  CHECK(types == std::vector<std::string>{"MODIFIED", "BOOKMARK", "ERROR"});
  CHECK(error_object.at("code") == 410);
  CHECK(error_object.at("reason") == "Expired");
  // After the end, next() keeps saying so.
  auto after = w->next();
  REQUIRE(after.has_value());
  CHECK_FALSE(after->has_value());

  REQUIRE(rec.size() == 1);
  CHECK(rec.at(0).target ==
        "/apis/batch/v1/namespaces/ns1/jobs?watch=true&allowWatchBookmarks=true&labelSelector=liftoff.io%2Frun-id%3Dr%"
        "201&resourceVersion=5&timeoutSeconds=30");
  CHECK(rec.at(0).header("Authorization") == "Bearer " + secret_token);
  CHECK(rec.at(0).header("Accept") == "application/json");
}

TEST_CASE("a malformed watch line is a protocol error; an error status is mapped; close() ends the watch",
          "[kube-api]") {
  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        if (contains(ex.request().target, "/namespaces/denied/")) {
          ex.respond(403, status_body(403, "Forbidden", "jobs.batch is forbidden"),
                     {{"Content-Type", "application/json"}});
          return;
        }
        ex.begin_chunked(200, {{"Content-Type", "application/json"}});
        ex.send_chunk(R"({"type":"ADDED","object":{"kind":"Job"}})"
                      "\n");
        if (contains(ex.request().target, "/namespaces/bad/")) ex.send_chunk("this is not json\n");
        else ex.wait_for_stop(5s);  // a watch that stays open
        ex.end_chunked();
      },
      server_tls());
  api k(config_for(*server), quick());

  auto bad = k.watch(kinds::job(), "bad", {});
  REQUIRE(bad.has_value());
  REQUIRE(bad->next().value().has_value());
  auto broken = bad->next();
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().code == error::protocol_error);
  CHECK(contains(broken.error().message, "/apis/batch/v1/namespaces/bad/jobs?watch=true"));

  auto denied = k.watch(kinds::job(), "denied", {});
  REQUIRE_FALSE(denied.has_value());
  CHECK(denied.error().code == error::forbidden);
  CHECK(contains(denied.error().message, "is not allowed: jobs.batch is forbidden"));

  auto open = k.watch(kinds::job(), "ns1", {});
  REQUIRE(open.has_value());
  REQUIRE(open->next().value().has_value());
  open->close();
  auto closed = open->next();
  REQUIRE(closed.has_value());
  CHECK_FALSE(closed->has_value());
}

namespace {
template <class S>
constexpr bool can_cancel = requires(S& s) { s.cancel(); };
}  // namespace

TEST_CASE("close() on another thread ends a next() blocked on a quiet watch", "[kube-api]") {
  if constexpr (!can_cancel<liftoff::net::response_stream>) {
    WARN("liftoff::net::response_stream has no cancel(): a blocked next() cannot be interrupted yet");
    return;
  } else {
    auto server = net_test_server::tls(
        [](net_exchange& ex) {
          ex.begin_chunked(200, {{"Content-Type", "application/json"}});
          ex.send_chunk(R"({"type":"ADDED","object":{"kind":"Job"}})"
                        "\n");
          ex.wait_for_stop(30s);  // then nothing: a quiet watch
          ex.end_chunked();
        },
        server_tls());
    api k(config_for(*server), quick());
    auto w = k.watch(kinds::job(), "ns1", {});
    REQUIRE(w.has_value());
    REQUIRE(w->next().value().has_value());
    std::atomic<bool> returned{false};
    liftoff::result<std::optional<liftoff::kube::watch_event>> last = std::optional<liftoff::kube::watch_event>();
    std::thread reader([&] {
      last = w->next();
      returned = true;
    });
    // The reader is blocked: the server sends nothing more.
    CHECK_FALSE(liftoff::test::wait_until([&] { return returned.load(); }, 0.2));
    auto const t0 = std::chrono::steady_clock::now();
    w->close();
    CHECK(liftoff::test::wait_until([&] { return returned.load(); }, 5));
    reader.join();
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    REQUIRE(last.has_value());
    CHECK_FALSE(last->has_value());
  }
}

TEST_CASE("pod_logs streams the container's lines", "[kube-api]") {
  recorder rec;
  auto server = net_test_server::tls(
      [&](net_exchange& ex) {
        rec.add(ex.request());
        if (contains(ex.request().target, "/pods/ghost/")) {
          ex.respond(404, status_body(404, "NotFound", "pods \"ghost\" not found"),
                     {{"Content-Type", "application/json"}});
          return;
        }
        ex.begin_chunked(200, {{"Content-Type", "text/plain"}});
        ex.send_chunk("epoch 1 loss 0.9\nepoch 2 ");
        ex.send_chunk("loss 0.5\n");
        ex.send_chunk("done\n");
        ex.end_chunked();
      },
      server_tls());
  api k(config_for(*server), quick());
  auto s = k.pod_logs("ns1", "train-1-abc", "main", true, "2024-01-01T00:00:00Z");
  REQUIRE(s.has_value());
  std::vector<std::string> lines;
  while (auto l = s->read_line_or_throw()) lines.push_back(*l);
  CHECK(lines == std::vector<std::string>{"epoch 1 loss 0.9", "epoch 2 loss 0.5", "done"});
  CHECK(rec.at(0).target ==
        "/api/v1/namespaces/ns1/pods/train-1-abc/log?follow=true&container=main&sinceTime=2024-01-01T00%3A00%3A00Z&"
        "timestamps=false");
  CHECK(rec.at(0).header("Authorization") == "Bearer " + secret_token);

  auto ghost = k.pod_logs("ns1", "ghost", "", false);
  REQUIRE_FALSE(ghost.has_value());
  CHECK(ghost.error().code == error::not_found);
  CHECK(contains(ghost.error().message, "pods \"ghost\" not found"));
  CHECK(rec.at(1).target == "/api/v1/namespaces/ns1/pods/ghost/log?timestamps=false");
}

TEST_CASE("openapi_v2 fetches and parses the API server's document", "[kube-api]") {
  auto const swagger = liftoff::test::specs_dir() / "k8s" / "swagger.json";
  std::error_code ec;
  bool const have_spec = std::filesystem::exists(swagger, ec);
  if (!have_spec) WARN("no " << swagger.string() << ": serving a small document instead of Kubernetes 1.36's");
  std::string const doc = have_spec ? liftoff::test::read_file(swagger)
                                    : R"({"swagger":"2.0","definitions":{"io.k8s.api.batch.v1.Job":{}}})";
  recorder rec;
  auto server = net_test_server::tls(
      [&](net_exchange& ex) {
        rec.add(ex.request());
        ex.respond(200, doc, {{"Content-Type", "application/json"}});
      },
      server_tls());
  api k(config_for(*server), quick());
  auto v = k.openapi_v2();
  REQUIRE(v.has_value());
  CHECK(v->at("swagger") == "2.0");
  CHECK(v->at("definitions").as_object().contains("io.k8s.api.batch.v1.Job"));
  CHECK(rec.at(0).target == "/openapi/v2");
  CHECK(rec.at(0).header("Accept") == "application/json");
}

TEST_CASE("one api is used from several threads at once over a small pool", "[kube-api]") {
  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        ex.respond(200, R"({"kind":"Pod","path":")" + ex.request().target + "\"}",
                   {{"Content-Type", "application/json"}});
      },
      server_tls());
  api k(config_for(*server), quick());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      api copy = k;  // copies share the pool
      for (int i = 0; i < 10; ++i) {
        auto name = "p" + std::to_string(t) + "-" + std::to_string(i);
        auto got = copy.get(kinds::pod(), "ns1", name);
        if (got && got->at("path").as_string() == "/api/v1/namespaces/ns1/pods/" + name) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 40);
  CHECK(server->requests() == 40);
  CHECK(server->connections() <= 4);
}

TEST_CASE("api::connect loads the kubeconfig", "[kube-api]") {
  liftoff::test::temp_dir dir("liftoff-kube-api");
  auto server = net_test_server::tls(
      [](net_exchange& ex) {
        ex.respond(200, R"({"auth":")" + ex.request().header("Authorization") + "\"}",
                   {{"Content-Type", "application/json"}});
      },
      server_tls());
  liftoff::test::write_file(dir / "ca.pem", ca().cert_pem());
  liftoff::test::write_file(dir / "config", R"(current-context: dev
clusters: [{name: local, cluster: {server: ")" + server->url() + R"(", certificate-authority: ca.pem}}]
users: [{name: alice, user: {token: from-file-token}}]
contexts: [{name: dev, context: {cluster: local, user: alice, namespace: ml}}]
)");
  liftoff::kube::load_options o;
  o.files = {dir / "config"};
  auto k = api::connect(o, quick());
  REQUIRE(k.has_value());
  CHECK(k->config().namespace_name == "ml");
  auto got = k->get(kinds::job(), k->config().namespace_name, "x");
  REQUIRE(got.has_value());
  CHECK(got->at("auth") == "Bearer from-file-token");

  o.context = "nope";
  CHECK_FALSE(api::connect(o).has_value());
}
