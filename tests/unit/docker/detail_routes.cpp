#include <liftoff/docker/detail/routes.hpp>

#include <liftoff/docker/engine.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace fs = std::filesystem;
using liftoff::docker::detail::all_routes;

TEST_CASE("every Engine API operation the docker client sends is in the official specification", "[docker]") {
  auto const dir = liftoff::test::specs_dir() / "docker";
  for (auto const* file : {"versions/v1.40.yaml", "swagger.yaml"}) {
    auto const path = dir / file;
    if (!fs::exists(path)) {
      WARN("skipped: the Docker Engine API specification " << path.string() << " is not present");
      return;
    }
    INFO(path.string());
    auto const spec = YAML::LoadFile(path.string());
    auto const paths = spec["paths"];
    REQUIRE(paths.IsMap());
    for (auto const& r : all_routes) {
      std::string method(r.method);
      for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      INFO(r.method << " " << r.path);
      auto const op = paths[std::string(r.path)];
      if (!r.documented) {
        // Marked as the engine's own, outside the specification: it must stay so.
        CHECK_FALSE(op.IsDefined());
        continue;
      }
      REQUIRE(op.IsMap());
      CHECK(op[method].IsMap());
    }
  }
}

TEST_CASE("every query parameter the docker client sends is in the specification since the version the table says",
          "[docker]") {
  using liftoff::docker::detail::parse_api_version;
  auto const oldest_spoken = *parse_api_version(liftoff::docker::min_api_version);
  auto const dir = liftoff::test::specs_dir() / "docker";
  for (auto const* file : {"versions/v1.40.yaml", "versions/v1.55.yaml", "swagger.yaml"}) {
    auto const path = dir / file;
    if (!fs::exists(path)) {
      WARN("skipped: the Docker Engine API specification " << path.string() << " is not present");
      return;
    }
    INFO(path.string());
    auto const spec = YAML::LoadFile(path.string());
    auto const spec_version = parse_api_version(spec["info"]["version"].as<std::string>());
    REQUIRE(spec_version.has_value());
    for (auto const& r : all_routes) {
      if (!r.documented) continue;
      std::string method(r.method);
      for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto const params = spec["paths"][std::string(r.path)][method]["parameters"];
      for (auto const& q : r.query) {
        INFO(r.method << " " << r.path << " ?" << q.name << " (since " << (q.since.empty() ? "before 1.41" : q.since)
                      << ")");
        bool in_spec = false;
        if (params.IsSequence())
          for (auto const& p : params)
            if (p["in"].as<std::string>() == "query" && p["name"].as<std::string>() == q.name) in_spec = true;
        if (!q.documented) {
          CHECK_FALSE(in_spec);  // once the specification lists it, the table should say so
          continue;
        }
        auto const since = q.since.empty() ? std::optional(std::pair{1, 40}) : parse_api_version(q.since);
        REQUIRE(since.has_value());
        // The engine sends every parameter in every API version it speaks.
        CHECK(*since <= oldest_spoken);
        // A parameter newer than a specification is absent from it, so the table's `since` is not too old.
        CHECK(in_spec == (*since <= *spec_version));
      }
    }
  }
}

TEST_CASE("the route table lists the platform parameters of create and pull", "[docker]") {
  using namespace liftoff::docker::detail;
  CHECK(has_query_param(container_create_route, "platform"));
  CHECK(has_query_param(image_create_route, "platform"));
  CHECK(has_query_param(build_route, "platform"));
  CHECK_FALSE(has_query_param(container_start_route, "platform"));
}

TEST_CASE("route templates expand with their one parameter", "[docker]") {
  using namespace liftoff::docker::detail;
  CHECK(expand(container_inspect_route, "abc") == "/containers/abc/json");
  CHECK(expand(image_delete_route, "localhost:5000/x:1") == "/images/localhost:5000/x:1");
  CHECK(expand(build_route) == "/build");
}
