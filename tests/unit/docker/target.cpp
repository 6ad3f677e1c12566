#include <liftoff/docker/target.hpp>
#include <liftoff/docker/detail/config.hpp>

#include <liftoff/docker/launchers.hpp>

#include "support/test_support.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace liftoff;
namespace json = boost::json;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

launch_spec job(std::vector<std::string> entry_point = {"python", "train.py"}) {
  launch_spec s;
  s.source = image_ref{"trainer:1"};
  s.entry_point = std::move(entry_point);
  s.resource = "local-container";
  s.run_id = "run12345";
  s.project = "proj";
  s.job_name = "trainer";
  s.name = "bright-run";
  return s;
}

launch_spec with_args(json::object args, launch_spec s = job()) {
  s.resource_args["local-container"] = std::move(args);
  return s;
}

artifact image_artifact(std::string image = "trainer:1") {
  artifact a;
  a.kind = artifact_kind::registry_image;
  a.image = std::move(image);
  return a;
}

/// A target whose engine cannot be reached: a dry run must not need it.
docker_target offline_target() {
  docker_target t;
  t.engine.host = "unix:///nonexistent/liftoff-docker.sock";
  return t;
}

/// What a dry run of `start` emits.
struct dry_run {
  std::vector<json::object> actions;
  launch_options options;
  std::vector<run_status> statuses;

  dry_run() {
    options.on_dry_run = [this](json::object const& a) { actions.push_back(a); };
    options.on_status = [this](run_status const& s) { statuses.push_back(s); };
  }

  /// The requests whose path ends with `suffix`.
  std::vector<json::object> requests(std::string_view suffix) const {
    std::vector<json::object> out;
    for (auto const& a : actions)
      if (auto const* r = a.if_contains("request"))
        if (std::string_view(r->at("path").as_string()).ends_with(suffix)) out.push_back(r->as_object());
    return out;
  }
  json::object create_body() const {
    auto c = requests("/containers/create");
    REQUIRE(c.size() == 1);
    return c.front().at("body").as_object();
  }
  json::object host_config() const { return create_body().at("HostConfig").as_object(); }
};

/// The create request a dry run of `spec` sends.
dry_run started(launch_spec const& spec, artifact const& in = image_artifact()) {
  dry_run d;
  auto r = offline_target().start(in, spec, d.options);
  INFO((r ? std::string() : r.error().what()));
  REQUIRE(r.has_value());
  CHECK(r->status().state == run_state::finished);
  return d;
}

std::string error_of(launch_spec const& spec) {
  auto v = docker_target{}.validate(spec);
  REQUIRE_FALSE(v);
  return v.error().what();
}

std::vector<std::string> env_of(json::object const& body) {
  std::vector<std::string> out;
  for (auto const& e : body.at("Env").as_array()) out.emplace_back(e.as_string());
  return out;
}

