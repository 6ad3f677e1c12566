#include <liftoff/core/error.hpp>

#include <catch2/catch.hpp>

TEST_CASE("liftoff errors have one category and actionable messages", "[core]") {
  liftoff::error_code ec = liftoff::error::invalid_spec;
  CHECK(ec.category().name() == std::string("liftoff"));
  CHECK(ec.message() == "invalid launch spec");
  CHECK(liftoff::error_code(liftoff::error::tool_missing).message() == "a required tool is not installed");
  CHECK(ec != liftoff::error_code(liftoff::error::parse_error));
}

TEST_CASE("result<T> throws liftoff::exception with the diagnostic's sentence", "[core]") {
  liftoff::result<int> r = liftoff::diagnostic(liftoff::error::invalid_spec, "name: expected a string, got array");
  REQUIRE_FALSE(r.has_value());
  try {
    (void)r.value();
    FAIL("value() did not throw");
  } catch (liftoff::exception const& e) {
    CHECK(std::string(e.what()) == "name: expected a string, got array");
    CHECK(e.code() == liftoff::error::invalid_spec);
  }
}

TEST_CASE("a diagnostic without a message falls back to the code's", "[core]") {
  liftoff::diagnostic d{liftoff::error::timeout, ""};
  CHECK(d.what() == "timed out");
  CHECK(liftoff::to_string(liftoff::failure_stage::build) == "build");
}
