#include <liftoff/docker/engine.hpp>

#include "support/net_test_server.hpp"
#include "support/env_guard.hpp"
#include "support/test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

using namespace std::chrono_literals;
using liftoff::docker::engine;
using liftoff::docker::engine_options;
using liftoff::test::net_exchange;
using liftoff::test::net_header_list;
using liftoff::test::net_server_request;
using liftoff::test::net_test_server;
namespace json = boost::json;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

using liftoff::test::env_guard;

unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

engine_options fast(std::string host) {
  engine_options o;
  o.host = std::move(host);
  o.net.backoff_base = 5ms;
  o.net.connect_timeout = 2s;
  return o;
}

/// A frame of the engine's multiplexed log stream.
std::string frame(unsigned char type, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(type);
  auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) f[7 - i] = static_cast<char>(n >> (8 * i));
  return f + std::string(payload);
}

/// Whether a fake engine's `/_ping` carries the `Api-Version` header, as an engine does.
enum class ping_header { api_version, none };

/** A fake engine: answers `HEAD /_ping` with `api` in its `Api-Version` header
    (unless `ping` is `none`, as a proxy that drops it), `GET /version` with
    `api`, remembers every request and hands the rest to `routes`. */
struct fake_engine {
  std::mutex m;
  std::vector<net_server_request> seen;
  std::unique_ptr<net_test_server> server;

  fake_engine(std::string api, std::function<void(net_exchange&)> routes = {}, ping_header ping = ping_header::api_version) {
    server = net_test_server::tcp([this, api, routes, ping](net_exchange& ex) {
      {
        std::lock_guard lock(m);
        seen.push_back(ex.request());
      }
      if (ex.request().target == "/_ping") {
        net_header_list h{{"Docker-Experimental", "false"}, {"Ostype", "linux"}, {"Cache-Control", "no-cache"}};
        if (ping == ping_header::api_version) h.emplace_back("Api-Version", api);
        ex.respond(200, "OK", h);
      } else if (ex.request().target == "/version") {
        ex.respond(200, R"({"Version":"fake","ApiVersion":")" + api + R"(","MinAPIVersion":"1.12"})",
                   {{"Content-Type", "application/json"}});
      } else if (routes) {
        routes(ex);
      } else {
        ex.respond(404, R"({"message":"page not found"})");
      }
    });
  }
  std::string url() const { return server->url(); }
  net_server_request last() {
    std::lock_guard lock(m);
    return seen.back();
  }
  /// "METHOD target" of every request so far.
  std::vector<std::string> calls() {
    std::lock_guard lock(m);
    std::vector<std::string> out;
    for (auto const& r : seen) out.push_back(r.method + " " + r.target);
    return out;
  }
};

}  // namespace

TEST_CASE("the API version is negotiated with HEAD /_ping, as the docker CLI does", "[docker]") {
  SECTION("an engine older than API 1.41 is refused with a sentence") {
    fake_engine fake("1.40");
    auto e = engine::connect(fast(fake.url()));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == liftoff::error::unsupported);
    CHECK(e.error().message ==
          "Docker engine at " + fake.url() + " speaks API 1.40; liftoff needs 1.41 (Docker 20.10) or newer");
    CHECK(fake.calls() == std::vector<std::string>{"HEAD /_ping"});
  }
  SECTION("the engine's version when this client knows it, from the ping alone") {
    fake_engine fake("1.43");
    auto port = std::to_string(fake.server->port());
    auto e = engine::connect(fast("tcp://127.0.0.1:" + port));
    REQUIRE(e.has_value());
    CHECK(e->api_version() == "1.43");
    CHECK(e->host() == "tcp://127.0.0.1:" + port);
    CHECK(fake.calls() == std::vector<std::string>{"HEAD /_ping"});
    // The ping's connection serves the next request: the HEAD answer left nothing behind on it.
    auto img = e->inspect_image("localhost:5000/team/app:v1");
    REQUIRE(img.has_value());
    CHECK_FALSE(img->has_value());  // the fake's 404
    CHECK(fake.last().target == "/v1.43/images/localhost:5000/team/app:v1/json");
    CHECK(fake.server->connections() == 1);
  }
  SECTION("this client's newest version for a newer engine") {
    fake_engine fake("1.52");
    auto e = engine::connect(fast(fake.url()));
    REQUIRE(e.has_value());
    CHECK(e->api_version() == std::string(liftoff::docker::max_api_version));
  }
  SECTION("an explicit version newer than the engine's is refused") {
    fake_engine fake("1.41");
    auto o = fast(fake.url());
    o.api_version = "1.44";
    auto e = engine::connect(o);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().message == "Docker engine at " + fake.url() +
                                   " speaks API 1.41 at most; engine_options.api_version asks for 1.44");
    o.api_version = "1.41";
    CHECK(engine::connect(o).value().api_version() == "1.41");
  }
  SECTION("a peer that is not a Docker engine") {
    auto server = net_test_server::tcp([](net_exchange& ex) { ex.respond(200, "<html>hello</html>"); });
    auto e = engine::connect(fast(server->url()));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == liftoff::error::protocol_error);
    CHECK(e.error().message == server->url() + " answered GET /version with 200 OK and no ApiVersion: is it a Docker engine?");
  }
}

