#ifndef LIFTOFF_KUBE_IMPL_WATCH_HUB_IPP
#define LIFTOFF_KUBE_IMPL_WATCH_HUB_IPP

#include <liftoff/kube/watch_hub.hpp>

#include <liftoff/kube/manifest.hpp>

#include <random>

namespace liftoff::kube {

namespace detail {

LIFTOFF_DECL std::string label_of(boost::json::object const& o, std::string_view key) {
  auto const* md = o.if_contains("metadata");
  if (!md || !md->is_object()) return {};
  auto const* labels = md->get_object().if_contains("labels");
  if (!labels || !labels->is_object()) return {};
  auto const* v = labels->get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

LIFTOFF_DECL std::string meta_field(boost::json::object const& o, std::string_view key) {
  auto const* md = o.if_contains("metadata");
  if (!md || !md->is_object()) return {};
  auto const* v = md->get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

struct hub_registry {
  std::mutex m;
  std::map<std::string, std::weak_ptr<watch_hub>> hubs;
  static hub_registry& instance() {
    static hub_registry r;
    return r;
  }
};

}  // namespace detail

LIFTOFF_DECL std::shared_ptr<watch_hub> watch_hub::shared(api const& a, std::string const& ns,
                                                    resource_kind const& workload) {
  auto const& c = a.config();
  std::string key = c.server + "\n" + c.context + "\n" + c.user_name + "\n" + ns + "\n" + workload.api_version +
                    "\n" + workload.plural;
  auto& r = detail::hub_registry::instance();
  std::lock_guard lock(r.m);
  if (auto hub = r.hubs[key].lock()) return hub;
  auto hub = std::make_shared<watch_hub>(a, ns, workload);
  r.hubs[key] = hub;
  return hub;
}

LIFTOFF_DECL watch_hub::watch_hub(api a, std::string ns, resource_kind workload)
    : api_(std::move(a)), ns_(std::move(ns)), workload_(std::move(workload)) {
  threads_.emplace_back([this] { loop(false); });
  threads_.emplace_back([this] { loop(true); });
  threads_.emplace_back([this] { ticker(); });
}

LIFTOFF_DECL watch_hub::~watch_hub() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
    for (auto* s : open_)
      if (s) s->close();
    cv_.notify_all();
  }
  for (auto& t : threads_) {
    if (t.get_id() == std::this_thread::get_id()) t.detach();  // the last holder let go on a hub thread
    else if (t.joinable()) t.join();
  }
}

LIFTOFF_DECL bool watch_hub::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock lock(m_);
  return !cv_.wait_for(lock, d, [&] { return stop_; });
}

LIFTOFF_DECL void watch_hub::subscribe(std::string const& run_id, std::weak_ptr<watch_subscriber> s) {
  std::vector<std::pair<bool, boost::json::object>> catch_up;
  {
    std::lock_guard lock(m_);
    subs_[run_id] = s;
    if (auto it = seen_workloads_.find(run_id); it != seen_workloads_.end())
      for (auto const& [name, w] : it->second) catch_up.emplace_back(false, w);
    if (auto it = seen_pods_.find(run_id); it != seen_pods_.end())
      for (auto const& [name, pod] : it->second) catch_up.emplace_back(true, pod);
  }
  if (auto sub = s.lock())
    for (auto const& [is_pod, o] : catch_up) sub->on_object(is_pod, o, false);
}

LIFTOFF_DECL void watch_hub::unsubscribe(std::string const& run_id) {
  std::lock_guard lock(m_);
  subs_.erase(run_id);
  seen_workloads_.erase(run_id);
  seen_pods_.erase(run_id);
}

LIFTOFF_DECL watch_hub::counters watch_hub::stats() const {
  std::lock_guard lock(m_);
  return stats_;
}

