#ifndef LIFTOFF_LOCAL_IMPL_PROCESS_IPP
#define LIFTOFF_LOCAL_IMPL_PROCESS_IPP

#include <liftoff/local/process.hpp>

#include <liftoff/core/run_environment.hpp>
#include <liftoff/detail/process.hpp>
#include <liftoff/detail/run_record.hpp>

#include <boost/json/serialize.hpp>

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace liftoff {

namespace detail {

LIFTOFF_DECL run_status running_status() {
  run_status s;
  s.state = run_state::running;
  return s;
}

/// What a local run's handle and its watcher threads share.
struct local_run_state : run_record {
  ::pid_t pid = -1;
  ::pid_t pgid = -1;
  int open_streams = 0;
  bool leader_reaped = false;
  bool cancel_requested = false;
  bool cancelled_before_exit = false;
  bool group_gone = false;
  std::optional<exit_status> exit;
  bool lost = false;  ///< waitpid failed (the host ignores SIGCHLD)
  bool finishing = false;  ///< the terminal status is decided and being reported
  std::chrono::steady_clock::time_point exited_at;

  /// How long the readers wait for EOF after the process exited (a descendant that left the group may hold a pipe).
  static constexpr std::chrono::milliseconds drain_limit{2000};

  void add_line(log_stream stream, std::string text) { run_record::add_line(log_line{stream, std::move(text)}); }

  /// True when no process of the group is left (kill(-pgid, 0) fails with ESRCH). Caller holds `m`.
  bool group_empty_locked() {
    if (group_gone) return true;
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) group_gone = true;
    return group_gone;
  }

  /// Signals the group unless it is known to be gone (its id could then belong to someone else). Caller holds `m`.
  void signal_group_locked(int sig) {
    if (!group_empty_locked()) ::kill(-pgid, sig);
  }

  /** The terminal status, once the process is reaped and its output read;
      given to exactly one caller, who must `publish` it. Caller holds `m`. */
  std::optional<run_status> maybe_finish_locked() {
    if (!leader_reaped || open_streams > 0 || finishing) return std::nullopt;
    finishing = true;
    run_status s;
    if (exit && exit->exited()) s.exit_code = exit->code;
    if (cancelled_before_exit) {
      s.state = run_state::stopped;
      s.message = "cancelled";
    } else if (lost) {
      s.state = run_state::failed;
      s.stage = failure_stage::run;
      s.message = "lost track of the process: cannot wait for it (is SIGCHLD ignored in this program?)";
    } else if (exit->success()) {
      s.state = run_state::finished;
    } else {
      s.state = run_state::failed;
      s.stage = failure_stage::run;
      s.message = "process " + exit->describe();
    }
    return s;
  }

  /// Publishes the terminal status, when this caller is the one that decided it.
  void publish(std::optional<run_status> const& s) {
    if (s) run_record::publish(*s);
  }
};

/// Reads one of the child's pipes until EOF, line by line.
LIFTOFF_DECL void read_stream(std::shared_ptr<local_run_state> state, unique_fd fd, log_stream stream) {
  constexpr std::size_t max_line = std::size_t(1) << 20;  // a longer "line" (a progress bar) is cut
  std::string partial;
  char buf[65536];
  pollfd p{fd.get(), POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, 100);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) {
      std::lock_guard lock(state->m);
      if (state->leader_reaped && std::chrono::steady_clock::now() - state->exited_at > local_run_state::drain_limit)
        break;
      continue;
    }
    auto got = ::read(fd.get(), buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    std::string_view chunk(buf, static_cast<std::size_t>(got));
    while (!chunk.empty()) {
      auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        partial.append(chunk);
        if (partial.size() >= max_line) state->add_line(stream, std::exchange(partial, {}));
        break;
      }
      partial.append(chunk.substr(0, nl));
      if (!partial.empty() && partial.back() == '\r') partial.pop_back();
      state->add_line(stream, std::exchange(partial, {}));
      chunk.remove_prefix(nl + 1);
    }
  }
  if (!partial.empty()) state->add_line(stream, std::move(partial));
  fd.reset();
  std::optional<run_status> done;
  {
    std::lock_guard lock(state->m);
    --state->open_streams;
    done = state->maybe_finish_locked();
    state->cv.notify_all();
  }
  state->publish(done);
}

