#ifndef LIFTOFF_AGENT_IMPL_AGENT_HPP
#define LIFTOFF_AGENT_IMPL_AGENT_HPP

#include <liftoff/agent/detail/leftovers.hpp>
#include <liftoff/agent/detail/log_buffer.hpp>
#include <liftoff/agent/detail/state_file.hpp>
#include <liftoff/core/macros.hpp>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

namespace liftoff::agent {

// ---- defaults ------------------------------------------------------------------------

namespace detail {

inline std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

inline std::filesystem::path user_dir(char const* xdg, char const* fallback) {
  if (char const* x = std::getenv(xdg); x && *x == '/') return x;
  if (char const* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / fallback;
  std::error_code ec;
  auto tmp = std::filesystem::temp_directory_path(ec);
  return (ec ? std::filesystem::path("/tmp") : tmp) / ("liftoff-" + std::to_string(::getuid()));
}

}  // namespace detail

inline std::filesystem::path default_state_dir() {
  return detail::user_dir("XDG_STATE_HOME", ".local/state") / "liftoff" / "agents";
}

inline std::filesystem::path default_work_dir(std::string_view name) {
  return detail::user_dir("XDG_CACHE_HOME", ".cache") / "liftoff" / "agents" / std::string(name);
}

inline std::string default_agent_name() { return detail::host_name() + "-" + std::to_string(::getpid()); }

// ---- config ----------------------------------------------------------------------------

inline result<agent_config> parse_agent_config(boost::json::value const& v, std::string_view origin) {
  std::string const where(origin);
  auto const* o = v.if_object();
  if (!o) return diagnostic(error::invalid_spec, where + ": expected an object, got " + std::string(json_kind_name(v)));
  auto bad = [&](std::string const& field, std::string_view expected, boost::json::value const& got) {
    return diagnostic(error::invalid_spec, where + ": field '" + field + "': expected " + std::string(expected) +
                                               ", got " + std::string(json_kind_name(got)));
  };
  agent_config c;
  for (auto const& kv : *o) {
    std::string_view key = kv.key();
    auto const& val = kv.value();
    if (key == "queues") {
      if (auto const* s = val.if_string()) {
        c.queues.emplace_back(*s);
      } else if (auto const* a = val.if_array()) {
        for (std::size_t i = 0; i < a->size(); ++i) {
          auto const* q = (*a)[i].if_string();
          if (!q) return bad("queues[" + std::to_string(i) + "]", "a queue name", (*a)[i]);
          c.queues.emplace_back(*q);
        }
      } else {
        return bad("queues", "a list of queue names", val);
      }
      for (auto const& q : c.queues)
        if (q.empty()) return diagnostic(error::invalid_spec, where + ": field 'queues': a queue name is empty");
    } else if (key == "max_jobs") {
      if (!val.is_int64() && !val.is_uint64()) return bad("max_jobs", "an integer of at least 1", val);
      auto n = val.is_int64() ? val.as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(val.as_uint64(), 1u << 30));
      if (n < 1 || n > (1 << 20))
        return diagnostic(error::invalid_spec,
                          where + ": field 'max_jobs': expected an integer of at least 1, got " + std::to_string(n));
      c.max_jobs = static_cast<int>(n);
    } else if (key == "name") {
      auto const* s = val.if_string();
      if (!s || s->empty()) return bad("name", "a non-empty string", val);
      c.name = std::string(*s);
    } else if (key == "resource_args") {
      auto const* ra = val.if_object();
      if (!ra) return bad("resource_args", "an object keyed by resource name", val);
      for (auto const& r : *ra)
        if (!r.value().is_object())
          return bad("resource_args." + std::string(r.key()), "an object of arguments", r.value());
      c.resource_args = *ra;
    } else if (key == "work_dir") {
      auto const* s = val.if_string();
      if (!s || s->empty()) return bad("work_dir", "a directory path", val);
      c.work_dir = std::string(*s);
    } else if (key == "grace_period") {
      if (!val.is_number()) return bad("grace_period", "a number of seconds", val);
      double const seconds = val.to_number<double>();
      if (!(seconds >= 0) || seconds > 86400)
        return diagnostic(error::invalid_spec, where + ": field 'grace_period': expected seconds between 0 and 86400");
      c.grace_period = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    } else {
      static constexpr std::string_view known[] = {"queues", "max_jobs", "name", "resource_args", "work_dir",
                                                   "grace_period"};
      std::string msg = where + ": unknown field '" + std::string(key) + "'";
      if (auto m = closest_match(key, {std::begin(known), std::end(known)}); !m.empty())
        msg += " (did you mean '" + m + "'?)";
      msg += "; allowed: queues, max_jobs, name, resource_args, work_dir, grace_period";
      return diagnostic(error::unknown_field, std::move(msg));
    }
  }
  return c;
}

// ---- specs ------------------------------------------------------------------------------

inline result<launch_spec> item_launch_spec(server::item_record const& item,
                                            boost::json::object const& resource_defaults) {
  auto spec = parse_launch_spec(item.run_spec);
  if (!spec) {
    auto d = std::move(spec).error();
    return diagnostic(d.code, "the item's run spec: " + d.what(), failure_stage::agent);
  }
  if (!item.run_id.empty()) spec->run_id = item.run_id;
  if (spec->queue.empty()) spec->queue = item.queue;
  if (!spec->resource.empty())
    if (auto const* defaults = resource_defaults.if_contains(spec->resource); defaults && defaults->is_object()) {
      auto& slot = spec->resource_args[spec->resource];
      if (slot.is_null()) slot = boost::json::object();
      if (auto* own = slot.if_object())
        for (auto const& kv : defaults->as_object())
          if (!own->contains(kv.key())) own->emplace(kv.key(), kv.value());
    }
  return spec;
}

inline void expand_agent_macros(launch_spec& spec,
                                std::function<std::optional<std::string>(std::string_view)> lookup_env) {
  macro_values values;
  values.project_name = spec.project;
  values.run_id = spec.run_id;
  values.run_name = spec.name;
  values.author = spec.author;
  values.image_uri = "${image_uri}";  // known only once the image is built: the launcher fills it in
  values.lookup_env = std::move(lookup_env);
  substitute_macros(spec.resource_args, values);
}

// ---- the agent's shared state -----------------------------------------------------

namespace detail {

using clock = std::chrono::steady_clock;

/// API failures that trying again cannot fix: the server understood and refused.
inline bool refused(diagnostic const& d) {
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

/** Failures that mean the server is not there (yet): the connection failed
    or timed out, or the server's own storage failed. Anything else the
    server said (a refused token, an unknown queue) is final. */
inline bool unreachable(diagnostic const& d) {
  if (d.code.category() != liftoff_category()) return true;
  auto const e = static_cast<error>(d.code.value());
  return e == error::timeout || e == error::storage_failed;
}

inline int rank(stop_mode m) { return static_cast<int>(m); }

/// One run the agent holds, shared by its worker thread and the threads that cancel it.
struct run_slot {
  run_slot(std::size_t tail_lines, std::size_t max_pending) : logs(tail_lines, max_pending) {}

  std::string run_id;
  std::string queue;
  server::item_record item;                 ///< a newly leased item (when `recovered` is empty)
  std::optional<server::run_record> recovered;  ///< a run held before the agent restarted
  liftoff::detail::log_buffer logs;

  std::mutex m;
  std::condition_variable cv;
  std::deque<run_status> pending_states;  ///< non-terminal states reported from other threads
  bool terminal_seen = false;
  std::optional<std::chrono::milliseconds> cancel_grace;  ///< requested
  std::optional<std::chrono::milliseconds> cancel_begun;  ///< the smallest grace a cancel was begun with
  std::string stop_reason;
  std::thread::id worker_id;

  std::thread thread;
  bool done = false;  ///< guarded by the agent's mutex

  /// Asks the run to stop; a shorter grace than one already asked for makes it stop sooner.
  bool request_cancel(std::chrono::milliseconds grace, std::string reason) {
    std::lock_guard lock(m);
    bool const first = !cancel_grace;
    if (!cancel_grace || grace < *cancel_grace) cancel_grace = grace;
    if (stop_reason.empty()) stop_reason = std::move(reason);
    cv.notify_all();
    return first;
  }
};

struct agent_shared {
  explicit agent_shared(agent_options o) : opts(std::move(o)) {}

  agent_options opts;

  mutable std::mutex m;
  std::condition_variable cv;
  std::optional<std::int64_t> id;
  stop_mode mode = stop_mode::none;
  std::string stop_reason;
  std::optional<diagnostic> fatal;
  std::map<std::string, std::shared_ptr<run_slot>, std::less<>> runs;  ///< held runs, by run id
  std::deque<server::item_record> leased;                            ///< items the lease thread got
  std::list<std::shared_ptr<run_slot>> workers;                      ///< slots whose threads are to be joined
  bool heartbeat_done = false;
  bool away = false;

  std::mutex event_m;
  bool events_closed = false;

  void emit(std::string const& text) {
    std::lock_guard lock(event_m);
    if (events_closed || !opts.on_event) return;
    try {
      opts.on_event(text);
    } catch (...) {  // a throwing sink must not end a worker thread
    }
  }

  void close_events() {
    std::lock_guard lock(event_m);
    events_closed = true;
  }

  bool stopping() const {
    std::lock_guard lock(m);
    return mode != stop_mode::none;
  }

  void stop(stop_mode want, std::string reason) {
    std::lock_guard lock(m);
    if (rank(want) <= rank(mode)) return;
    mode = want;
    if (stop_reason.empty()) stop_reason = std::move(reason);
    cv.notify_all();
  }

  /// The server did not answer: said once until it answers again.
  void note_away(diagnostic const& d) {
    {
      std::lock_guard lock(m);
      if (away) return;
      away = true;
    }
    emit("server " + opts.server.server + " does not answer (" + d.what() + "); retrying, runs keep going");
  }

  void note_back() {
    {
      std::lock_guard lock(m);
      if (!away) return;
      away = false;
    }
    emit("server " + opts.server.server + " answers again");
  }

  std::chrono::milliseconds next_backoff(std::chrono::milliseconds b) const {
    return std::min(b * 2, std::max(opts.heartbeat_interval, opts.retry_interval));
  }

  result<client::api_client> make_client(std::chrono::milliseconds extra_wait = {}) const {
    auto http = opts.http;
    if (http.request_timeout.count() > 0) http.request_timeout += extra_wait;
    return client::api_client::create(opts.server, http);
  }

  std::filesystem::path state_file() const { return opts.state_dir / (opts.name + ".json"); }
};

inline std::string join(std::vector<std::string> const& v, std::string_view sep = ", ") {
  std::string out;
  for (auto const& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

/// "finished (exit 0)", "failed (run, exit 3): process exited with code 3", "stopped: cancelled".
inline std::string describe_end(run_status const& s) {
  std::string text(to_string(s.state));
  std::vector<std::string> inner;
  if (s.stage != failure_stage::none) inner.emplace_back(to_string(s.stage));
  if (s.exit_code) inner.push_back("exit " + std::to_string(*s.exit_code));
  if (!inner.empty()) text += " (" + join(inner) + ")";
  if (!s.message.empty()) text += ": " + s.message;
  return text;
}

// ---- one run ------------------------------------------------------------------------------

/** Takes one run from ack to its reported end, on its own thread with its
    own client. */
class run_worker {
public:
  run_worker(std::shared_ptr<agent_shared> sh, std::shared_ptr<run_slot> slot)
      : sh_(std::move(sh)), slot_(std::move(slot)), agent_id_(*sh_->id) {}

  void operator()() {
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

private:
  std::shared_ptr<agent_shared> sh_;
  std::shared_ptr<run_slot> slot_;
  std::int64_t agent_id_;
  std::optional<client::api_client> client_;
  any_run run_;
  std::filesystem::path run_dir_;
  std::vector<std::thread> cancellers_;

  std::string const& id() const { return slot_->run_id; }

  void pause(std::chrono::milliseconds d) {
    std::unique_lock lock(slot_->m);
    slot_->cv.wait_for(lock, d);
  }

  bool cancel_requested() {
    std::lock_guard lock(slot_->m);
    return slot_->cancel_grace.has_value();
  }

  // ---- taking a new item ----

  void take() {
    auto const& item = slot_->item;
    // The ack says the agent has the item: it never returns to the queue from here on.
    auto backoff = sh_->opts.retry_interval;
    for (;;) {
      auto a = client_->ack(item.id, agent_id_);
      if (a) break;
      if (refused(a.error())) {
        sh_->emit("run " + id() + " dropped: " + a.error().what());
        return;
      }
      sh_->note_away(a.error());
      if (sh_->stopping()) return;  // not acked: it goes back to its queue when the lease expires
      pause(backoff);
      backoff = sh_->next_backoff(backoff);
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

  result<std::filesystem::path> fetch_code(std::string const& digest) {
    auto const tarball = run_dir_ / "code.tar.gz";
    auto const dir = run_dir_ / "code";
    auto backoff = sh_->opts.retry_interval;
    for (;;) {
      auto got = client_->download_artifact(digest, tarball);
      if (got) break;
      if (refused(got.error()) || !unreachable(got.error()) || sh_->stopping())
        return diagnostic(got.error().code, "cannot fetch the code artifact " + digest + ": " + got.error().what());
      sh_->note_away(got.error());
      pause(backoff);
      backoff = sh_->next_backoff(backoff);
    }
    auto unpacked = client::unpack_code_artifact(tarball, dir);
    std::error_code ec;
    std::filesystem::remove(tarball, ec);
    if (!unpacked)
      return diagnostic(unpacked.error().code, "cannot unpack the code artifact " + digest + ": " + unpacked.error().what());
    return dir;
  }

  launch_options launch_options_for() {
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

  void recover() {
    auto const& rec = *slot_->recovered;
    auto spec_json = client_->run_spec(id());
    std::optional<launch_spec> spec;
    if (spec_json)
      if (auto s = parse_launch_spec(*spec_json)) spec = std::move(*s);
    std::string resource = spec ? spec->resource : std::string();
    std::string why;
    std::optional<result<std::optional<any_run>>> found;
    if (spec && sh_->opts.reattach) {
      reattach_request req;
      req.run_id = id();
      req.resource = resource;
      req.spec = *spec;
      req.options = launch_options_for();
      req.options.grace_period = sh_->opts.grace_period;
      if (auto text = client_->logs(id())) req.delivered_lines = liftoff::detail::delivered_output_lines(text->text);
      found = sh_->opts.reattach(req);
      if (*found && **found) {
        run_ = ***found;
        sh_->emit("run " + id() + " found again on " + resource + "; following it");
        if (rec.state != run_state::running) report_state(run_status(run_state::running));
        return follow();
      }
      if (*found && !**found) why = "the agent restarted and did not find the run on " + resource + " again: it is gone";
      else if (found->error().code != make_error_code(error::unsupported))
        why = "the agent restarted and could not look for the run on " + resource + ": " + found->error().what();
    }
    if (!why.empty()) {
      // the resource was asked, and answered
    } else if (resource == "local-process" || !spec) {
      // What is left of the run cannot be watched by this agent: stopped, so that the run ends with its report.
      auto stopped = liftoff::detail::stop_processes(liftoff::detail::processes_of_run(id()), sh_->opts.grace_period);
      if (stopped.empty()) {
        why = "the agent restarted and the run's process was not found: it ended with the previous agent";
      } else {
        std::vector<std::string> names;
        for (auto p : stopped) names.push_back(std::to_string(p));
        why = "the agent restarted and could not follow the run again: its process" +
              std::string(names.size() == 1 ? " " : "es ") + join(names) + (names.size() == 1 ? " is" : " are") +
              " not the new agent's child (its output and exit cannot be watched), so it was stopped";
      }
    } else {
      why = "the agent restarted and cannot find runs on " + resource + " again";
    }
    run_status s(run_state::crashed, std::nullopt, failure_stage::agent, why);
    report_end(s, {});
  }

  // ---- following a started run ----

  void follow() {
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
      flush_logs();
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

  void end_unstarted() {
    std::string reason;
    {
      std::lock_guard lock(slot_->m);
      reason = slot_->stop_reason;
    }
    report_end(run_status(run_state::stopped, std::nullopt, failure_stage::none, reason + " before it started"), {});
  }

  void fail_before_start(diagnostic const& d, failure_stage fallback) {
    run_status s(run_state::failed, std::nullopt, d.stage == failure_stage::none ? fallback : d.stage, d.what());
    report_end(s, {});
  }

  // ---- talking to the server ----

  void report_state(run_status const& s) {
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

  /// Sends the output gathered since the last flush; kept for the next one when the server is away.
  bool flush_logs() {
    auto text = slot_->logs.take();
    if (text.empty()) return true;
    auto r = client_->append_logs(id(), agent_id_, text);
    if (r) {
      sh_->note_back();
      return true;
    }
    if (refused(r.error())) return true;  // the run is no longer ours: nothing more to send
    sh_->note_away(r.error());
    slot_->logs.put_back(std::move(text));
    return false;
  }

  void report_end(run_status const& s, std::vector<std::string> warnings) {
    server::state_update u;
    u.state = s.state;
    u.exit_code = s.exit_code;
    u.stage = s.stage;
    u.message = s.message;
    auto const started = clock::now();
    auto backoff = sh_->opts.retry_interval;
    for (;;) {
      bool const logs_sent = flush_logs();
      u.warnings = warnings;
      if (auto dropped = slot_->logs.dropped())
        u.warnings.push_back(std::to_string(dropped) + " log lines were not kept while the server was away");
      u.logs_tail = slot_->logs.tail();
      if (logs_sent) {
        auto r = client_->report(id(), agent_id_, u);
        if (r) {
          sh_->note_back();
          sh_->emit("run " + id() + " " + describe_end(s));
          return;
        }
        if (refused(r.error())) {
          sh_->emit("run " + id() + " " + describe_end(s) + "; the server refused the report: " + r.error().what());
          return;
        }
        sh_->note_away(r.error());
      }
      if (sh_->stopping() && clock::now() - started > sh_->opts.final_report_patience) {
        sh_->emit("run " + id() + " " + describe_end(s) + "; the server could not be told");
        return;
      }
      pause(backoff);
      backoff = sh_->next_backoff(backoff);
    }
  }
};

// ---- the agent's own threads ----------------------------------------------------------

inline void lease_loop(std::shared_ptr<agent_shared> sh, client::api_client c) {
  auto backoff = sh->opts.retry_interval;
  auto const agent_id = *sh->id;
  for (;;) {
    {
      std::unique_lock lock(sh->m);
      sh->cv.wait(lock, [&] {
        return sh->mode != stop_mode::none ||
               sh->runs.size() + sh->leased.size() < static_cast<std::size_t>(sh->opts.max_jobs);
      });
      if (sh->mode != stop_mode::none) return;
    }
    auto got = c.lease(agent_id, sh->opts.queues, sh->opts.lease_wait);
    std::unique_lock lock(sh->m);
    // Stopping: an item got now is not acked, and returns to its queue when its lease expires.
    if (sh->mode != stop_mode::none) return;
    if (!got) {
      if (refused(got.error())) {
        sh->fatal = diagnostic(got.error().code, "the server refused to hand out work: " + got.error().what());
        lock.unlock();
        sh->emit(sh->fatal->what());
        sh->stop(stop_mode::drain, "the agent is stopping");
        return;
      }
      lock.unlock();
      sh->note_away(got.error());
      lock.lock();
      sh->cv.wait_for(lock, backoff, [&] { return sh->mode != stop_mode::none; });
      backoff = sh->next_backoff(backoff);
      continue;
    }
    backoff = sh->opts.retry_interval;
    if (*got) {
      sh->leased.push_back(std::move(**got));
      sh->cv.notify_all();
    }
    lock.unlock();
    sh->note_back();
  }
}

inline void heartbeat_loop(std::shared_ptr<agent_shared> sh, client::api_client c) {
  auto const agent_id = *sh->id;
  auto backoff = sh->opts.retry_interval;
  bool failing = false;
  // The first heartbeat goes at once: its reply says how long the server's
  // leases last, and the agent then beats at least three times per lease.
  auto interval = std::chrono::milliseconds(0);
  for (;;) {
    {
      std::unique_lock lock(sh->m);
      sh->cv.wait_for(lock, failing ? backoff : interval, [&] { return sh->heartbeat_done; });
      if (sh->heartbeat_done) return;
    }
    auto r = c.heartbeat(agent_id);
    if (r) {
      interval = sh->opts.heartbeat_interval;
      if (r->lease_time.count() > 0) interval = std::min(interval, r->lease_time / 3);
    }
    if (!r) {
      if (refused(r.error())) {
        {
          std::lock_guard lock(sh->m);
          if (!sh->fatal) sh->fatal = diagnostic(r.error().code, "the server refused a heartbeat: " + r.error().what());
        }
        sh->emit("the server refused a heartbeat: " + r.error().what());
        sh->stop(stop_mode::cancel, "the server no longer knows the agent");
        return;
      }
      sh->note_away(r.error());
      backoff = failing ? sh->next_backoff(backoff) : sh->opts.retry_interval;
      failing = true;
      continue;
    }
    failing = false;
    sh->note_back();
    for (auto const& run_id : r->stop_runs) {
      std::shared_ptr<run_slot> slot;
      {
        std::lock_guard lock(sh->m);
        if (auto it = sh->runs.find(run_id); it != sh->runs.end()) slot = it->second;
      }
      if (slot && slot->request_cancel(sh->opts.grace_period, "stopped at a user's request"))
        sh->emit("run " + run_id + ": a user asked to stop it");
    }
    if (r->stop_agent && !sh->stopping()) {
      sh->emit("a user asked the agent to stop");
      sh->stop(sh->opts.on_stop_request == stop_mode::none ? stop_mode::cancel : sh->opts.on_stop_request,
               "the agent was asked to stop");
    }
  }
}

}  // namespace detail

// ---- agent --------------------------------------------------------------------------------

inline agent::agent(agent_options options) : shared_(std::make_shared<detail::agent_shared>(std::move(options))) {}

inline agent::~agent() = default;

inline std::optional<std::int64_t> agent::id() const {
  std::lock_guard lock(shared_->m);
  return shared_->id;
}

inline std::size_t agent::active_runs() const {
  std::lock_guard lock(shared_->m);
  return shared_->runs.size();
}

inline void agent::request_stop(stop_mode mode) {
  std::string reason = mode == stop_mode::drain ? "the agent is stopping" : "the agent was stopped";
  shared_->stop(mode, std::move(reason));
}

inline result<void> agent::run() {
  auto sh = shared_;
  auto& o = sh->opts;
  using namespace std::chrono_literals;

  // What waiting cannot fix fails at once.
  if (o.queues.empty()) return diagnostic(error::invalid_request, "the agent needs at least one queue (--queue)");
  for (auto const& q : o.queues)
    if (q.empty()) return diagnostic(error::invalid_request, "queues: a queue name is empty");
  if (o.max_jobs < 1)
    return diagnostic(error::invalid_request,
                      "max_jobs is " + std::to_string(o.max_jobs) + "; an agent runs at least 1 job at once");
  if (o.server.server.empty())
    return diagnostic(error::invalid_request, "no server: give its URL (--server, LIFTOFF_SERVER or liftoff login)");
  for (auto [name, d] : {std::pair<char const*, std::chrono::milliseconds>{"heartbeat_interval", o.heartbeat_interval},
                         {"log_flush_interval", o.log_flush_interval},
                         {"retry_interval", o.retry_interval},
                         {"lease_wait", o.lease_wait}})
    if (d <= 0ms) return diagnostic(error::invalid_request, std::string(name) + " must be positive");
  if (o.name.empty()) o.name = default_agent_name();
  if (o.name.find('/') != std::string::npos || o.name == "." || o.name == "..")
    return diagnostic(error::invalid_request, "name '" + o.name + "': an agent's name cannot contain '/'");
  if (o.host.empty()) o.host = detail::host_name();
  if (o.work_dir.empty()) o.work_dir = default_work_dir(o.name);
  if (o.state_dir.empty()) o.state_dir = default_state_dir();

  auto c = sh->make_client();
  if (!c) return c.error();
  auto heartbeat_client = sh->make_client();
  if (!heartbeat_client) return heartbeat_client.error();
  auto lease_client = sh->make_client(o.lease_wait);
  if (!lease_client) return lease_client.error();

  // Who this agent was: resumed on the same server under the same name.
  server::agent_registration reg;
  reg.name = o.name;
  reg.host = o.host;
  reg.queues = o.queues;
  reg.max_jobs = o.max_jobs;
  if (auto known = liftoff::detail::load_agent_identity(sh->state_file()); !known)
    sh->emit("ignoring the agent's state file: " + known.error().what());
  else if (*known && (*known)->name == o.name && (*known)->server == o.server.server)
    reg.resume = (*known)->id;

  std::optional<server::agent_record> me;
  auto backoff = o.retry_interval;
  for (;;) {
    auto r = c->register_agent(reg);
    if (r) {
      me = std::move(*r);
      break;
    }
    if (!detail::unreachable(r.error())) return diagnostic(r.error().code, "cannot register the agent: " + r.error().what());
    sh->note_away(r.error());
    std::unique_lock lock(sh->m);
    if (sh->cv.wait_for(lock, backoff, [&] { return sh->mode != stop_mode::none; })) return {};
    backoff = sh->next_backoff(backoff);
  }
  sh->note_back();
  bool const resumed = reg.resume && *reg.resume == me->id;
  {
    std::lock_guard lock(sh->m);
    sh->id = me->id;
  }
  if (auto saved = liftoff::detail::save_agent_identity(sh->state_file(), {me->id, o.name, o.server.server}); !saved)
    sh->emit("the agent cannot keep its identity for a restart: " + saved.error().what());
  sh->emit("agent " + std::to_string(me->id) + (resumed ? " resumed" : " registered") + " as " + o.name +
           " on queues " + detail::join(o.queues) + " (max " + std::to_string(o.max_jobs) + " job" +
           (o.max_jobs == 1 ? "" : "s") + ")");

  auto start_worker = [&](std::shared_ptr<detail::run_slot> slot) {  // caller holds sh->m
    sh->runs[slot->run_id] = slot;
    sh->workers.push_back(slot);
    slot->thread = std::thread(detail::run_worker(sh, slot));
  };

  // The runs it held before a restart are its own still: find them again, or say they are lost.
  if (resumed) {
    client::run_query q;
    q.agent = me->id;
    q.active_only = true;
    q.limit = 1000;
    auto held = c->list_runs(q);
    backoff = o.retry_interval;
    while (!held && detail::unreachable(held.error()) && !sh->stopping()) {
      sh->note_away(held.error());
      std::this_thread::sleep_for(backoff);
      backoff = sh->next_backoff(backoff);
      held = c->list_runs(q);
    }
    if (!held) {
      sh->emit("cannot list the runs held before the restart: " + held.error().what());
    } else {
      for (auto& r : *held) {
        if (r.agent != me->id || is_terminal(r.state) || r.state == run_state::queued) continue;
        auto slot = std::make_shared<detail::run_slot>(o.logs_tail_lines, o.max_pending_log_bytes);
        slot->run_id = r.run_id;
        slot->queue = r.queue;
        if (r.state == run_state::leased) {
          // Leased but never acked: it never started, so it starts now.
          auto spec = c->run_spec(r.run_id);
          if (!spec) continue;  // its lease expires and it returns to its queue
          slot->item.id = r.item_id;
          slot->item.queue = r.queue;
          slot->item.run_id = r.run_id;
          slot->item.run_spec = std::move(*spec);
        } else {
          slot->recovered = r;
        }
        sh->emit("run " + r.run_id + " was held before the restart (" + std::string(to_string(r.state)) + ")");
        std::lock_guard lock(sh->m);
        start_worker(slot);
      }
    }
  }

  std::thread heartbeat(detail::heartbeat_loop, sh, std::move(*heartbeat_client));
  // A lease may wait on the server for long after a stop: the thread is left to finish on its own.
  std::thread(detail::lease_loop, sh, std::move(*lease_client)).detach();

  {
    std::unique_lock lock(sh->m);
    stop_mode applied = stop_mode::none;
    std::vector<std::string> events;
    for (;;) {
      while (!sh->leased.empty()) {
        auto item = std::move(sh->leased.front());
        sh->leased.pop_front();
        if (sh->mode != stop_mode::none) continue;
        auto slot = std::make_shared<detail::run_slot>(o.logs_tail_lines, o.max_pending_log_bytes);
        slot->run_id = item.run_id;
        slot->queue = item.queue;
        slot->item = std::move(item);
        events.push_back("run " + slot->run_id + " leased from " + slot->queue);
        start_worker(slot);
      }
      if (detail::rank(sh->mode) > detail::rank(applied)) {
        applied = sh->mode;
        auto const n = sh->runs.size();
        std::string const runs = std::to_string(n) + " run" + (n == 1 ? "" : "s");
        if (n == 0) events.push_back("stopping");
        else if (applied == stop_mode::drain) events.push_back("stopping: waiting for " + runs + " to end");
        else events.push_back("stopping: cancelling " + runs);
        if (applied == stop_mode::cancel || applied == stop_mode::immediate) {
          auto grace = applied == stop_mode::immediate ? 0ms : o.grace_period;
          for (auto& [id, slot] : sh->runs) slot->request_cancel(grace, sh->stop_reason);
        }
      }
      for (auto it = sh->workers.begin(); it != sh->workers.end();) {
        if ((*it)->done) {
          (*it)->thread.join();
          it = sh->workers.erase(it);
        } else {
          ++it;
        }
      }
      if (!events.empty()) {
        // The sink may be slow (a terminal) or ask the agent something: not under the lock.
        lock.unlock();
        for (auto const& e : events) sh->emit(e);
        events.clear();
        lock.lock();
        continue;
      }
      if (sh->mode != stop_mode::none && sh->runs.empty()) break;
      sh->cv.wait(lock);
    }
  }
  for (auto& w : sh->workers) w->thread.join();
  sh->workers.clear();
  {
    std::lock_guard lock(sh->m);
    sh->heartbeat_done = true;
    sh->cv.notify_all();
  }
  heartbeat.join();

  auto const started = detail::clock::now();
  backoff = o.retry_interval;
  for (;;) {
    auto r = c->agent_stopped(me->id);
    if (r || !detail::unreachable(r.error())) break;
    if (detail::clock::now() - started > o.final_report_patience) {
      sh->emit("the server could not be told that the agent stopped: " + r.error().what());
      break;
    }
    std::this_thread::sleep_for(backoff);
    backoff = sh->next_backoff(backoff);
  }
  sh->emit("agent " + std::to_string(me->id) + " stopped");
  sh->close_events();
  std::lock_guard lock(sh->m);
  if (sh->fatal) return *sh->fatal;
  return {};
}

}  // namespace liftoff::agent

#endif
