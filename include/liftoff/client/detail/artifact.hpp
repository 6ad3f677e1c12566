#ifndef LIFTOFF_CLIENT_DETAIL_ARTIFACT_HPP
#define LIFTOFF_CLIENT_DETAIL_ARTIFACT_HPP

// Code artifacts: the deterministic tar.gz of a job directory, its SHA-256,
// and the guarded unpacking an agent does before running it.

#include <liftoff/core/error.hpp>
#include <liftoff/detail/paths.hpp>
#include <liftoff/detail/process.hpp>
#include <liftoff/detail/sha256.hpp>
#include <liftoff/source/ignore.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::client::detail {

using sha256 = liftoff::detail::sha256;

/// The SHA-256 of a file's bytes, as 64 hex digits; `what` names the file in errors.
inline result<std::string> sha256_file(std::filesystem::path const& file, std::string_view what) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return diagnostic(err == ENOENT ? error::file_not_found : error::file_unreadable,
                      std::string(what) + " " + file.string() + " cannot be read: " + std::strerror(err));
  }
  liftoff::detail::unique_fd guard(fd);
  sha256 h;
  std::vector<char> buffer(256 * 1024);
  for (;;) {
    auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return diagnostic(error::file_unreadable,
                        std::string(what) + " " + file.string() + " cannot be read: " + std::strerror(errno));
    }
    if (n == 0) break;
    h.update(buffer.data(), static_cast<std::size_t>(n));
  }
  return h.hex();
}

/// True for "sha256:" followed by 64 lowercase hex digits.
inline bool valid_artifact_digest(std::string_view d) noexcept { return liftoff::detail::is_sha256_digest(d); }

using liftoff::detail::link_stays_inside;
using liftoff::detail::path_segments;

/// Whether a relative path stays inside its root (no absolute path, no `..` climbing out).
inline bool stays_inside(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  int depth = 0;
  for (auto seg : path_segments(path)) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (--depth < 0) return false;
    } else {
      ++depth;
    }
  }
  return true;
}

struct archive_write_deleter {
  void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct archive_read_deleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};
struct archive_entry_deleter {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

inline std::string archive_message(archive* a) {
  char const* m = a ? archive_error_string(a) : nullptr;
  return m ? m : "libarchive error";
}

/** Writes the entries of `dir` as a tar.gz at `out`: pax (restricted) tar,
    times and owners zeroed, no user or group names, modes kept, gzip without
    a timestamp, so the bytes depend on the tree's content alone. */
inline result<void> write_code_tarball(std::filesystem::path const& dir, std::vector<tree_entry> const& entries,
                                       std::filesystem::path const& out) {
  std::unique_ptr<archive, archive_write_deleter> a(archive_write_new());
  std::string const where = "code artifact " + out.string();
  if (!a) return diagnostic(error::unsupported, where + ": libarchive cannot make a writer");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_write_set_options(a.get(), "gzip:!timestamp") != ARCHIVE_OK ||
      archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
      archive_write_open_filename(a.get(), out.c_str()) != ARCHIVE_OK)
    return diagnostic(error::file_unreadable, where + ": cannot be written: " + archive_message(a.get()));

  std::vector<char> buffer;
  for (auto const& e : entries) {
    std::unique_ptr<archive_entry, archive_entry_deleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), e.path.c_str());
    archive_entry_set_filetype(entry.get(), e.type == tree_entry_type::directory ? AE_IFDIR
                                            : e.type == tree_entry_type::symlink ? AE_IFLNK
                                                                                 : AE_IFREG);
    archive_entry_set_perm(entry.get(), e.mode & 07777);
    if (e.type == tree_entry_type::symlink) archive_entry_set_symlink(entry.get(), e.link_target.c_str());
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);

    liftoff::detail::unique_fd fd;
    std::uint64_t size = 0;
    if (e.type == tree_entry_type::regular) {
      auto path = dir / e.path;
      fd.reset(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd)
        return diagnostic(errno == ENOENT ? error::file_not_found : error::file_unreadable,
                          "code: " + path.string() + " cannot be read: " + std::strerror(errno));
      struct ::stat st {};
      if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return diagnostic(error::file_unreadable, "code: " + path.string() + " changed while it was being packed");
      size = static_cast<std::uint64_t>(st.st_size);  // the open file's size, so header and data agree
    }
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    if (archive_write_header(a.get(), entry.get()) < ARCHIVE_WARN)
      return diagnostic(error::file_unreadable, where + ": cannot add '" + e.path + "': " + archive_message(a.get()));

    if (size > 0) {
      if (buffer.empty()) buffer.resize(256 * 1024);
      std::uint64_t left = size;
      while (left > 0) {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
        auto n = ::read(fd.get(), buffer.data(), want);
        if (n < 0) {
          if (errno == EINTR) continue;
          return diagnostic(error::file_unreadable, "code: " + (dir / e.path).string() + " cannot be read: " +
                                                        std::strerror(errno));
        }
        if (n == 0)
          return diagnostic(error::file_unreadable,
                            "code: " + (dir / e.path).string() + " shrank while it was being packed; pack it again");
        if (archive_write_data(a.get(), buffer.data(), static_cast<std::size_t>(n)) < 0)
          return diagnostic(error::file_unreadable, where + ": cannot add '" + e.path + "': " + archive_message(a.get()));
        left -= static_cast<std::uint64_t>(n);
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK)
    return diagnostic(error::file_unreadable, where + ": cannot be finished: " + archive_message(a.get()));
  return {};
}

}  // namespace liftoff::client::detail

#endif