TEST_CASE("without an Api-Version header on /_ping, the API version comes from GET /version", "[docker]") {
  SECTION("the engine's version") {
    fake_engine fake("1.43", {}, ping_header::none);
    auto e = engine::connect(fast(fake.url()));
    REQUIRE(e.has_value());
    CHECK(e->api_version() == "1.43");
    CHECK(fake.calls() == std::vector<std::string>{"HEAD /_ping", "GET /version"});
  }
  SECTION("capped to this client's newest") {
    fake_engine fake("1.52", {}, ping_header::none);
    CHECK(engine::connect(fast(fake.url())).value().api_version() == std::string(liftoff::docker::max_api_version));
  }
  SECTION("an engine older than API 1.41 is refused") {
    fake_engine fake("1.40", {}, ping_header::none);
    auto e = engine::connect(fast(fake.url()));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().message ==
          "Docker engine at " + fake.url() + " speaks API 1.40; liftoff needs 1.41 (Docker 20.10) or newer");
  }
  SECTION("an explicit version newer than the engine's is refused") {
    fake_engine fake("1.41", {}, ping_header::none);
    auto o = fast(fake.url());
    o.api_version = "1.42";
    auto e = engine::connect(o);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == liftoff::error::unsupported);
    CHECK(contains(e.error().message, "speaks API 1.41 at most; engine_options.api_version asks for 1.42"));
  }
  SECTION("a ping the engine does not know (404) is no failure") {
    auto server = net_test_server::tcp([](net_exchange& ex) {
      if (ex.request().target == "/version") ex.respond(200, R"({"ApiVersion":"1.41"})");
      else ex.respond(404, R"({"message":"page not found"})");
    });
    CHECK(engine::connect(fast(server->url())).value().api_version() == "1.41");
  }
}

TEST_CASE("an unreachable engine is named, with where its address came from and how to start one", "[docker]") {
  liftoff::test::temp_dir dir("liftoff-docker-engine");
  auto const sock = "unix://" + (dir / "docker.sock").string();

  SECTION("configured") {
    auto e = engine::connect(fast(sock));
    REQUIRE_FALSE(e.has_value());
    auto const& m = e.error().message;
    CHECK(m.starts_with("cannot reach the Docker engine at " + sock + ": cannot connect to the socket: no such file or directory"));
    CHECK(m.ends_with(" — start it with `systemctl start docker` or `dockerd`"));
  }
  SECTION("from DOCKER_HOST") {
    auto const tcp = "tcp://127.0.0.1:" + std::to_string(free_port());
    env_guard guard("DOCKER_HOST", tcp.c_str());
    auto e = engine::connect(fast(""));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == boost::system::errc::connection_refused);
    CHECK(contains(e.error().message, "cannot reach the Docker engine at " + tcp + " (from DOCKER_HOST): connection refused"));
    CHECK(contains(e.error().message, "`systemctl start docker` or `dockerd`, or point DOCKER_HOST at a running engine"));
  }
  SECTION("tcp:// without a port means Docker's 2375") {
    env_guard guard("DOCKER_HOST", "tcp://127.0.0.1");
    engine_options o;
    o.on_request = [](json::object const&) {};
    CHECK(engine::connect(o).value().host() == "tcp://127.0.0.1:2375");
  }
  SECTION("the default socket, when DOCKER_HOST is not set") {
    env_guard guard("DOCKER_HOST", nullptr);
    engine_options o;
    o.on_request = [](json::object const&) {};
    auto e = engine::connect(o);
    REQUIRE(e.has_value());
    CHECK(e->host() == "unix:///var/run/docker.sock");
    CHECK(e->api_version() == "1.41");
  }
  SECTION("schemes liftoff does not speak") {
    env_guard guard("DOCKER_HOST", "ssh://user@build-host");
    auto e = engine::connect(fast(""));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == liftoff::error::unsupported);
    CHECK(contains(e.error().message, "DOCKER_HOST 'ssh://user@build-host' is not supported"));
  }
}

