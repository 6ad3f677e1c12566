// registry_push against the real Docker engine and the Docker Registry v2 that
// .ci/start-registry runs at 127.0.0.1:5000 (plain HTTP on the loopback, which
// the engine treats as an insecure registry). Skipped, saying why, when either
// does not answer. Every repository is unique to the test process, and every
// local name a test makes is removed.

#include <liftoff/docker/registry_push.hpp>

#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <random>
#include <unistd.h>

using namespace std::chrono_literals;
using liftoff::artifact;
using liftoff::artifact_kind;
using liftoff::failure_stage;
using liftoff::launch_options;
using liftoff::launch_spec;
using liftoff::registry_push;
using liftoff::docker::engine;
namespace json = boost::json;

namespace {

constexpr char const* registry_address = "127.0.0.1:5000";

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// A name unique to this test process, so concurrent runs never share repositories.
std::string unique_id() {
  static std::string const id = [] {
    std::random_device rd;
    return std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
  }();
  return id;
}

/// A client of the registry's own HTTP API, or nullopt after saying why the test is skipped.
std::optional<liftoff::net::client> registry_or_skip() {
  liftoff::net::client_options o;
  o.connect_timeout = 2s;
  o.request_timeout = 10s;
  auto c = liftoff::net::client::create(std::string("http://") + registry_address, o);
  REQUIRE(c.has_value());
  liftoff::net::request req;
  req.target = "/v2/";
  req.check_status = false;
  auto r = c->send(req);
  if (!r || r->status != 200) {
    WARN("skipped: no Docker registry answers at http://" << registry_address << "/v2/ (start one with "
                                                                                 ".ci/start-registry): "
                                                           << (r ? std::to_string(r->status) : r.error().message));
    return std::nullopt;
  }
  return std::move(*c);
}

/// A port on the loopback where nothing listens (it was free a moment ago).
unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

/// A random content digest, so each run pushes under a tag of its own.
std::string random_digest() {
  std::random_device rd;
  std::mt19937_64 g(rd());
  std::string hex;
  while (hex.size() < 64) {
    auto v = g();
    for (int i = 0; i < 16 && hex.size() < 64; ++i, v >>= 4) hex += "0123456789abcdef"[v & 15];
  }
  return "sha256:" + hex;
}

/// Records what a push reports.
struct recorder {
  std::vector<std::string> logs, progress;
  launch_options options() {
    launch_options o;
    o.on_log = [this](liftoff::log_line const& l) { logs.push_back(l.text); };
    o.on_progress = [this](std::string_view l) { progress.emplace_back(l); };
    return o;
  }
  bool logged(std::string_view part) const {
    for (auto const& l : logs)
      if (contains(l, part)) return true;
    return false;
  }
};

/// Removes the local names a test made, whatever happens in it.
struct cleanup {
  engine& e;
  std::vector<std::string> images;
  ~cleanup() {
    for (auto const& i : images) (void)e.remove_image(i);
  }
};

}  // namespace

