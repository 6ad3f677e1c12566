#ifndef LIFTOFF_SERVER_DETAIL_DATA_DIR_HPP
#define LIFTOFF_SERVER_DETAIL_DATA_DIR_HPP

// The server's data directory: created private (0700), and locked so that
// one server at a time uses it (`DATA/server.lock`, holding the pid).

#include <liftoff/core/error.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liftoff::server::detail {

/** Creates `dir` (and its parents) if needed; a directory made here is
    readable by its owner only (0700). An existing one keeps its mode. */
inline result<void> make_private_dir(std::filesystem::path const& dir) {
  std::error_code ec;
  bool existed = std::filesystem::exists(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (!ec && !existed) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (ec)
    return diagnostic(error::storage_failed, "cannot create the data directory " + dir.string() + ": " + ec.message() +
                                                 "; choose a directory the server can write");
  return {};
}

/** An exclusive lock of a data directory, held while the object lives:
    `flock` on `DATA/server.lock`, which holds the holder's pid. The kernel
    releases it when the process ends, however it ends. */
class data_dir_lock {
public:
  data_dir_lock() = default;
  data_dir_lock(data_dir_lock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  data_dir_lock& operator=(data_dir_lock&& o) noexcept {
    if (this != &o) {
      release();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~data_dir_lock() { release(); }

  /** Takes the lock of `dir`. Fails (`conflict`) when another process holds
      it, naming that process: "data directory /d is in use by another
      liftoff server (process 1234; /d/server.lock)". */
  static result<data_dir_lock> acquire(std::filesystem::path const& dir) {
    auto file = dir / "server.lock";
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return diagnostic(error::storage_failed, "cannot open " + file.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      char buf[32] = {};
      auto n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      if (err != EWOULDBLOCK)
        return diagnostic(error::storage_failed, "cannot lock " + file.string() + ": " + std::strerror(err));
      return diagnostic(error::conflict, "data directory " + dir.string() + " is in use by another liftoff server (" +
                                             (holder.empty() ? std::string("a process") : "process " + holder) +
                                             "; " + file.string() +
                                             "); stop that server, or give this one another data directory");
    }
    data_dir_lock out;
    out.fd_ = fd;
    auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
      return diagnostic(error::storage_failed, "cannot write " + file.string() + ": " + std::strerror(errno));
    return out;
  }

  bool held() const noexcept { return fd_ >= 0; }

  void release() noexcept {
    if (fd_ < 0) return;
    ::close(fd_);  // closing the last descriptor releases the flock
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

}  // namespace liftoff::server::detail

#endif
