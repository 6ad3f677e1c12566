#ifndef LIFTOFF_KUBE_STATUS_HPP
#define LIFTOFF_KUBE_STATUS_HPP

/** What a run's workload and pods say about the run: Job conditions, pod
    phases, container states and disruption conditions, turned into liftoff
    run states, warnings and the containers whose logs to follow. Pure: it
    reads objects as a watch delivers them and never talks to a cluster. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/run_status.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace liftoff::kube {

/// A container whose output can be read (it started), in a pod.
struct log_target {
  std::string pod;
  std::string container;
  friend bool operator<(log_target const& a, log_target const& b) {
    return std::tie(a.pod, a.container) < std::tie(b.pod, b.container);
  }
};

/** Follows one run. Feed it every version of the workload and of each pod;
    read `state()`, then take warnings and log targets as they appear. */
class run_tracker {
public:
  using clock = std::chrono::steady_clock;

  /** `is_job`: the workload is a batch/v1 Job (its conditions decide); else a
      custom resource (its `status.conditions` or `status.phase` /
      `status.state.phase` decide). `image_grace`: how long a pod may wait
      on an image or container-config error before the run fails. */
  explicit run_tracker(bool is_job, std::chrono::milliseconds image_grace = std::chrono::seconds(60));

  void on_workload(boost::json::object const& object, bool deleted, clock::time_point now = clock::now());
  void on_pod(boost::json::object const& pod, bool deleted, clock::time_point now = clock::now());
  /// Checks the grace periods.
  void tick(clock::time_point now = clock::now());

  /// `starting`, `running`, or the terminal state with its exit code, stage and message.
  run_status const& status() const noexcept { return status_; }
  bool terminal() const noexcept { return status_.terminal(); }
  /// True once the workload was seen deleted.
  bool workload_deleted() const noexcept { return deleted_; }
  /// True when the run failed on liftoff's own judgement (a pod stuck past its grace period), not the workload's.
  bool gave_up() const noexcept { return gave_up_; }

  /// Warnings not taken yet ("pod x cannot be scheduled: 0/3 nodes are available: …").
  std::vector<std::string> take_warnings();
  /// Containers that started since the last call.
  std::vector<log_target> take_log_targets();

private:
  void set_terminal(run_status s);
  void decide_from_pods(std::string const& fallback);

  struct container_seen {
    std::string waiting_reason;
    std::string waiting_message;
    clock::time_point waiting_since{};
    std::optional<int> exit_code;
    std::string terminated_reason;
    std::string image;
  };
  struct pod_seen {
    std::string phase;
    bool disrupted = false;
    std::string disruption;
    std::string memory_limit;
    std::map<std::string, container_seen> containers;
  };

  bool is_job_;
  std::chrono::milliseconds image_grace_;
  run_status status_{run_state::starting};
  bool deleted_ = false;
  bool gave_up_ = false;
  bool workload_failed_ = false;  ///< the workload failed; the pods explain why
  std::string fallback_;          ///< the workload's own reason, when the pods do not explain it
  std::map<std::string, pod_seen> pods_;
  std::set<log_target> started_;
  std::vector<log_target> new_targets_;
  std::vector<std::string> warnings_;
  std::set<std::string> warned_;
};

}  // namespace liftoff::kube

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/status.ipp>
#endif

#endif