LIFTOFF_DECL void watch_hub::dispatch(bool is_pod, watch_event const& e) {
  auto run_id = detail::label_of(e.object, run_id_label);
  if (run_id.empty()) return;
  bool const deleted = e.type == "DELETED";
  std::shared_ptr<watch_subscriber> sub;
  {
    std::lock_guard lock(m_);
    ++stats_.events;
    if (auto it = subs_.find(run_id); it != subs_.end()) sub = it->second.lock();
    // Nobody follows this run (yet): keep its newest objects, for a run that subscribes later.
    if (!sub) {
      auto& seen = is_pod ? seen_pods_ : seen_workloads_;
      auto name = detail::meta_field(e.object, "name");
      if (!deleted) {
        seen[run_id][name] = e.object;
      } else if (auto it = seen.find(run_id); it != seen.end()) {
        it->second.erase(name);
        if (it->second.empty()) seen.erase(it);
      }
    }
  }
  if (sub) sub->on_object(is_pod, e.object, deleted);
}

LIFTOFF_DECL void watch_hub::loop(bool is_pod) {
  resource_kind const kind = is_pod ? kinds::pod() : workload_;
  std::string rv;
  std::chrono::milliseconds backoff{200};
  std::mt19937 jitter{std::random_device{}()};
  auto pause = [&] {
    auto d = backoff + std::chrono::milliseconds(jitter() % (backoff.count() / 2 + 1));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
    return sleep_for(d);
  };
  for (;;) {
    {
      std::lock_guard lock(m_);
      if (stop_) return;
    }
    if (rv.empty()) {
      list_options lo;
      lo.label_selector = run_id_label;
      auto listed = api_.list(kind, ns_, lo);
      if (!listed) {
        if (!pause()) return;
        continue;
      }
      if (auto const* items = listed->if_contains("items"); items && items->is_array())
        for (auto const& item : items->get_array())
          if (item.is_object()) dispatch(is_pod, watch_event{"ADDED", item.get_object()});
      rv = detail::meta_field(*listed, "resourceVersion");
      if (rv.empty()) rv = "0";
    }
    list_options wo;
    wo.label_selector = run_id_label;
    wo.resource_version = rv;
    wo.timeout_seconds = 300;
    auto stream = api_.watch(kind, ns_, wo);
    if (!stream) {
      {
        std::lock_guard lock(m_);
        ++stats_.reconnects;
      }
      if (!pause()) return;
      continue;
    }
    {
      std::lock_guard lock(m_);
      if (stop_) return;
      open_[is_pod ? 1 : 0] = &*stream;
    }
    for (;;) {
      auto ev = stream->next();
      if (!ev || !*ev) break;  // ended or dropped: resume from rv
      backoff = std::chrono::milliseconds(200);
      auto& e = **ev;
      if (e.type == "ERROR") {
        auto const* code = e.object.if_contains("code");
        if (code && code->is_int64() && code->get_int64() == 410) {
          rv.clear();  // too old: list again
          std::lock_guard lock(m_);
          ++stats_.relists;
        }
        break;
      }
      auto next_rv = detail::meta_field(e.object, "resourceVersion");
      if (!next_rv.empty()) rv = next_rv;
      if (e.type == "BOOKMARK") continue;
      dispatch(is_pod, e);
    }
    bool stopping;
    {
      std::lock_guard lock(m_);
      open_[is_pod ? 1 : 0] = nullptr;
      stopping = stop_;
      if (!stopping) ++stats_.reconnects;
    }
    if (stopping) return;
    if (!sleep_for(std::chrono::milliseconds(50))) return;
  }
}

LIFTOFF_DECL void watch_hub::ticker() {
  while (sleep_for(std::chrono::seconds(1))) {
    std::vector<std::shared_ptr<watch_subscriber>> subs;
    {
      std::lock_guard lock(m_);
      for (auto& [id, w] : subs_)
        if (auto s = w.lock()) subs.push_back(std::move(s));
    }
    for (auto& s : subs) s->on_tick();
  }
}

}  // namespace liftoff::kube

#endif
