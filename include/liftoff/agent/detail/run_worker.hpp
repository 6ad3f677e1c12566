#ifndef LIFTOFF_AGENT_DETAIL_RUN_WORKER_HPP
#define LIFTOFF_AGENT_DETAIL_RUN_WORKER_HPP

/** One run's life on its own thread: ack the item, fetch its code, launch
    it (or find it again after a restart), then follow it — its states and
    its output flushed to the server every `log_flush_interval`, a cancel
    passed on — and report how it ended. */

#include <liftoff/detail/config.hpp>
#include <liftoff/agent/detail/shared.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace liftoff::agent::detail {

/** Takes one run from ack to its reported end, on its own thread with its
    own client: the thread's function (`std::thread(run_worker(sh, slot))`).
    When it returns, the run is no longer the agent's (`sh->runs`) and its
    slot is `done`, to be joined. */
class run_worker {
public:
  run_worker(std::shared_ptr<agent_shared> sh, std::shared_ptr<run_slot> slot);

  void operator()();

private:
  std::shared_ptr<agent_shared> sh_;
  std::shared_ptr<run_slot> slot_;
  std::int64_t agent_id_;
  std::optional<client::api_client> client_;
  any_run run_;
  std::filesystem::path run_dir_;
  std::vector<std::thread> cancellers_;

  std::string const& id() const { return slot_->run_id; }

  /// Waits `d`, or less when the slot changes (a cancel, a state).
  void pause(std::chrono::milliseconds d);
  bool cancel_requested();
  /// `server_retry`, pausing on the slot; callers set `stop`.
  retry_policy pausing_retry();

  // ---- a newly leased item ----
  /// Acks, prepares and launches the item, then follows it.
  void take();
  /// Downloads and unpacks the code artifact `digest` into the run's directory; the code's directory.
  result<std::filesystem::path> fetch_code(std::string const& digest);
  /// The callbacks that pass the run's output and states to the slot (and report states reached on this thread).
  launch_options launch_options_for();

  // ---- a run held before a restart ----
  /// Follows it again if it is found (`find_run_again`), else reports it crashed.
  void recover();

  // ---- a started run ----
  /// Until the run ends: reports its states, flushes its output, passes a cancel on; then reports its end.
  void follow();
  void end_unstarted();
  void fail_before_start(diagnostic const& d, failure_stage fallback);

  // ---- talking to the server ----
  void report_state(run_status const& s);
  /** Sends the output gathered since the last flush; kept for the next one
      when the server is away (the failure returned). A refusal is success:
      the run is no longer this agent's, and there is nothing more to send. */
  result<void> flush_logs();
  /** Reports the run's end with its last output, trying again while the
      server is away; once the agent stops, for `final_report_patience`. */
  void report_end(run_status const& s, std::vector<std::string> warnings);
};

}  // namespace liftoff::agent::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/agent/impl/run_worker.ipp>
#endif

#endif
