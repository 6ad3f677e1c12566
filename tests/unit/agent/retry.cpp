#include <liftoff/agent/detail/retry.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using liftoff::detail::backoff;
using liftoff::detail::retry;
using liftoff::detail::retry_policy;
using ms = std::chrono::milliseconds;

namespace {

/// A policy that records its pauses instead of sleeping.
retry_policy recording(std::vector<ms>& pauses, ms initial = 10ms, ms cap = 80ms) {
  retry_policy p;
  p.initial = initial;
  p.cap = cap;
  p.wait = [&pauses](ms d) {
    pauses.push_back(d);
    return false;
  };
  return p;
}

}  // namespace

TEST_CASE("backoff doubles its pause up to the cap and starts over on reset", "[agent][retry]") {
  backoff b(10ms, 70ms);
  std::vector<ms> got;
  for (int i = 0; i < 6; ++i) got.push_back(b.next());
  CHECK(got == std::vector<ms>{10ms, 20ms, 40ms, 70ms, 70ms, 70ms});
  b.reset();
  CHECK(b.next() == 10ms);

  backoff above_cap(500ms, 100ms);  // the cap holds from the first pause
  CHECK(above_cap.next() == 100ms);
  CHECK(above_cap.next() == 100ms);
}

TEST_CASE("backoff with jitter draws each pause from below its nominal length", "[agent][retry]") {
  backoff b(100ms, 400ms, 0.5);
  std::vector<ms> const nominal{100ms, 200ms, 400ms, 400ms};
  bool some_shorter = false;
  for (int round = 0; round < 50; ++round) {
    b.reset();
    for (auto n : nominal) {
      auto p = b.next();
      CHECK(p <= n);
      CHECK(p >= n / 2);
      if (p < n) some_shorter = true;
    }
  }
  CHECK(some_shorter);  // 200 draws all at the top would mean no jitter
}

TEST_CASE("retry tries again while `again` says so and returns the first answer", "[agent][retry]") {
  std::vector<ms> pauses;
  int calls = 0;
  auto r = retry(recording(pauses), [&] { return ++calls; }, [](int n) { return n < 5; });
  CHECK(r == 5);
  CHECK(calls == 5);
  CHECK(pauses == std::vector<ms>{10ms, 20ms, 40ms, 80ms});
}

TEST_CASE("retry returns an answer that is not worth another try at once, without pausing", "[agent][retry]") {
  std::vector<ms> pauses;
  int calls = 0;
  auto r = retry(recording(pauses), [&] {
    ++calls;
    return std::string("refused");
  }, [](std::string const&) { return false; });
  CHECK(r == "refused");
  CHECK(calls == 1);
  CHECK(pauses.empty());
}

TEST_CASE("retry gives up with the last result when its stop predicate says so", "[agent][retry]") {
  std::vector<ms> pauses;
  int calls = 0;
  auto p = recording(pauses);
  p.stop = [&] { return calls >= 3; };
  auto r = retry(p, [&] { return std::optional<int>(); }, [&](std::optional<int> const& v) {
    ++calls;
    return !v;
  });
  CHECK_FALSE(r);
  CHECK(calls == 3);
  CHECK(pauses.size() == 2);  // no pause after the attempt that was given up on
}

TEST_CASE("retry gives up when a pause is interrupted", "[agent][retry]") {
  int calls = 0;
  int waits = 0;
  retry_policy p;
  p.initial = 1ms;
  p.wait = [&](ms) { return ++waits == 2; };  // the second pause is cut short by a stop
  auto r = retry(p, [&] { return ++calls; }, [](int) { return true; });
  CHECK(r == 2);
  CHECK(calls == 2);
  CHECK(waits == 2);
}

TEST_CASE("retry begins no pause once its deadline has passed", "[agent][retry]") {
  SECTION("a deadline already passed: one attempt") {
    std::vector<ms> pauses;
    auto p = recording(pauses);
    p.deadline = std::chrono::steady_clock::now() - 1ms;
    int calls = 0;
    retry(p, [&] { return ++calls; }, [](int) { return true; });
    CHECK(calls == 1);
    CHECK(pauses.empty());
  }
  SECTION("real pauses until the deadline") {
    retry_policy p;
    p.initial = 5ms;
    p.cap = 5ms;
    auto const start = std::chrono::steady_clock::now();
    p.deadline = start + 60ms;
    int calls = 0;
    retry(p, [&] { return ++calls; }, [](int) { return true; });
    auto const took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 60ms);
    CHECK(took < 2s);
    CHECK(calls >= 2);
    CHECK(calls <= 14);  // 60 ms of 5 ms pauses, and the attempt at the deadline
  }
}
