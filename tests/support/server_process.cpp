#include "support/server_process.hpp"

#include <atomic>
#include <stdexcept>

#include <unistd.h>

namespace liftoff::test {

namespace {
std::string line_after(std::string const& text, std::string const& marker) {
  auto p = text.find(marker);
  if (p == std::string::npos) return {};
  auto end = text.find('\n', p);
  if (end == std::string::npos) return {};  // not complete yet
  return text.substr(p + marker.size(), end - p - marker.size());
}
}  // namespace

server_process::server_process(std::filesystem::path const& cli, std::filesystem::path const& data_dir,
                               std::vector<std::string> const& extra, unsigned port) {
  static std::atomic<int> counter{0};
  auto tag = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  out_file_ = data_dir.parent_path() / ("server-" + tag + ".out");
  err_file_ = data_dir.parent_path() / ("server-" + tag + ".err");
  std::vector<std::string> argv{cli.string(), "server", "--data-dir", data_dir.string(), "--listen",
                                "127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc_ = std::make_unique<background_command>(argv, out_file_, err_file_);
  bool up = wait_until(
      [&] {
        auto text = out();
        url_ = line_after(text, "listening on ");
        if (token_.empty()) token_ = line_after(text, "admin token: ");
        return !url_.empty() || !process_alive(proc_->pid());
      },
      30);
  if (!up || url_.empty())
    throw std::runtime_error("liftoff server did not start: " + out() + err());
  if (token_.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(data_dir / "admin-token", ec)) {
      token_ = read_file(data_dir / "admin-token");
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
    }
  }
  port_ = static_cast<unsigned>(std::stoul(url_.substr(url_.rfind(':') + 1)));
}

server_process::~server_process() {
  if (!proc_ || !process_alive(proc_->pid())) return;
  proc_->signal(15);  // as a user would stop it; killed if it does not stop in time
  if (!wait_until([&] { return !process_alive(proc_->pid()); }, 10)) proc_->signal(9);
}

std::string server_process::out() const {
  std::error_code ec;
  return std::filesystem::exists(out_file_, ec) ? read_file(out_file_) : std::string();
}

std::string server_process::err() const {
  std::error_code ec;
  return std::filesystem::exists(err_file_, ec) ? read_file(err_file_) : std::string();
}

int server_process::stop(int signo) {
  proc_->signal(signo);
  return proc_->wait();
}

}  // namespace liftoff::test
