#ifndef LIFTOFF_DOCKER_IMPL_ATTACH_IPP
#define LIFTOFF_DOCKER_IMPL_ATTACH_IPP

#include <liftoff/docker/attach.hpp>
// The run state and log following it shares with docker_target.
#include <liftoff/docker/impl/target.ipp>

#include <liftoff/docker/launch_support.hpp>

#include <algorithm>
#include <thread>

namespace liftoff {

namespace detail {

LIFTOFF_DECL std::string json_text(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace detail

LIFTOFF_DECL result<std::optional<attached_container_run>> attach_container_run(std::string_view run_id,
                                                                          launch_options const& options,
                                                                          container_attach_options const& how) {
  using none = std::optional<attached_container_run>;
  auto e = docker::engine::connect(how.engine);
  if (!e) return e.error();
  auto found = e->list_containers({std::string(docker::run_id_label) + "=" + std::string(run_id)}, true);
  if (!found) return found.error();
  if (found->empty()) return none();
  // The engine lists the newest first: an earlier attempt's container (if one was left) is older.
  auto const& listed = found->front();
  std::string const id = detail::json_text(listed, "Id");
  if (id.empty()) return diagnostic(error::protocol_error, "the engine listed a container without an Id");

  auto info = e->inspect_container(id);
  if (!info) return info.error();
  std::string status;
  bool tty = false;
  std::optional<std::int64_t> memory;
  if (auto const* st = info->if_contains("State"); st && st->is_object()) status = detail::json_text(st->as_object(), "Status");
  if (auto const* cfg = info->if_contains("Config"); cfg && cfg->is_object())
    if (auto const* t = cfg->as_object().if_contains("Tty"); t && t->is_bool()) tty = t->as_bool();
  if (auto const* hc = info->if_contains("HostConfig"); hc && hc->is_object())
    if (auto const* m = hc->as_object().if_contains("Memory"); m && m->is_int64() && m->as_int64() > 0)
      memory = m->as_int64();
  if (status == "created") {
    (void)e->remove_container(id, true);
    return none();
  }

  auto state = std::make_shared<detail::docker_run_state>();
  state->id = std::string(run_id);
  state->remove = how.remove;
  state->max_lines = how.max_log_lines;
  state->memory_limit = memory;
  state->container_id = id;
  state->engine = how.engine;
  state->engine.api_version = e->api_version();
  state->attach(options, artifact{});

  // `not_running` answers at once for a container that exited while nobody watched.
  auto waiter = e->begin_wait(id, docker::wait_condition::not_running);
  if (!waiter) return waiter.error();
  auto reader = e->logs(id, true, tty);
  if (!reader) {
    state->add_line(log_line{log_stream::system, "cannot read the container's logs: " + reader.error().what()});
    state->logs_done = true;
  } else {
    try {
      std::thread(detail::follow_container_logs, state, std::move(*reader), how.skip_lines).detach();
    } catch (...) {
      return diagnostic(error::run_failed, "cannot start a thread to read the container's logs");
    }
  }
  try {
    std::thread(detail::watch_container, state, std::move(*e), std::move(*waiter)).detach();
  } catch (...) {
    return diagnostic(error::run_failed, "cannot start a thread to watch the container");
  }
  return std::optional<attached_container_run>(attached_container_run(std::move(state)));
}

LIFTOFF_DECL result<std::optional<docker_target::run>> docker_target::attach(launch_spec const& spec,
                                                                             launch_options const& options,
                                                                             std::size_t skip_lines) const {
  container_attach_options how;
  how.engine = engine;
  how.remove = remove;
  how.max_log_lines = max_log_lines;
  how.skip_lines = skip_lines;
  return attach_container_run(spec.run_id, options, how);
}

}  // namespace liftoff

#endif
