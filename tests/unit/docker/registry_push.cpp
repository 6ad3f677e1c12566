#include <liftoff/docker/registry_push.hpp>

#include <liftoff/docker/builder.hpp>
#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/detail/base64.hpp>
#include <liftoff/source/image.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/docker/target.hpp>

#include "support/env_guard.hpp"
#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using liftoff::artifact;
using liftoff::artifact_kind;
using liftoff::error;
using liftoff::failure_stage;
using liftoff::launch_options;
using liftoff::launch_spec;
using liftoff::registry_push;
using liftoff::test::env_guard;
using liftoff::test::net_exchange;
using liftoff::test::net_server_request;
using liftoff::test::net_test_server;
using liftoff::test::temp_dir;
namespace json = boost::json;

namespace {

constexpr char const* content_digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char const* content_tag = "0123456789abcdef0123456789abcdef";
constexpr char const* manifest_digest = "sha256:ed57b07373d9c85b20fdd1572c2a7407772a4000aa2318206a8f99880ccbb672";

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// A local image as docker_builder leaves it.
artifact built_image(std::string image = std::string("liftoff/train:") + content_tag, std::string digest = content_digest) {
  return artifact{artifact_kind::local_image, {}, std::move(image), std::move(digest), nullptr};
}

launch_spec spec_for(std::string resource, json::object args = {}) {
  launch_spec s;
  s.source = liftoff::code_dir{"."};
  s.resource = resource;
  if (!args.empty()) s.resource_args[resource] = std::move(args);
  return s;
}

/// Records what a launch stage reports.
struct recorder {
  std::vector<std::string> logs, progress;
  std::vector<json::object> actions;
  launch_options options(bool dry = false) {
    launch_options o;
    o.on_log = [this](liftoff::log_line const& l) { logs.push_back(l.text); };
    o.on_progress = [this](std::string_view l) { progress.emplace_back(l); };
    if (dry) o.on_dry_run = [this](json::object const& a) { actions.push_back(a); };
    return o;
  }
  bool logged(std::string_view part) const {
    for (auto const& l : logs)
      if (contains(l, part)) return true;
    return false;
  }
};

/** A fake Docker engine: `/_ping` answers API 1.41; the distribution inspect,
    tag and push routes answer as `distribution`, `tag_status` and `push_stream` say. */
struct fake_engine {
  std::mutex m;
  std::vector<net_server_request> seen;
  unsigned distribution_status = 404;
  std::string distribution_body = R"({"message":"manifest unknown: manifest unknown"})";
  unsigned tag_status = 201;
  std::string push_stream;
  std::unique_ptr<net_test_server> server;

  fake_engine() {
    push_stream = std::string(R"({"status":"The push refers to repository [127.0.0.1:5000/team/train/train]"})") + "\r\n" +
                  R"({"status":"Preparing","progressDetail":{},"id":"e1c9d6f53585"})" + "\r\n" +
                  R"({"status":"Pushing","progress":"[=> ] 19kB/1.9MB","id":"e1c9d6f53585"})" + "\r\n" +
                  R"({"status":"Pushing","progress":"[==> ] 1.6MB/1.9MB","id":"e1c9d6f53585"})" + "\r\n" +
                  R"({"status":"Pushed","progressDetail":{},"id":"e1c9d6f53585"})" + "\r\n" +
                  R"({"status":")" + content_tag + ": digest: " + manifest_digest + R"( size: 527"})" + "\r\n" +
                  R"({"progressDetail":{},"aux":{"Tag":")" + content_tag + R"(","Digest":")" + manifest_digest +
                  R"(","Size":527}})" + "\r\n";
    server = net_test_server::tcp([this](net_exchange& ex) {
      std::unique_lock lock(m);
      seen.push_back(ex.request());
      auto const& t = ex.request().target;
      if (t == "/_ping") {
        ex.respond(200, "OK", {{"Api-Version", "1.41"}});
      } else if (t.starts_with("/v1.41/distribution/")) {
        ex.respond(distribution_status, distribution_body, {{"Content-Type", "application/json"}});
      } else if (contains(t, "/tag?")) {
        ex.respond(tag_status, tag_status == 201 ? "" : R"({"message":"No such image: liftoff/train:x"})");
      } else if (contains(t, "/push?")) {
        auto body = push_stream;
        lock.unlock();
        ex.begin_chunked(200, {{"Content-Type", "application/json"}});
        // Split mid-line, as an engine's chunks fall.
        ex.send_chunk(body.substr(0, body.size() / 2));
        ex.send_chunk(body.substr(body.size() / 2));
        ex.end_chunked();
      } else {
        ex.respond(404, R"({"message":"page not found"})");
      }
    });
  }

  registry_push transport(std::filesystem::path docker_config) {
    registry_push t;
    t.engine.host = server->url();
    t.engine.net.backoff_base = 5ms;
    t.engine.net.connect_timeout = 2s;
    t.repository = "127.0.0.1:5000/team/train";
    t.docker_config = std::move(docker_config);
    return t;
  }

  /// "METHOD target" of every request but the ping.
  std::vector<std::string> calls() {
    std::lock_guard lock(m);
    std::vector<std::string> out;
    for (auto const& r : seen)
      if (r.target != "/_ping") out.push_back(r.method + " " + r.target);
    return out;
  }
  net_server_request find(std::string_view part) {
    std::lock_guard lock(m);
    for (auto const& r : seen)
      if (contains(r.target, part)) return r;
    FAIL("no request to " << part);
    return {};
  }
};

