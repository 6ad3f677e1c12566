#ifndef LIFTOFF_DOCKER_IMPL_TARGET_IPP
#define LIFTOFF_DOCKER_IMPL_TARGET_IPP

#include <liftoff/docker/target.hpp>

#include <liftoff/docker/launch_support.hpp>
#include <liftoff/docker/detail/config.hpp>
#include <liftoff/detail/run_record.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace liftoff {

namespace detail {

/// What a container run's handle and its watcher threads share.
struct docker_run_state : run_record {
  std::string container_id;
  docker::engine_options engine;  ///< to reach the engine from `cancel`, with the negotiated API version
  bool remove = true;
  std::optional<std::int64_t> memory_limit;
  bool logs_done = false;
  bool exited = false;
  bool cancel_requested = false;

  /// How long the watcher waits for the log stream to end after the container exited.
  static constexpr std::chrono::seconds drain_limit{10};
};

/** The platform of an engine image record (`Os`, `Architecture`, and
    `Variant` when `wanted` has one), spelled as `wanted` is: "linux/amd64". */
LIFTOFF_DECL std::string docker_image_platform(boost::json::object const& image, std::string_view wanted) {
  auto field = [&](char const* k) {
    auto const* v = image.if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::string out = field("Os") + "/" + field("Architecture");
  if (std::count(wanted.begin(), wanted.end(), '/') == 2) out += "/" + field("Variant");
  return out;
}

/** Follows the container's logs until they end (the container stopped) or
    the stream breaks. The first `skip` output lines are kept but not passed
    to `on_log`: a re-attached run's output that was delivered before. */
LIFTOFF_DECL void follow_container_logs(std::shared_ptr<docker_run_state> state, docker::log_reader reader,
                                  std::size_t skip = 0) {
  for (;;) {
    auto line = reader.next();
    if (!line) {
      state->add_line(log_line{log_stream::system, "the container's log stream broke: " + line.error().what()});
      break;
    }
    if (!*line) break;
    if (skip > 0 && (*line)->stream != log_stream::system) {
      --skip;
      std::lock_guard lock(state->m);
      state->logs.push_back(std::move(**line));
      while (state->logs.size() > state->max_lines) state->logs.pop_front();
      continue;
    }
    state->add_line(std::move(**line));
  }
  reader.close();
  std::lock_guard lock(state->m);
  state->logs_done = true;
  state->cv.notify_all();
}

/** Stops a run's container: its stop signal, then SIGKILL after `grace`
    (whole seconds); returns once the run has ended. */
LIFTOFF_DECL void cancel_container_run(docker_run_state& s, std::chrono::milliseconds grace) {
  if (s.container_id.empty()) return;
  {
    std::lock_guard lock(s.m);
    if (s.status.terminal() || s.exited) return;
    s.cancel_requested = true;
  }
  // The watcher thread owns its engine connection; cancel speaks on its own.
  auto e = docker::engine::connect(s.engine);
  if (!e) {
    s.add_line(log_line{log_stream::system, "cannot cancel: " + e.error().what()});
  } else {
    auto const seconds = std::chrono::ceil<std::chrono::seconds>(std::max(grace, std::chrono::milliseconds(0)));
    if (auto r = e->stop_container(s.container_id, seconds); !r)
      if (auto k = e->kill_container(s.container_id, "SIGKILL"); !k)
        s.add_line(log_line{log_stream::system, "cannot stop the container: " + r.error().what()});
  }
  std::unique_lock lock(s.m);
  s.cv.wait_for(lock, std::chrono::minutes(1), [&] { return s.status.terminal(); });
}

/// Waits for the container's exit, decides how the run ended, removes the container and reports.
LIFTOFF_DECL void watch_container(std::shared_ptr<docker_run_state> state, docker::engine engine, docker::container_wait wait) {
  auto code = wait.get();
  if (!code) code = engine.wait_container(state->container_id, docker::wait_condition::not_running);
  bool cancelled = false;
  {
    std::unique_lock lock(state->m);
    state->exited = true;
    cancelled = state->cancel_requested;
    state->cv.wait_for(lock, docker_run_state::drain_limit, [&] { return state->logs_done; });
  }
  bool oom = false;
  auto inspect = [&] {
    if (auto info = engine.inspect_container(state->container_id))
      if (auto const* st = info->if_contains("State"); st && st->is_object()) {
        if (auto const* o = st->as_object().if_contains("OOMKilled"); o && o->is_bool()) oom = o->as_bool();
        if (!code)
          if (auto const* running = st->as_object().if_contains("Running"); running && running->is_bool() && !running->as_bool())
            if (auto const* c = st->as_object().if_contains("ExitCode"); c && c->is_int64())
              code = static_cast<int>(c->as_int64());
      }
  };
  inspect();
  // The engine learns of an OOM kill from an asynchronous cgroup event, which
  // can arrive after the exit: a memory-limited container killed by SIGKILL
  // is asked about once more before its run is called anything but OOM.
  if (!oom && !cancelled && code && *code == 137 && state->memory_limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    inspect();
  }

  run_status s;
  if (code) s.exit_code = *code;
  if (cancelled) {
    s.state = run_state::stopped;
    s.message = "cancelled";
  } else if (!code) {
    s.state = run_state::failed;
    s.stage = failure_stage::run;
    s.message = "lost track of container " + state->container_id + ": " + code.error().what();
  } else if (oom) {
    s.state = run_state::failed;
    s.stage = failure_stage::run;
    s.message = state->memory_limit ? "out of memory (limit " + format_bytes(*state->memory_limit) + ")"
                                    : std::string("out of memory");
  } else if (*code == 0) {
    s.state = run_state::finished;
  } else {
    s.state = run_state::failed;
    s.stage = failure_stage::run;
    s.message = "container exited with code " + std::to_string(*code);
  }
  if (state->remove)
    if (auto r = engine.remove_container(state->container_id, true); !r)
      state->add_line(log_line{log_stream::system, "could not remove the container: " + r.error().what()});
  state->publish(s);
}

}  // namespace detail

// ---- run ---------------------------------------------------------------------

LIFTOFF_DECL std::string docker_target::run::id() const { return state_ ? state_->id : std::string(); }

LIFTOFF_DECL std::string docker_target::run::container_id() const { return state_ ? state_->container_id : std::string(); }

LIFTOFF_DECL run_status docker_target::run::status() const { return state_ ? state_->current() : run_status{}; }

LIFTOFF_DECL run_status docker_target::run::wait() { return state_ ? state_->wait_terminal() : run_status{}; }

LIFTOFF_DECL std::vector<log_line> docker_target::run::logs() const {
  return state_ ? state_->kept_logs() : std::vector<log_line>{};
}

LIFTOFF_DECL void docker_target::run::cancel(std::chrono::milliseconds grace) {
  if (state_) detail::cancel_container_run(*state_, grace);
}

// ---- policy ------------------------------------------------------------------

LIFTOFF_DECL result<void> docker_target::validate(launch_spec const& spec) const {
  auto r = detail::parse_docker_container_args(spec, true);
  if (!r) return r.error();
  return {};
}

LIFTOFF_DECL auto docker_target::start(artifact const& in, launch_spec const& spec, launch_options const& options) const
    -> result<run> {
  // The launcher has expanded the agent macros by now: check every field strictly.
  auto args = detail::parse_docker_container_args(spec, false);
  if (!args) return args.error();
  if (!accepts(in.kind) || in.image.empty())
    return diagnostic(error::invalid_spec, "local-container runs an image, but got a " +
                                               std::string(to_string(in.kind)) +
                                               (in.kind == artifact_kind::directory ? "" : " with no image reference"));
  std::string const& image = in.image;

  auto e = docker::connect_for_launch(engine, options, "run");
  if (!e) return e.error();

  std::string const& platform = args->platform;
  std::string const for_platform = platform.empty() ? std::string() : " for " + platform;
  auto pull = [&] {
    options.progress("pulling " + image + for_platform);
    return e->pull(image, [&](std::string_view line) { options.progress(line); }, platform);
  };

  auto present = e->inspect_image(image);
  if (!present) return present.error();
  bool pulled = false;
  if (!*present) {
    if (in.kind == artifact_kind::local_image && !e->dry_run())
      return diagnostic(error::file_not_found, "the Docker engine at " + e->host() + " has no image " + image +
                                                   ": it was built by another engine, or removed since the build");
    if (auto p = pull(); !p)
      return diagnostic(p.error().code, "cannot run " + image + ": the engine does not have it, and " + p.error().what());
    pulled = true;
  }

  // The engine checks the platform at create (API 1.41). As `docker run --platform`, an image
  // the engine has only for another platform is then pulled for the one asked for, unless it
  // was built here and exists nowhere else.
  auto request = detail::make_docker_create_request(image, spec, options, *args);
  auto id = e->create_container(request.config, request.name, request.platform);
  if (!id && !platform.empty() && !pulled && *present && in.kind != artifact_kind::local_image) {
    std::string const have = detail::docker_image_platform(**present, platform);
    if (have != platform) {
      if (auto p = pull(); !p)
        return diagnostic(p.error().code, "cannot run " + image + " for platform " + platform +
                                              ": the engine has it only for " + have + ", and " + p.error().what());
      id = e->create_container(request.config, request.name, request.platform);
    }
  }
  if (!id) return id.error();
  auto discard = [&] { (void)e->remove_container(*id, true); };

  auto state = std::make_shared<detail::docker_run_state>();
  state->id = spec.run_id;
  state->remove = remove;
  state->max_lines = max_log_lines;
  state->memory_limit = args->memory;

  // Registered before the start, so an exit however fast is not missed.
  auto waiter = e->begin_wait(*id, docker::wait_condition::next_exit);
  if (!waiter) {
    discard();
    return waiter.error();
  }
  if (auto started = e->start_container(*id); !started) {
    discard();
    return started.error();
  }

  if (e->dry_run()) {
    if (remove) discard();
    state->status = run_status(run_state::finished, 0);
    return run(std::move(state));
  }

  state->container_id = *id;
  state->engine = engine;
  state->engine.api_version = e->api_version();
  state->attach(options, in);

  // With follow, the engine sends the output from the container's start, so nothing printed so far is lost.
  // The create request says whether the container has a TTY, which spares `logs` an inspect below API 1.42.
  std::optional<bool> tty;
  if (auto const* t = request.config.if_contains("Tty"); t && t->is_bool()) tty = t->as_bool();
  auto reader = e->logs(*id, true, tty);
  if (!reader) {
    state->add_line(log_line{log_stream::system, "cannot read the container's logs: " + reader.error().what()});
    state->logs_done = true;
  } else {
    try {
      std::thread(detail::follow_container_logs, state, std::move(*reader), std::size_t{0}).detach();
    } catch (...) {
      discard();
      return diagnostic(error::run_failed, "cannot start a thread to read the container's logs");
    }
  }
  try {
    std::thread(detail::watch_container, state, std::move(*e), std::move(*waiter)).detach();
  } catch (...) {
    // The log reader ends when the container is gone.
    if (auto again = docker::engine::connect(state->engine)) (void)again->remove_container(*id, true);
    return diagnostic(error::run_failed, "cannot start a thread to watch the container");
  }
  options.report(run_status(run_state::running));
  return run(std::move(state));
}

}  // namespace liftoff

#endif
