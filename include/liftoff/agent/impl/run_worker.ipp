#ifndef LIFTOFF_AGENT_IMPL_RUN_WORKER_IPP
#define LIFTOFF_AGENT_IMPL_RUN_WORKER_IPP

#include <liftoff/agent/detail/run_worker.hpp>

#include <liftoff/agent/agent.hpp>
#include <liftoff/agent/detail/recovery.hpp>

#include <deque>
#include <variant>

namespace liftoff::agent::detail {

LIFTOFF_DECL run_worker::run_worker(std::shared_ptr<agent_shared> sh, std::shared_ptr<run_slot> slot)
    : sh_(std::move(sh)), slot_(std::move(slot)), agent_id_(*sh_->id) {}

LIFTOFF_DECL void run_worker::operator()() {
  {
    std::lock_guard lock(slot_->m);
    slot_->worker_id = std::this_thread::get_id();
  }
  if (auto c = sh_->make_client()) client_.emplace(std::move(*c));
  if (client_) {
    if (slot_->recovered) recover();
    else take();
  }
  std::error_code ec;
  if (!run_dir_.empty()) std::filesystem::remove_all(run_dir_, ec);
  std::lock_guard lock(sh_->m);
  sh_->runs.erase(slot_->run_id);
  slot_->done = true;
  sh_->cv.notify_all();
}

LIFTOFF_DECL void run_worker::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(slot_->m);
  slot_->cv.wait_for(lock, d);
}

LIFTOFF_DECL bool run_worker::cancel_requested() {
  std::lock_guard lock(slot_->m);
  return slot_->cancel_grace.has_value();
}

LIFTOFF_DECL retry_policy run_worker::pausing_retry() {
  auto p = sh_->server_retry();
  p.wait = [this](std::chrono::milliseconds d) {
    pause(d);
    return false;
  };
  return p;
}

// ---- a newly leased item ----

LIFTOFF_DECL void run_worker::take() {
  auto const& item = slot_->item;
  // The ack says the agent has the item: it never returns to the queue from here on.
  auto policy = pausing_retry();
  // Not acked when stopping: it goes back to its queue when the lease expires.
  policy.stop = [this] { return sh_->stopping(); };
  auto acked = retry(policy, [&] { return client_->ack(item.id, agent_id_); },
                     [&](auto const& answer) { return sh_->again_unless_refused(answer); });
  if (!acked) {
    if (refused(acked.error())) sh_->emit("run " + id() + " dropped: " + acked.error().what());
    return;
  }
  sh_->note_back();

  auto spec = item_launch_spec(item, sh_->opts.resource_defaults);
  if (!spec) return fail_before_start(spec.error(), failure_stage::agent);
  run_dir_ = sh_->opts.work_dir / id();
  std::error_code ec;
  std::filesystem::create_directories(run_dir_, ec);
  if (ec)
    return fail_before_start(diagnostic(ec, "cannot create the run's directory " + run_dir_.string() + ": " +
                                                ec.message()),
                             failure_stage::agent);
  if (auto* code = std::get_if<code_dir>(&spec->source); code && !code->artifact.empty()) {
    auto fetched = fetch_code(code->artifact);
    if (!fetched) return fail_before_start(fetched.error(), failure_stage::source);
    code->path = *fetched;
  }
  expand_agent_macros(*spec);

  auto launcher = sh_->opts.registry.find(*spec);
  if (!launcher) {
    auto d = launcher.error();
    d.message = "this agent cannot run the item: " + d.what();
    return fail_before_start(d, failure_stage::agent);
  }
  if (cancel_requested()) return end_unstarted();

  auto options = launch_options_for();
  options.work_dir = run_dir_;
  options.environment["LIFTOFF_SERVER"] = sh_->opts.server.server;
  auto started = launcher->try_launch(*spec, options);
  if (!started) return fail_before_start(started.error(), failure_stage::agent);
  run_ = *started;
  follow();
}

LIFTOFF_DECL result<std::filesystem::path> run_worker::fetch_code(std::string const& digest) {
  auto const tarball = run_dir_ / "code.tar.gz";
  auto const dir = run_dir_ / "code";
  auto policy = pausing_retry();
  policy.stop = [this] { return sh_->stopping(); };
  auto got = retry(policy, [&] { return client_->download_artifact(digest, tarball); },
                   [&](auto const& answer) { return sh_->again_while_unreachable(answer); });
  if (!got) return diagnostic(got.error().code, "cannot fetch the code artifact " + digest + ": " + got.error().what());
  auto unpacked = client::unpack_code_artifact(tarball, dir, sh_->opts.unpack);
  std::error_code ec;
  std::filesystem::remove(tarball, ec);
  if (!unpacked)
    return diagnostic(unpacked.error().code, "cannot unpack the code artifact " + digest + ": " + unpacked.error().what());
  return dir;
}

LIFTOFF_DECL launch_options run_worker::launch_options_for() {
  launch_options o;
  o.grace_period = sh_->opts.grace_period;
  auto slot = slot_;
  o.on_log = [slot](log_line const& l) { slot->logs.add(l); };
  o.on_status = [this, slot](run_status const& s) {
    bool here = false;
    {
      std::lock_guard lock(slot->m);
      if (s.terminal()) slot->terminal_seen = true;
      else if (std::this_thread::get_id() == slot->worker_id) here = true;
      else slot->pending_states.push_back(s);
      slot->cv.notify_all();
    }
    // States reached while launching (building, starting, running) are on this run's own thread: report now.
    if (here) report_state(s);
  };
  return o;
}

