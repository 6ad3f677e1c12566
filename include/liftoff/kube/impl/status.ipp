#ifndef LIFTOFF_KUBE_IMPL_STATUS_IPP
#define LIFTOFF_KUBE_IMPL_STATUS_IPP

#include <liftoff/kube/status.hpp>

#include <algorithm>
#include <array>

namespace liftoff::kube {

namespace detail {

LIFTOFF_DECL std::string str(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

LIFTOFF_DECL boost::json::object const* obj(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

LIFTOFF_DECL boost::json::array const* arr(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_array() ? &v->get_array() : nullptr;
}

/// The condition of `type` whose status is "True", if any.
LIFTOFF_DECL boost::json::object const* true_condition(boost::json::object const& status, std::string_view type) {
  if (auto const* cs = arr(status, "conditions"))
    for (auto const& c : *cs)
      if (c.is_object() && str(c.get_object(), "type") == type && str(c.get_object(), "status") == "True")
        return &c.get_object();
  return nullptr;
}

LIFTOFF_DECL bool fatal_waiting_reason(std::string_view r) {
  static constexpr std::array<std::string_view, 6> reasons = {"ImagePullBackOff",          "ErrImagePull",
                                                              "InvalidImageName",          "CreateContainerConfigError",
                                                              "CreateContainerError",      "CrashLoopBackOff"};
  return std::find(reasons.begin(), reasons.end(), r) != reasons.end();
}

LIFTOFF_DECL std::string condition_text(boost::json::object const& c) {
  auto reason = str(c, "reason");
  auto message = str(c, "message");
  if (reason.empty()) return message;
  if (message.empty()) return reason;
  return reason + ": " + message;
}

}  // namespace detail

LIFTOFF_DECL run_tracker::run_tracker(bool is_job, std::chrono::milliseconds image_grace)
    : is_job_(is_job), image_grace_(image_grace) {}

LIFTOFF_DECL void run_tracker::set_terminal(run_status s) {
  if (status_.terminal()) return;
  status_ = std::move(s);
}

LIFTOFF_DECL void run_tracker::decide_from_pods(std::string const& fallback) {
  // Pod and workload events come on separate streams: a failure is re-explained whenever a pod changes.
  if (status_.terminal() && !workload_failed_) return;
  workload_failed_ = true;
  fallback_ = fallback;
  status_ = run_status(run_state::running);
  // A disruption (eviction, preemption) explains a failure best: the run can run again.
  for (auto const& [name, pod] : pods_)
    if (pod.disrupted)
      return set_terminal(run_status(run_state::preempted, std::nullopt, failure_stage::run,
                                     "pod " + name + " was disrupted (" + pod.disruption +
                                         "); the run can be retried"));
  for (auto const& [name, pod] : pods_)
    for (auto const& [cname, c] : pod.containers)
      if (c.terminated_reason == "OOMKilled")
        return set_terminal(run_status(
            run_state::failed, c.exit_code, failure_stage::run,
            "out of memory" + (pod.memory_limit.empty() ? std::string() : " (limit " + pod.memory_limit + ")") +
                ": container " + cname + " in pod " + name + " was killed"));
  for (auto const& [name, pod] : pods_)
    for (auto const& [cname, c] : pod.containers)
      if (c.exit_code && *c.exit_code != 0)
        return set_terminal(run_status(run_state::failed, c.exit_code, failure_stage::run,
                                       "container " + cname + " in pod " + name + " exited with code " +
                                           std::to_string(*c.exit_code) +
                                           (c.terminated_reason.empty() || c.terminated_reason == "Error"
                                                ? std::string()
                                                : " (" + c.terminated_reason + ")")));
  set_terminal(run_status(run_state::failed, std::nullopt, failure_stage::run, fallback));
}

LIFTOFF_DECL void run_tracker::on_workload(boost::json::object const& object, bool deleted, clock::time_point now) {
  if (deleted) {
    deleted_ = true;
    auto const* md = detail::obj(object, "metadata");
    set_terminal(run_status(run_state::failed, std::nullopt, failure_stage::run,
                            "the " + detail::str(object, "kind") + " " + (md ? detail::str(*md, "name") : "") +
                                " was deleted before it finished"));
    return;
  }
  auto const* st = detail::obj(object, "status");
  if (!st) return tick(now);
  auto const kind = detail::str(object, "kind");
  if (is_job_) {
    if (detail::true_condition(*st, "Complete") || detail::true_condition(*st, "SuccessCriteriaMet")) {
      // The exit code of the pod that completed, when its status arrived already.
      std::optional<int> code = 0;
      return set_terminal(run_status(run_state::finished, code));
    }
    if (auto const* c = detail::true_condition(*st, "Failed"))
      return decide_from_pods("the Job failed: " + detail::condition_text(*c));
    // Running is decided by the pods: a Job with an active pod may still be pulling its image.
    return tick(now);
  }
  // A custom resource: the newest true condition, else the phase.
  std::string decided;
  std::string text;
  if (auto const* cs = detail::arr(*st, "conditions"))
    for (auto const& c : *cs)
      if (c.is_object() && detail::str(c.get_object(), "status") == "True") {
        decided = detail::str(c.get_object(), "type");
        text = detail::condition_text(c.get_object());
      }
  if (decided.empty()) {
    decided = detail::str(*st, "phase");
    if (decided.empty())
      if (auto const* state = detail::obj(*st, "state")) decided = detail::str(*state, "phase");
    text = detail::str(*st, "message");
  }
  if (decided == "Succeeded" || decided == "Complete" || decided == "Completed")
    return set_terminal(run_status(run_state::finished, 0));
  if (decided == "Failed" || decided == "Aborted")
    return decide_from_pods("the " + kind + " failed" + (text.empty() ? std::string() : ": " + text));
  if (decided == "Running" && !status_.terminal()) status_ = run_status(run_state::running);
  tick(now);
}

LIFTOFF_DECL void run_tracker::on_pod(boost::json::object const& pod, bool deleted, clock::time_point now) {
  auto const* md = detail::obj(pod, "metadata");
  if (!md) return;
  auto const name = detail::str(*md, "name");
  if (deleted) return;  // its last state was seen before
  auto& seen = pods_[name];
  auto const* st = detail::obj(pod, "status");
  if (auto const* spec = detail::obj(pod, "spec"))
    if (auto const* cs = detail::arr(*spec, "containers"); cs && !cs->empty() && (*cs)[0].is_object())
      if (auto const* res = detail::obj((*cs)[0].get_object(), "resources"))
        if (auto const* lim = detail::obj(*res, "limits"))
          if (auto const* mem = lim->if_contains("memory")) {
            if (mem->is_string()) seen.memory_limit = mem->get_string();
            else if (mem->is_int64()) seen.memory_limit = std::to_string(mem->get_int64());
          }
  if (!st) return tick(now);
  seen.phase = detail::str(*st, "phase");
  if (auto const* c = detail::true_condition(*st, "DisruptionTarget")) {
    seen.disrupted = true;
    seen.disruption = detail::condition_text(*c);
  }
  if (auto const* cs = detail::arr(*st, "conditions"))
    for (auto const& c : *cs) {
      if (!c.is_object()) continue;
      auto const& co = c.get_object();
      if (detail::str(co, "type") == "PodScheduled" && detail::str(co, "status") == "False" &&
          detail::str(co, "reason") == "Unschedulable") {
        auto w = "pod " + name + " cannot be scheduled: " + detail::str(co, "message");
        if (warned_.insert(w).second) warnings_.push_back(w);
      }
    }
  bool any_running = false;
  for (char const* list : {"initContainerStatuses", "containerStatuses"}) {
    auto const* statuses = detail::arr(*st, list);
    if (!statuses) continue;
    for (auto const& v : *statuses) {
      if (!v.is_object()) continue;
      auto const& cs = v.get_object();
      auto const cname = detail::str(cs, "name");
      auto& c = seen.containers[cname];
      c.image = detail::str(cs, "image");
      auto const* state = detail::obj(cs, "state");
      if (!state) continue;
      if (auto const* w = detail::obj(*state, "waiting")) {
        auto reason = detail::str(*w, "reason");
        if (reason != c.waiting_reason) {
          c.waiting_reason = reason;
          c.waiting_since = now;
        }
        c.waiting_message = detail::str(*w, "message");
        if (reason == "CrashLoopBackOff")
          if (auto const* last = detail::obj(cs, "lastState"))
            if (auto const* t = detail::obj(*last, "terminated"))
              if (auto const* code = t->if_contains("exitCode"); code && code->is_int64())
                c.exit_code = static_cast<int>(code->get_int64());
      } else {
        c.waiting_reason.clear();
      }
      bool started = false;
      if (detail::obj(*state, "running")) {
        started = true;
        any_running = true;
      }
      if (auto const* t = detail::obj(*state, "terminated")) {
        started = true;
        if (auto const* code = t->if_contains("exitCode"); code && code->is_int64())
          c.exit_code = static_cast<int>(code->get_int64());
        c.terminated_reason = detail::str(*t, "reason");
      }
      if (started && started_.insert({name, cname}).second) new_targets_.push_back({name, cname});
    }
  }
  if (any_running && !status_.terminal()) status_ = run_status(run_state::running);
  // A failure decided earlier is re-explained by what the pods say now.
  if (workload_failed_) decide_from_pods(fallback_);
  tick(now);
}

LIFTOFF_DECL void run_tracker::tick(clock::time_point now) {
  if (status_.terminal()) return;
  for (auto const& [name, pod] : pods_)
    for (auto const& [cname, c] : pod.containers) {
      if (!detail::fatal_waiting_reason(c.waiting_reason) || now - c.waiting_since < image_grace_) continue;
      std::string message;
      if (c.waiting_reason == "CrashLoopBackOff")
        message = "container " + cname + " in pod " + name + " keeps crashing (CrashLoopBackOff)" +
                  (c.exit_code ? "; its last exit code was " + std::to_string(*c.exit_code) : std::string());
      else if (c.waiting_reason == "CreateContainerConfigError" || c.waiting_reason == "CreateContainerError")
        message = "container " + cname + " in pod " + name + " cannot be created (" + c.waiting_reason +
                  "): " + c.waiting_message + "; check the Secrets and ConfigMaps it references";
      else
        message = "image " + (c.image.empty() ? std::string("of container ") + cname : c.image) +
                  " cannot be pulled (" + c.waiting_reason + "): " + c.waiting_message +
                  "; check the image name and the registry's credentials";
      gave_up_ = true;
      return set_terminal(run_status(run_state::failed, c.exit_code, failure_stage::run, message));
    }
}

LIFTOFF_DECL std::vector<std::string> run_tracker::take_warnings() { return std::exchange(warnings_, {}); }

LIFTOFF_DECL std::vector<log_target> run_tracker::take_log_targets() { return std::exchange(new_targets_, {}); }

}  // namespace liftoff::kube

#endif