/// Waits for the group leader, kills what it left in its group, then reaps it.
LIFTOFF_DECL void watch_leader(std::shared_ptr<local_run_state> state) {
  siginfo_t info{};
  int rc;
  // WNOWAIT: the zombie keeps the group id reserved while we kill the rest of the group.
  while ((rc = ::waitid(P_PID, static_cast<id_t>(state->pid), &info, WEXITED | WNOWAIT)) != 0 && errno == EINTR) {}
  {
    std::lock_guard lock(state->m);
    state->cancelled_before_exit = state->cancel_requested;
    if (rc == 0) ::kill(-state->pgid, SIGKILL);
  }
  int status = 0;
  ::pid_t reaped;
  while ((reaped = ::waitpid(state->pid, &status, 0)) < 0 && errno == EINTR) {}
  std::optional<run_status> done;
  {
    std::lock_guard lock(state->m);
    state->leader_reaped = true;
    state->exited_at = std::chrono::steady_clock::now();
    if (reaped == state->pid) state->exit = decode_wait_status(status);
    else state->lost = true;
    done = state->maybe_finish_locked();
    state->cv.notify_all();
  }
  state->publish(done);
}

LIFTOFF_DECL diagnostic resource_error(std::string const& path, std::string_view expected, boost::json::value const& got) {
  return diagnostic(error::invalid_spec,
                    path + ": expected " + std::string(expected) + ", got " + std::string(json_kind_name(got)));
}

inline constexpr char const* local_process_key = "local-process";

/// The variables `environment_policy::minimal` keeps: what programs need to find things, speak and tell the time.
LIFTOFF_DECL bool minimal_environment_name(std::string_view name) {
  static constexpr std::string_view kept[] = {"PATH", "HOME", "LANG", "TZ", "USER", "TMPDIR", "SHELL"};
  if (name.starts_with("LC_")) return true;
  return std::find(std::begin(kept), std::end(kept), name) != std::end(kept);
}

/// A name every shell can export: letters, digits and `_`, not starting with a digit.
LIFTOFF_DECL bool portable_environment_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

/// What a run gets on top of what it inherits: the variables every run gets, the launch's, then the resource's own.
LIFTOFF_DECL environment_list local_added_environment(launch_spec const& spec, launch_options const& options) {
  auto added = run_environment(spec, options);
  auto const* env = spec.args_for(local_process_key).if_contains("env");
  if (auto const* obj = env ? env->if_object() : nullptr)
    for (auto const& e : *obj)
      if (auto const* v = e.value().if_string()) added.emplace_back(std::string(e.key()), std::string(*v));
  return added;
}

/** The entry point's file: argv[0] with a `/` relative to `job_dir`, else on
    `path_list`, else in `job_dir`. */
LIFTOFF_DECL result<std::filesystem::path> resolve_entry_point(std::string const& argv0, std::filesystem::path const& job_dir,
                                                         std::string_view path_list) {
  auto check = [&](std::filesystem::path const& p) -> result<std::filesystem::path> {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0)
      return diagnostic(error::not_executable, "entry_point: " + argv0 + " not found: " + p.string() +
                                                   " does not exist (the path is relative to the job's directory)");
    if (S_ISDIR(st.st_mode))
      return diagnostic(error::not_executable,
                        "entry_point: " + argv0 + " is a directory (" + p.string() + "), not a program");
    if (::access(p.c_str(), X_OK) != 0)
      return diagnostic(error::not_executable,
                        "entry_point: " + argv0 + " is not executable: make it executable (chmod +x " + argv0 +
                            ") or run it through its interpreter (e.g. --entry-point 'sh " + argv0 + "')");
    return p;
  };
  if (argv0.find('/') != std::string::npos) {
    std::filesystem::path p(argv0);
    return check(p.is_absolute() ? p : job_dir / p);
  }
  if (auto found = find_executable(argv0, path_list); !found.empty()) return found;
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(job_dir / argv0, ec))) return check(job_dir / argv0);
  return diagnostic(error::not_executable, "entry_point: " + argv0 + " not found on PATH or in the job's directory " +
                                               job_dir.string() + ": install it, or give its path (e.g. ./" + argv0 +
                                               ")");
}

}  // namespace detail

// ---- run ---------------------------------------------------------------------

LIFTOFF_DECL std::string local_process::run::id() const { return state_ ? state_->id : std::string(); }

LIFTOFF_DECL run_status local_process::run::status() const { return state_ ? state_->current() : run_status{}; }

LIFTOFF_DECL run_status local_process::run::wait() { return state_ ? state_->wait_terminal() : run_status{}; }

LIFTOFF_DECL std::vector<log_line> local_process::run::logs() const {
  return state_ ? state_->kept_logs() : std::vector<log_line>{};
}

LIFTOFF_DECL ::pid_t local_process::run::process_group() const noexcept { return state_ ? state_->pgid : -1; }

