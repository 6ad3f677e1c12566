#ifndef LIFTOFF_AGENT_DETAIL_SHARED_HPP
#define LIFTOFF_AGENT_DETAIL_SHARED_HPP

/** What the agent's threads share: its options and state (`agent_shared`),
    each held run (`run_slot`), and how they tell an answer from a server
    that is away. */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/options.hpp>
#include <liftoff/agent/detail/log_buffer.hpp>
#include <liftoff/agent/detail/retry.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace liftoff::agent::detail {

using clock = std::chrono::steady_clock;
using liftoff::detail::retry;
using liftoff::detail::retry_policy;

/// API failures that trying again cannot fix: the server understood and refused.
bool refused(diagnostic const& d);

/** Failures that mean the server is not there (yet): the connection failed
    or timed out, or the server's own storage failed. Anything else the
    server said (a refused token, an unknown queue) is final. */
bool unreachable(diagnostic const& d);

/// How far a stop mode goes: a later request can only go further.
int rank(stop_mode m);

/// "a, b, c".
std::string join(std::vector<std::string> const& v, std::string_view sep = ", ");

/// "finished (exit 0)", "failed (run, exit 3): process exited with code 3", "stopped: cancelled".
std::string describe_end(run_status const& s);

/// One run the agent holds, shared by its worker thread and the threads that cancel it.
struct run_slot {
  run_slot(std::size_t tail_lines, std::size_t max_pending) : logs(tail_lines, max_pending) {}

  std::string run_id;
  std::string queue;
  server::item_record item;                     ///< a newly leased item (when `recovered` is empty)
  std::optional<server::run_record> recovered;  ///< a run held before the agent restarted
  liftoff::detail::log_buffer logs;

  std::mutex m;
  std::condition_variable cv;
  std::deque<run_status> pending_states;  ///< non-terminal states reported from other threads
  bool terminal_seen = false;
  std::optional<std::chrono::milliseconds> cancel_grace;  ///< requested
  std::optional<std::chrono::milliseconds> cancel_begun;  ///< the smallest grace a cancel was begun with
  std::string stop_reason;
  std::thread::id worker_id;

  std::thread thread;
  bool done = false;  ///< guarded by the agent's mutex

  /** Asks the run to stop; a shorter grace than one already asked for makes
      it stop sooner. Returns whether this was the first request. */
  bool request_cancel(std::chrono::milliseconds grace, std::string reason);
};

/// The agent's options and state, shared by `run()`'s thread, the heartbeat and lease threads and the runs'.
struct agent_shared {
  explicit agent_shared(agent_options o) : opts(std::move(o)) {}

  agent_options opts;

  mutable std::mutex m;
  std::condition_variable cv;
  std::optional<std::int64_t> id;
  stop_mode mode = stop_mode::none;
  std::string stop_reason;
  std::optional<diagnostic> fatal;
  std::map<std::string, std::shared_ptr<run_slot>, std::less<>> runs;  ///< held runs, by run id
  std::deque<server::item_record> leased;                            ///< items the lease thread got
  std::list<std::shared_ptr<run_slot>> workers;                      ///< slots whose threads are to be joined
  bool heartbeat_done = false;
  bool away = false;

  std::mutex event_m;
  bool events_closed = false;

  /// Sends one line to `opts.on_event` (never after `close_events`; a throwing sink is ignored).
  void emit(std::string const& text);
  void close_events();

  bool stopping() const;
  /// Stops as far as `want` goes (never less far than asked before); the first reason given is kept.
  void stop(stop_mode want, std::string reason);

  /// Tells the heartbeat thread to end (once the runs have ended and been reported).
  void end_heartbeat();

  /// The server did not answer: said once until it answers again.
  void note_away(diagnostic const& d);
  void note_back();

  /** How the agent calls the server again while it does not answer:
      `retry_interval`, doubling up to `heartbeat_interval` (or
      `retry_interval` if longer); pausing with `std::this_thread::sleep_for`,
      giving up never. Callers add their own `stop` and `wait`. */
  retry_policy server_retry() const;

  /// `server_retry`, giving up (also in the middle of a pause) when the agent is stopping.
  retry_policy server_retry_until_stopping();

  /// `server_retry`, giving up (also in the middle of a pause) once the heartbeat is to end.
  retry_policy server_retry_until_heartbeat_done();

  /// For `retry`: a failed call is tried again unless the server refused it (saying once that it is away).
  template <class R>
  bool again_unless_refused(R const& r) {
    if (r || refused(r.error())) return false;
    note_away(r.error());
    return true;
  }

  /// For `retry`: a failed call is tried again only while the server is unreachable (saying once that it is away).
  template <class R>
  bool again_while_unreachable(R const& r) {
    if (r || !unreachable(r.error())) return false;
    note_away(r.error());
    return true;
  }

  /// A client for the API; `extra_wait` is added to the request timeout (a lease's long poll).
  result<client::api_client> make_client(std::chrono::milliseconds extra_wait = {}) const;

  /// Where the agent keeps its identity: `<state_dir>/<name>.json`.
  std::filesystem::path state_file() const;

private:
  /// `server_retry`, stopping when `done()` (called under `m`) is true, its pauses woken by `cv`.
  template <class Done>
  retry_policy server_retry_until(Done done) {
    auto p = server_retry();
    p.stop = [this, done] {
      std::lock_guard lock(m);
      return done();
    };
    p.wait = [this, done](std::chrono::milliseconds pause) {
      std::unique_lock lock(m);
      return cv.wait_for(lock, pause, done);
    };
    return p;
  }
};

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/shared.ipp>
#endif

#endif
