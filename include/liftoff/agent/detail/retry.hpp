#ifndef LIFTOFF_AGENT_DETAIL_RETRY_HPP
#define LIFTOFF_AGENT_DETAIL_RETRY_HPP

/** The one retry loop of the agent: call something (the server, mostly),
    and while it fails in a way that may pass, pause — `initial`, then
    twice as long each time up to `cap` — and call it again, until it
    answers, a stop is requested, or a deadline has passed. */

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>

namespace liftoff::detail {

/** The pauses of a retry loop: `initial`, then doubling, never more than
    `cap`. With `jitter` j (0 to 1) each pause is drawn at random from
    [(1 - j) × p, p], so that clients that failed together do not all try
    again together; 0 gives the exact pauses. */
class backoff {
public:
  backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, double jitter = 0)
      : nominal_(std::min(initial, cap)), initial_(nominal_), cap_(cap), jitter_(std::clamp(jitter, 0.0, 1.0)) {}

  /// The pause to make now; the next one is twice as long (up to the cap).
  std::chrono::milliseconds next() {
    auto const pause = nominal_;
    nominal_ = nominal_ > cap_ / 2 ? cap_ : nominal_ * 2;  // min(2 × pause, cap), without overflow
    if (jitter_ <= 0 || pause.count() <= 0) return pause;
    auto const shortest = static_cast<std::chrono::milliseconds::rep>(static_cast<double>(pause.count()) * (1 - jitter_));
    std::uniform_int_distribution<std::chrono::milliseconds::rep> draw(shortest, pause.count());
    return std::chrono::milliseconds(draw(rng()));
  }

  /// Starts again from `initial` (after a success).
  void reset() { nominal_ = initial_; }

private:
  static std::minstd_rand& rng() {
    thread_local std::minstd_rand r(std::random_device{}());
    return r;
  }

  std::chrono::milliseconds nominal_;
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  double jitter_;
};

/// How `retry` pauses between attempts, and when it gives up.
struct retry_policy {
  std::chrono::milliseconds initial{250};                  ///< the pause after the first failure
  std::chrono::milliseconds cap{std::chrono::seconds(5)};  ///< pauses double up to this
  double jitter = 0;  ///< 0 to 1: how much shorter than its nominal length a pause may be, at random
  /// No pause is begun once it has passed: the last result is the answer.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// Asked after each failed attempt: true gives up (the last result is the answer). Empty: never.
  std::function<bool()> stop;
  /** Makes a pause; returns true to give up instead of trying again (a stop
      that arrived meanwhile). Empty: `std::this_thread::sleep_for`. */
  std::function<bool(std::chrono::milliseconds)> wait;
};

/** Calls `attempt()` until `again(result)` is false, pausing between
    attempts as `policy` says; returns the last result.

    `again` tells a failure worth another attempt (the server did not
    answer) from an answer, good or bad (it replied, or refused); it is the
    place to note the failure (once, say). After a failure worth another
    attempt, `retry` gives up — returning that failure — when
    `policy.stop()` says so, when `policy.deadline` has passed, or when
    `policy.wait` returns true; else it pauses and tries again.

    @param attempt  `R()`: one try; `R` is returned (any movable type)
    @param again    `bool(R const&)`: whether to try again */
template <class Attempt, class Again>
std::decay_t<std::invoke_result_t<Attempt&>> retry(retry_policy const& policy, Attempt&& attempt, Again&& again) {
  backoff pauses(policy.initial, policy.cap, policy.jitter);
  for (;;) {
    auto r = attempt();
    if (!again(std::as_const(r))) return r;
    if (policy.stop && policy.stop()) return r;
    if (policy.deadline && std::chrono::steady_clock::now() >= *policy.deadline) return r;
    auto const pause = pauses.next();
    if (policy.wait) {
      if (policy.wait(pause)) return r;
    } else {
      std::this_thread::sleep_for(pause);
    }
  }
}

}  // namespace liftoff::detail

#endif
