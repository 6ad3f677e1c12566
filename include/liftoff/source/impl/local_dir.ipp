#ifndef LIFTOFF_SOURCE_IMPL_LOCAL_DIR_IPP
#define LIFTOFF_SOURCE_IMPL_LOCAL_DIR_IPP

#include <liftoff/source/local_dir.hpp>

#include <liftoff/detail/process.hpp>
#include <liftoff/detail/sha256.hpp>

#include <openssl/evp.h>

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace liftoff {

namespace detail {

/// Feeds a length-prefixed header for one entry: nothing a file contains can be mistaken for it.
LIFTOFF_DECL void digest_entry_header(EVP_MD_CTX* ctx, tree_entry const& e, std::uint64_t content_size) {
  char type = e.type == tree_entry_type::regular ? 'f' : e.type == tree_entry_type::directory ? 'd' : 'l';
  std::string header;
  header.reserve(e.path.size() + 48);
  header += type;
  header += ' ';
  char mode[16];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(e.mode));
  header += mode;
  header += ' ';
  header += std::to_string(content_size);
  header += ' ';
  header += std::to_string(e.path.size());
  header += ':';
  header += e.path;
  header += '\0';
  EVP_DigestUpdate(ctx, header.data(), header.size());
}

}  // namespace detail

LIFTOFF_DECL result<std::string> directory_digest(std::filesystem::path const& dir, ignore_rules const& rules) {
  std::unique_ptr<EVP_MD_CTX, detail::evp_md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return diagnostic(error::unsupported, "OpenSSL cannot compute SHA-256");
  static constexpr char version[] = "liftoff-tree-v1";
  EVP_DigestUpdate(ctx.get(), version, sizeof version);  // with its NUL

  constexpr std::size_t buffer_size = std::size_t(1) << 20;
  std::unique_ptr<char[]> buffer;  // allocated on the first file, reused for all

  auto walked = walk_tree(dir, rules, [&](tree_entry const& e) -> result<void> {
    if (e.type == tree_entry_type::directory) {
      detail::digest_entry_header(ctx.get(), e, 0);
      return {};
    }
    if (e.type == tree_entry_type::symlink) {
      detail::digest_entry_header(ctx.get(), e, e.link_target.size());
      EVP_DigestUpdate(ctx.get(), e.link_target.data(), e.link_target.size());
      return {};
    }
    auto path = dir / e.path;
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      return diagnostic(err == ENOENT ? error::file_not_found : error::file_unreadable,
                        path.string() + ": cannot read: " + ::strerror(err));
    }
    detail::unique_fd guard(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
      return diagnostic(error::file_unreadable, path.string() + ": changed while it was being read");
    // The size from the open file, so that header and contents agree.
    auto size = static_cast<std::uint64_t>(st.st_size);
    detail::digest_entry_header(ctx.get(), e, size);
    if (size == 0) return {};
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (!buffer) buffer.reset(new char[buffer_size]);
    std::uint64_t left = size;
    while (left > 0) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer_size));
      auto n = ::read(fd, buffer.get(), want);
      if (n < 0) {
        if (errno == EINTR) continue;
        return diagnostic(error::file_unreadable, path.string() + ": cannot read: " + ::strerror(errno));
      }
      if (n == 0)
        return diagnostic(error::file_unreadable, path.string() + ": changed while it was being read (it shrank)");
      EVP_DigestUpdate(ctx.get(), buffer.get(), static_cast<std::size_t>(n));
      left -= static_cast<std::uint64_t>(n);
    }
    return {};
  });
  if (!walked) return walked.error();

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return "sha256:" + detail::to_hex(std::span<unsigned char const>(md, len));
}

LIFTOFF_DECL result<std::string> directory_digest(std::filesystem::path const& dir) {
  auto rules = ignore_rules::load(dir / ".liftoffignore");
  if (!rules) return rules.error();
  return directory_digest(dir, *rules);
}

namespace detail {

LIFTOFF_DECL result<std::filesystem::path> build_context_dir(std::filesystem::path const& root, std::string const& sub,
                                                       std::string const& origin) {
  std::filesystem::path rel(sub);
  if (rel.is_absolute())
    return diagnostic(error::invalid_spec, "build_context: '" + sub + "' must be a path inside the source, not absolute");
  std::error_code ec;
  auto dir = std::filesystem::weakly_canonical(root / rel, ec);
  auto rel_to_root = dir.lexically_relative(root);
  if (ec || rel_to_root.empty() || *rel_to_root.begin() == "..")
    return diagnostic(error::invalid_spec, "build_context: '" + sub + "' is outside " + origin);
  if (!std::filesystem::is_directory(dir, ec))
    return diagnostic(error::file_not_found, "build_context: '" + sub + "' is not a directory in " + origin);
  return dir;
}

}  // namespace detail

LIFTOFF_DECL result<void> local_dir_source::validate(launch_spec const& spec) const {
  auto const* dir = std::get_if<code_dir>(&spec.source);
  if (!dir || dir->path.empty())
    return diagnostic(error::invalid_spec, "code: expected the job's code directory (give one with --uri)");
  return {};
}

LIFTOFF_DECL result<artifact> local_dir_source::fetch(launch_spec const& spec, launch_options const& options) const {
  if (auto v = validate(spec); !v) return v.error();
  auto const& given = std::get<code_dir>(spec.source).path;
  std::error_code ec;
  auto absolute = given.is_absolute() ? given : std::filesystem::current_path(ec) / given;
  auto status = std::filesystem::status(absolute, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return diagnostic(error::file_unreadable, "code: " + absolute.lexically_normal().string() +
                                                  " cannot be read: " + ec.message());
  if (!std::filesystem::exists(status))
    return diagnostic(error::file_not_found, "code: " + absolute.lexically_normal().string() +
                                                 " does not exist (give the job's code directory with --uri)");
  if (!std::filesystem::is_directory(status))
    return diagnostic(error::invalid_spec, "code: " + absolute.lexically_normal().string() +
                                               " is not a directory (give the directory that holds the job's code)");
  auto canonical = std::filesystem::canonical(absolute, ec);
  if (ec) return diagnostic(error::file_unreadable, "code: " + absolute.string() + " cannot be read: " + ec.message());
  if (::access(canonical.c_str(), R_OK | X_OK) != 0)
    return diagnostic(error::file_unreadable, "code: " + canonical.string() + " cannot be read: " + ::strerror(errno));

  artifact a;
  a.kind = artifact_kind::directory;
  a.directory = canonical;
  if (!spec.build_context.empty()) {
    auto sub = detail::build_context_dir(canonical, spec.build_context, canonical.string());
    if (!sub) return sub.error();
    a.directory = *sub;
  }
  auto digest = directory_digest(a.directory);
  if (!digest) return digest.error();
  a.digest = std::move(*digest);
  if (options.dry_run())
    options.emit({{"stage", "source"}, {"action", "digest"}, {"directory", a.directory.string()}, {"digest", a.digest}});
  return a;
}

}  // namespace liftoff

#endif
