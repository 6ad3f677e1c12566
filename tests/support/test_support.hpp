#ifndef LIFTOFF_TESTS_SUPPORT_TEST_SUPPORT_HPP
#define LIFTOFF_TESTS_SUPPORT_TEST_SUPPORT_HPP

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace liftoff::test {

/// A fresh directory under the system temp dir, removed with everything in it on destruction.
class temp_dir {
public:
  explicit temp_dir(std::string const& prefix = "liftoff-test");
  ~temp_dir();
  temp_dir(temp_dir const&) = delete;
  temp_dir& operator=(temp_dir const&) = delete;
  std::filesystem::path const& path() const noexcept { return path_; }
  std::filesystem::path operator/(std::filesystem::path const& p) const { return path_ / p; }

private:
  std::filesystem::path path_;
};

/// Writes `content` to `path`, creating parent directories.
void write_file(std::filesystem::path const& path, std::string const& content);

/// Reads a whole file.
std::string read_file(std::filesystem::path const& path);

/// The official API specifications (LIFTOFF_SPECS_DIR in the environment, else the configured default).
std::filesystem::path specs_dir();

/// The repository's top directory.
std::filesystem::path source_dir();

/// The result of running a command.
struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/** Runs `argv` (no shell), capturing stdout and stderr, with optional extra
    environment entries ("NAME=value") and working directory. */
command_result run_command(std::vector<std::string> const& argv, std::vector<std::string> const& env = {},
                           std::filesystem::path const& cwd = {});

/** A command running in the background, its output going to files. */
class background_command {
public:
  background_command(std::vector<std::string> const& argv, std::filesystem::path const& out_file,
                     std::filesystem::path const& err_file, std::vector<std::string> const& env = {},
                     std::filesystem::path const& cwd = {});
  ~background_command();  ///< kills the command if it still runs
  background_command(background_command const&) = delete;
  background_command& operator=(background_command const&) = delete;

  int pid() const noexcept { return pid_; }
  void signal(int signo);
  /// Waits for the exit; the exit code, or 128 + the signal.
  int wait();

private:
  int pid_ = -1;
  bool reaped_ = false;
  int code_ = -1;
};

/// True while a process with this pid exists and is not a zombie.
bool process_alive(int pid);

/// Polls `pred` every 10 ms until it holds or `seconds` pass; returns whether it held.
bool wait_until(std::function<bool()> const& pred, double seconds = 10);

}  // namespace liftoff::test

#endif