bool has(std::vector<std::string> const& v, std::string const& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("docker_target models the target concept", "[docker][docker_target]") {
  STATIC_REQUIRE(target<docker_target>);
  STATIC_REQUIRE(liftoff::run<docker_target::run>);
  STATIC_REQUIRE(docker_target::accepts(artifact_kind::local_image));
  STATIC_REQUIRE(docker_target::accepts(artifact_kind::registry_image));
  STATIC_REQUIRE_FALSE(docker_target::accepts(artifact_kind::directory));
  STATIC_REQUIRE(has_validate<docker_target>);
  STATIC_REQUIRE(declares_hook<docker_target>(hook::validate));
  STATIC_REQUIRE(std::is_same_v<docker_image_launcher::run_type, docker_target::run>);
  STATIC_REQUIRE(std::is_same_v<docker_code_launcher::target_type, docker_target>);
  STATIC_REQUIRE(std::is_same_v<docker_git_launcher::source_type, git_source>);
}

TEST_CASE("docker sizes read as the docker CLI reads them", "[docker][docker_target]") {
  using detail::parse_docker_size;
  CHECK(parse_docker_size("100") == 100);
  CHECK(parse_docker_size("100b") == 100);
  CHECK(parse_docker_size("2k") == 2048);
  CHECK(parse_docker_size("512m") == 512LL << 20);
  CHECK(parse_docker_size("512M") == 512LL << 20);
  CHECK(parse_docker_size("512mb") == 512LL << 20);
  CHECK(parse_docker_size("64MiB") == 64LL << 20);
  CHECK(parse_docker_size("1g") == 1LL << 30);
  CHECK(parse_docker_size("1.5g") == 3LL << 29);
  CHECK(parse_docker_size("2 g") == 2LL << 30);
  CHECK(parse_docker_size("1t") == 1LL << 40);
  for (auto bad : {"", "m", "-1m", "12x", "1.5.2g", "1.g", "1gbb", " 1g"}) {
    INFO(bad);
    CHECK_FALSE(parse_docker_size(bad));
  }
  CHECK(detail::format_bytes(8LL << 20) == "8 MiB");
  CHECK(detail::format_bytes(16LL << 20) == "16 MiB");
  CHECK(detail::format_bytes(3LL << 29) == "1.5 GiB");
  CHECK(detail::format_bytes(2048) == "2 KiB");
  CHECK(detail::format_bytes(1000) == "1000 bytes");
}

TEST_CASE("docker_target converts memory and shm-size", "[docker][docker_target]") {
  SECTION("a size string") {
    auto hc = started(with_args({{"memory", "512m"}, {"shm-size", "64m"}})).host_config();
    CHECK(hc.at("Memory") == 512LL << 20);
    CHECK(hc.at("MemorySwap") == 512LL << 20);
    CHECK(hc.at("ShmSize") == 64LL << 20);
  }
  SECTION("bytes") {
    auto hc = started(with_args({{"memory", 1073741824}, {"shm-size", "1g"}})).host_config();
    CHECK(hc.at("Memory") == 1LL << 30);
    CHECK(hc.at("MemorySwap") == 1LL << 30);
    CHECK(hc.at("ShmSize") == 1LL << 30);
  }
  SECTION("no limits: none sent") {
    auto hc = started(job()).host_config();
    CHECK_FALSE(hc.contains("Memory"));
    CHECK_FALSE(hc.contains("MemorySwap"));
    CHECK_FALSE(hc.contains("NanoCpus"));
    CHECK_FALSE(hc.contains("DeviceRequests"));
  }
  SECTION("errors") {
    CHECK(error_of(with_args({{"memory", json::array{1}}})) ==
          "resource_args.local-container.memory: expected a size like 512m or a number of bytes, got array");
    CHECK(error_of(with_args({{"memory", "lots"}})) ==
          "resource_args.local-container.memory: expected a size like 512m or a number of bytes, got 'lots'");
    CHECK(error_of(with_args({{"memory", -5}})) ==
          "resource_args.local-container.memory: expected a size like 512m or a number of bytes, got '-5'");
    CHECK(error_of(with_args({{"shm-size", 1.5}})) ==
          "resource_args.local-container.shm-size: expected a size like 512m or a number of bytes, got number");
  }
}

TEST_CASE("docker_target converts cpus to NanoCpus", "[docker][docker_target]") {
  CHECK(started(with_args({{"cpus", 2}})).host_config().at("NanoCpus") == 2000000000);
  CHECK(started(with_args({{"cpus", 0.5}})).host_config().at("NanoCpus") == 500000000);
  CHECK(started(with_args({{"cpus", "1.25"}})).host_config().at("NanoCpus") == 1250000000);
  CHECK(error_of(with_args({{"cpus", "two"}})) ==
        "resource_args.local-container.cpus: expected a positive number of CPUs like 1.5, got 'two'");
  CHECK(error_of(with_args({{"cpus", 0}})) ==
        "resource_args.local-container.cpus: expected a positive number of CPUs like 1.5, got 0");
  CHECK(error_of(with_args({{"cpus", true}})) ==
        "resource_args.local-container.cpus: expected a positive number of CPUs like 1.5, got boolean");
}

TEST_CASE("docker_target converts gpus to DeviceRequests", "[docker][docker_target]") {
  auto request = [](json::value gpus) {
    auto dr = started(with_args({{"gpus", gpus}})).host_config().at("DeviceRequests").as_array();
    REQUIRE(dr.size() == 1);
    auto r = dr[0].as_object();
    CHECK(r.at("Driver") == "");
    CHECK(r.at("Capabilities") == json::array{json::array{"gpu"}});
    return r;
  };
  SECTION("all") {
    auto r = request("all");
    CHECK(r.at("Count") == -1);
    CHECK(r.at("DeviceIDs").as_array().empty());
  }
  SECTION("a count") {
    CHECK(request(2).at("Count") == 2);
    CHECK(request("3").at("Count") == 3);
  }
  SECTION("devices") {
    auto r = request("device=0,2");
    CHECK(r.at("Count") == 0);
    CHECK(r.at("DeviceIDs") == json::array{"0", "2"});
    CHECK(request("device=GPU-3a5b").at("DeviceIDs") == json::array{"GPU-3a5b"});
  }
  SECTION("errors") {
    std::string const expected = "expected \"all\", a number of GPUs, or \"device=ID[,ID…]\"";
    CHECK(error_of(with_args({{"gpus", "some"}})) == "resource_args.local-container.gpus: " + expected + ", got 'some'");
    CHECK(error_of(with_args({{"gpus", "device="}})) == "resource_args.local-container.gpus: " + expected + ", got 'device='");
    CHECK(error_of(with_args({{"gpus", "device=0,"}})) == "resource_args.local-container.gpus: " + expected + ", got 'device=0,'");
    CHECK(error_of(with_args({{"gpus", 0}})) == "resource_args.local-container.gpus: " + expected + ", got '0'");
    CHECK(error_of(with_args({{"gpus", json::object{}}})) == "resource_args.local-container.gpus: " + expected + ", got object");
  }
}

TEST_CASE("docker_target converts ulimits", "[docker][docker_target]") {
  auto ulimits = [](json::value u) { return started(with_args({{"ulimit", u}})).host_config().at("Ulimits").as_array(); };
  SECTION("object forms") {
    auto u = ulimits(json::object{{"nofile", "1024:2048"}, {"nproc", json::object{{"soft", 10}, {"hard", 20}}},
                                  {"core", 0}, {"stack", "8192"}, {"memlock", json::object{{"soft", -1}}}});
    CHECK(u == json::array{json::object{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}},
                           json::object{{"Name", "nproc"}, {"Soft", 10}, {"Hard", 20}},
                           json::object{{"Name", "core"}, {"Soft", 0}, {"Hard", 0}},
                           json::object{{"Name", "stack"}, {"Soft", 8192}, {"Hard", 8192}},
                           json::object{{"Name", "memlock"}, {"Soft", -1}, {"Hard", -1}}});
  }
  SECTION("array form") {
    CHECK(ulimits(json::array{"nofile=1024:2048", "nproc=64"}) ==
          json::array{json::object{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}},
                      json::object{{"Name", "nproc"}, {"Soft", 64}, {"Hard", 64}}});
  }
  SECTION("errors") {
    CHECK(error_of(with_args({{"ulimit", json::object{{"nofiles", 10}}}})) ==
          "resource_args.local-container.ulimit: unknown limit 'nofiles', did you mean 'nofile'? (allowed: core, cpu, "
          "data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)");
    CHECK(error_of(with_args({{"ulimit", json::object{{"nofile", "2048:1024"}}}})) ==
          "resource_args.local-container.ulimit.nofile: the soft limit 2048 is above the hard limit 1024");
    CHECK(error_of(with_args({{"ulimit", json::object{{"nofile", "many"}}}})) ==
          "resource_args.local-container.ulimit.nofile: expected \"SOFT:HARD\", a number, or {\"soft\": N, \"hard\": "
          "N}, got 'many'");
    CHECK(error_of(with_args({{"ulimit", json::object{{"nofile", json::object{{"soft", "x"}}}}}})) ==
          "resource_args.local-container.ulimit.nofile.soft: expected an integer, got string");
    CHECK(error_of(with_args({{"ulimit", json::array{"nofile"}}})) ==
          "resource_args.local-container.ulimit[0]: expected \"NAME=SOFT:HARD\", got 'nofile'");
    CHECK(error_of(with_args({{"ulimit", "nofile=1"}})) ==
          "resource_args.local-container.ulimit: expected an object of limits or an array of \"NAME=SOFT:HARD\" "
          "strings, got string");
  }
}

