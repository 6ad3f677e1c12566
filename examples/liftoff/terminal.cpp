#include "terminal.hpp"

#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>

namespace liftoff::cli {

int terminal::fail(diagnostic const& d, int code) {
  std::lock_guard lock(mutex_);
  std::cerr << "liftoff: error";
  if (d.stage != failure_stage::none) std::cerr << " (" << to_string(d.stage) << ")";
  std::cerr << ": " << d.what() << std::endl;
  return code;
}

void terminal::note(std::string const& text) {
  std::lock_guard lock(mutex_);
  std::cerr << "liftoff: " << text << std::endl;
}

void terminal::log(log_line const& line) {
  std::lock_guard lock(mutex_);
  switch (line.stream) {
    case log_stream::out: std::cout << line.text << std::endl; break;
    case log_stream::err: std::cerr << line.text << std::endl; break;
    case log_stream::system: std::cerr << "liftoff: " << line.text << std::endl; break;
    case log_stream::build: std::cerr << line.text << std::endl; break;
  }
}

void terminal::status(std::string const& run_id, run_status const& s) {
  if (s.terminal()) return;  // `finished` says how it ended
  note("run " + run_id + " " + std::string(to_string(s.state)));
}

void terminal::finished(std::string const& run_id, run_status const& s) {
  std::string text = "run " + run_id + " " + std::string(to_string(s.state));
  if (s.stage != failure_stage::none) text += " (" + std::string(to_string(s.stage)) + ")";
  if (!s.message.empty()) text += ": " + s.message;
  note(text);
}

void terminal::json_line(boost::json::object const& o) {
  std::lock_guard lock(mutex_);
  std::cout << boost::json::serialize(o) << std::endl;
}

void terminal::progress(std::string_view line) {
  std::lock_guard lock(mutex_);
  std::cerr << "liftoff: " << line << std::endl;
}

bool terminal::interactive() const { return ::isatty(2) == 1; }

namespace {
std::atomic<int> signal_fd{-1};

extern "C" void forward_signal(int signo) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(signo);
  if (int fd = signal_fd.load(); fd >= 0) [[maybe_unused]] auto n = ::write(fd, &b, 1);
  errno = saved;
}
}  // namespace

interrupt_watch::interrupt_watch() {
  if (::pipe2(pipe_, O_CLOEXEC) != 0) return;
  signal_fd = pipe_[1];
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  thread_ = std::thread([this] { loop(); });
}

interrupt_watch::~interrupt_watch() {
  stop();
  for (int fd : pipe_)
    if (fd >= 0) ::close(fd);
}

void interrupt_watch::loop() {
  unsigned char b = 0;
  for (;;) {
    auto n = ::read(pipe_[0], &b, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || b == 0) return;  // 0: stop()
    std::function<void(int)> handler;
    int count = 0;
    {
      std::lock_guard lock(mutex_);
      ++count_;
      last_ = b;
      handler = handler_;
      count = count_;
    }
    if (handler) handler(count);
  }
}

void interrupt_watch::on_signal(std::function<void(int)> handler) {
  int count = 0;
  {
    std::lock_guard lock(mutex_);
    handler_ = handler;
    count = count_;
  }
  if (count > 0) handler(count);
}

int interrupt_watch::signal() const {
  std::lock_guard lock(mutex_);
  return last_;
}

void interrupt_watch::stop() {
  if (stopped_ || pipe_[1] < 0) return;
  stopped_ = true;
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  signal_fd = -1;
  unsigned char zero = 0;
  [[maybe_unused]] auto n = ::write(pipe_[1], &zero, 1);
  if (thread_.joinable()) thread_.join();
}

}  // namespace liftoff::cli
