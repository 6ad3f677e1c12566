// `liftoff launch --resource kubernetes` and `liftoff launch-agent` on a
// Kubernetes queue, end to end: the built CLI against the local API server that
// follows the official OpenAPI document (kube_test_server, in this process),
// and for code directories the real Docker engine and registry. The CLI gets
// its own HOME, so the machine's ~/.kube/config and ~/.docker/config.json are
// never read.

#include <catch2/catch.hpp>

#include "support/kube_test_server.hpp"
#include "support/server_process.hpp"
#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <liftoff/net/client.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <memory>
#include <random>
#include <regex>
#include <sstream>

namespace t = liftoff::test;
namespace fs = std::filesystem;
namespace json = boost::json;
using t::kube_test_server;

#define DIGEST "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

namespace {

constexpr char const* image = "127.0.0.1:5000/x@sha256:" DIGEST;
constexpr char const* base_image = "liftoff-test/busybox:latest";
constexpr char const* registry_address = "127.0.0.1:5000";

#define SKIP_WITHOUT_SPECS()                          \
  if (!kube_test_server::available()) {               \
    WARN("skipped: " << kube_test_server::why_not()); \
    return;                                           \
  }

bool contains(std::string const& haystack, std::string const& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A name unique to this test process and call, so concurrent runs share no repository or job.
std::string unique_id(std::string const& prefix) {
  static std::atomic<int> counter{0};
  static std::string const salt = std::to_string(std::random_device{}() % 100000);
  return prefix + "-" + std::to_string(::getpid()) + "-" + salt + "-" + std::to_string(counter++);
}

/// The fake API server, a kubeconfig for it, and a HOME of the CLI's own.
class cluster {
public:
  explicit cluster(kube_test_server::options o = {}) : server(std::move(o)) {
    fs::create_directories(dir / "home");
    server.write_kubeconfig(kubeconfig);
  }

  /// The environment for the CLI: this cluster, an empty HOME, no registry or server from the machine.
  std::vector<std::string> env(std::vector<std::string> extra = {}) const {
    std::vector<std::string> e = {"KUBECONFIG=" + kubeconfig.string(), "HOME=" + (dir / "home").string(),
                                  "XDG_CONFIG_HOME=", "DOCKER_CONFIG=", "LIFTOFF_REGISTRY=", "LIFTOFF_SERVER=",
                                  "LIFTOFF_API_TOKEN="};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  }

  t::command_result cli(std::vector<std::string> args, std::vector<std::string> extra_env = {}) const {
    args.insert(args.begin(), LIFTOFF_CLI);
    return t::run_command(args, env(std::move(extra_env)));
  }

  /// `launch --resource kubernetes` of the test image with `more` flags.
  t::command_result launch_image(std::vector<std::string> more = {}, std::vector<std::string> extra_env = {}) const {
    std::vector<std::string> args = {"launch", "--resource", "kubernetes", "--docker-image", image, "-E",
                                     "python train.py"};
    args.insert(args.end(), more.begin(), more.end());
    return cli(std::move(args), std::move(extra_env));
  }

  /// The Jobs the server received (the bodies of the POSTs to a jobs collection).
  std::vector<json::object> posted_jobs() const {
    std::vector<json::object> jobs;
    for (auto const& r : server.requests())
      if (r.method == "POST" && r.path.ends_with("/jobs")) jobs.push_back(json::parse(r.body).as_object());
    return jobs;
  }

  t::temp_dir dir{"liftoff-cli-kube"};
  fs::path kubeconfig = dir / "kubeconfig";
  kube_test_server server;
};

/// The one "liftoff: error" line of stderr (the test fails when there is not exactly one).
std::string error_line(std::string const& err) {
  std::vector<std::string> errors;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("liftoff: error", 0) == 0) errors.push_back(line);
  INFO(err);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

/// The container of a Job body (the first of its pod template).
json::object const& main_container(json::object const& job) {
  return job.at("spec").at("template").at("spec").at("containers").at(0).as_object();
}

t::command_result docker(std::vector<std::string> args) { return t::docker_cli(std::move(args)); }

/// A GET (or HEAD) to the test registry's own HTTP API; the error says why none came back.
liftoff::result<liftoff::net::response> registry_get(std::string const& target, bool head = false,
                                                     std::string const& accept = {}) {
  liftoff::net::client_options o;
  o.connect_timeout = std::chrono::seconds(2);
  o.request_timeout = std::chrono::seconds(10);
  auto c = liftoff::net::client::create(std::string("http://") + registry_address, o);
  if (!c) return c.error();
  liftoff::net::request req;
  if (head) req.method = boost::beast::http::verb::head;
  req.target = target;
  if (!accept.empty()) req.headers.set(boost::beast::http::field::accept, accept);
  req.check_status = false;
  return c->send(req);
}

/// False, after saying why, when the Docker engine, its test image or the registry do not answer.
bool docker_and_registry_ready() {
  if (!t::docker_cli_ready()) return false;
  auto r = registry_get("/v2/");
  if (!r || r->status != 200) {
    WARN("skipped: no Docker registry answers at http://" << registry_address << "/v2/ (start one with "
                                                          << ".ci/start-registry): "
                                                          << (r ? std::to_string(r->status) : r.error().what()));
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a Kubernetes dry run prints the Job it would create and sends nothing", "[cli-kubernetes]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  auto r = c.launch_image({"--dry-run", "-p", "mnist"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::string run_id;
  std::optional<json::object> post;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    REQUIRE(line.front() == '{');
    auto o = json::parse(line).as_object();
    if (o.at("action") == "launch") run_id = o.at("spec").at("run_id").as_string();
    if (o.at("action") == "kubernetes api" && o.at("request").at("method") == "POST" &&
        contains(std::string(o.at("request").at("path").as_string()), "/jobs"))
      post = o.at("request").as_object();
  }
  REQUIRE_FALSE(run_id.empty());
  REQUIRE(post);
  CHECK(post->at("path") == "/apis/batch/v1/namespaces/default/jobs?fieldValidation=Strict");
  auto const& job = post->at("body").as_object();
  CHECK(job.at("kind") == "Job");
  CHECK(job.at("apiVersion") == "batch/v1");
  auto const& container = main_container(job);
  CHECK(container.at("image") == image);
  CHECK(json::serialize(container.at("command")) == R"(["python","train.py"])");
  CHECK(contains(json::serialize(container.at("env")), R"({"name":"LIFTOFF_PROJECT","value":"mnist"})"));
  // The run id on the Job and on its pods, so an agent that restarts finds them again.
  CHECK(job.at("metadata").at("labels").at("liftoff.io/run-id") == run_id.c_str());
  CHECK(job.at("spec").at("template").at("metadata").at("labels").at("liftoff.io/run-id") == run_id.c_str());
  CHECK(c.server.requests().empty());
}

TEST_CASE("a Kubernetes run's output and exit code reach the caller", "[cli-kubernetes]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  SECTION("success") {
    c.server.set_script([](json::object const&) { return t::scripts::succeed({"hello"}, 0); });
    auto r = c.launch_image();
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "hello"));  // the container's output on stdout, the notes on stderr
    CHECK(contains(r.err, "created Job default/"));
    CHECK(contains(r.err, " finished"));
    auto jobs = c.posted_jobs();
    REQUIRE(jobs.size() == 1);
    CHECK(main_container(jobs[0]).at("image") == image);
    CHECK(c.server.violations().empty());
  }
  SECTION("failure") {
    c.server.set_script([](json::object const&) { return t::scripts::fail(3, {"about to fail"}); });
    auto r = c.launch_image();
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK(contains(r.out, "about to fail"));
    CHECK(contains(r.err, "failed (run)"));
    CHECK(contains(r.err, "exited with code 3"));
    CHECK(c.server.violations().empty());
  }
  SECTION("an unknown --kube-context lists the contexts there are") {
    auto r = c.launch_image({"--kube-context", "nowhere"});
    INFO(r.out << r.err);
    CHECK((r.exit_code == 1 || r.exit_code == 2));
    auto line = error_line(r.err);
    CHECK(contains(line, "nowhere"));
    CHECK(contains(line, "test"));  // the context the file has
    CHECK(contains(line, c.kubeconfig.string()));
    CHECK(c.posted_jobs().empty());
  }
  SECTION("--kube-context naming the existing context runs there") {
    auto r = c.launch_image({"--kube-context", "test"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(c.posted_jobs().size() == 1);
  }
}

TEST_CASE("Kubernetes bad input gets one clear line and creates nothing", "[cli-kubernetes][errors]") {
  SKIP_WITHOUT_SPECS();
  cluster c;
  SECTION("KUBECONFIG names a missing file") {
    auto missing = (c.dir / "no-such-kubeconfig").string();
    auto r = c.launch_image({}, {"KUBECONFIG=" + missing});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, missing));
    CHECK(c.server.requests().empty());
  }
  SECTION("a malformed kubeconfig is named with its line") {
    t::write_file(c.kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n  - name: test\n    cluster: {server: [\n");
    auto r = c.launch_image();
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    // "FILE:LINE" (and a column), as a compiler would say it.
    auto at = line.find(c.kubeconfig.string() + ":");
    REQUIRE(at != std::string::npos);
    CHECK(std::isdigit(static_cast<unsigned char>(line[at + c.kubeconfig.string().size() + 1])));
  }
  SECTION("a token the server refuses names the user, not the token") {
    c.server.write_kubeconfig(c.kubeconfig, "token: wrong-secret-token");
    auto r = c.launch_image();
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "alice"));
    CHECK_FALSE(contains(r.out + r.err, "wrong-secret-token"));
  }
  SECTION("a manifest that breaks the schema names the field path") {
    auto r = c.launch_image({"--resource-args", R"({"kubernetes": {"spec": {"backoffLimit": "three",
        "template": {"spec": {"containers": [{"name": "main", "imagePullPolcy": "Always"}]}}}}})"});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "spec.template.spec.containers[0].imagePullPolcy"));
    CHECK(contains(line, "spec.backoffLimit"));
    CHECK(c.posted_jobs().empty());  // validated before anything is sent
  }
  SECTION("a namespace that does not exist") {
    auto r = c.launch_image({"--resource-args", R"({"kubernetes": {"namespace": "nowhere"}})"});
    INFO(r.out << r.err);
    CHECK(r.exit_code != 0);
    auto line = error_line(r.err);
    CHECK(contains(line, "nowhere"));
  }
  // Refused requests may have been sent (a 401, a 404 for the namespace); nothing was created.
  CHECK(c.server.objects("jobs", "default").empty());
  CHECK(c.server.objects("secrets", "default").empty());
  CHECK(c.server.violations().empty());
}

