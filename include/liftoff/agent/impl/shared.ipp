#ifndef LIFTOFF_AGENT_IMPL_SHARED_IPP
#define LIFTOFF_AGENT_IMPL_SHARED_IPP

#include <liftoff/agent/detail/shared.hpp>

#include <algorithm>

namespace liftoff::agent::detail {

LIFTOFF_DECL bool refused(diagnostic const& d) {
  if (d.code.category() != liftoff_category()) return false;
  switch (static_cast<error>(d.code.value())) {
    case error::not_found:
    case error::already_exists:
    case error::conflict:
    case error::not_holder:
    case error::invalid_request:
    case error::invalid_spec:
    case error::unknown_field:
    case error::parse_error:
      return true;
    default:
      return false;
  }
}

LIFTOFF_DECL bool unreachable(diagnostic const& d) {
  if (d.code.category() != liftoff_category()) return true;
  auto const e = static_cast<error>(d.code.value());
  return e == error::timeout || e == error::storage_failed;
}

LIFTOFF_DECL int rank(stop_mode m) { return static_cast<int>(m); }

LIFTOFF_DECL std::string join(std::vector<std::string> const& v, std::string_view sep) {
  std::string out;
  for (auto const& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

LIFTOFF_DECL std::string describe_end(run_status const& s) {
  std::string text(to_string(s.state));
  std::vector<std::string> inner;
  if (s.stage != failure_stage::none) inner.emplace_back(to_string(s.stage));
  if (s.exit_code) inner.push_back("exit " + std::to_string(*s.exit_code));
  if (!inner.empty()) text += " (" + join(inner) + ")";
  if (!s.message.empty()) text += ": " + s.message;
  return text;
}

// ---- run_slot ----

LIFTOFF_DECL bool run_slot::request_cancel(std::chrono::milliseconds grace, std::string reason) {
  std::lock_guard lock(m);
  bool const first = !cancel_grace;
  if (!cancel_grace || grace < *cancel_grace) cancel_grace = grace;
  if (stop_reason.empty()) stop_reason = std::move(reason);
  cv.notify_all();
  return first;
}

// ---- agent_shared ----

LIFTOFF_DECL void agent_shared::emit(std::string const& text) {
  std::lock_guard lock(event_m);
  if (events_closed || !opts.on_event) return;
  try {
    opts.on_event(text);
  } catch (...) {  // a throwing sink must not end a worker thread
  }
}

LIFTOFF_DECL void agent_shared::close_events() {
  std::lock_guard lock(event_m);
  events_closed = true;
}

LIFTOFF_DECL bool agent_shared::stopping() const {
  std::lock_guard lock(m);
  return mode != stop_mode::none;
}

LIFTOFF_DECL void agent_shared::stop(stop_mode want, std::string reason) {
  std::lock_guard lock(m);
  if (rank(want) <= rank(mode)) return;
  mode = want;
  if (stop_reason.empty()) stop_reason = std::move(reason);
  cv.notify_all();
}

LIFTOFF_DECL void agent_shared::end_heartbeat() {
  std::lock_guard lock(m);
  heartbeat_done = true;
  cv.notify_all();
}

LIFTOFF_DECL void agent_shared::note_away(diagnostic const& d) {
  {
    std::lock_guard lock(m);
    if (away) return;
    away = true;
  }
  emit("server " + opts.server.server + " does not answer (" + d.what() + "); retrying, runs keep going");
}

LIFTOFF_DECL void agent_shared::note_back() {
  {
    std::lock_guard lock(m);
    if (!away) return;
    away = false;
  }
  emit("server " + opts.server.server + " answers again");
}

LIFTOFF_DECL retry_policy agent_shared::server_retry() const {
  retry_policy p;
  p.initial = opts.retry_interval;
  p.cap = std::max(opts.heartbeat_interval, opts.retry_interval);
  return p;
}

LIFTOFF_DECL retry_policy agent_shared::server_retry_until_stopping() {
  return server_retry_until([this] { return mode != stop_mode::none; });
}

LIFTOFF_DECL retry_policy agent_shared::server_retry_until_heartbeat_done() {
  return server_retry_until([this] { return heartbeat_done; });
}

LIFTOFF_DECL result<client::api_client> agent_shared::make_client(std::chrono::milliseconds extra_wait) const {
  auto http = opts.http;
  if (http.request_timeout.count() > 0) http.request_timeout += extra_wait;
  return client::api_client::create(opts.server, http);
}

LIFTOFF_DECL std::filesystem::path agent_shared::state_file() const { return opts.state_dir / (opts.name + ".json"); }

}  // namespace liftoff::agent::detail

#endif
