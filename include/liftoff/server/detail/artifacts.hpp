#ifndef LIFTOFF_SERVER_DETAIL_ARTIFACTS_HPP
#define LIFTOFF_SERVER_DETAIL_ARTIFACTS_HPP

// Code artifacts on the server's disk, content-addressed:
// DATA/artifacts/sha256/<hex>. An upload streams into a temporary file
// (hashing as it goes), is checked against the digest its URL names, synced
// and renamed into place, so a stored artifact is always complete.

#include <liftoff/core/error.hpp>
#include <liftoff/server/detail/http_util.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liftoff::server::detail {

/// Syncs the directory `dir`, so a rename or a new file in it survives a crash.
inline void sync_directory(std::filesystem::path const& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

/** A Beast body that writes a request body to a file while hashing it with
    SHA-256. The file is removed when the value is destroyed unless it was
    committed (see `artifact_store::commit`). */
struct artifact_upload_body {
  class value_type {
  public:
    value_type() = default;
    value_type(value_type&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), hash_(std::move(o.hash_)), size_(o.size_) {}
    value_type& operator=(value_type&& o) noexcept {
      if (this != &o) {
        discard();
        fd_ = std::exchange(o.fd_, -1);
        path_ = std::move(o.path_);
        hash_ = std::move(o.hash_);
        size_ = o.size_;
      }
      return *this;
    }
    ~value_type() { discard(); }

    /// Creates `path` (it must not exist) to receive the body.
    result<void> open(std::filesystem::path path) {
      discard();
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd_ < 0)
        return diagnostic(error_code(errno, boost::system::system_category()),
                          "cannot create " + path.string() + ": " + std::strerror(errno));
      path_ = std::move(path);
      hash_ = std::make_unique<sha256_hasher>();
      size_ = 0;
      return {};
    }

    std::uint64_t size() const noexcept { return size_; }
    int fd() const noexcept { return fd_; }
    std::filesystem::path const& path() const noexcept { return path_; }
    /// The SHA-256 of what was written, as hex; call once, at the end.
    std::string digest() { return hash_ ? hash_->hex() : std::string(); }

    /// Writes `n` bytes; false (errno set) on failure.
    bool write(char const* p, std::size_t n) {
      if (fd_ < 0) {
        errno = EBADF;
        return false;
      }
      hash_->update(p, n);
      size_ += n;
      while (n > 0) {
        auto w = ::write(fd_, p, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
      }
      return true;
    }

    /// Gives up the file to the caller (who renames it): it is no longer removed here.
    int release() noexcept {
      path_.clear();
      return std::exchange(fd_, -1);
    }

  private:
    void discard() noexcept {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      if (!path_.empty()) {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
        path_.clear();
      }
    }

    int fd_ = -1;
    std::filesystem::path path_;
    std::unique_ptr<sha256_hasher> hash_;
    std::uint64_t size_ = 0;
  };

  class reader {
  public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& v) : v_(v) {}

    void init(boost::optional<std::uint64_t> const&, error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    std::size_t put(ConstBufferSequence const& buffers, error_code& ec) {
      std::size_t n = 0;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        if (!v_.write(static_cast<char const*>(b.data()), b.size())) {
          ec = error_code(errno, boost::system::system_category());
          return n;
        }
        n += b.size();
      }
      ec = {};
      return n;
    }

    void finish(error_code& ec) { ec = {}; }

  private:
    value_type& v_;
  };
};

/// The artifacts directory of a data directory.
class artifact_store {
public:
  explicit artifact_store(std::filesystem::path data_dir)
      : dir_(data_dir / "artifacts" / "sha256"), tmp_(data_dir / "artifacts" / "tmp") {}

  /// Creates the directories and clears temporary files an interrupted upload left.
  result<void> prepare() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (!ec) std::filesystem::create_directories(tmp_, ec);
    for (auto const& d : {dir_.parent_path(), dir_, tmp_})
      if (!ec) std::filesystem::permissions(d, std::filesystem::perms::owner_all, ec);
    if (ec) return diagnostic(ec, "cannot create " + dir_.string() + ": " + ec.message());
    for (auto const& e : std::filesystem::directory_iterator(tmp_, ec)) std::filesystem::remove(e.path(), ec);
    return {};
  }

  /// Where the artifact with this hex digest is (or would be) stored.
  std::filesystem::path path_of(std::string_view hex) const { return dir_ / std::string(hex); }

  /// The size of a stored artifact; empty when there is none.
  std::optional<std::uint64_t> size_of(std::string_view hex) const {
    if (!is_sha256_hex(hex)) return std::nullopt;
    struct stat st {};
    if (::stat(path_of(hex).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return static_cast<std::uint64_t>(st.st_size);
  }

  bool contains(std::string_view hex) const { return size_of(hex).has_value(); }

  /// A fresh name for an upload in progress.
  std::filesystem::path temp_path() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return tmp_ / (std::to_string(++counter_) + "-" + std::to_string(rng()) + ".part");
  }

  /** Checks a finished upload against `hex`, syncs it and moves it into
      place. Fails (invalid_request) when the bytes' SHA-256 is another; the
      temporary file is removed either way. */
  result<std::uint64_t> commit(artifact_upload_body::value_type& upload, std::string_view hex) {
    auto actual = upload.digest();
    auto size = upload.size();
    if (actual != hex)
      return diagnostic(error::invalid_request, "artifact upload: the SHA-256 of the " + std::to_string(size) +
                                                    " bytes received is " + actual + ", not " + std::string(hex) +
                                                    " as the URL says");
    if (::fsync(upload.fd()) != 0)
      return diagnostic(error::storage_failed, "artifact upload: cannot sync " + upload.path().string() + ": " +
                                                   std::strerror(errno));
    auto from = upload.path();
    ::close(upload.release());
    std::error_code ec;
    std::filesystem::rename(from, path_of(hex), ec);
    if (ec) {
      std::filesystem::remove(from, ec);
      return diagnostic(error::storage_failed, "artifact upload: cannot store " + path_of(hex).string() + ": " +
                                                   ec.message());
    }
    sync_directory(dir_);
    return size;
  }

private:
  std::filesystem::path dir_;
  std::filesystem::path tmp_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace liftoff::server::detail

#endif
