#ifndef LIFTOFF_SERVER_DETAIL_RUN_LOGS_HPP
#define LIFTOFF_SERVER_DETAIL_RUN_LOGS_HPP

// Run logs as agents send them: one append-only file per run,
// DATA/logs/<run_id>.log, read back by byte offset.

#include <liftoff/core/error.hpp>
#include <liftoff/server/detail/util.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liftoff::server::detail {

class run_logs {
public:
  explicit run_logs(std::filesystem::path const& data_dir) : dir_(data_dir / "logs") {}

  result<void> prepare() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (!ec) std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
    if (ec) return diagnostic(ec, "cannot create " + dir_.string() + ": " + ec.message());
    return {};
  }

  /// The log file of a run; run ids are plain names (checked by the caller against the store).
  std::filesystem::path path_of(std::string_view run_id) const { return dir_ / (std::string(run_id) + ".log"); }

  /** Appends `text` under an exclusive lock of the file, so concurrent
      appends never interleave. A write that fails part way is undone (the
      file is cut back to its length before), so a failed append leaves no
      partial text. */
  result<void> append(std::string_view run_id, std::string_view text) {
    if (!is_safe_name(run_id, 128)) return bad_id(run_id);
    int fd = ::open(path_of(run_id).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return failure("open", run_id);
    while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      auto d = failure("stat", run_id);
      ::close(fd);
      return d;
    }
    while (!text.empty()) {
      auto w = ::write(fd, text.data(), text.size());
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        if (w == 0) errno = EIO;
        auto d = failure("write", run_id);
        [[maybe_unused]] auto cut = ::ftruncate(fd, st.st_size);
        ::close(fd);
        return d;
      }
      text.remove_prefix(static_cast<std::size_t>(w));
    }
    ::close(fd);
    return {};
  }

  /** Up to `max` bytes from byte `offset`, and the offset that follows them.
      A run without logs reads as empty; an offset beyond the end fails. */
  result<std::pair<std::string, std::uint64_t>> read(std::string_view run_id, std::uint64_t offset,
                                                     std::size_t max) const {
    if (!is_safe_name(run_id, 128)) return bad_id(run_id);
    int fd = ::open(path_of(run_id).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno != ENOENT) return failure("open", run_id);
      if (offset > 0) return beyond(offset, 0);
      return std::pair<std::string, std::uint64_t>({}, 0);
    }
    struct stat st {};
    ::fstat(fd, &st);
    auto size = static_cast<std::uint64_t>(st.st_size);
    if (offset > size) {
      ::close(fd);
      return beyond(offset, size);
    }
    std::string out(static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, max)), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
      auto r = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    ::close(fd);
    out.resize(got);
    return std::pair<std::string, std::uint64_t>(std::move(out), offset + got);
  }

private:
  static diagnostic bad_id(std::string_view run_id) {
    return diagnostic(error::invalid_request, "run id \"" + std::string(run_id) + "\" is not a valid run id");
  }
  diagnostic failure(char const* what, std::string_view run_id) const {
    int e = errno;
    return diagnostic(error::storage_failed, std::string("cannot ") + what + " " + path_of(run_id).string() + ": " +
                                                 std::strerror(e));
  }
  static diagnostic beyond(std::uint64_t offset, std::uint64_t size) {
    return diagnostic(error::invalid_request, "query parameter 'offset': " + std::to_string(offset) +
                                                  " is beyond the end of the log (" + std::to_string(size) +
                                                  " bytes)");
  }

  std::filesystem::path dir_;
};

}  // namespace liftoff::server::detail

#endif