TEST_CASE("docker_target adds the resource's env after the run's", "[docker][docker_target]") {
  SECTION("object form") {
    auto env = env_of(started(with_args({{"env", json::object{{"LR", "0.1"}, {"LIFTOFF_PROJECT", "mine"}}}})).create_body());
    CHECK(has(env, "LR=0.1"));
    // Added after the run's own, so the container sees the resource's value.
    CHECK(env.back() == "LIFTOFF_PROJECT=mine");
    CHECK(has(env, "LIFTOFF_PROJECT=proj"));
  }
  SECTION("array form") {
    auto env = env_of(started(with_args({{"env", json::array{"A=1", "B=x=y", "C="}}})).create_body());
    CHECK(has(env, "A=1"));
    CHECK(has(env, "B=x=y"));
    CHECK(has(env, "C="));
  }
  SECTION("errors") {
    CHECK(error_of(with_args({{"env", "A=1"}})) ==
          "resource_args.local-container.env: expected an object of strings or an array of \"NAME=value\" strings, "
          "got string");
    CHECK(error_of(with_args({{"env", json::object{{"A", 1}}}})) ==
          "resource_args.local-container.env.A: expected a string, got integer");
    CHECK(error_of(with_args({{"env", json::array{"A"}}})) ==
          "resource_args.local-container.env[0]: expected \"NAME=value\", got 'A'");
    CHECK(error_of(with_args({{"env", json::array{"=1"}}})) ==
          "resource_args.local-container.env[0]: '' is not a valid environment variable name");
    CHECK(error_of(with_args({{"env", json::array{true}}})) ==
          "resource_args.local-container.env[0]: expected a \"NAME=value\" string, got boolean");
  }
}