json::object decode_auth(std::string const& header) {
  // base64url with padding, as the engine takes it
  std::string b64 = header;
  for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  auto text = liftoff::detail::base64_decode(b64);
  REQUIRE(text.has_value());
  return json::parse(*text).as_object();
}

}  // namespace

TEST_CASE("registry_push models the transport concept: images in, a registry image out", "[registry-push]") {
  using namespace liftoff;
  STATIC_REQUIRE(transport<registry_push>);
  STATIC_REQUIRE(registry_push::accepts(artifact_kind::local_image));
  STATIC_REQUIRE(registry_push::accepts(artifact_kind::registry_image));
  STATIC_REQUIRE_FALSE(registry_push::accepts(artifact_kind::directory));
  STATIC_REQUIRE(registry_push::output(artifact_kind::local_image) == artifact_kind::registry_image);
  STATIC_REQUIRE(registry_push::output(artifact_kind::registry_image) == artifact_kind::registry_image);
  // Both ways to an image compose with it; the launchers instantiate.
  using from_image = launcher<image_source, noop_builder, registry_push, docker_target>;
  using from_dir = launcher<local_dir_source, docker_builder, registry_push, docker_target>;
  STATIC_REQUIRE(std::is_same_v<from_image::transport_type, registry_push>);
  STATIC_REQUIRE(std::is_same_v<from_dir::transport_type, registry_push>);
  from_image a;
  from_dir b;
  CHECK(a.transport_policy().repository.empty());
  CHECK(b.transport_policy().repository.empty());
}

TEST_CASE("registry_push: the repository comes from the policy, then resource_args, then LIFTOFF_REGISTRY",
          "[registry-push]") {
  env_guard env("LIFTOFF_REGISTRY", "env.example:5000/from-env");
  registry_push t;

  auto spec = spec_for("kubernetes", {{"registry", "127.0.0.1:5000/team/train"}});
  auto r = t.resolve_repository(spec);
  REQUIRE(r.has_value());
  CHECK(r->first == "127.0.0.1:5000/team/train");
  CHECK(r->second == "resource_args.kubernetes.registry");

  t.repository = "registry.example.com/member";
  r = t.resolve_repository(spec);
  REQUIRE(r.has_value());
  CHECK(r->first == "registry.example.com/member");
  CHECK(r->second == "registry_push.repository");

  t.repository.clear();
  r = t.resolve_repository(spec_for("kubernetes"));
  REQUIRE(r.has_value());
  CHECK(r->first == "env.example:5000/from-env");
  CHECK(r->second == "LIFTOFF_REGISTRY");

  // An empty string (a template left blank) is no setting.
  r = t.resolve_repository(spec_for("kubernetes", {{"registry", ""}}));
  REQUIRE(r.has_value());
  CHECK(r->second == "LIFTOFF_REGISTRY");

  // Another resource's registry is not this one's.
  auto other = spec_for("kubernetes");
  other.resource_args["sagemaker"] = json::object{{"registry", "elsewhere:5000/x"}};
  CHECK(t.resolve_repository(other)->second == "LIFTOFF_REGISTRY");
}

