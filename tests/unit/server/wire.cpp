#include <liftoff/server/wire.hpp>
#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <string>

namespace {

using namespace std::chrono_literals;
namespace server = liftoff::server;

constexpr auto t0 = server::time_point(std::chrono::milliseconds(1'795'884'363'123));  // 2026-11-28T16:46:03.123Z

}  // namespace

TEST_CASE("wire: times are RFC 3339 UTC with milliseconds, both ways", "[wire]") {
  CHECK(server::format_time(t0) == "2026-11-28T16:46:03.123Z");
  CHECK(server::parse_time("2026-11-28T16:46:03.123Z") == t0);
  CHECK(server::parse_time("2026-11-28T16:46:03Z") == t0 - 123ms);
  CHECK(server::parse_time("2026-11-28T16:46:03.1Z") == t0 - 23ms);
  CHECK(server::parse_time(server::format_time(server::time_point{})) == server::time_point{});
  CHECK_FALSE(server::parse_time("2026-11-28 16:46:03Z"));
  CHECK_FALSE(server::parse_time("2026-11-28T16:46:03.123"));
  CHECK_FALSE(server::parse_time("2026-13-28T16:46:03.123Z"));
  CHECK_FALSE(server::parse_time("2026-11-28T16:46:03.Z"));
  CHECK_FALSE(server::parse_time("yesterday"));
}

TEST_CASE("wire: errors map to statuses and travel as JSON", "[wire]") {
  using liftoff::error;
  CHECK(server::http_status_for(make_error_code(error::not_found)) == 404);
  CHECK(server::http_status_for(make_error_code(error::conflict)) == 409);
  CHECK(server::http_status_for(make_error_code(error::already_exists)) == 409);
  CHECK(server::http_status_for(make_error_code(error::not_holder)) == 403);
  CHECK(server::http_status_for(make_error_code(error::invalid_request)) == 400);
  CHECK(server::http_status_for(make_error_code(error::invalid_spec)) == 400);
  CHECK(server::http_status_for(make_error_code(error::body_too_large)) == 413);
  CHECK(server::http_status_for(make_error_code(error::storage_failed)) == 500);

  liftoff::diagnostic d(error::not_holder, "agent 3 does not hold item 7", liftoff::failure_stage::agent);
  auto body = boost::json::serialize(server::error_body(d));
  auto back = server::diagnostic_from_body(body, "POST /x: 403 Forbidden");
  CHECK(back.code == error::not_holder);
  CHECK(back.message == "agent 3 does not hold item 7");
  CHECK(back.stage == liftoff::failure_stage::agent);

  auto plain = server::diagnostic_from_body("<html>bad gateway</html>", "GET /x: 502 Bad Gateway");
  CHECK(plain.code == error::http_status);
  CHECK(plain.message == "GET /x: 502 Bad Gateway");
  CHECK(server::error_from_name("no_such_code") == error::http_status);
}

TEST_CASE("wire: records round-trip through JSON", "[wire]") {
  server::run_record r;
  r.run_id = "abc12345";
  r.item_id = 7;
  r.queue = "gpu";
  r.state = liftoff::run_state::failed;
  r.history = {{liftoff::run_state::queued, t0, ""}, {liftoff::run_state::failed, t0 + 2s, "exit 3"}};
  r.exit_code = 3;
  r.stage = liftoff::failure_stage::run;
  r.message = "exit 3";
  r.warnings = {"low disk"};
  r.logs_tail = "a\nb\n";
  r.agent = 2;
  r.created_at = t0;
  r.ended_at = t0 + 2s;
  auto back = server::run_from_json(boost::json::value_from(r));
  REQUIRE(back.has_value());
  CHECK(back->run_id == r.run_id);
  CHECK(back->state == r.state);
  REQUIRE(back->history.size() == 2);
  CHECK(back->history[1].at == t0 + 2s);
  CHECK(back->history[1].message == "exit 3");
  CHECK(back->exit_code == 3);
  CHECK(back->stage == liftoff::failure_stage::run);
  CHECK(back->warnings == r.warnings);
  CHECK(back->agent == 2);
  CHECK_FALSE(back->started_at);
  CHECK(back->ended_at == t0 + 2s);

  server::item_record i;
  i.id = 4;
  i.queue = "q";
  i.priority = server::priority::high;
  i.run_id = "r";
  i.run_spec = {{"image", "busybox"}};
  i.state = server::item_state::leased;
  i.lease_expires_at = t0 + 30s;
  i.pushed_at = t0;
  auto ib = server::item_from_json(boost::json::value_from(i));
  REQUIRE(ib.has_value());
  CHECK(ib->priority == server::priority::high);
  CHECK(ib->state == server::item_state::leased);
  CHECK(ib->run_spec == i.run_spec);
  CHECK(ib->lease_expires_at == t0 + 30s);

  server::agent_registration reg{"a1", "host", {"q1", "q2"}, 4, 9};
  auto rb = server::agent_registration_from_json(boost::json::value_from(reg));
  REQUIRE(rb.has_value());
  CHECK(rb->queues == reg.queues);
  CHECK(rb->max_jobs == 4);
  CHECK(rb->resume == 9);

  server::token_record t{5, "ci", "0123", t0, false};
  auto tj = boost::json::value_from(t);
  CHECK_FALSE(tj.as_object().contains("hash"));  // the hash stays in the store
}