TEST_CASE("docker_target converts workdir, name, pids-limit, network and platform", "[docker][docker_target]") {
  auto d = started(with_args({{"workdir", "/work"}, {"name", "train-1.a_b"}, {"pids-limit", 100}, {"network", "none"}}));
  auto body = d.create_body();
  CHECK(body.at("WorkingDir") == "/work");
  CHECK(body.at("HostConfig").at("PidsLimit") == 100);
  CHECK(body.at("HostConfig").at("NetworkMode") == "none");
  auto create = d.requests("/containers/create").at(0);
  CHECK(create.at("query").at("name") == "train-1.a_b");

  CHECK_FALSE(create.at("query").as_object().contains("platform"));  // no platform: whatever image the engine has

  // A platform goes to the engine on the pull and on the create, as `docker run --platform` sends it.
  auto p = started(with_args({{"platform", "linux/arm64/v8"}}));
  auto pull = p.requests("/images/create").at(0);
  CHECK(pull.at("query").at("platform") == "linux/arm64/v8");
  CHECK(p.requests("/containers/create").at(0).at("query") == json::object{{"platform", "linux/arm64/v8"}});

  CHECK(docker_target{}.validate(with_args({{"platform", "linux/arm64/v8"}})));
  CHECK(docker_target{}.validate(with_args({{"platform", "linux/amd64"}})));

  CHECK(error_of(with_args({{"workdir", "work"}})) ==
        "resource_args.local-container.workdir: expected an absolute path in the container, got 'work'");
  CHECK(error_of(with_args({{"name", "-bad"}})) ==
        "resource_args.local-container.name: expected a container name matching [a-zA-Z0-9][a-zA-Z0-9_.-]+, got '-bad'");
  CHECK(error_of(with_args({{"name", 3}})) == "resource_args.local-container.name: expected a container name, got integer");
  CHECK(error_of(with_args({{"pids-limit", "100"}})) ==
        "resource_args.local-container.pids-limit: expected an integer (0 or -1: no limit), got string");
  CHECK(error_of(with_args({{"pids-limit", -2}})) ==
        "resource_args.local-container.pids-limit: expected an integer (0 or -1: no limit), got '-2'");
  CHECK(error_of(with_args({{"platform", "amd64"}})) ==
        "resource_args.local-container.platform: expected a platform like linux/amd64, got 'amd64'");
  CHECK(error_of(with_args({{"network", json::array{}}})) ==
        "resource_args.local-container.network: expected a network name or mode (bridge, host, none, container:ID, "
        "NAME), got array");
  CHECK(error_of(launch_spec([] {
          auto s = job();
          s.resource_args["local-container"] = "fast";
          return s;
        }())) == "resource_args.local-container: expected an object, got string");
}

