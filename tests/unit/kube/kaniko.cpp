// kaniko_builder against the local API server that follows the official
// OpenAPI document and a real liftoff server (in this process) holding the
// build contexts: dry runs, a build whose digest comes back as the Kaniko
// container's termination message, a failed build, and bad settings.

#include <liftoff/kube/kaniko.hpp>

#include "support/env_guard.hpp"
#include "support/kube_test_server.hpp"
#include "support/test_support.hpp"

#include <liftoff/client/client.hpp>
#include <liftoff/server/http_server.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <regex>

using namespace liftoff;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::kube_test_server;

namespace {

#define SKIP_WITHOUT_SPECS()                                   \
  if (!kube_test_server::available()) {                        \
    WARN("skipped: " << kube_test_server::why_not());          \
    return;                                                    \
  }

constexpr char const* registry = "127.0.0.1:5000/liftoff-test";
constexpr char const* pushed_digest = "sha256:89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567";

/// A liftoff server over SQLite in a temporary directory, on an ephemeral port.
struct liftoff_server {
  explicit liftoff_server(std::filesystem::path const& dir) {
    auto store = server::sqlite_store::open(dir / "data");
    REQUIRE(store.has_value());
    server::api_server_options o;
    o.listen = "127.0.0.1:0";
    o.data_dir = dir / "data";
    o.network_threads = 1;
    o.store_threads = 2;
    o.log = [](std::string_view) {};
    o.notice = [](std::string_view) {};
    api = std::make_unique<server::api_server>(std::move(*store), o);
    REQUIRE(api->start().has_value());
    token = test::read_file(o.data_dir / "admin-token");
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  client::credentials credentials() const { return {api->url(), token}; }
  std::unique_ptr<server::api_server> api;
  std::string token;
};

/// A cluster, a liftoff server, a job directory and a builder pointed at them.
struct setup {
  setup() : server_dir(dir / "server"), liftoff(server_dir) {
    cluster.write_kubeconfig(kubeconfig);
    test::write_file(code / "train.py", "print('training')\n");
    test::write_file(code / "requirements.txt", "numpy\n");
    builder.connection.files = {kubeconfig};
    builder.agent = "agent-7";
    builder.server = liftoff.credentials();
    builder.image_pull_grace = 1s;
    builder.client.request_timeout = 10s;
    builder.client.connect_timeout = 2s;
    builder.client.max_attempts = 1;
  }
  test::temp_dir dir{"liftoff-kaniko"};
  std::filesystem::path kubeconfig = dir / "config";
  std::filesystem::path code = dir / "code";
  std::filesystem::path server_dir;
  // No credentials from the user's own Docker config: the builds push anonymously.
  test::env_guard docker_config{"DOCKER_CONFIG", (dir / "docker").c_str()};
  kube_test_server cluster;
  liftoff_server liftoff;
  kaniko_builder builder;

