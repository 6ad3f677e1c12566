#ifndef LIFTOFF_SERVER_DETAIL_HTTP_WAITERS_HPP
#define LIFTOFF_SERVER_DETAIL_HTTP_WAITERS_HPP

// Parked long-polls. A request with nothing to answer yet (an empty queue,
// no new log text) parks a waiter under one or more keys ("queue:a",
// "run:x"); a change to one of them wakes every waiter parked there, and each
// tries again. A parked request holds no thread: only a timer and an entry here.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace liftoff::server::detail {

/// Why a parked request stopped waiting.
enum class wake_reason : int {
  none = 0,
  notified,  ///< one of its keys changed: try again
  timeout,   ///< its wait passed
  stopping,  ///< the server is shutting down
  gone,      ///< the client disconnected
};

/// One parked request. Its timer runs on the request's connection executor.
struct waiter {
  explicit waiter(boost::asio::any_io_executor ex) : timer(std::move(ex)) {}
  boost::asio::steady_timer timer;
  std::vector<std::string> keys;
  std::atomic<int> reason{0};  ///< set once, by whoever wakes it first

  wake_reason why() const noexcept { return static_cast<wake_reason>(reason.load()); }
};

/// What `waiter_hub::park` did.
enum class park_result { parked, changed, closed };

/** The parked requests, by key. A notification stamps its key with a
    counter, so a change that happens between a request's attempt and its
    parking is not missed: `park` sees the newer stamp and the request tries
    again at once. Thread-safe. */
class waiter_hub {
public:
  /// A stamp to take before an attempt and pass to `park` after it failed.
  std::uint64_t stamp() {
    std::lock_guard lock(mutex_);
    return counter_;
  }

  /** Parks `w` under its keys, unless one of them changed since `since`
      (`changed`: try again) or the hub is closed (`closed`: answer now). */
  park_result park(std::shared_ptr<waiter> const& w, std::uint64_t since) {
    std::lock_guard lock(mutex_);
    if (closed_) return park_result::closed;
    for (auto const& k : w->keys)
      if (auto it = keys_.find(k); it != keys_.end() && it->second.stamp > since) return park_result::changed;
    for (auto const& k : w->keys) keys_[k].waiters.push_back(w);
    ++parked_;
    return park_result::parked;
  }

  /// Something changed under `key`: every waiter parked there wakes with `notified`.
  void notify(std::string_view key) {
    std::vector<std::shared_ptr<waiter>> woken;
    {
      std::lock_guard lock(mutex_);
      auto& e = keys_[std::string(key)];
      e.stamp = ++counter_;
      e.last_change = std::chrono::steady_clock::now();
      woken.swap(e.waiters);
      for (auto const& w : woken) claim_locked(w, wake_reason::notified, key);
    }
    for (auto const& w : woken)
      if (w->why() == wake_reason::notified) cancel_timer(w);
  }

  /// Wakes `w` for `reason` unless something woke it already; returns whether this call did.
  bool wake(std::shared_ptr<waiter> const& w, wake_reason reason) {
    {
      std::lock_guard lock(mutex_);
      if (!claim_locked(w, reason, {})) return false;
    }
    cancel_timer(w);
    return true;
  }

  /// Wakes every waiter with `stopping`; from now on `park` answers `closed`.
  void close() {
    std::vector<std::shared_ptr<waiter>> all;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      for (auto& [k, e] : keys_)
        for (auto& w : e.waiters)
          if (w->reason.load() == 0) all.push_back(w);
      for (auto const& w : all) claim_locked(w, wake_reason::stopping, {});
    }
    for (auto const& w : all) cancel_timer(w);
  }

  /** Forgets keys that nobody waits on and that did not change for `idle`
      (so finished runs do not accumulate); a request would need to take
      longer than `idle` between its attempt and its parking to miss a change. */
  void prune(std::chrono::steady_clock::duration idle) {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = keys_.begin(); it != keys_.end();) {
      if (it->second.waiters.empty() && now - it->second.last_change > idle) it = keys_.erase(it);
      else ++it;
    }
  }

  /// How many requests are parked now.
  std::size_t parked() const {
    std::lock_guard lock(mutex_);
    return parked_;
  }

private:
  struct entry {
    std::uint64_t stamp = 0;
    std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<waiter>> waiters;
  };

  // Claims `w` (once) and takes it off every key but `except` (whose list the caller owns).
  bool claim_locked(std::shared_ptr<waiter> const& w, wake_reason reason, std::string_view except) {
    int expected = 0;
    if (!w->reason.compare_exchange_strong(expected, static_cast<int>(reason))) return false;
    for (auto const& k : w->keys) {
      if (k == except) continue;
      auto it = keys_.find(k);
      if (it == keys_.end()) continue;
      auto& v = it->second.waiters;
      v.erase(std::remove(v.begin(), v.end(), w), v.end());
    }
    --parked_;
    return true;
  }

  static void cancel_timer(std::shared_ptr<waiter> const& w) {
    // The timer belongs to the request's strand: cancel it there.
    boost::asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> keys_;
  std::uint64_t counter_ = 0;
  std::size_t parked_ = 0;
  bool closed_ = false;
};

}  // namespace liftoff::server::detail

#endif
