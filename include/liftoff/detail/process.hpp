#ifndef LIFTOFF_DETAIL_PROCESS_HPP
#define LIFTOFF_DETAIL_PROCESS_HPP

/** A small child-process utility over posix_spawn: an argv (no shell), a full
    environment, a working directory, the child in its own process group,
    stdin from /dev/null and stdout/stderr on pipes. Shared by git_source,
    local_process and the credential plugins. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::detail {

/// Owns a file descriptor; closes it on destruction.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
  unique_fd& operator=(unique_fd&& o) noexcept;
  unique_fd(unique_fd const&) = delete;
  unique_fd& operator=(unique_fd const&) = delete;
  ~unique_fd();

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1) noexcept;

private:
  int fd_ = -1;
};

/// The process's own environment as `NAME=value` strings.
std::vector<std::string> current_environment();

/// The value of `name` in an environment of `NAME=value` strings.
std::optional<std::string> env_get(std::vector<std::string> const& env, std::string_view name);

/// Sets (replacing) `name` in an environment of `NAME=value` strings.
void env_set(std::vector<std::string>& env, std::string_view name, std::string_view value);

/** The executable `name` on `path_list` (a colon-separated PATH value): the
    first regular, executable file found. Empty elements are skipped (they
    would mean the current directory). Empty result when there is none. */
std::filesystem::path find_executable(std::string_view name, std::string_view path_list);

/// How to start a child.
struct spawn_options {
  std::vector<std::string> argv;        ///< the program's arguments, argv[0] included
  std::filesystem::path executable;     ///< the file to run; empty: argv[0] (a path: no PATH search here)
  std::vector<std::string> env;   ///< the child's whole environment, `NAME=value`
  std::filesystem::path cwd;      ///< empty: the parent's
  bool new_process_group = true;  ///< the child leads a new process group (pgid == pid)
  bool capture_output = true;     ///< stdout/stderr on pipes; otherwise inherited from the parent
};

/// A started child: its pid and the read ends of its output pipes.
struct child_process {
  pid_t pid = -1;
  unique_fd out;  ///< the child's stdout, when captured
  unique_fd err;  ///< the child's stderr, when captured
};

/** Starts a child. Signal handlers and the signal mask are reset to their
    defaults in the child; all other descriptors are closed (they are opened
    close-on-exec). Fails with the errno of fork/exec (ENOENT, EACCES,
    ENOEXEC, …) and a message naming argv[0]. */
result<child_process> spawn_process(spawn_options const& options);

/// How a process ended.
struct exit_status {
  int code = -1;   ///< the exit code, when it exited
  int signal = 0;  ///< the terminating signal, when it was killed

  bool exited() const noexcept { return signal == 0 && code >= 0; }
  bool success() const noexcept { return exited() && code == 0; }
  /// "exited with code 3", "killed by signal SIGSEGV (11)".
  std::string describe() const;
};

/// Decodes a waitpid status.
exit_status decode_wait_status(int status) noexcept;

/// "SIGSEGV" for 11; "signal 99" for an unknown one.
std::string signal_name(int sig);

/// Waits for `pid` to end and reaps it (retrying on EINTR).
exit_status wait_process(pid_t pid) noexcept;

/// The whole output of a finished child.
struct process_output {
  exit_status status;
  std::string out;
  std::string err;
};

/** Runs a child to completion, capturing stdout and stderr (both read
    concurrently, so neither pipe can fill up and block the child). */
result<process_output> run_process(spawn_options const& options);

/// The last non-empty line of `text` (git's "fatal: …"), trimmed.
std::string last_line(std::string_view text);

}  // namespace liftoff::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/detail/impl/process.ipp>
#endif

#endif