TEST_CASE("pulls stream progress, send registry credentials and report the registry's refusal", "[docker]") {
  std::string const denied = "pull access denied for private/app, repository does not exist or may require 'docker login'";
  fake_engine fake("1.41", [&](net_exchange& ex) {
    auto const& t = ex.request().target;
    ex.begin_chunked(200, {{"Content-Type", "application/json"}});
    ex.send_chunk(R"({"status":"Pulling from private/app","id":"v1"})" "\r\n" R"({"status":"Pulling fs)");
    ex.send_chunk(R"( layer","id":"aa"})" "\r\n" R"({"status":"Downloading","progress":"[=> ]","id":"aa"})" "\r\n");
    ex.send_chunk(R"({"status":"Downloading","progress":"[==>]","id":"aa"})" "\r\n");
    if (contains(t, "private"))
      ex.send_chunk(R"({"errorDetail":{"message":")" + denied + R"("},"error":")" + denied + R"("})" "\r\n");
    else
      ex.send_chunk(R"({"status":"Pull complete","id":"aa"})" "\r\n" R"({"status":"Status: Downloaded newer image for x"})" "\r\n");
    ex.end_chunked();
  });
  auto e = engine::connect(fast(fake.url())).value();

  std::vector<std::string> lines;
  REQUIRE(e.pull("localhost:5000/public/app:2", nullptr, [&](std::string_view l) { lines.emplace_back(l); }).has_value());
  CHECK(lines == std::vector<std::string>{"v1: Pulling from private/app", "aa: Pulling fs layer", "aa: Downloading",
                                          "aa: Pull complete", "Status: Downloaded newer image for x"});
  CHECK(fake.last().target == "/v1.41/images/create?fromImage=localhost%3A5000%2Fpublic%2Fapp&tag=2");
  CHECK(fake.last().header("x-registry-auth").empty());

  liftoff::docker::registry_auth auth{"carol", "very-secret-pw", "", "localhost:5000"};
  auto r = e.pull("localhost:5000/private/app", &auth);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "pulling localhost:5000/private/app: " + denied);
  CHECK_FALSE(contains(r.error().message, "very-secret-pw"));
  CHECK(fake.last().header("x-registry-auth") == liftoff::docker::registry_auth_header(auth));
  CHECK(contains(fake.last().target, "tag=latest"));

  // A platform goes to the engine as `docker pull --platform` sends it, and the refusal names it.
  lines.clear();
  REQUIRE(e.pull("localhost:5000/public/app:2", nullptr, [&](std::string_view l) { lines.emplace_back(l); }, "linux/arm64/v8")
              .has_value());
  CHECK(fake.last().target == "/v1.41/images/create?fromImage=localhost%3A5000%2Fpublic%2Fapp&tag=2&platform=linux%2Farm64%2Fv8");
  CHECK(lines.size() == 5);
  auto p = e.pull("localhost:5000/private/app", &auth, {}, "linux/s390x");
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().message == "pulling localhost:5000/private/app for linux/s390x: " + denied);
  CHECK(contains(fake.last().target, "&platform=linux%2Fs390x"));
}

TEST_CASE("a pull refused before the stream starts carries the engine's message", "[docker]") {
  fake_engine fake("1.41", [](net_exchange& ex) {
    ex.respond(500, R"({"message":"Get \"https://127.0.0.1:9/v2/\": dial tcp 127.0.0.1:9: connect: connection refused"})");
  });
  auto e = engine::connect(fast(fake.url())).value();
  auto r = e.pull("127.0.0.1:9/nope:1", nullptr);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message ==
        R"(pulling 127.0.0.1:9/nope:1: Get "https://127.0.0.1:9/v2/": dial tcp 127.0.0.1:9: connect: connection refused)");
  auto bad = e.pull("Not Valid", nullptr);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::invalid_spec);
}