TEST_CASE("docker_target rejects keys outside its allow-list", "[docker][docker_target]") {
  std::string const allowed =
      "(allowed: cpus, memory, gpus, shm-size, env, workdir, name, ulimit, pids-limit, platform, network)";
  for (auto key : {"privileged", "volume", "cap-add"}) {
    INFO(key);
    auto v = docker_target{}.validate(with_args({{key, true}}));
    REQUIRE_FALSE(v);
    CHECK(v.error().code == error::unknown_field);
    CHECK(v.error().what() == "resource_args.local-container: unknown field '" + std::string(key) + "' " + allowed);
  }
  CHECK(error_of(with_args({{"memroy", "1g"}})) ==
        "resource_args.local-container: unknown field 'memroy', did you mean 'memory'? " + allowed);
  // start checks too, and creates nothing.
  dry_run d;
  auto r = offline_target().start(image_artifact(), with_args({{"privileged", true}}), d.options);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::unknown_field);
  CHECK(d.actions.empty());
}

TEST_CASE("docker_target chooses Entrypoint and Cmd like docker run", "[docker][docker_target]") {
  SECTION("the job's entry point replaces the image's, args after it") {
    auto s = job({"python", "train.py"});
    s.overrides.args = {"--lr", "0.1"};
    auto body = started(s).create_body();
    CHECK(body.at("Entrypoint") == json::array{"python", "train.py", "--lr", "0.1"});
    CHECK_FALSE(body.contains("Cmd"));
  }
  SECTION("an override entry point wins") {
    auto s = job({"python", "train.py"});
    s.overrides.entry_point = std::vector<std::string>{"sh", "-c", "echo hi"};
    CHECK(started(s).create_body().at("Entrypoint") == json::array{"sh", "-c", "echo hi"});
  }
  SECTION("args alone replace the image's CMD") {
    auto s = job({});
    s.overrides.args = {"--epochs", "3"};
    auto body = started(s).create_body();
    CHECK_FALSE(body.contains("Entrypoint"));
    CHECK(body.at("Cmd") == json::array{"--epochs", "3"});
  }
  SECTION("neither: the image's defaults") {
    auto body = started(job({})).create_body();
    CHECK_FALSE(body.contains("Entrypoint"));
    CHECK_FALSE(body.contains("Cmd"));
  }
  SECTION("an empty override entry point clears the image's") {
    auto s = job({"python"});
    s.overrides.entry_point = std::vector<std::string>{};
    s.overrides.args = {"/bin/true"};
    auto body = started(s).create_body();
    CHECK(body.at("Entrypoint") == json::array{""});
    CHECK(body.at("Cmd") == json::array{"/bin/true"});
  }
}