TEST_CASE("a code directory is built by the local engine, pushed, and its Job names the pushed digest",
          "[cli-kubernetes][docker][registry]") {
  SKIP_WITHOUT_SPECS();
  if (!docker_and_registry_ready()) return;
  cluster c;
  c.server.set_script([](json::object const&) { return t::scripts::succeed({"ran the pushed image"}); });
  t::temp_dir code{"liftoff-cli-kube-code"};
  auto const marker = unique_id("m");  // new content each run: a new content tag, so a real push
  t::write_file(code / "Dockerfile", std::string("FROM ") + base_image + "\nCOPY . /job\nWORKDIR /job\n");
  t::write_file(code / "train.sh", "echo training " + marker + "\n");
  auto job = unique_id("kube-code");
  auto r = c.cli({"launch", "--uri", code.path().string(), "--resource", "kubernetes", "--job-name", job, "-E",
                  "sh train.sh", "--resource-args",
                  std::string(R"({"kubernetes": {"registry": ")") + registry_address + R"(/liftoff-cli-test"}})"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "building image"));
  CHECK(contains(r.out, "ran the pushed image"));

  auto jobs = c.posted_jobs();
  REQUIRE(jobs.size() == 1);
  std::string pushed = std::string(main_container(jobs[0]).at("image").as_string());
  std::smatch m;
  REQUIRE(std::regex_match(pushed, m,
                           std::regex(R"(127\.0\.0\.1:5000/liftoff-cli-test/([a-z0-9._-]+)@sha256:[0-9a-f]{64})")));
  std::string name = m[1];
  CHECK(contains(name, job));

  // The registry has the repository and a tag under it.
  auto tags = registry_get("/v2/liftoff-cli-test/" + name + "/tags/list");
  REQUIRE(tags.has_value());
  INFO(tags->body);
  REQUIRE(tags->status == 200);
  auto listed = json::parse(tags->body).as_object();
  CHECK(std::string(listed.at("name").as_string()) == "liftoff-cli-test/" + name);
  REQUIRE(listed.at("tags").is_array());
  REQUIRE_FALSE(listed.at("tags").as_array().empty());
  // The digest the Job names is the one the registry serves for that tag.
  std::string tag(listed.at("tags").as_array().at(0).as_string());
  auto manifest = registry_get("/v2/liftoff-cli-test/" + name + "/manifests/" + tag, true,
                               "application/vnd.docker.distribution.manifest.v2+json");
  REQUIRE(manifest.has_value());
  CHECK(manifest->status == 200);
  CHECK(std::string(manifest->headers["Docker-Content-Digest"]) == pushed.substr(pushed.find('@') + 1));
  CHECK(c.server.violations().empty());

  // The images this test made in the engine.
  std::istringstream ids(docker({"images", "-q", "--filter", "label=liftoff.job=" + job}).out);
  for (std::string id; ids >> id;) docker({"rmi", "-f", id});
}

namespace {

/// A `liftoff server` with a fresh data directory, a cluster, and helpers to drive both from the CLI.
class queue_setup {
public:
  queue_setup() { fs::create_directories(dir_ / "home"); }

  t::command_result admin(std::vector<std::string> args) const {
    std::vector<std::string> env = server_.env();
    return kube.cli(std::move(args), env);
  }

  /// A `launch-agent` on `queue` with this cluster's kubeconfig; `extra` are more flags.
  std::unique_ptr<t::background_command> agent(std::string const& queue, std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {LIFTOFF_CLI, "launch-agent", "--queue", queue, "--name", unique_id("kagent"),
                                     "--heartbeat-interval", "0.2", "--lease-wait", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<t::background_command>(argv, path("agent.out"), path("agent.err"),
                                                   kube.env(server_.env()));
  }

  json::object describe(std::string const& run_id) const {
    auto r = admin({"run", "describe", run_id, "--json"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out).as_object();
  }

  /// Waits for the run to reach a final state (one not followed by a requeue); its description.
  json::object wait_final(std::string const& run_id) const {
    json::object last;
    bool done = t::wait_until(
        [&] {
          last = describe(run_id);
          auto s = std::string(last.at("state").as_string());
          return s == "finished" || s == "failed" || s == "stopped" || s == "crashed";
        },
        60);
    INFO(json::serialize(last) << "\nagent:\n" << t::read_file(path("agent.err")));
    REQUIRE(done);
    return last;
  }

  fs::path path(std::string const& p) const { return dir_ / p; }

  cluster kube;

private:
  t::temp_dir dir_{"liftoff-cli-kube-queue"};
  t::server_process server_{LIFTOFF_CLI, dir_ / "data"};
};

std::string pushed_run_id(std::string const& out) {
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(R"(run ([a-z0-9-]+) \(item [0-9]+\) queued on)")));
  return m[1];
}

}  // namespace

TEST_CASE("an agent requeues a preempted Kubernetes run with the same id and finishes it", "[cli-kubernetes][agent]") {
  SKIP_WITHOUT_SPECS();
  queue_setup q;
  auto jobs_seen = std::make_shared<std::atomic<int>>(0);
  q.kube.server.set_script([jobs_seen](json::object const&) {
    return (*jobs_seen)++ == 0 ? t::scripts::evicted() : t::scripts::succeed({"second attempt"});
  });
  auto created = q.admin({"queue", "create", "kq", "--resource", "kubernetes"});
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  auto agent = q.agent("kq");

  auto pushed = q.admin({"launch", "--queue", "kq", "--docker-image", image, "-E", "python train.py"});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto run_id = pushed_run_id(pushed.out);

  auto run = q.wait_final(run_id);
  INFO(json::serialize(run) << "\nagent:\n" << t::read_file(q.path("agent.err")));
  CHECK(run.at("state") == "finished");
  std::vector<std::string> history;
  for (auto const& h : run.at("history").as_array()) history.emplace_back(h.at("state").as_string());
  auto preempted = std::find(history.begin(), history.end(), "preempted");
  REQUIRE(preempted != history.end());
  CHECK(std::find(preempted, history.end(), "queued") != history.end());
  CHECK(std::count(history.begin(), history.end(), "running") >= 1);
  CHECK(history.back() == "finished");

  // Two Jobs, both labelled with the one run id.
  auto jobs = q.kube.posted_jobs();
  REQUIRE(jobs.size() == 2);
  for (auto const& j : jobs) CHECK(j.at("metadata").at("labels").at("liftoff.io/run-id") == run_id.c_str());
  CHECK(*jobs_seen == 2);
  CHECK(q.kube.server.violations().empty());

  auto logs = q.admin({"run", "logs", run_id});
  CHECK(contains(logs.out, "second attempt"));
  agent->signal(SIGTERM);
  CHECK(agent->wait() == 0);
}

TEST_CASE("an agent in secure mode fails a run whose queue template asks for the host network",
          "[cli-kubernetes][agent]") {
  SKIP_WITHOUT_SPECS();
  queue_setup q;
  auto created = q.admin({"queue", "create", "hostnet", "--resource", "kubernetes", "--config-template",
                          R"({"resource_args": {"kubernetes": {"spec": {"template": {"spec": {"hostNetwork": true,
                              "containers": [{"name": "main"}]}}}}}})"});
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  auto agent = q.agent("hostnet");

  auto pushed = q.admin({"launch", "--queue", "hostnet", "--docker-image", image, "-E", "python train.py"});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  auto run_id = pushed_run_id(pushed.out);

  auto run = q.wait_final(run_id);
  INFO(json::serialize(run) << "\nagent:\n" << t::read_file(q.path("agent.err")));
  CHECK(run.at("state") == "failed");
  CHECK(contains(std::string(run.at("message").as_string()), "spec.template.spec.hostNetwork"));
  CHECK(q.kube.posted_jobs().empty());
  agent->signal(SIGTERM);
  CHECK(agent->wait() == 0);
}
