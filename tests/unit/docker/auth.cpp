#include <liftoff/docker/auth.hpp>

#include "support/env_guard.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>

using liftoff::docker::find_image_auth;
using liftoff::docker::find_registry_auth;
using liftoff::docker::registry_auth;
using liftoff::docker::registry_auth_header;
using liftoff::test::temp_dir;
using liftoff::test::write_file;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

using liftoff::test::env_guard;

// "alice:s3cr:et, two question marks, >>" in standard base64: its '/' checks the decoder's alphabet, its second ':' that only the first splits.
constexpr char const* config_json = R"({
  "auths": {
    "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcjpldD8/Pj4="},
    "localhost:5000": {"username": "bob", "password": "hunter22"},
    "ghcr.io": {"identitytoken": "tok-123"},
    "https://registry.example.com/v2/": {"auth": "Ym9iOnB3ZA=="},
    "helper.example.com": {}
  },
  "credsStore": "desktop"
})";

}  // namespace

TEST_CASE("registry credentials come from $DOCKER_CONFIG/config.json", "[docker]") {
  temp_dir dir("liftoff-docker-auth");
  write_file(dir / "config.json", config_json);
  env_guard guard("DOCKER_CONFIG", dir.path().c_str());
  CHECK(liftoff::docker::docker_config_file() == dir / "config.json");

  auto hub = find_image_auth("busybox:latest");
  REQUIRE(hub.has_value());
  REQUIRE(hub->has_value());
  CHECK((*hub)->username == "alice");
  CHECK((*hub)->password == "s3cr:et\?\?>>");
  CHECK((*hub)->server_address == "https://index.docker.io/v1/");

  auto local = find_image_auth("localhost:5000/team/app:v1").value();
  REQUIRE(local.has_value());
  CHECK(local->username == "bob");
  CHECK(local->password == "hunter22");
  CHECK(local->server_address == "localhost:5000");

  auto token = find_registry_auth("ghcr.io").value();
  REQUIRE(token.has_value());
  CHECK(token->identity_token == "tok-123");
  CHECK(token->username.empty());

  // A key with scheme and path names its host.
  auto example = find_image_auth("registry.example.com/x").value();
  REQUIRE(example.has_value());
  CHECK(example->username == "bob");
  CHECK(example->password == "pwd");

  // No entry, or an entry a credential helper keeps the secret of: anonymous.
  CHECK_FALSE(find_image_auth("quay.io/x/y").value().has_value());
  CHECK_FALSE(find_registry_auth("helper.example.com").value().has_value());
  CHECK_FALSE(find_registry_auth("localhost:5001").value().has_value());
}

TEST_CASE("a missing Docker config means anonymous, a broken one is an error without secrets", "[docker]") {
  temp_dir dir("liftoff-docker-auth");
  env_guard guard("DOCKER_CONFIG", (dir / "nowhere").c_str());
  auto none = find_registry_auth("docker.io");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());

  write_file(dir / "bad.json", R"({"auths": {"localhost:5000": {"auth": "bm9jb2xvbnNlY3JldA=="}}})");  // "nocolonsecret"
  auto bad = find_registry_auth("localhost:5000", dir / "bad.json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::parse_error);
  CHECK(contains(bad.error().message, "auths.localhost:5000.auth"));
  CHECK_FALSE(contains(bad.error().message, "bm9jb2xvbnNlY3JldA"));
  CHECK_FALSE(contains(bad.error().message, "nocolonsecret"));

  write_file(dir / "notjson.json", "{\"auths\": ");
  auto broken = find_registry_auth("docker.io", dir / "notjson.json");
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().code == liftoff::error::parse_error);
  CHECK(contains(broken.error().message, (dir / "notjson.json").string()));

  auto bad_ref = find_image_auth("Not/A/Reference");
  REQUIRE_FALSE(bad_ref.has_value());
  CHECK(bad_ref.error().code == liftoff::error::invalid_spec);
}

TEST_CASE("X-Registry-Auth is base64url of the JSON the engine expects", "[docker]") {
  registry_auth basic;
  basic.username = "alice";
  basic.password = "s3cr:et\?\?>>";
  basic.server_address = "https://index.docker.io/v1/";
  // Python: base64.urlsafe_b64encode(b'{"username":"alice","password":"s3cr:et (two question marks) >>","serveraddress":"https://index.docker.io/v1/"}')
  CHECK(registry_auth_header(basic) ==
        "eyJ1c2VybmFtZSI6ImFsaWNlIiwicGFzc3dvcmQiOiJzM2NyOmV0Pz8-PiIsInNlcnZlcmFkZHJlc3MiOiJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8ifQ==");

  registry_auth token;
  token.identity_token = "tok-123";
  token.server_address = "ghcr.io";
  CHECK(registry_auth_header(token) == "eyJpZGVudGl0eXRva2VuIjoidG9rLTEyMyIsInNlcnZlcmFkZHJlc3MiOiJnaGNyLmlvIn0=");
}
