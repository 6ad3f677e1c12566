#include <liftoff/docker/reference.hpp>

#include <catch2/catch.hpp>

using liftoff::docker::parse_image_reference;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("image references normalise as the docker CLI does", "[docker]") {
  struct row {
    char const* text;
    char const* domain;
    char const* path;
    char const* tag;
    char const* digest;
    char const* familiar;
  };
  std::string const hex(64, 'a');
  std::string const digest = "sha256:" + hex;
  std::string const with_digest = "ghcr.io/org/app@" + digest;
  std::string const tag_and_digest = "busybox:1.36@" + digest;
  row const rows[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "", "busybox:1.36"},
      {"user/app", "docker.io", "user/app", "latest", "", "user/app:latest"},
      {"docker.io/library/busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
      {"index.docker.io/user/app:v1", "docker.io", "user/app", "v1", "", "user/app:v1"},
      {"localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"},
      {"localhost:5000/team/app:v1.2-rc_3", "localhost:5000", "team/app", "v1.2-rc_3", "", "localhost:5000/team/app:v1.2-rc_3"},
      {"127.0.0.1:9/nope:1", "127.0.0.1:9", "nope", "1", "", "127.0.0.1:9/nope:1"},
      {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000/app:latest"},
      {"registry.example.com/a/b/c", "registry.example.com", "a/b/c", "latest", "", "registry.example.com/a/b/c:latest"},
      {"my-registry:5000/x__y/z--w.v", "my-registry:5000", "x__y/z--w.v", "latest", "", "my-registry:5000/x__y/z--w.v:latest"},
      {with_digest.c_str(), "ghcr.io", "org/app", "", digest.c_str(), with_digest.c_str()},
      {tag_and_digest.c_str(), "docker.io", "library/busybox", "1.36", digest.c_str(), tag_and_digest.c_str()},
  };
  for (auto const& r : rows) {
    INFO(r.text);
    auto ref = parse_image_reference(r.text);
    REQUIRE(ref.has_value());
    CHECK(ref->domain == r.domain);
    CHECK(ref->path == r.path);
    CHECK(ref->tag == r.tag);
    CHECK(ref->digest == r.digest);
    CHECK(ref->familiar() == r.familiar);
  }
}

TEST_CASE("normalised references compare equal across spellings", "[docker]") {
  auto a = parse_image_reference("busybox").value();
  auto b = parse_image_reference("docker.io/library/busybox:latest").value();
  auto c = parse_image_reference("index.docker.io/library/busybox").value();
  CHECK(a.normalized() == "docker.io/library/busybox:latest");
  CHECK(a.normalized() == b.normalized());
  CHECK(a.normalized() == c.normalized());
  CHECK(a.name() == "docker.io/library/busybox");
  CHECK(a.familiar_name() == "busybox");
  CHECK(parse_image_reference("docker.io/library/busybox:1").value().normalized() != a.normalized());
  // "library/" is only implied for one-component Hub names.
  CHECK(parse_image_reference("library/x/y").value().familiar_name() == "library/x/y");
}

TEST_CASE("malformed image references are refused with the reason", "[docker]") {
  struct row {
    std::string text;
    char const* why;
  };
  row const rows[] = {
      {"", "empty"},
      {"Busybox", "must be lowercase"},
      {"user/App", "must be lowercase"},
      {"busybox:", "invalid tag"},
      {"busybox:-x", "invalid tag"},
      {"busybox:" + std::string(129, 'a'), "invalid tag"},
      {"busybox@sha256:abc", "invalid digest"},
      {"busybox@" + std::string(64, 'a'), "invalid digest"},
      {"localhost:5000/", "path is empty"},
      {"a//b", "path component"},
      {"bad_-/x", "path component"},
      {"-bad.example.com/x", "registry host"},
      {"host:port/x", "registry host"},
      {std::string(64, 'b'), "image id"},
      {std::string(256, 'a'), "longer than 255"},
      {"x/.y", "path component"},
  };
  for (auto const& r : rows) {
    INFO(r.text);
    auto ref = parse_image_reference(r.text);
    REQUIRE_FALSE(ref.has_value());
    CHECK(ref.error().code == liftoff::error::invalid_spec);
    CHECK(contains(ref.error().message, r.why));
  }
}
