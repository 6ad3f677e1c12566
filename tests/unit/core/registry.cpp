#include <liftoff/core/registry.hpp>

#include <catch2/catch.hpp>

#include <liftoff/core/launcher.hpp>

#include "unit/core/fake_policies.hpp"

namespace {
liftoff::launcher_registry make_registry() {
  liftoff::launcher_registry reg;
  reg.add("local-process", liftoff::launcher<fake::code_source, fake::pass_builder, fake::pass_transport, fake::directory_target>{});
  reg.add("local-container", liftoff::launcher<fake::image_source, fake::pass_builder, fake::pass_transport, fake::image_target>{});
  reg.add("local-container", liftoff::launcher<fake::code_source, fake::image_builder, fake::pass_transport, fake::image_target>{});
  return reg;
}
}  // namespace

TEST_CASE("the registry finds a launcher by resource and source kind", "[core][registry]") {
  auto reg = make_registry();
  CHECK(reg.resources() == std::vector<std::string>{"local-container", "local-process"});
  CHECK(reg.sources_for("local-container").size() == 2);
  auto l = reg.find("local-container", liftoff::source_kind::image);
  REQUIRE(l.has_value());
  CHECK(l->handles() == liftoff::source_kind::image);
}

TEST_CASE("the default resource follows the source and can be changed", "[core][registry]") {
  liftoff::launcher_registry reg;
  liftoff::launch_spec s;
  s.source = liftoff::image_ref{"busybox"};
  CHECK(reg.resource_for(s).empty());  // no backend said it is the default
  reg.set_default_resource(liftoff::source_kind::image, "local-container");
  CHECK(reg.resource_for(s) == "local-container");
  s.source = liftoff::code_dir{"."};
  CHECK(reg.resource_for(s).empty());
  reg.set_default_resource(liftoff::source_kind::code, "local-process");
  CHECK(reg.resource_for(s) == "local-process");
  reg.set_default_resource(liftoff::source_kind::code, "local-container");
  CHECK(reg.resource_for(s) == "local-container");
  s.source = liftoff::git_ref{"https://x/r.git"};
  CHECK(reg.resource_for(s).empty());
  s.resource = "kubernetes";
  CHECK(reg.resource_for(s) == "kubernetes");
}

TEST_CASE("a spec with no resource and no default says what there is", "[core][registry]") {
  auto reg = make_registry();
  liftoff::launch_spec s;
  s.source = liftoff::code_dir{"."};
  auto l = reg.find(s);
  REQUIRE_FALSE(l.has_value());
  CHECK(l.error().code == liftoff::error::unknown_resource);
  CHECK(l.error().message == "the spec names no resource and this program has no default one for code sources: "
                             "give one of local-container, local-process");
  reg.set_default_resource(liftoff::source_kind::code, "local-process");
  auto found = reg.find(s);
  REQUIRE(found.has_value());
  CHECK(found->handles() == liftoff::source_kind::code);
}

TEST_CASE("registry errors say what exists", "[core][registry]") {
  auto reg = make_registry();
  auto unknown = reg.find("local-proces", liftoff::source_kind::code);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == liftoff::error::unknown_resource);
  CHECK(unknown.error().message ==
        "unknown resource 'local-proces' (did you mean 'local-process'?); this program can launch on: "
        "local-container, local-process");
  auto wrong = reg.find("local-process", liftoff::source_kind::image);
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().message == "resource 'local-process' cannot run image sources; it runs: code");
  liftoff::launch_spec none;
  auto r = reg.try_launch(none, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find("the spec names no job source") == 0);
}

TEST_CASE("registry errors quote an odd resource name short and escaped", "[core][registry]") {
  auto reg = make_registry();
  auto big = reg.find(std::string(5000, 'r'), liftoff::source_kind::code);
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().message.find("unknown resource \"" + std::string(64, 'r') + "\xe2\x80\xa6\" (5000 bytes)") == 0);
  auto forged = reg.find("x\nrun finished", liftoff::source_kind::code);
  REQUIRE_FALSE(forged.has_value());
  CHECK(forged.error().message.find(R"(unknown resource "x\nrun finished")") == 0);
}
