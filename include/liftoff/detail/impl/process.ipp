#ifndef LIFTOFF_DETAIL_IMPL_PROCESS_IPP
#define LIFTOFF_DETAIL_IMPL_PROCESS_IPP

#include <liftoff/detail/process.hpp>

#include <boost/system/system_category.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace liftoff::detail {

inline unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

LIFTOFF_DECL unique_fd::~unique_fd() { reset(); }

LIFTOFF_DECL void unique_fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

LIFTOFF_DECL std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

LIFTOFF_DECL std::optional<std::string> env_get(std::vector<std::string> const& env, std::string_view name) {
  for (auto const& kv : env)
    if (kv.size() > name.size() && kv[name.size()] == '=' && std::string_view(kv).substr(0, name.size()) == name)
      return kv.substr(name.size() + 1);
  return std::nullopt;
}

LIFTOFF_DECL void env_set(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  std::string entry = std::string(name) + "=" + std::string(value);
  for (auto& kv : env)
    if (kv.size() > name.size() && kv[name.size()] == '=' && std::string_view(kv).substr(0, name.size()) == name) {
      kv = std::move(entry);
      return;
    }
  env.push_back(std::move(entry));
}

LIFTOFF_DECL std::filesystem::path find_executable(std::string_view name, std::string_view path_list) {
  if (name.empty()) return {};
  while (true) {
    auto colon = path_list.find(':');
    auto dir = path_list.substr(0, colon);
    if (!dir.empty()) {
      std::string candidate = std::string(dir) + "/" + std::string(name);
      struct stat st;
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
        return candidate;
    }
    if (colon == std::string_view::npos) return {};
    path_list.remove_prefix(colon + 1);
  }
}

namespace process_impl {

struct file_actions {
  posix_spawn_file_actions_t a;
  file_actions() { posix_spawn_file_actions_init(&a); }
  ~file_actions() { posix_spawn_file_actions_destroy(&a); }
};

struct spawn_attr {
  posix_spawnattr_t a;
  spawn_attr() { posix_spawnattr_init(&a); }
  ~spawn_attr() { posix_spawnattr_destroy(&a); }
};

LIFTOFF_DECL result<std::pair<unique_fd, unique_fd>> make_pipe() {
  int fds[2];
  // Close-on-exec, so that children spawned concurrently by other threads do not inherit them.
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return diagnostic(error_code(errno, boost::system::system_category()),
                      std::string("cannot create a pipe: ") + ::strerror(errno));
  return std::pair{unique_fd(fds[0]), unique_fd(fds[1])};
}

}  // namespace process_impl

LIFTOFF_DECL result<child_process> spawn_process(spawn_options const& options) {
  if (options.argv.empty() || options.argv[0].empty())
    return diagnostic(error::invalid_spec, "cannot start a process without a program");

  process_impl::file_actions actions;
  process_impl::spawn_attr attr;
  child_process child;
  unique_fd out_write, err_write;
  if (options.capture_output) {
    auto o = process_impl::make_pipe();
    if (!o) return o.error();
    auto e = process_impl::make_pipe();
    if (!e) return e.error();
    child.out = std::move(o->first);
    out_write = std::move(o->second);
    child.err = std::move(e->first);
    err_write = std::move(e->second);
    posix_spawn_file_actions_adddup2(&actions.a, out_write.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions.a, err_write.get(), STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&actions.a, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions.a, options.cwd.c_str());

  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr.a, 0);
  }
  posix_spawnattr_setflags(&attr.a, flags);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr.a, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  // Whatever the parent ignores (SIGPIPE, often) is ignored across exec unless reset here.
  for (int s : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN,
                SIGTTOU, SIGXFSZ})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&attr.a, &defaults);

  std::vector<std::string> args = options.argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);
  std::vector<std::string> env = options.env;
  std::vector<char*> envp;
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string const program = options.executable.empty() ? options.argv[0] : options.executable.string();
  int rc = ::posix_spawn(&child.pid, program.c_str(), &actions.a, &attr.a, argp.data(), envp.data());
  if (rc != 0) {
    std::string msg = "cannot start " + program + ": " + ::strerror(rc);
    if (!options.cwd.empty()) msg += " (in " + options.cwd.string() + ")";
    return diagnostic(error_code(rc, boost::system::system_category()), std::move(msg));
  }
  return child;
}

LIFTOFF_DECL std::string signal_name(int sig) {
  if (char const* abbrev = ::sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

LIFTOFF_DECL std::string exit_status::describe() const {
  if (signal != 0) return "killed by signal " + signal_name(signal) + " (" + std::to_string(signal) + ")";
  return "exited with code " + std::to_string(code);
}

LIFTOFF_DECL exit_status decode_wait_status(int status) noexcept {
  exit_status s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

LIFTOFF_DECL exit_status wait_process(pid_t pid) noexcept {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return exit_status{};
  }
  return decode_wait_status(status);
}

LIFTOFF_DECL result<process_output> run_process(spawn_options const& options) {
  auto child = spawn_process(options);
  if (!child) return child.error();
  process_output r;
  if (options.capture_output) {
    pollfd fds[2] = {{child->out.get(), POLLIN, 0}, {child->err.get(), POLLIN, 0}};
    std::string* sinks[2] = {&r.out, &r.err};
    int open_count = 2;
    char buf[16384];
    while (open_count > 0) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) sinks[i]->append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EINTR) {
          fds[i].fd = -1;
          --open_count;
        }
      }
    }
  }
  r.status = wait_process(child->pid);
  return r;
}

LIFTOFF_DECL std::string last_line(std::string_view text) {
  while (!text.empty()) {
    auto end = text.find_last_not_of(" \t\r\n");
    if (end == std::string_view::npos) return {};
    text = text.substr(0, end + 1);
    auto start = text.find_last_of('\n');
    auto line = start == std::string_view::npos ? text : text.substr(start + 1);
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos) return std::string(line.substr(first));
    text = start == std::string_view::npos ? std::string_view{} : text.substr(0, start);
  }
  return {};
}

}  // namespace liftoff::detail

#endif