TEST_CASE("registry_push: a missing or malformed repository is a clear error", "[registry-push]") {
  env_guard env("LIFTOFF_REGISTRY", nullptr);
  registry_push t;

  auto none = t.resolve_repository(spec_for("kubernetes"));
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == error::invalid_spec);
  CHECK(none.error().message ==
        "registry_push: no registry to push the image to: set resource_args.kubernetes.registry (a repository like "
        "\"127.0.0.1:5000/team/train\") or the environment variable LIFTOFF_REGISTRY");

  auto not_string = t.resolve_repository(spec_for("kubernetes", {{"registry", 5000}}));
  REQUIRE_FALSE(not_string.has_value());
  CHECK(not_string.error().code == error::invalid_spec);
  CHECK(contains(not_string.error().message, "resource_args.kubernetes.registry: expected a string"));

  for (auto const* bad : {"http://127.0.0.1:5000/team", "127.0.0.1:5000/Team", "127.0.0.1:5000/team:v1",
                          "127.0.0.1:5000/team/", "reg.example/app@sha256:0123"}) {
    INFO(bad);
    auto r = t.resolve_repository(spec_for("kubernetes", {{"registry", bad}}));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == error::invalid_spec);
    CHECK(r.error().message.starts_with("resource_args.kubernetes.registry: '" + std::string(bad) +
                                        "' is not an image repository"));
  }
  env_guard bad_env("LIFTOFF_REGISTRY", "not a repo");
  auto from_env = t.resolve_repository(spec_for("kubernetes"));
  REQUIRE_FALSE(from_env.has_value());
  CHECK(from_env.error().message.starts_with("LIFTOFF_REGISTRY: 'not a repo' is not an image repository"));
}

TEST_CASE("registry_push: validate needs a repository only when something will be pushed", "[registry-push]") {
  env_guard env("LIFTOFF_REGISTRY", nullptr);
  registry_push t;
  launch_spec from_image;
  from_image.source = liftoff::image_ref{"busybox"};
  from_image.resource = "kubernetes";
  CHECK(t.validate(from_image).has_value());
  from_image.resource_args["kubernetes"] = json::object{{"registry", "Bad Repo"}};
  CHECK_FALSE(t.validate(from_image).has_value());

  auto code = spec_for("kubernetes");
  auto v = t.validate(code);
  REQUIRE_FALSE(v.has_value());
  CHECK(contains(v.error().message, "set resource_args.kubernetes.registry"));
  CHECK(t.validate(spec_for("kubernetes", {{"registry", "127.0.0.1:5000/team/train"}})).has_value());
  CHECK(t.validate(spec_for("kubernetes", {{"registry", "localhost:5000"}})).has_value());
}

TEST_CASE("registry_push: images are tagged <repository>/<name>:<content digest>", "[registry-push]") {
  registry_push t;
  t.repository = "127.0.0.1:5000/team/train";
  auto spec = spec_for("kubernetes");

  auto p = t.plan(built_image(), spec);
  REQUIRE(p.has_value());
  CHECK(p->local_image == std::string("liftoff/train:") + content_tag);
  CHECK(p->name == "127.0.0.1:5000/team/train/train");
  CHECK(p->tag == content_tag);
  CHECK(p->content_tag);
  CHECK(p->reference() == std::string("127.0.0.1:5000/team/train/train:") + content_tag);

  // The tag follows the content digest, whatever the local tag.
  p = t.plan(built_image("other.example/a/b/job:latest"), spec);
  REQUIRE(p.has_value());
  CHECK(p->reference() == std::string("127.0.0.1:5000/team/train/job:") + content_tag);

  // Without a content digest the local tag is kept, and it says nothing about content.
  p = t.plan(built_image("liftoff-test/busybox:latest", ""), spec);
  REQUIRE(p.has_value());
  CHECK(p->reference() == "127.0.0.1:5000/team/train/busybox:latest");
  CHECK_FALSE(p->content_tag);
  p = t.plan(built_image("busybox", "sha256:short"), spec);
  REQUIRE(p.has_value());
  CHECK(p->reference() == "127.0.0.1:5000/team/train/busybox:latest");

  t.repository = "localhost:5000";
  CHECK(t.plan(built_image(), spec)->reference() == std::string("localhost:5000/train:") + content_tag);

  auto by_digest = t.plan(built_image(std::string("liftoff/train@") + manifest_digest, ""), spec);
  REQUIRE_FALSE(by_digest.has_value());
  CHECK(by_digest.error().stage == failure_stage::push);
  CHECK(contains(by_digest.error().message, "has neither a tag nor a content digest"));
  auto bad = t.plan(built_image("Not An Image"), spec);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().stage == failure_stage::push);
  CHECK(contains(bad.error().message, "'Not An Image' is not an image name to push"));
}