TEST_CASE("docker_target dry run sends nothing and shows the container it would run", "[docker][docker_target]") {
  auto s = job({"sh", "-c", "echo hi"});
  s.overrides.run_config = {{"epochs", 3}};
  dry_run d;
  d.options.environment = {{"LIFTOFF_SERVER", "http://q:8080"}};
  auto r = offline_target().start(image_artifact("registry.example/team/trainer:2"), s, d.options);
  INFO((r ? std::string() : r.error().what()));
  REQUIRE(r.has_value());
  CHECK(r->status().state == run_state::finished);
  CHECK(r->status().exit_code == 0);
  CHECK(r->wait().state == run_state::finished);
  CHECK(r->id() == "run12345");
  CHECK(r->container_id().empty());
  CHECK(r->logs().empty());
  r->cancel(std::chrono::milliseconds(10));  // nothing to cancel
  CHECK(d.statuses.empty());  // nothing ran, so nothing was reported running

  for (auto const& a : d.actions) {
    CHECK(a.at("stage") == "run");
    CHECK(a.at("action") == "docker api");
  }
  std::vector<std::string> calls;
  for (auto const& a : d.actions) {
    auto const& req = a.at("request").as_object();
    calls.push_back(std::string(req.at("method").as_string()) + " " + std::string(req.at("path").as_string()));
  }
  CHECK(calls == std::vector<std::string>{"GET /v1.41/images/registry.example/team/trainer:2/json",
                                          "POST /v1.41/images/create", "POST /v1.41/containers/create",
                                          "POST /v1.41/containers/dry-run/wait", "POST /v1.41/containers/dry-run/start",
                                          "DELETE /v1.41/containers/dry-run"});
  auto pull = d.requests("/images/create").at(0);
  CHECK(pull.at("query").at("fromImage") == "registry.example/team/trainer");
  CHECK(pull.at("query").at("tag") == "2");
  CHECK(d.requests("/wait").at(0).at("query").at("condition") == "next-exit");

  auto body = d.create_body();
  CHECK(body.at("Image") == "registry.example/team/trainer:2");
  CHECK(body.at("Entrypoint") == json::array{"sh", "-c", "echo hi"});
  CHECK(body.at("Tty") == false);
  CHECK(body.at("Labels") ==
        json::object{{"liftoff.run-id", "run12345"}, {"liftoff.project", "proj"}, {"liftoff.job", "trainer"}});
  auto env = env_of(body);
  CHECK(has(env, "LIFTOFF_RUN_ID=run12345"));
  CHECK(has(env, "LIFTOFF_PROJECT=proj"));
  CHECK(has(env, "LIFTOFF_JOB=trainer"));
  CHECK(has(env, "LIFTOFF_RUN_NAME=bright-run"));
  CHECK(has(env, "LIFTOFF_CONFIG={\"epochs\":3}"));
  CHECK(has(env, "LIFTOFF_SERVER=http://q:8080"));
}

TEST_CASE("docker_target keeps the container when asked", "[docker][docker_target]") {
  auto t = offline_target();
  t.remove = false;
  dry_run d;
  REQUIRE(t.start(image_artifact(), job(), d.options).has_value());
  CHECK(d.requests("/containers/dry-run").empty());
  CHECK(d.requests("/containers/dry-run/start").size() == 1);
}

TEST_CASE("docker_target refuses what it cannot run", "[docker][docker_target]") {
  dry_run d;
  artifact dir;
  dir.kind = artifact_kind::directory;
  dir.directory = "/tmp";
  auto r = offline_target().start(dir, job(), d.options);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().what() == "local-container runs an image, but got a directory");
  CHECK(d.actions.empty());
}

TEST_CASE("docker_target outside a dry run says when the engine cannot be reached", "[docker][docker_target]") {
  launch_options o;
  auto r = offline_target().start(image_artifact(), job(), o);
  REQUIRE_FALSE(r.has_value());
  CHECK(contains(r.error().what(), "cannot reach the Docker engine at unix:///nonexistent/liftoff-docker.sock"));
}

TEST_CASE("docker_image_launcher expands macros before the target checks them", "[docker][docker_target]") {
  auto s = job({"sh", "-c", "true"});
  s.resource_args["local-container"] = json::object{{"name", "run-${run_id}"}};
  docker_image_launcher l;
  l.target_policy().engine.host = "unix:///nonexistent/liftoff-docker.sock";
  CHECK(l.validate(s));
  dry_run d;
  auto r = l.try_launch(s, d.options);
  INFO((r ? std::string() : r.error().what()));
  REQUIRE(r.has_value());
  CHECK(r->status().state == run_state::finished);
  CHECK(d.requests("/containers/create").at(0).at("query").at("name") == "run-run12345");
  CHECK(d.create_body().at("Image") == "trainer:1");
}
