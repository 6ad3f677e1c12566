#ifndef LIFTOFF_DETAIL_RUN_RECORD_HPP
#define LIFTOFF_DETAIL_RUN_RECORD_HPP

#include <liftoff/core/pipeline.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace liftoff::detail {

/** What every target's run handle shares with the threads that watch the run:
    its status, its kept log lines, and the launch's callbacks. A target's own
    state derives from it and adds what only it knows (a process group, a
    container id). */
struct run_record {
  std::string id;
  std::size_t max_lines = 100000;
  std::function<void(log_line const&)> on_log;
  std::function<void(run_status const&)> on_status;
  std::shared_ptr<void const> lifetime;  ///< keeps the artifact's resources (a clone, …) for as long as the run

  mutable std::mutex m;
  std::condition_variable cv;
  std::mutex callback_mutex;  ///< one on_log call at a time, whichever thread read the line
  run_status status{run_state::running};
  std::deque<log_line> logs;

  /// Takes the launch's callbacks and the artifact's lifetime.
  void attach(launch_options const& options, artifact const& in) {
    on_log = options.on_log;
    on_status = options.on_status;
    lifetime = in.lifetime;
  }

  /// Keeps a line (the last `max_lines` of them) and passes it to on_log.
  void add_line(log_line line) {
    {
      std::lock_guard lock(m);
      logs.push_back(line);
      while (logs.size() > max_lines) logs.pop_front();
    }
    if (on_log) try {
        std::lock_guard serial(callback_mutex);
        on_log(line);
      } catch (...) {  // a throwing callback must not terminate the program from a watcher thread
      }
  }

  /// Reports the terminal status, then makes it visible: wait() returns only after on_status saw it.
  void publish(run_status const& s) {
    if (on_status) try {
        on_status(s);
      } catch (...) {
      }
    std::lock_guard lock(m);
    status = s;
    cv.notify_all();
  }

  run_status current() const {
    std::lock_guard lock(m);
    return status;
  }

  run_status wait_terminal() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return status.terminal(); });
    return status;
  }

  std::vector<log_line> kept_logs() const {
    std::lock_guard lock(m);
    return {logs.begin(), logs.end()};
  }
};

}  // namespace liftoff::detail

#endif
