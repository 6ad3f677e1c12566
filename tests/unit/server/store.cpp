#include <liftoff/server/store.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

/// The smallest type that has every operation but one: the concept must say which part is missing.
struct queues_only {
  liftoff::result<liftoff::server::queue_record> create_queue(liftoff::server::queue_record);
  liftoff::result<liftoff::server::queue_record> get_queue(std::string_view);
  liftoff::result<std::vector<liftoff::server::queue_record>> list_queues();
  liftoff::result<void> delete_queue(std::string_view, bool);
};

}  // namespace

TEST_CASE("priorities round-trip through their names", "[store]") {
  using liftoff::server::priority;
  for (auto p : {priority::critical, priority::high, priority::medium, priority::low})
    CHECK(liftoff::server::priority_from_string(liftoff::server::to_string(p)) == p);
  CHECK_FALSE(liftoff::server::priority_from_string("urgent").has_value());
  CHECK(liftoff::server::to_string(priority::critical) == "critical");
}

TEST_CASE("item states round-trip through their names", "[store]") {
  using liftoff::server::item_state;
  for (auto s : {item_state::queued, item_state::leased, item_state::acked, item_state::done, item_state::failed})
    CHECK(liftoff::server::item_state_from_string(liftoff::server::to_string(s)) == s);
  CHECK_FALSE(liftoff::server::item_state_from_string("running").has_value());
}

TEST_CASE("tokens are hashed with SHA-256 and made at random", "[store]") {
  // FIPS 180-2's test vector for "abc".
  CHECK(liftoff::server::hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto a = liftoff::server::make_token();
  auto b = liftoff::server::make_token();
  CHECK(a.size() == 4 + 64);
  CHECK(a.rfind("lft_", 0) == 0);
  CHECK(a != b);
  CHECK(liftoff::server::hash_token(a).size() == 64);
}

TEST_CASE("store errors are liftoff errors with sentences", "[store]") {
  liftoff::error_code ec = liftoff::server::store_error::not_found;
  CHECK(ec.category().name() == std::string("liftoff"));
  CHECK(ec.message() == "no such record");
  auto d = liftoff::server::store_failure(liftoff::server::store_error::conflict, "queue 'q' still has items");
  CHECK(d.code == liftoff::server::store_error::conflict);
  CHECK(d.what() == "queue 'q' still has items");
}

TEST_CASE("the store concept names its parts", "[store]") {
  STATIC_REQUIRE(liftoff::server::has_queue_operations<queues_only>);
  STATIC_REQUIRE_FALSE(liftoff::server::has_item_operations<queues_only>);
  STATIC_REQUIRE_FALSE(liftoff::server::store<queues_only>);
}
