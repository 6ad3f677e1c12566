#include <liftoff/server/detail/http_util.hpp>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace detail = liftoff::server::detail;

namespace {

detail::request_context with_body(std::string body) {
  detail::request_context c;
  c.body = std::move(body);
  return c;
}

}  // namespace

TEST_CASE("http: a request body that names a key twice is an invalid request naming the key", "[server][http]") {
  auto top = detail::json_body(with_body(R"({"agent": 1, "agent": 2})"));
  REQUIRE_FALSE(top.has_value());
  CHECK(top.error().code == liftoff::error::invalid_request);
  CHECK(liftoff::server::http_status_for(top.error().code) == 400);
  CHECK(top.error().message ==
        "request body: duplicate key \"agent\" at line 1, column 20; each key may appear only once in an object");

  auto nested = detail::json_body(with_body(R"({"spec": {"image": "a", "resource_args": {"x": {}, "x": {"y": 1}}}})"));
  REQUIRE_FALSE(nested.has_value());
  CHECK(nested.error().code == liftoff::error::invalid_request);
  CHECK(nested.error().message.find("request body: duplicate key \"x\" in spec.resource_args at") == 0);

  // The reply says so as an invalid_request error.
  auto reply = detail::error_reply(nested.error());
  CHECK(reply.status == 400);
  CHECK(reply.body.find(R"("code":"invalid_request")") != std::string::npos);

  // Malformed JSON is still a parse error; an empty body is still {}.
  auto bad = detail::json_body(with_body("{\"a\": "));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::parse_error);
  auto empty = detail::json_body(with_body(" \n"));
  REQUIRE(empty.has_value());
  CHECK(boost::json::serialize(*empty) == "{}");
  auto fine = detail::json_body(with_body(R"({"a": {"k": 1}, "b": {"k": 1}})"));
  CHECK(fine.has_value());
}

TEST_CASE("http: query and path errors quote a short, escaped prefix of what was given", "[server][http]") {
  detail::request_context c;
  c.query["wait"] = std::string(10240, '9') + "s";
  auto wait = detail::query_wait(c, std::chrono::milliseconds(30000));
  REQUIRE_FALSE(wait.has_value());
  CHECK(wait.error().message == "query parameter 'wait': expected a number of seconds, got \"" + std::string(64, '9') +
                                    "\xe2\x80\xa6\" (10241 bytes)");
  c.query["limit"] = "1\r\nX-Forged: yes";
  auto limit = detail::query_integer(c, "limit", 1, 10);
  REQUIRE_FALSE(limit.has_value());
  CHECK(limit.error().message ==
        R"(query parameter 'limit': expected an integer from 1 to 10, got "1\r\nX-Forged: yes")");
  auto id = detail::path_id("7\n" + std::string(500, '0'), "item");
  REQUIRE_FALSE(id.has_value());
  CHECK(id.error().message.find(R"(item id: expected a positive integer, got "7\n)") == 0);
  CHECK(id.error().message.find("(502 bytes)") != std::string::npos);
}
