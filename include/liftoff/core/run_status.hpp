#ifndef LIFTOFF_CORE_RUN_STATUS_HPP
#define LIFTOFF_CORE_RUN_STATUS_HPP

#include <liftoff/core/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff {

/// The life of a run: queued → leased → building → starting → running → a terminal state.
enum class run_state { queued, leased, building, starting, running, finished, failed, stopped, crashed, preempted };

/// True for the states a run never leaves.
constexpr bool is_terminal(run_state s) noexcept {
  return s == run_state::finished || s == run_state::failed || s == run_state::stopped ||
         s == run_state::crashed || s == run_state::preempted;
}

/** Where a state is on the way: queued 0, leased 1, building 2, starting 3,
    running 4, a terminal state 5. A run only moves forward (a preempted run
    that goes back on its queue starts a new way, at `queued`). */
constexpr int run_state_rank(run_state s) noexcept {
  switch (s) {
    case run_state::queued: return 0;
    case run_state::leased: return 1;
    case run_state::building: return 2;
    case run_state::starting: return 3;
    case run_state::running: return 4;
    default: return 5;
  }
}

inline std::string_view to_string(run_state s) noexcept {
  switch (s) {
    case run_state::queued: return "queued";
    case run_state::leased: return "leased";
    case run_state::building: return "building";
    case run_state::starting: return "starting";
    case run_state::running: return "running";
    case run_state::finished: return "finished";
    case run_state::failed: return "failed";
    case run_state::stopped: return "stopped";
    case run_state::crashed: return "crashed";
    case run_state::preempted: return "preempted";
  }
  return "failed";
}

/// Parses a state name; empty when `name` is not one.
inline std::optional<run_state> run_state_from_string(std::string_view name) noexcept {
  for (auto s : {run_state::queued, run_state::leased, run_state::building, run_state::starting, run_state::running,
                 run_state::finished, run_state::failed, run_state::stopped, run_state::crashed, run_state::preempted})
    if (to_string(s) == name) return s;
  return std::nullopt;
}

/// A snapshot of a run: where it is, and for an ended run, how it ended.
struct run_status {
  run_state state = run_state::queued;
  std::optional<int> exit_code;                  ///< the process's exit code, when it exited
  failure_stage stage = failure_stage::none;     ///< for failed runs: where it failed
  std::string message;                           ///< for failed runs: what a person can do about it

  run_status() = default;
  run_status(run_state s, std::optional<int> code = std::nullopt, failure_stage where = failure_stage::none,
             std::string msg = {})
      : state(s), exit_code(code), stage(where), message(std::move(msg)) {}

  bool terminal() const noexcept { return is_terminal(state); }
  bool succeeded() const noexcept { return state == run_state::finished; }
};

/// Where a line of a run's output came from.
enum class log_stream {
  out,     ///< the job's stdout
  err,     ///< the job's stderr
  system,  ///< liftoff's own lines about the run
  build,   ///< the image build's output (its steps and what they print)
};

inline std::string_view to_string(log_stream s) noexcept {
  switch (s) {
    case log_stream::out: return "stdout";
    case log_stream::err: return "stderr";
    case log_stream::system: return "system";
    case log_stream::build: return "build";
  }
  return "system";
}

/// One line of a run's output, without its line terminator.
struct log_line {
  log_stream stream = log_stream::out;
  std::string text;
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
};

}  // namespace liftoff

#endif