TEST_CASE("registry_push: a registry image passes through without touching the engine", "[registry-push]") {
  env_guard env("LIFTOFF_REGISTRY", nullptr);
  registry_push t;
  t.engine.host = "tcp://127.0.0.1:1";  // nothing listens: any contact would fail
  artifact in{artifact_kind::registry_image, {}, "ghcr.io/team/app@" + std::string(manifest_digest), content_digest, nullptr};
  recorder rec;
  auto out = t.deliver(in, spec_for("kubernetes"), rec.options(true));
  REQUIRE(out.has_value());
  CHECK(out->kind == artifact_kind::registry_image);
  CHECK(out->image == in.image);
  CHECK(out->digest == in.digest);
  CHECK(rec.actions.empty());

  artifact dir{artifact_kind::directory, "/tmp", "", "", nullptr};
  auto refused = t.deliver(dir, spec_for("kubernetes"), {});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().stage == failure_stage::push);
}

TEST_CASE("registry_push: a dry run emits the inspect, tag and push requests and returns the tag reference",
          "[registry-push]") {
  temp_dir dir;
  // Basic credentials for the registry: the dry run must show them redacted only.
  liftoff::test::write_file(dir / "config.json",
                            R"({"auths":{"127.0.0.1:5000":{"auth":")" +
                                liftoff::detail::base64_encode("carol:very-secret-pw") + R"("}}})");
  registry_push t;
  t.engine.host = "tcp://127.0.0.1:1";  // never contacted in a dry run
  t.docker_config = dir / "config.json";
  recorder rec;
  auto out = t.deliver(built_image(), spec_for("kubernetes", {{"registry", "127.0.0.1:5000/team/train"}}),
                       rec.options(true));
  REQUIRE(out.has_value());
  std::string const ref = std::string("127.0.0.1:5000/team/train/train:") + content_tag;
  CHECK(out->kind == artifact_kind::registry_image);
  CHECK(out->image == ref);
  CHECK(out->digest == content_digest);

  REQUIRE(rec.actions.size() == 3);
  for (auto const& a : rec.actions) {
    CHECK(a.at("stage") == "push");
    CHECK(a.at("action") == "docker api");
    CHECK_FALSE(contains(json::serialize(a), "very-secret-pw"));
  }
  auto req = [&](std::size_t i) { return rec.actions[i].at("request").as_object(); };
  CHECK(req(0).at("method") == "GET");
  CHECK(req(0).at("path").as_string() == "/v1.41/distribution/" + ref + "/json");
  CHECK(req(0).at("headers").at("X-Registry-Auth") == "REDACTED");
  CHECK(req(1).at("method") == "POST");
  CHECK(req(1).at("path").as_string() == std::string("/v1.41/images/liftoff/train:") + content_tag + "/tag");
  CHECK(req(1).at("query") == json::object{{"repo", "127.0.0.1:5000/team/train/train"}, {"tag", content_tag}});
  CHECK(req(2).at("method") == "POST");
  CHECK(req(2).at("path").as_string() == "/v1.41/images/127.0.0.1:5000/team/train/train/push");
  CHECK(req(2).at("query") == json::object{{"tag", content_tag}});
  CHECK(req(2).at("headers").at("X-Registry-Auth") == "REDACTED");
  CHECK(rec.progress.empty());
}

