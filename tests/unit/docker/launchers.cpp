#include <liftoff/docker/launchers.hpp>

#include <catch2/catch.hpp>

#include <liftoff/core/any_launcher.hpp>

TEST_CASE("the Docker launchers are the three pipelines of local-container", "[docker]") {
  STATIC_REQUIRE(liftoff::docker_image_launcher::handles() == liftoff::source_kind::image);
  STATIC_REQUIRE(liftoff::docker_code_launcher::handles() == liftoff::source_kind::code);
  STATIC_REQUIRE(liftoff::docker_git_launcher::handles() == liftoff::source_kind::git);
  STATIC_REQUIRE(std::is_same_v<liftoff::docker_code_launcher::run_type, liftoff::docker_target::run>);
  liftoff::any_launcher erased{liftoff::docker_code_launcher{}};
  CHECK(erased.handles() == liftoff::source_kind::code);
}
