#include <liftoff/docker/detail/routes.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>

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
      REQUIRE(op.IsMap());
      CHECK(op[method].IsMap());
    }
  }
}

TEST_CASE("route templates expand with their one parameter", "[docker]") {
  using namespace liftoff::docker::detail;
  CHECK(expand(container_inspect_route, "abc") == "/containers/abc/json");
  CHECK(expand(image_delete_route, "localhost:5000/x:1") == "/images/localhost:5000/x:1");
  CHECK(expand(build_route) == "/build");
}