  artifact input() const {
    artifact a;
    a.kind = artifact_kind::directory;
    a.directory = code;
    return a;
  }
};

launch_spec spec(json::object kaniko = {}) {
  launch_spec s;
  s.source = code_dir{"."};
  s.entry_point = {"python", "train.py"};
  s.resource = "kubernetes";
  s.run_id = make_run_id();
  s.job_name = "train";
  json::object kube{{"registry", registry}};
  if (!kaniko.empty()) kube["kaniko"] = std::move(kaniko);
  s.resource_args["kubernetes"] = std::move(kube);
  return s;
}

std::vector<std::string> strings(json::value const& v) {
  std::vector<std::string> out;
  for (auto const& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

bool contains(std::vector<std::string> const& v, std::string const& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

/// The env entry named `name` of a container, or null.
json::value const* env_of(json::object const& container, std::string const& name) {
  for (auto const& e : container.at("env").as_array())
    if (e.at("name").as_string() == name) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("a Kaniko dry run shows the Dockerfile, the Secret and the Job, and sends nothing", "[kaniko]") {
  SKIP_WITHOUT_SPECS();
  setup t;
  std::vector<json::object> actions;
  launch_options o;
  o.on_dry_run = [&](json::object const& a) { actions.push_back(a); };
  auto s = spec(json::object{{"cache_repo", "127.0.0.1:5000/cache"}, {"flags", json::array{"--snapshot-mode=redo"}}});
  auto out = t.builder.build(t.input(), s, o);
  REQUIRE(out.has_value());
  CHECK(t.cluster.requests().empty());
  CHECK(out->kind == artifact_kind::registry_image);
  CHECK(std::regex_match(out->image, std::regex("127\\.0\\.0\\.1:5000/liftoff-test/train:[0-9a-f]{32}")));

  REQUIRE(actions.size() == 3);  // the Dockerfile, the Secret, the Job
  CHECK(actions[0].at("action") == "dockerfile");
  CHECK_THAT(std::string(actions[0].at("text").as_string()), Catch::Contains("train.py"));
  auto const& secret = actions[1].at("request").at("body").as_object();
  CHECK(secret.at("kind") == "Secret");
  CHECK(secret.at("data").at("LIFTOFF_API_TOKEN") == "<redacted>");
  auto const& job_request = actions[2].at("request").as_object();
  CHECK(job_request.at("path") == "/apis/batch/v1/namespaces/default/jobs?fieldValidation=Strict");
  auto const& job = job_request.at("body").as_object();
  CHECK(job.at("metadata").at("labels").at("liftoff.io/run-id").as_string() == s.run_id + "-build");
  auto const& pod = job.at("spec").at("template").at("spec").as_object();
  auto const& fetch = pod.at("initContainers").at(0).as_object();
  CHECK(fetch.at("name") == "fetch-context");
  auto const* url = env_of(fetch, "LIFTOFF_CONTEXT_URL");
  REQUIRE(url);
  CHECK_THAT(std::string(url->at("value").as_string()),
             Catch::StartsWith(t.liftoff.credentials().server + "/api/v1/artifacts/"));
  auto args = strings(pod.at("containers").at(0).at("args"));
  CHECK(contains(args, "--context=dir:///workspace"));
  CHECK(contains(args, "--destination=" + out->image));
  CHECK(contains(args, "--digest-file=/dev/termination-log"));
  CHECK(contains(args, "--cache=true"));
  CHECK(contains(args, "--cache-repo=127.0.0.1:5000/cache"));
  CHECK(contains(args, "--snapshot-mode=redo"));
  bool dockerfile = false;
  for (auto const& a : args) dockerfile = dockerfile || a.starts_with("--dockerfile=");
  CHECK(dockerfile);
  std::string all;
  for (auto const& a : actions) all += json::serialize(a);
  CHECK(all.find(t.liftoff.token) == std::string::npos);
}

TEST_CASE("a Kaniko build uploads its context, runs a valid Job and returns the pushed digest", "[kaniko]") {
  SKIP_WITHOUT_SPECS();
  setup t;
  t.cluster.set_script([](json::object const&) {
    auto script = test::scripts::succeed({"INFO[0001] Pushing image"});
    script.back().message = pushed_digest;  // what --digest-file=/dev/termination-log makes the kubelet report
    return script;
  });
  std::vector<std::string> lines;
  std::mutex m;
  launch_options o;
  o.on_log = [&](log_line const& l) {
    std::lock_guard lock(m);
    lines.push_back(l.text);
  };
  auto s = spec();
  auto out = t.builder.build(t.input(), s, o);
  if (!out) FAIL(out.error().what());
  CHECK(out->kind == artifact_kind::registry_image);
  CHECK(out->image == std::string(registry) + "/train@" + pushed_digest);
  CHECK(t.cluster.violations().empty());
  {
    std::lock_guard lock(m);
    bool pushed = false;
    for (auto const& l : lines) pushed = pushed || l.find("Pushing image") != std::string::npos;
    CHECK(pushed);
  }

  auto jobs = t.cluster.objects("jobs", "default");
  REQUIRE(jobs.size() == 1);
  auto const& pod = jobs[0].at("spec").at("template").at("spec").as_object();
  auto const& fetch = pod.at("initContainers").at(0).as_object();
  // The context is on the liftoff server, where the URL says.
  auto url = std::string(env_of(fetch, "LIFTOFF_CONTEXT_URL")->at("value").as_string());
  auto hex = url.substr(url.rfind('/') + 1);
  REQUIRE(hex.size() == 64);
  auto c = client::api_client::create(t.liftoff.credentials());
  REQUIRE(c.has_value());
  auto held = c->has_artifact("sha256:" + hex);
  REQUIRE(held.has_value());
  CHECK(*held);
  // The token reached the pod through a Secret, which is gone now.
  auto const* token = env_of(fetch, "LIFTOFF_API_TOKEN");
  REQUIRE(token);
  CHECK(token->at("valueFrom").at("secretKeyRef").at("key") == "LIFTOFF_API_TOKEN");
  CHECK_THAT(std::string(token->at("valueFrom").at("secretKeyRef").at("name").as_string()),
             Catch::StartsWith("liftoff-"));
  CHECK(json::serialize(jobs[0]).find(t.liftoff.token) == std::string::npos);
  int secrets_created = 0;
  for (auto const& r : t.cluster.requests())
    if (r.method == "POST" && r.path.ends_with("/secrets")) ++secrets_created;
  CHECK(secrets_created == 1);
  CHECK(t.cluster.objects("secrets", "default").empty());
}

TEST_CASE("a failed Kaniko build is a build failure with its last lines", "[kaniko]") {
  SKIP_WITHOUT_SPECS();
  setup t;
  t.cluster.set_script([](json::object const&) {
    return test::scripts::fail(1, {"INFO[0002] RUN pip install -r requirements.txt",
                                   "error building image: error building stage: exit status 1"});
  });
  auto out = t.builder.build(t.input(), spec(), {});
  REQUIRE_FALSE(out.has_value());
  INFO(out.error().what());
  CHECK(out.error().stage == failure_stage::build);
  CHECK(out.error().code == error::build_failed);
  CHECK_THAT(out.error().what(), Catch::Contains("error building stage: exit status 1") &&
                                     Catch::Contains("pip install") && !Catch::Contains(t.liftoff.token));
  CHECK(t.cluster.objects("secrets", "default").empty());
  CHECK(t.cluster.violations().empty());
}

TEST_CASE("bad resource_args.kubernetes.kaniko settings name the field", "[kaniko]") {
  kaniko_builder b;
  auto check = [&](json::value kaniko, std::string const& field, error code) {
    auto s = spec();
    s.resource_args["kubernetes"].as_object()["kaniko"] = std::move(kaniko);
    auto v = b.validate(s);
    REQUIRE_FALSE(v.has_value());
    INFO(v.error().what());
    CHECK(v.error().code == code);
    CHECK_THAT(v.error().what(), Catch::Contains(field));
    // build() refuses it too, at stage build, before contacting anything.
    artifact in;
    in.kind = artifact_kind::directory;
    in.directory = "/nonexistent";
    auto built = b.build(in, s, {});
    REQUIRE_FALSE(built.has_value());
    CHECK(built.error().stage == failure_stage::build);
    CHECK_THAT(built.error().what(), Catch::Contains(field));
  };
  check(json::object{{"colour", "blue"}}, "resource_args.kubernetes.kaniko.colour", error::unknown_field);
  check(json::object{{"flags", json::array{1, 2}}}, "resource_args.kubernetes.kaniko.flags", error::invalid_spec);
  check(json::object{{"flags", "--cache"}}, "resource_args.kubernetes.kaniko.flags", error::invalid_spec);
  check(json::object{{"cache", "yes"}}, "resource_args.kubernetes.kaniko.cache", error::invalid_spec);
  check("fast", "resource_args.kubernetes.kaniko", error::invalid_spec);
}