LIFTOFF_DECL void local_process::run::cancel(std::chrono::milliseconds grace) {
  if (!state_ || state_->pgid <= 0) return;
  auto& s = *state_;
  using clock = std::chrono::steady_clock;
  constexpr auto poll_interval = std::chrono::milliseconds(10);
  std::unique_lock lock(s.m);
  s.cancel_requested = true;
  s.signal_group_locked(SIGTERM);
  auto const deadline = clock::now() + grace;
  while (!(s.leader_reaped && s.group_empty_locked()) && clock::now() < deadline)
    s.cv.wait_for(lock, std::min<clock::duration>(poll_interval, deadline - clock::now()));
  s.signal_group_locked(SIGKILL);
  // Killed processes linger briefly as zombies until their parent (or init) reaps them.
  auto const limit = clock::now() + std::chrono::seconds(10);
  while (!(s.status.terminal() && s.group_empty_locked()) && clock::now() < limit) {
    s.cv.wait_for(lock, poll_interval);
    if (!s.group_empty_locked()) ::kill(-s.pgid, SIGKILL);  // late children forked during the grace period
  }
}

// ---- policy ------------------------------------------------------------------

LIFTOFF_DECL result<void> local_process::validate(launch_spec const& spec) const {
  std::string const where = std::string("resource_args.") + detail::local_process_key;
  auto const* v = spec.resource_args.if_contains(detail::local_process_key);
  if (!v) return {};
  auto const* obj = v->if_object();
  if (!obj) return detail::resource_error(where, "an object", *v);
  for (auto const& kv : *obj) {
    std::string_view key = kv.key();
    auto const& val = kv.value();
    if (key == "env") {
      auto const* env = val.if_object();
      if (!env) return detail::resource_error(where + ".env", "an object of strings", val);
      for (auto const& e : *env) {
        std::string_view name = e.key();
        if (name.empty() || name.find('=') != std::string_view::npos || name.find('\0') != std::string_view::npos)
          return diagnostic(error::invalid_spec,
                            where + ".env: '" + std::string(name) + "' is not a valid environment variable name");
        if (!e.value().is_string())
          return detail::resource_error(where + ".env." + std::string(name), "a string", e.value());
      }
    } else if (key == "pass_env") {
      auto const* names = val.if_array();
      if (!names) return detail::resource_error(where + ".pass_env", "an array of variable names", val);
      for (std::size_t i = 0; i < names->size(); ++i) {
        std::string const at = where + ".pass_env[" + std::to_string(i) + "]";
        auto const* name = (*names)[i].if_string();
        if (!name) return detail::resource_error(at, "a variable name (a string)", (*names)[i]);
        if (!detail::portable_environment_name(*name))
          return diagnostic(error::invalid_spec, at + ": '" + std::string(*name) +
                                                     "' is not a valid environment variable name (letters, digits "
                                                     "and _, not starting with a digit)");
        if (std::find(withheld.begin(), withheld.end(), std::string_view(*name)) != withheld.end())
          return diagnostic(error::invalid_spec, at + ": " + std::string(*name) +
                                                     " is the launching program's credential and is never passed to "
                                                     "a run; give the run its own value in " + where + ".env");
      }
    } else if (key == "workdir") {
      auto const* w = val.if_string();
      if (!w) return detail::resource_error(where + ".workdir", "a string", val);
      if (w->empty() || w->front() == '/')
        return diagnostic(error::invalid_spec, where + ".workdir: expected a directory relative to the job's "
                                                       "directory, got '" + std::string(*w) + "'");
    } else {
      std::string msg = where + ": unknown field '" + std::string(key) + "'";
      if (auto m = closest_match(key, {"env", "pass_env", "workdir"}); !m.empty())
        msg += " (did you mean '" + m + "'?)";
      msg += "; allowed: env, pass_env, workdir";
      return diagnostic(error::unknown_field, std::move(msg));
    }
  }
  return {};
}