TEST_CASE("registry_push pushes a local image to a registry, then skips the unchanged push", "[registry-push]") {
  auto e = liftoff::test::engine_or_skip();
  if (!e) return;
  auto reg = registry_or_skip();
  if (!reg) return;

  std::string const repo_path = "liftoff-test/push-" + unique_id();
  registry_push t;
  t.repository = std::string(registry_address) + "/" + repo_path;
  t.docker_config = "/nonexistent/liftoff-test/config.json";  // anonymous, whatever this machine's config says
  launch_spec spec;
  spec.resource = "kubernetes";

  artifact in{artifact_kind::local_image, {}, liftoff::test::docker_base_image, random_digest(), nullptr};
  std::string const tag = in.digest.substr(7, 32);
  std::string const pushed = t.repository + "/busybox:" + tag;
  cleanup c{*e, {pushed}};

  recorder first;
  auto out = t.deliver(in, spec, first.options());
  REQUIRE(out.has_value());
  CHECK(out->kind == artifact_kind::registry_image);
  CHECK(out->digest == in.digest);
  REQUIRE(out->image.starts_with(t.repository + "/busybox@sha256:"));
  std::string const digest = out->image.substr(out->image.find('@') + 1);
  CHECK(first.logged("pushing image " + pushed));
  CHECK_FALSE(first.progress.empty());
  CHECK(std::find(first.progress.begin(), first.progress.end(),
                  "The push refers to repository [" + t.repository + "/busybox]") != first.progress.end());

  // The registry itself has the tag, and the manifest it serves for it is the one the artifact pins.
  liftoff::net::request tags;
  tags.target = "/v2/" + repo_path + "/busybox/tags/list";
  auto listed = reg->send(tags);
  REQUIRE(listed.has_value());
  auto tag_list = json::parse(listed->body).as_object().at("tags").as_array();
  CHECK(tag_list == json::array{json::string(tag)});
  liftoff::net::request manifest;
  manifest.target = "/v2/" + repo_path + "/busybox/manifests/" + tag;
  manifest.headers.set("Accept", "application/vnd.docker.distribution.manifest.v2+json");
  auto m = reg->send(manifest);
  REQUIRE(m.has_value());
  auto served = m->headers.find("Docker-Content-Digest");
  REQUIRE(served != m->headers.end());
  CHECK(std::string(served->value()) == digest);

  // Unchanged content: the registry has the tag, so nothing is tagged or pushed.
  REQUIRE(e->remove_image(pushed).has_value());
  recorder second;
  auto again = t.deliver(in, spec, second.options());
  REQUIRE(again.has_value());
  CHECK(again->image == out->image);
  CHECK(second.progress.empty());
  CHECK(second.logged("image " + pushed + " is already in the registry; no push needed"));
  CHECK_FALSE(second.logged("pushing image"));
  auto local = e->inspect_image(pushed);
  REQUIRE(local.has_value());
  CHECK_FALSE(local->has_value());  // not even tagged again

  // The registry .ci/start-registry runs allows deletes: leave no manifest behind.
  liftoff::net::request remove;
  remove.method = boost::beast::http::verb::delete_;
  remove.target = "/v2/" + repo_path + "/busybox/manifests/" + digest;
  remove.check_status = false;
  auto removed = reg->send(remove);
  CHECK((removed && removed->status == 202));
}

TEST_CASE("registry_push to a registry port where nothing listens fails at stage push, saying so",
          "[registry-push]") {
  auto e = liftoff::test::engine_or_skip();
  if (!e) return;

  registry_push t;
  t.repository = "127.0.0.1:" + std::to_string(free_port()) + "/liftoff-test/push-" + unique_id();
  t.docker_config = "/nonexistent/liftoff-test/config.json";
  launch_spec spec;
  spec.resource = "kubernetes";
  artifact in{artifact_kind::local_image, {}, liftoff::test::docker_base_image, random_digest(), nullptr};
  std::string const pushed = t.repository + "/busybox:" + in.digest.substr(7, 32);
  cleanup c{*e, {pushed}};

  auto out = t.deliver(in, spec, {});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == liftoff::error::push_failed);
  CHECK(out.error().stage == failure_stage::push);
  CHECK(out.error().message.starts_with("pushing " + pushed + ": "));
  CHECK(contains(out.error().message, "connection refused"));

  // Without a content digest there is no registry check first: the push itself fails, saying why.
  artifact untagged{artifact_kind::local_image, {}, liftoff::test::docker_base_image, "", nullptr};
  std::string const latest = t.repository + "/busybox:latest";
  c.images.push_back(latest);
  recorder rec;
  auto push = t.deliver(untagged, spec, rec.options());
  REQUIRE_FALSE(push.has_value());
  CHECK(push.error().code == liftoff::error::push_failed);
  CHECK(push.error().stage == failure_stage::push);
  CHECK(push.error().message.starts_with("pushing " + latest + ": "));
  CHECK(contains(push.error().message, "connection refused"));
}