TEST_CASE("wire: request bodies are checked field by field", "[wire]") {
  auto bad_type = server::agent_registration_from_json(boost::json::parse(R"({"name": "a", "max_jobs": "two"})"));
  REQUIRE_FALSE(bad_type.has_value());
  CHECK(bad_type.error().code == liftoff::error::invalid_request);
  CHECK(bad_type.error().message == "agent registration: field 'max_jobs': expected an integer, got string");

  auto zero = server::agent_registration_from_json(boost::json::parse(R"({"name": "a", "max_jobs": 0})"));
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.error().message.find("'max_jobs'") != std::string::npos);

  auto unknown = server::agent_registration_from_json(boost::json::parse(R"({"name": "a", "max_job": 2})"));
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message == "agent registration: field 'max_job': unknown field (did you mean 'max_jobs'?)");

  auto missing = server::state_update_from_json(boost::json::parse(R"({"exit_code": 1})"));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message == "state report: field 'state': required, missing");

  auto state = server::state_update_from_json(boost::json::parse(R"({"state": "exploded"})"));
  REQUIRE_FALSE(state.has_value());
  CHECK(state.error().message.find("\"exploded\"") != std::string::npos);

  auto not_object = server::state_update_from_json(boost::json::parse("[1]"));
  REQUIRE_FALSE(not_object.has_value());
  CHECK(not_object.error().message == "state report: expected a JSON object, got array");

  auto good = server::state_update_from_json(
      boost::json::parse(R"({"agent": 1, "state": "failed", "exit_code": 2, "stage": "run", "warnings": ["w"]})"));
  REQUIRE(good.has_value());
  CHECK(good->state == liftoff::run_state::failed);
  CHECK(good->exit_code == 2);
  CHECK(good->stage == liftoff::failure_stage::run);
}

TEST_CASE("wire: an agent's name, host and queues are printable text", "[wire]") {
  auto error_of = [](std::string_view json) {
    auto r = server::agent_registration_from_json(boost::json::parse(json));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::error::invalid_request);
    return r.error().message;
  };
  CHECK(error_of(R"({"name": "gpu\n01"})") ==
        "agent registration: field 'name': contains a control character (U+000A) at byte 3; names are printable text");
  CHECK(error_of(R"({"name": "a", "host": "h\u001b[2J"})") ==
        "agent registration: field 'host': contains a control character (U+001B) at byte 1; names are printable text");
  CHECK(error_of(R"({"name": "a", "queues": ["q", "r\u0000"]})") ==
        "agent registration: field 'queues[1]': contains a control character (U+0000) at byte 1; names are printable "
        "text");
  CHECK(error_of(R"({"name": "a", "host": "\u007f"})").find("(U+007F) at byte 0") != std::string::npos);
  auto good = server::agent_registration_from_json(
      boost::json::parse(R"({"name": "agent café", "host": "gpu-01.example.com", "queues": ["q"]})"));
  REQUIRE(good.has_value());
  CHECK(good->name == "agent café");
}

TEST_CASE("wire: field errors quote a short, escaped prefix of a bad value or key", "[wire]") {
  std::string const big(10240, 'a');
  auto state = server::state_update_from_json(boost::json::parse(R"({"state": ")" + big + R"("})"));
  REQUIRE_FALSE(state.has_value());
  CHECK(state.error().message.find("got \"" + std::string(64, 'a') + "\xe2\x80\xa6\" (10240 bytes)") != std::string::npos);
  CHECK(state.error().message.size() < 400);

  auto stage = server::state_update_from_json(boost::json::parse(R"({"state": "failed", "stage": "run\nFAKE"})"));
  REQUIRE_FALSE(stage.has_value());
  CHECK(stage.error().message.find(R"(got "run\nFAKE")") != std::string::npos);
  CHECK(stage.error().message.find('\n') == std::string::npos);

  auto unknown = server::agent_registration_from_json(boost::json::parse(R"({"name": "a", ")" + big + R"(": 1})"));
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message.find("agent registration: field \"" + std::string(64, 'a') +
                                     "\xe2\x80\xa6\" (10240 bytes): unknown field") == 0);
  auto newline_key = server::agent_registration_from_json(boost::json::parse(R"({"name": "a", "x\ny": 1})"));
  REQUIRE_FALSE(newline_key.has_value());
  CHECK(newline_key.error().message.find(R"(field "x\ny": unknown field)") != std::string::npos);

  auto when = server::run_from_json(boost::json::parse(R"({"run_id": "r", "state": "queued", "created_at": "x\u001b"})"));
  REQUIRE_FALSE(when.has_value());
  CHECK(when.error().message.find(R"(got "x\u001b")") != std::string::npos);
}
