#ifndef LIFTOFF_KUBE_WATCH_HUB_HPP
#define LIFTOFF_KUBE_WATCH_HUB_HPP

/** One pair of watches per cluster, namespace and workload kind, shared by
    every run a process follows there: the workloads and the pods labelled
    `liftoff.io/run-id`, dispatched to each run by that label. A thousand runs
    cost two connections, not two thousand. Each watch lists, then watches
    from the list's resourceVersion, resumes from the last one it saw after a
    dropped connection, and lists again after 410 Gone. */

#include <liftoff/detail/config.hpp>
#include <liftoff/kube/api.hpp>

#include <boost/json/object.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace liftoff::kube {

/// What a followed run receives, on the hub's threads.
class watch_subscriber {
public:
  virtual ~watch_subscriber() = default;
  /// A version of the run's workload (`is_pod` false) or one of its pods; `deleted` for a DELETED event.
  virtual void on_object(bool is_pod, boost::json::object const& object, bool deleted) = 0;
  /// Called about once a second, for time-based decisions.
  virtual void on_tick() = 0;
};

class watch_hub {
public:
  /** The hub for `workload` objects in namespace `ns` of the cluster `a`
      talks to, started on first use and stopped when the last holder lets go. */
  static std::shared_ptr<watch_hub> shared(api const& a, std::string const& ns, resource_kind const& workload);

  watch_hub(api a, std::string ns, resource_kind workload);
  ~watch_hub();
  watch_hub(watch_hub const&) = delete;
  watch_hub& operator=(watch_hub const&) = delete;

  /** Delivers the run's events to `s` from now on. Objects the hub already
      holds for the run are delivered at once, so a run created just before
      subscribing loses nothing. */
  void subscribe(std::string const& run_id, std::weak_ptr<watch_subscriber> s);
  void unsubscribe(std::string const& run_id);

  /// Handles one watch event (exposed for benchmarks that replay a recorded stream).
  void dispatch(bool is_pod, watch_event const& e);

  struct counters {
    std::uint64_t events = 0;   ///< events dispatched
    std::uint64_t relists = 0;  ///< lists after 410 Gone
    std::uint64_t reconnects = 0;
  };
  counters stats() const;

private:
  void loop(bool is_pod);
  void ticker();
  bool sleep_for(std::chrono::milliseconds d);  ///< false when stopping

  api api_;
  std::string ns_;
  resource_kind workload_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, std::weak_ptr<watch_subscriber>> subs_;
  /// The newest version of each object, by run id, so late subscribers catch up.
  std::map<std::string, std::map<std::string, boost::json::object>> seen_pods_;
  std::map<std::string, std::map<std::string, boost::json::object>> seen_workloads_;  ///< by run id, then name
  watch_stream* open_[2] = {nullptr, nullptr};
  counters stats_;
  std::vector<std::thread> threads_;
};

}  // namespace liftoff::kube

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/watch_hub.ipp>
#endif

#endif
