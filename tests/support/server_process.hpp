#ifndef LIFTOFF_TESTS_SUPPORT_SERVER_PROCESS_HPP
#define LIFTOFF_TESTS_SUPPORT_SERVER_PROCESS_HPP

#include "support/test_support.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace liftoff::test {

/** A real `liftoff server` process (the CLI at `cli`) on 127.0.0.1, its data
    in `data_dir`. The constructor waits for its "listening on" line (and
    reads the admin token it prints on a first start, or from
    `data_dir/admin-token`). Stopped with SIGTERM when destroyed (SIGKILL
    when it does not stop within 10 s). */
class server_process {
public:
  /// `port` 0 picks a free one; `extra` are more `liftoff server` flags.
  server_process(std::filesystem::path const& cli, std::filesystem::path const& data_dir,
                 std::vector<std::string> const& extra = {}, unsigned port = 0);
  ~server_process();

  std::string const& url() const noexcept { return url_; }      ///< "http://127.0.0.1:PORT"
  unsigned port() const noexcept { return port_; }
  std::string const& token() const noexcept { return token_; }  ///< the admin token
  int pid() const noexcept { return proc_->pid(); }
  /// Environment entries that point the CLI at this server: LIFTOFF_SERVER and LIFTOFF_API_TOKEN.
  std::vector<std::string> env() const { return {"LIFTOFF_SERVER=" + url_, "LIFTOFF_API_TOKEN=" + token_}; }
  /// What the server wrote to stdout and stderr so far.
  std::string out() const;
  std::string err() const;
  /// Sends `signo` and waits for the exit; the exit code, or 128 + the signal.
  int stop(int signo = 15);

private:
  std::filesystem::path out_file_, err_file_;
  std::unique_ptr<background_command> proc_;
  std::string url_, token_;
  unsigned port_ = 0;
};

}  // namespace liftoff::test

#endif