TEST_CASE("builds stream the context chunked and name the failing step", "[docker]") {
  std::string const context(100000, 'x');  // stands in for a tar stream
  fake_engine fake("1.41", [](net_exchange& ex) {
    ex.begin_chunked(200, {{"Content-Type", "application/json"}});
    ex.send_chunk(R"({"stream":"Step 1/2 : FROM base"})" "\r\n" R"({"stream":"\n"})" "\r\n");
    ex.send_chunk(R"({"stream":"Step 2/2 : RUN false\n"})" "\r\n");
    ex.send_chunk(R"({"errorDetail":{"code":1,"message":"The command '/bin/sh -c false' returned a non-zero code: 1"},"error":"x"})" "\r\n");
    ex.end_chunked();
  });
  auto e = engine::connect(fast(fake.url())).value();
  std::size_t offset = 0;
  auto reader = [&](std::span<char> buf, liftoff::error_code&) {
    auto n = std::min(buf.size(), context.size() - offset);
    std::copy_n(context.data() + offset, n, buf.data());
    offset += n;
    return n;
  };
  liftoff::docker::build_request req;
  req.tags = {"app:abc", "app:latest"};
  req.dockerfile = "sub/Dockerfile";
  req.labels = {{"liftoff.job", "j 1"}};
  req.build_args = {{"A", "b&c"}};
  std::vector<std::string> out;
  auto r = e.build(req, reader, [&](std::string_view l) { out.emplace_back(l); });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == liftoff::error::build_failed);
  CHECK(r.error().stage == liftoff::failure_stage::build);
  CHECK(r.error().message ==
        "the Docker build failed at Step 2/2 : RUN false: The command '/bin/sh -c false' returned a non-zero code: 1");
  CHECK(out == std::vector<std::string>{"Step 1/2 : FROM base", "Step 2/2 : RUN false"});

  auto const seen = fake.last();
  CHECK(seen.chunked);
  CHECK(seen.body == context);
  CHECK(seen.header("content-type") == "application/x-tar");
  CHECK(seen.target ==
        "/v1.41/build?t=app%3Aabc&t=app%3Alatest&dockerfile=sub%2FDockerfile"
        "&labels=%7B%22liftoff.job%22%3A%22j%201%22%7D&buildargs=%7B%22A%22%3A%22b%26c%22%7D&rm=1&forcerm=1");
}