LIFTOFF_DECL std::vector<std::string> local_process::environment_for(launch_spec const& spec,
                                                                   launch_options const& options,
                                                                   std::vector<std::string> const& parent) const {
  std::vector<std::string_view> passed;
  if (auto const* p = spec.args_for(detail::local_process_key).if_contains("pass_env"); p && p->is_array())
    for (auto const& n : p->get_array())
      if (n.is_string()) passed.push_back(n.get_string());
  auto named = [](auto const& list, std::string_view name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  std::vector<std::string> env;
  for (auto const& entry : parent) {
    auto const eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string_view const name(entry.data(), eq);
    if (named(withheld, name)) continue;
    if (environment == environment_policy::inherit || detail::minimal_environment_name(name) || named(passed, name))
      env.push_back(entry);
  }
  for (auto const& [k, v] : detail::local_added_environment(spec, options)) detail::env_set(env, k, v);
  return env;
}

LIFTOFF_DECL auto local_process::start(artifact const& in, launch_spec const& spec, launch_options const& options) const
    -> result<run> {
  if (auto v = validate(spec); !v) return v.error();
  if (in.kind != artifact_kind::directory || in.directory.empty())
    return diagnostic(error::invalid_spec, "local-process runs code from a directory, but got a " +
                                               std::string(to_string(in.kind)));
  auto argv = spec.command();
  if (argv.empty() || argv[0].empty())
    return diagnostic(error::invalid_spec, "entry_point: the job has no entry point; give one with --entry-point");

  auto const& rargs = spec.args_for(detail::local_process_key);
  std::filesystem::path const job_dir = in.directory;
  std::filesystem::path cwd = job_dir;
  if (auto const* w = rargs.if_contains("workdir")) cwd = (job_dir / std::string(w->as_string())).lexically_normal();

  // The variables every run gets, then the launch's, then the resource's own.
  auto added = detail::local_added_environment(spec, options);
  auto const* resource_env = rargs.if_contains("env");
  std::size_t const resource_from = added.size() - (resource_env ? resource_env->as_object().size() : 0);
  std::size_t const liftoff_count = resource_from - options.environment.size();

  auto state = std::make_shared<detail::local_run_state>();
  state->id = spec.run_id;
  state->max_lines = max_log_lines;

  if (options.dry_run()) {
    boost::json::array jargv;
    for (auto const& a : argv) jargv.emplace_back(a);
    boost::json::object jenv;
    for (std::size_t i = 0; i < added.size(); ++i)
      if (i < liftoff_count || i >= resource_from || added[i].first.rfind("LIFTOFF_", 0) == 0)
        jenv[added[i].first] = added[i].second;
    options.emit({{"stage", "run"}, {"action", "exec"}, {"argv", std::move(jargv)}, {"cwd", cwd.string()},
                  {"env", std::move(jenv)}});
    state->status = run_status{};
    state->status.state = run_state::finished;
    state->status.exit_code = 0;
    return run(std::move(state));
  }

  std::error_code ec;
  if (!std::filesystem::is_directory(cwd, ec)) {
    if (rargs.contains("workdir"))
      return diagnostic(error::file_not_found, "resource_args.local-process.workdir: " + cwd.string() +
                                                   " is not a directory in the job's directory");
    return diagnostic(error::file_not_found, "the job's directory " + job_dir.string() + " does not exist");
  }

  auto env = environment_for(spec, options, detail::current_environment());
  auto exe = detail::resolve_entry_point(argv[0], job_dir, detail::env_get(env, "PATH").value_or(""));
  if (!exe) return exe.error();

  detail::spawn_options so;
  so.argv = argv;
  so.executable = *exe;
  so.env = std::move(env);
  so.cwd = cwd;
  auto child = detail::spawn_process(so);
  if (!child) {
    int err = child.error().code.value();
    if (err == ENOEXEC)
      return diagnostic(error::not_executable, "entry_point: " + argv[0] +
                                                   " cannot be executed (not a program): start the script with a "
                                                   "#! line (e.g. #!/bin/sh) or run it through its interpreter");
    if (err == EACCES)
      return diagnostic(error::not_executable, "entry_point: " + argv[0] + " cannot be executed (permission "
                                                                           "denied): check chmod +x and the mount");
    return diagnostic(error::run_failed, "entry_point: " + child.error().message);
  }

  state->pid = child->pid;
  state->pgid = child->pid;
  state->attach(options, in);
  state->open_streams = 2;
  try {
    std::thread(detail::read_stream, state, std::move(child->out), log_stream::out).detach();
  } catch (...) {
    ::kill(-state->pgid, SIGKILL);
    detail::wait_process(state->pid);
    return diagnostic(error::run_failed, "cannot start a thread to read the process's output");
  }
  try {
    std::thread(detail::read_stream, state, std::move(child->err), log_stream::err).detach();
    std::thread(detail::watch_leader, state).detach();
  } catch (...) {
    // The stdout reader is already running: stop the process and let it finish.
    ::kill(-state->pgid, SIGKILL);
    detail::wait_process(state->pid);
    return diagnostic(error::run_failed, "cannot start a thread to watch the process");
  }
  options.report(detail::running_status());
  return run(std::move(state));
}

}  // namespace liftoff

#endif
