#include <liftoff/agent/detail/state_file.hpp>

#include <catch2/catch.hpp>

#include "support/test_support.hpp"

#include <sys/stat.h>

#include <string>

namespace t = liftoff::test;
using namespace liftoff;

namespace {
bool contains(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("the agent's state file round-trips, is private, and a malformed one names the field", "[agent]") {
  t::temp_dir dir;
  auto file = dir / "state" / "box.json";
  auto none = detail::load_agent_identity(file);
  REQUIRE(none.has_value());
  CHECK_FALSE(*none);

  REQUIRE(detail::save_agent_identity(file, {42, "box", "http://127.0.0.1:8080"}).has_value());
  auto back = detail::load_agent_identity(file);
  REQUIRE(back.has_value());
  REQUIRE(back->has_value());
  CHECK((*back)->id == 42);
  CHECK((*back)->name == "box");
  CHECK((*back)->server == "http://127.0.0.1:8080");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  t::write_file(file, R"({"id": "x", "name": "box", "server": "s"})");
  auto bad = detail::load_agent_identity(file);
  REQUIRE_FALSE(bad.has_value());
  CHECK(contains(bad.error().what(), file.string()));
  CHECK(contains(bad.error().what(), "'id'"));
}
