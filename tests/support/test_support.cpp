#include "support/test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iterator>
#include <thread>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace liftoff::test {

namespace {

/// argv and envp for posix_spawn: this process's environment with `env` ("NAME=value") entries replacing or adding.
struct spawn_arguments {
  std::vector<std::string> args;
  std::vector<std::string> env_strings;
  std::vector<char*> argp;
  std::vector<char*> envp;

  spawn_arguments(std::vector<std::string> const& argv, std::vector<std::string> const& env) : args(argv) {
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (auto const& kv : env) {
      auto name = kv.substr(0, kv.find('=') + 1);
      std::erase_if(env_strings, [&](std::string const& s) { return s.rfind(name, 0) == 0; });
      env_strings.push_back(kv);
    }
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (auto& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);
  }
};

}  // namespace

temp_dir::temp_dir(std::string const& prefix) {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto p = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(p)) {
      path_ = std::filesystem::canonical(p);
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

temp_dir::~temp_dir() {
  std::error_code ec;
  // Make everything writable first: git object files are read-only.
  for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                 ec);
  }
  std::filesystem::remove_all(path_, ec);
}

void write_file(std::filesystem::path const& path, std::string const& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error("cannot write " + path.string());
  f << content;
}

std::string read_file(std::filesystem::path const& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::filesystem::path specs_dir() {
  if (char const* e = std::getenv("LIFTOFF_SPECS_DIR"); e && *e) return e;
  return LIFTOFF_SPECS_DIR;
}

std::filesystem::path source_dir() { return LIFTOFF_SOURCE_DIR; }

command_result run_command(std::vector<std::string> const& argv, std::vector<std::string> const& env,
                           std::filesystem::path const& cwd) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());

  spawn_arguments spawn_args(argv, env);

  pid_t pid = 0;
  int rc = posix_spawnp(&pid, spawn_args.argp[0], &actions, nullptr, spawn_args.argp.data(), spawn_args.envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::system_error(rc, std::generic_category(), "spawn " + argv[0]);
  }

  command_result r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[65536];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

background_command::background_command(std::vector<std::string> const& argv, std::filesystem::path const& out_file,
                                       std::filesystem::path const& err_file, std::vector<std::string> const& env,
                                       std::filesystem::path const& cwd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  spawn_arguments spawn_args(argv, env);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, spawn_args.argp[0], &actions, nullptr, spawn_args.argp.data(), spawn_args.envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "spawn " + argv[0]);
  pid_ = pid;
}

background_command::~background_command() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void background_command::signal(int signo) {
  if (!reaped_) ::kill(pid_, signo);
}

int background_command::wait() {
  if (reaped_) return code_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
  reaped_ = true;
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return code_;
}

bool process_alive(int pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = content.rfind(')');
  return close == std::string::npos || close + 2 >= content.size() || content[close + 2] != 'Z';
}

bool wait_until(std::function<bool()> const& pred, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace liftoff::test
