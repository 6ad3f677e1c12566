#include <liftoff/core/concepts.hpp>

#include <catch2/catch.hpp>

#include "unit/core/fake_policies.hpp"

namespace {
struct no_cancel_run {
  std::string id() const { return {}; }
  liftoff::run_status status() { return {}; }
  liftoff::run_status wait() { return {}; }
  std::vector<liftoff::log_line> logs() const { return {}; }
};
struct no_kind_source {
  liftoff::result<liftoff::artifact> fetch(liftoff::launch_spec const&, liftoff::launch_options const&);
};
}  // namespace

TEST_CASE("policy concepts accept complete policies", "[core][concepts]") {
  STATIC_REQUIRE(liftoff::run<fake::run>);
  STATIC_REQUIRE(liftoff::source<fake::code_source>);
  STATIC_REQUIRE(liftoff::builder<fake::image_builder>);
  STATIC_REQUIRE(liftoff::transport<fake::push_transport>);
  STATIC_REQUIRE(liftoff::target<fake::directory_target>);
}

TEST_CASE("policy concepts name the missing part", "[core][concepts]") {
  STATIC_REQUIRE_FALSE(liftoff::has_cancel<no_cancel_run>);
  STATIC_REQUIRE(liftoff::has_wait<no_cancel_run>);
  STATIC_REQUIRE_FALSE(liftoff::run<no_cancel_run>);
  STATIC_REQUIRE(liftoff::has_fetch<no_kind_source>);
  STATIC_REQUIRE_FALSE(liftoff::has_source_kind<no_kind_source>);
  STATIC_REQUIRE_FALSE(liftoff::source<no_kind_source>);
  STATIC_REQUIRE_FALSE(liftoff::target<fake::code_source>);
  STATIC_REQUIRE_FALSE(liftoff::builder<fake::pass_transport>);
}