TEST_CASE("registry_push: pushes through the engine and pins the result by the manifest digest", "[registry-push]") {
  temp_dir dir;
  fake_engine fake;
  auto t = fake.transport(dir / "no-config.json");
  recorder rec;
  auto out = t.deliver(built_image(), spec_for("kubernetes"), rec.options());
  REQUIRE(out.has_value());
  std::string const ref = std::string("127.0.0.1:5000/team/train/train:") + content_tag;
  CHECK(out->kind == artifact_kind::registry_image);
  CHECK(out->image == std::string("127.0.0.1:5000/team/train/train@") + manifest_digest);
  CHECK(out->digest == content_digest);
  CHECK(fake.calls() == std::vector<std::string>{
                            "GET /v1.41/distribution/" + ref + "/json",
                            std::string("POST /v1.41/images/liftoff/train:") + content_tag +
                                "/tag?repo=127.0.0.1%3A5000%2Fteam%2Ftrain%2Ftrain&tag=" + content_tag,
                            std::string("POST /v1.41/images/127.0.0.1:5000/team/train/train/push?tag=") + content_tag});
  // Anonymous: the engine requires the header, and `{}` is what the docker CLI sends.
  CHECK(decode_auth(fake.find("/push?").header("x-registry-auth")) == json::object{});
  CHECK(fake.find("/distribution/").header("x-registry-auth").empty());
  CHECK(rec.progress == std::vector<std::string>{"The push refers to repository [127.0.0.1:5000/team/train/train]",
                                                 "e1c9d6f53585: Preparing", "e1c9d6f53585: Pushing",
                                                 "e1c9d6f53585: Pushed",
                                                 std::string(content_tag) + ": digest: " + manifest_digest + " size: 527"});
  CHECK(rec.logged("pushing image " + ref));
}

TEST_CASE("registry_push: skips the push when the registry has the content tag", "[registry-push]") {
  temp_dir dir;
  fake_engine fake;
  fake.distribution_status = 200;
  fake.distribution_body = std::string(R"({"Descriptor":{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")") +
                           manifest_digest + R"(","size":527},"Platforms":[{"architecture":"amd64","os":"linux"}]})";
  auto t = fake.transport(dir / "no-config.json");
  recorder rec;
  auto out = t.deliver(built_image(), spec_for("kubernetes"), rec.options());
  REQUIRE(out.has_value());
  CHECK(out->image == std::string("127.0.0.1:5000/team/train/train@") + manifest_digest);
  CHECK(fake.calls().size() == 1);  // the inspect only: no tag, no push
  CHECK(rec.progress.empty());
  CHECK(rec.logged(std::string("image 127.0.0.1:5000/team/train/train:") + content_tag +
                   " is already in the registry; no push needed"));

  // A tag that says nothing about content ("latest") is pushed without asking.
  fake_engine fake2;
  auto t2 = fake2.transport(dir / "no-config.json");
  auto out2 = t2.deliver(built_image("liftoff-test/busybox:latest", ""), spec_for("kubernetes"), {});
  REQUIRE(out2.has_value());
  CHECK(out2->image == std::string("127.0.0.1:5000/team/train/busybox@") + manifest_digest);
  auto calls = fake2.calls();
  REQUIRE(calls.size() == 2);
  CHECK(contains(calls[0], "/tag?"));
  CHECK(contains(calls[1], "/push?tag=latest"));
}