TEST_CASE("container calls: create, a missing image, logs demultiplexed, wait", "[docker]") {
  fake_engine fake("1.41", [](net_exchange& ex) {
    auto const& t = ex.request().target;
    if (t.starts_with("/v1.41/containers/create")) {
      if (contains(ex.request().body, "missing:1"))
        ex.respond(404, R"({"message":"No such image: missing:1"})");
      else if (contains(t, "platform=linux%2Fs390x"))  // what 20.10 answers for an image of another platform
        ex.respond(404, R"({"message":"image with reference busybox:1 was found but does not match the specified )"
                        R"(platform: wanted linux/s390x, actual: linux/amd64"})");
      else
        ex.respond(201, R"({"Id":"c0ffee","Warnings":[]})");
    } else if (t == "/v1.41/containers/c0ffee/json") {
      ex.respond(200, R"({"Id":"c0ffee","Config":{"Tty":false},"State":{"ExitCode":3,"OOMKilled":false}})");
    } else if (t.starts_with("/v1.41/containers/c0ffee/logs")) {
      ex.begin_chunked(200, {{"Content-Type", "application/vnd.docker.raw-stream"}});  // what 20.10 says either way
      auto bytes = frame(1, "out 1\nout") + frame(2, "err 1\n") + frame(1, " 2\n");
      ex.send_chunk(bytes.substr(0, 5));
      ex.send_chunk(bytes.substr(5, 17));
      ex.send_chunk(bytes.substr(22));
      ex.end_chunked();
    } else if (t.starts_with("/v1.41/containers/c0ffee/wait")) {
      ex.respond(200, R"({"StatusCode":3,"Error":null})");
    } else {
      ex.respond(404, R"({"message":"No such container"})");
    }
  });
  auto e = engine::connect(fast(fake.url())).value();

  json::object config{{"Image", "liftoff-test/busybox:latest"}, {"Cmd", {"sh", "-c", "exit 3"}}};
  auto id = e.create_container(config, "run-1");
  REQUIRE(id.has_value());
  CHECK(*id == "c0ffee");
  CHECK(fake.last().target == "/v1.41/containers/create?name=run-1");
  CHECK(json::parse(fake.last().body) == json::value(config));

  auto missing = e.create_container(json::object{{"Image", "missing:1"}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message ==
        "creating a container: the engine has no image 'missing:1' (No such image: missing:1); pull or build it first");

  auto native = e.create_container(config, "run-2", "linux/amd64");
  REQUIRE(native.has_value());
  CHECK(fake.last().target == "/v1.41/containers/create?name=run-2&platform=linux%2Famd64");
  REQUIRE(e.create_container(config, {}, "linux/arm64/v8").has_value());
  CHECK(fake.last().target == "/v1.41/containers/create?platform=linux%2Farm64%2Fv8");
  auto foreign = e.create_container(json::object{{"Image", "busybox:1"}}, {}, "linux/s390x");
  REQUIRE_FALSE(foreign.has_value());
  CHECK(foreign.error().code == liftoff::error::http_status);
  CHECK(foreign.error().message ==
        "creating a container: the engine has no image 'busybox:1' for platform linux/s390x (image with reference "
        "busybox:1 was found but does not match the specified platform: wanted linux/s390x, actual: linux/amd64); "
        "pull or build it for that platform first");

  auto logs = e.logs("c0ffee", true);
  REQUIRE(logs.has_value());
  CHECK_FALSE(logs->tty());
  std::vector<std::pair<liftoff::log_stream, std::string>> lines;
  for (;;) {
    auto l = logs->next();
    REQUIRE(l.has_value());
    if (!*l) break;
    lines.emplace_back((*l)->stream, (*l)->text);
  }
  CHECK(lines == std::vector<std::pair<liftoff::log_stream, std::string>>{
                     {liftoff::log_stream::out, "out 1"}, {liftoff::log_stream::err, "err 1"}, {liftoff::log_stream::out, "out 2"}});
  CHECK(fake.last().target == "/v1.41/containers/c0ffee/logs?stdout=1&stderr=1&follow=1");
  // Below API 1.42 the engine does not say whether the stream is multiplexed: unless told, logs asks the container.
  auto calls = fake.calls();
  CHECK(calls.at(calls.size() - 2) == "GET /v1.41/containers/c0ffee/json");
  auto const before = calls.size();
  auto told = e.logs("c0ffee", false, false);
  REQUIRE(told.has_value());
  CHECK_FALSE(told->tty());
  REQUIRE(told->next().value().has_value());
  calls = fake.calls();
  CHECK(std::vector<std::string>(calls.begin() + static_cast<std::ptrdiff_t>(before), calls.end()) ==
        std::vector<std::string>{"GET /v1.41/containers/c0ffee/logs?stdout=1&stderr=1"});

  CHECK(e.wait_container("c0ffee").value() == 3);
  CHECK(fake.last().target == "/v1.41/containers/c0ffee/wait?condition=not-running");

  auto gone = e.inspect_container("nope");
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().message == "no such container: nope");
}

