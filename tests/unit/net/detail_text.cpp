#include <liftoff/net/detail/text.hpp>

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
namespace d = liftoff::net::detail;

TEST_CASE("redact_target hides secret query values and keeps the rest", "[net]") {
  CHECK(d::redact_target("/v1/pods?watch=1&token=abc123&limit=5") == "/v1/pods?watch=1&token=REDACTED&limit=5");
  CHECK(d::redact_target("/b/o?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA") ==
        "/b/o?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED");
  CHECK(d::redact_target("/plain/path") == "/plain/path");
  CHECK(d::redact_target("/flag?follow") == "/flag?follow");
}

TEST_CASE("parse_retry_after reads seconds and HTTP dates", "[net]") {
  CHECK(d::parse_retry_after("7") == 7000ms);
  CHECK(d::parse_retry_after(" 0 ") == 0ms);
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(d::parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30000ms);
  CHECK(d::parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0ms);
  CHECK_FALSE(d::parse_retry_after("soon"));
  CHECK_FALSE(d::parse_retry_after("-3"));
  CHECK_FALSE(d::parse_retry_after(""));
}

TEST_CASE("backoff_delay grows exponentially, is capped and jittered", "[net]") {
  std::minstd_rand rng(42);
  for (int i = 0; i < 50; ++i) {
    auto first = d::backoff_delay(1, 100ms, 5s, rng);
    CHECK(first >= 50ms);
    CHECK(first <= 100ms);
    auto fourth = d::backoff_delay(4, 100ms, 5s, rng);
    CHECK(fourth >= 400ms);
    CHECK(fourth <= 800ms);
    auto capped = d::backoff_delay(30, 100ms, 5s, rng);
    CHECK(capped >= 2500ms);
    CHECK(capped <= 5s);
  }
  // Jitter: not every delay is the same.
  auto a = d::backoff_delay(5, 100ms, 5s, rng);
  bool differs = false;
  for (int i = 0; i < 20 && !differs; ++i) differs = d::backoff_delay(5, 100ms, 5s, rng) != a;
  CHECK(differs);
}

TEST_CASE("message helpers format durations, excerpts and scrub secrets", "[net]") {
  CHECK(d::format_duration(5s) == "5s");
  CHECK(d::format_duration(250ms) == "250ms");
  CHECK(d::format_duration(1500ms) == "1.5s");
  CHECK(d::lower_first("Connection refused") == "connection refused");
  CHECK(d::lower_first("TLS failed") == "TLS failed");
  CHECK(d::excerpt("  {\"message\":\n\"no such image\"}\n") == "{\"message\": \"no such image\"}");
  CHECK(d::excerpt(std::string(1000, 'x'), 10) == "xxxxxxxxxx…");
  CHECK(d::scrub("token Bearer abcdefgh here", {"abcdefgh"}) == "token Bearer [redacted] here");
}