TEST_CASE("registry_push: credentials go to the engine only, never into messages", "[registry-push]") {
  temp_dir dir;
  std::string const secret = "very-secret-pw";
  liftoff::test::write_file(dir / "config.json", R"({"auths":{"http://127.0.0.1:5000/v2/":{"auth":")" +
                                                     liftoff::detail::base64_encode("carol:" + secret) +
                                                     R"("}}})");
  std::string const denied = "unauthorized: authentication required";
  fake_engine fake;
  fake.push_stream = std::string(R"({"status":"The push refers to repository [127.0.0.1:5000/team/train/train]"})") +
                     "\r\n" + R"({"errorDetail":{"message":")" + denied + R"("},"error":")" + denied + R"("})" + "\r\n";
  auto t = fake.transport(dir / "config.json");
  auto out = t.deliver(built_image(), spec_for("kubernetes"), {});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().code == error::push_failed);
  CHECK(out.error().stage == failure_stage::push);
  CHECK(out.error().message ==
        std::string("pushing 127.0.0.1:5000/team/train/train:") + content_tag + ": " + denied);
  auto sent = decode_auth(fake.find("/push?").header("x-registry-auth"));
  CHECK(sent.at("username") == "carol");
  CHECK(sent.at("password").as_string() == secret);
  CHECK(decode_auth(fake.find("/distribution/").header("x-registry-auth")).at("username") == "carol");

  // The policy's own credentials (an ECR token, say) win over the config file, and an identity token is sent as one.
  fake_engine fake2;
  auto t2 = fake2.transport(dir / "config.json");
  t2.auth = liftoff::docker::registry_auth{"", "", "refresh-token-value", "127.0.0.1:5000"};
  REQUIRE(t2.deliver(built_image(), spec_for("kubernetes"), {}).has_value());
  auto sent2 = decode_auth(fake2.find("/push?").header("x-registry-auth"));
  CHECK(sent2.at("identitytoken") == "refresh-token-value");
  CHECK_FALSE(sent2.contains("password"));
}

TEST_CASE("registry_push: refusals by the registry or the engine are stage-push errors", "[registry-push]") {
  temp_dir dir;
  std::string const ref = std::string("127.0.0.1:5000/team/train/train:") + content_tag;
  SECTION("the registry refuses to say whether it has the image") {
    fake_engine fake;
    fake.distribution_status = 401;
    fake.distribution_body = R"({"message":"unauthorized: authentication required"})";
    auto out = fake.transport(dir / "none.json").deliver(built_image(), spec_for("kubernetes"), {});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == error::unauthorized);
    CHECK(out.error().stage == failure_stage::push);
    CHECK(contains(out.error().message, "unauthorized: authentication required"));
    CHECK(contains(out.error().message, "docker login 127.0.0.1:5000"));
    CHECK(fake.calls().size() == 1);
  }
  SECTION("the registry does not answer") {
    fake_engine fake;
    fake.distribution_status = 500;
    fake.distribution_body =
        R"({"message":"Get \"http://127.0.0.1:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused"})";
    auto out = fake.transport(dir / "none.json").deliver(built_image(), spec_for("kubernetes"), {});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == error::push_failed);
    CHECK(out.error().stage == failure_stage::push);
    CHECK(out.error().message == "pushing " + ref + ": asking the registry 127.0.0.1:5000 for " + ref +
                                     ": Get \"http://127.0.0.1:5000/v2/\": dial tcp 127.0.0.1:5000: connect: connection refused");
  }
  SECTION("the engine lacks the local image") {
    fake_engine fake;
    fake.tag_status = 404;
    auto out = fake.transport(dir / "none.json").deliver(built_image(), spec_for("kubernetes"), {});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == error::push_failed);
    CHECK(out.error().stage == failure_stage::push);
    CHECK(contains(out.error().message, "No such image"));
    CHECK(fake.calls().size() == 2);  // no push after a failed tag
  }
  SECTION("a stream that ends without a digest") {
    fake_engine fake;
    fake.push_stream = R"({"status":"Pushed","id":"aa"})" "\r\n";
    auto out = fake.transport(dir / "none.json").deliver(built_image(), spec_for("kubernetes"), {});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().code == error::push_failed);
    CHECK(out.error().message == "pushing " + ref + ": the engine reported no manifest digest at the end of the push");
  }
  SECTION("no engine answers") {
    registry_push t;
    t.engine.host = "tcp://127.0.0.1:1";
    t.engine.net.connect_timeout = 2s;
    t.repository = "127.0.0.1:5000/team/train";
    auto out = t.deliver(built_image(), spec_for("kubernetes"), {});
    REQUIRE_FALSE(out.has_value());
    CHECK(out.error().stage == failure_stage::push);
    CHECK(contains(out.error().message, "cannot reach the Docker engine at tcp://127.0.0.1:1"));
  }
}