TEST_CASE("a dry run records the requests, sends nothing, and every one follows the specification", "[docker]") {
  std::vector<json::object> sent;
  engine_options o;
  o.host = "tcp://127.0.0.1:1";  // nothing listens: a request sent would fail
  o.on_request = [&](json::object const& r) { sent.push_back(r); };
  auto e = engine::connect(o).value();
  CHECK(e.dry_run());
  CHECK(e.api_version() == "1.41");

  liftoff::docker::registry_auth auth{"dave", "pw-should-not-show", "", "localhost:5000"};
  CHECK_FALSE(e.inspect_image("busybox").value().has_value());
  REQUIRE(e.pull("localhost:5000/app:1", &auth, {}, "linux/arm64").has_value());
  REQUIRE(e.tag_image("busybox", "localhost:5000/app:2").has_value());
  REQUIRE(e.remove_image("localhost:5000/app:2", true).has_value());
  liftoff::docker::build_request req;
  req.tags = {"a:1", "a:2"};
  req.platform = "linux/amd64";
  bool read = false;
  auto b = e.build(req, [&](std::span<char>, liftoff::error_code&) { read = true; return std::size_t(0); });
  REQUIRE(b.has_value());
  CHECK_FALSE(read);
  auto id = e.create_container(json::object{{"Image", "busybox"}}, "n", "linux/arm64").value();
  CHECK(id == "dry-run");
  REQUIRE(e.start_container(id).has_value());
  auto logs = e.logs(id, true).value();
  CHECK_FALSE(logs.next().value().has_value());
  CHECK(e.wait_container(id).value() == 0);
  REQUIRE(e.stop_container(id, 10s).has_value());
  REQUIRE(e.kill_container(id, "SIGTERM").has_value());
  CHECK(e.inspect_container(id).value().at("State").at("ExitCode") == 0);
  CHECK(e.list_containers({"liftoff.run-id=r1"}).value().empty());
  REQUIRE(e.remove_container(id, true).has_value());

  REQUIRE(sent.size() == 14);
  CHECK(json::serialize(sent[1]) ==
        R"({"method":"POST","path":"/v1.41/images/create","query":{"fromImage":"localhost:5000/app","tag":"1","platform":"linux/arm64"},)"
        R"("headers":{"X-Registry-Auth":"REDACTED"}})");
  CHECK(sent[4].at("query").at("t") == json::array{"a:1", "a:2"});
  CHECK(sent[4].at("body").as_string().starts_with("the build context"));
  CHECK(sent[5].at("body") == json::object{{"Image", "busybox"}});
  CHECK(sent[5].at("query") == json::object{{"name", "n"}, {"platform", "linux/arm64"}});
  CHECK(json::serialize(sent[12]) ==
        R"({"method":"GET","path":"/v1.41/containers/json","query":{"all":"1","filters":"{\"label\":[\"liftoff.run-id=r1\"]}"}})");
  for (auto const& r : sent) CHECK_FALSE(contains(json::serialize(r), "pw-should-not-show"));

  // Each request's path matches a spec path with that method, and each query parameter is declared there:
  // in API 1.40, but for those the CHANGELOG says 1.41 added (which 1.40 must then not have), and in 1.55.
  std::set<std::pair<std::string, std::string>> const added_in_1_41{{"/containers/create", "platform"}};
  for (auto const* file : {"v1.40.yaml", "v1.55.yaml"}) {
    auto const spec_file = liftoff::test::specs_dir() / "docker" / "versions" / file;
    if (!std::filesystem::exists(spec_file)) {
      WARN("spec check skipped: " << spec_file.string() << " is not present");
      return;
    }
    INFO(spec_file.string());
    bool const before_1_41 = std::string_view(file) == "v1.40.yaml";
    auto const paths = YAML::LoadFile(spec_file.string())["paths"];
    auto matches = [](std::string const& tmpl, std::string const& path) {
      // "{name}" stands for one or more characters, '/' included (image names): match piecewise.
      std::size_t t = 0, p = 0;
      while (t < tmpl.size()) {
        if (tmpl[t] == '{') {
          auto close = tmpl.find('}', t);
          auto literal = tmpl.substr(close + 1);
          if (literal.empty()) return p < path.size();
          auto at = path.rfind(literal);
          if (at == std::string::npos || at <= p || at + literal.size() != path.size()) return false;
          return true;
        }
        if (p >= path.size() || tmpl[t] != path[p]) return false;
        ++t, ++p;
      }
      return p == path.size();
    };
    for (auto const& r : sent) {
      std::string method(r.at("method").as_string());
      for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string path(r.at("path").as_string());
      path = path.substr(path.find('/', 1));  // drop "/v1.41"
      INFO(method << " " << path);
      std::optional<YAML::Node> op;
      std::string op_path;
      for (auto const& p : paths)
        if (matches(p.first.as<std::string>(), path) && p.second[method]) {
          // Prefer the literal path over a template ("/containers/json" over "/containers/{id}").
          if (!op || p.first.as<std::string>().find('{') == std::string::npos) {
            op = p.second[method];
            op_path = p.first.as<std::string>();
          }
        }
      REQUIRE(op.has_value());
      std::set<std::string> declared;
      for (auto const& param : (*op)["parameters"])
        if (param["in"].as<std::string>() == "query") declared.insert(param["name"].as<std::string>());
      if (auto const* q = r.if_contains("query"))
        for (auto const& kv : q->as_object()) {
          INFO("query parameter " << std::string(kv.key()));
          bool const newer = before_1_41 && added_in_1_41.count({op_path, std::string(kv.key())}) == 1;
          CHECK(declared.count(std::string(kv.key())) == (newer ? 0u : 1u));
        }
    }
  }
}