// ---- a run held before a restart ----

LIFTOFF_DECL void run_worker::recover() {
  auto found = find_run_again(*sh_, *client_, id(), launch_options_for());
  if (auto* again = std::get_if<any_run>(&found)) {
    run_ = std::move(*again);
    if (slot_->recovered->state != run_state::running) report_state(run_status(run_state::running));
    return follow();
  }
  report_end(run_status(run_state::crashed, std::nullopt, failure_stage::agent, std::get<std::string>(found)), {});
}

// ---- a started run ----

LIFTOFF_DECL void run_worker::follow() {
  for (;;) {
    std::deque<run_status> states;
    std::optional<std::chrono::milliseconds> cancel_now;
    bool ended = false;
    {
      std::unique_lock lock(slot_->m);
      auto want_cancel = [&] {
        return slot_->cancel_grace && (!slot_->cancel_begun || *slot_->cancel_grace < *slot_->cancel_begun);
      };
      slot_->cv.wait_for(lock, sh_->opts.log_flush_interval,
                         [&] { return slot_->terminal_seen || want_cancel() || !slot_->pending_states.empty(); });
      states.swap(slot_->pending_states);
      if (want_cancel()) {
        cancel_now = slot_->cancel_grace;
        slot_->cancel_begun = cancel_now;
      }
      ended = slot_->terminal_seen;
    }
    for (auto const& s : states) report_state(s);
    (void)flush_logs();  // what could not be sent goes with the next flush
    if (cancel_now && !ended) {
      sh_->emit("run " + id() + " stopping (" + slot_->stop_reason + ")");
      auto r = run_;
      try {
        cancellers_.emplace_back([r, grace = *cancel_now]() mutable { r.cancel(grace); });
      } catch (...) {
        r.cancel(*cancel_now);
      }
    }
    if (ended) break;
  }
  auto final_status = run_.wait();
  for (auto& t : cancellers_) t.join();
  cancellers_.clear();
  if (final_status.state == run_state::stopped) {
    std::lock_guard lock(slot_->m);
    if (!slot_->stop_reason.empty()) final_status.message = slot_->stop_reason;
  }
  report_end(final_status, {});
}

LIFTOFF_DECL void run_worker::end_unstarted() {
  std::string reason;
  {
    std::lock_guard lock(slot_->m);
    reason = slot_->stop_reason;
  }
  report_end(run_status(run_state::stopped, std::nullopt, failure_stage::none, reason + " before it started"), {});
}

LIFTOFF_DECL void run_worker::fail_before_start(diagnostic const& d, failure_stage fallback) {
  run_status s(run_state::failed, std::nullopt, d.stage == failure_stage::none ? fallback : d.stage, d.what());
  report_end(s, {});
}

// ---- talking to the server ----

LIFTOFF_DECL void run_worker::report_state(run_status const& s) {
  sh_->emit("run " + id() + " " + std::string(to_string(s.state)));
  server::state_update u;
  u.state = s.state;
  auto r = client_->report(id(), agent_id_, u);
  if (r) return sh_->note_back();
  if (refused(r.error())) {
    sh_->emit("run " + id() + ": the server refused its state " + std::string(to_string(s.state)) + ": " +
              r.error().what());
    return;
  }
  sh_->note_away(r.error());  // the next state (or the end) tells the server where the run is
}

LIFTOFF_DECL result<void> run_worker::flush_logs() {
  auto text = slot_->logs.take();
  if (text.empty()) return {};
  auto r = client_->append_logs(id(), agent_id_, text);
  if (r) {
    sh_->note_back();
    return {};
  }
  if (refused(r.error())) return {};  // the run is no longer ours: nothing more to send
  sh_->note_away(r.error());
  slot_->logs.put_back(std::move(text));
  return r;
}

LIFTOFF_DECL void run_worker::report_end(run_status const& s, std::vector<std::string> warnings) {
  server::state_update u;
  u.state = s.state;
  u.exit_code = s.exit_code;
  u.stage = s.stage;
  u.message = s.message;
  auto const started = clock::now();
  auto policy = pausing_retry();
  policy.stop = [&] { return sh_->stopping() && clock::now() - started > sh_->opts.final_report_patience; };
  auto reported = retry(
      policy,
      [&]() -> result<void> {
        // The output first: the server ends the run's logs with its end.
        if (auto sent = flush_logs(); !sent) return sent;
        u.warnings = warnings;
        if (auto dropped = slot_->logs.dropped())
          u.warnings.push_back(std::to_string(dropped) + " log lines were not kept while the server was away");
        u.logs_tail = slot_->logs.tail();
        auto r = client_->report(id(), agent_id_, u);
        if (!r) return std::move(r).error();
        return {};
      },
      [&](result<void> const& answer) { return sh_->again_unless_refused(answer); });
  if (reported) {
    sh_->note_back();
    sh_->emit("run " + id() + " " + describe_end(s));
  } else if (refused(reported.error())) {
    sh_->emit("run " + id() + " " + describe_end(s) + "; the server refused the report: " + reported.error().what());
  } else {
    sh_->emit("run " + id() + " " + describe_end(s) + "; the server could not be told");
  }
}

}  // namespace liftoff::agent::detail

#endif
