#ifndef LIFTOFF_DOCKER_IMPL_CONTEXT_IPP
#define LIFTOFF_DOCKER_IMPL_CONTEXT_IPP

#include <liftoff/docker/context.hpp>

#include <liftoff/detail/lines.hpp>

#include <liftoff/detail/paths.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace liftoff::docker {

namespace detail {

using liftoff::detail::link_stays_inside;
using liftoff::detail::path_segments;

LIFTOFF_DECL result<void> check_dockerignore(std::string_view text) {
  std::size_t line_no = 0;
  for (auto line : liftoff::detail::lines_of(text)) {
    ++line_no;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    auto pattern = line;
    if (!pattern.empty() && pattern.front() == '!') pattern.remove_prefix(1);
    if (!line.empty() && line.front() != '#')
      for (auto seg : path_segments(pattern))
        if (seg == "..")
          return diagnostic(error::invalid_spec,
                            ".dockerignore line " + std::to_string(line_no) + ": '" + std::string(line) +
                                "' reaches outside the build context (patterns are relative to the context's "
                                "root; remove the '..')");
  }
  return {};
}

LIFTOFF_DECL result<std::string> read_small_file(std::filesystem::path const& p, std::string const& what) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return diagnostic(error::file_unreadable, what + ": " + p.string() + " cannot be read: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return diagnostic(error::file_unreadable, what + ": " + p.string() + " cannot be read");
  return std::move(ss).str();
}

}  // namespace detail

// ---- context_stream --------------------------------------------------------

struct context_stream::state {
  std::filesystem::path dir;
  std::vector<tree_entry> entries;
  std::vector<context_file> extras;
  std::size_t chunk = 64 * 1024;

  archive* a = nullptr;
  std::vector<char> pending;  // tar bytes libarchive produced and the caller has not read yet
  std::size_t pos = 0;
  std::size_t next_entry = 0;  // over entries, then extras
  int fd = -1;                 // the regular file being sent
  std::string const* memory = nullptr;  // or the in-memory file being sent
  std::string current;         // its path, for messages
  std::uint64_t offset = 0, remaining = 0;
  std::vector<char> buffer;
  bool closed = false, finished = false, failed = false;
  diagnostic err;
  std::size_t max_buffered = 0;
  std::uint64_t produced = 0;

  ~state() {
    if (fd >= 0) ::close(fd);
    if (a) archive_write_free(a);
  }

  static la_ssize_t on_write(archive*, void* self, void const* data, std::size_t n) {
    auto* s = static_cast<state*>(self);
    auto const* p = static_cast<char const*>(data);
    s->pending.insert(s->pending.end(), p, p + n);
    s->max_buffered = std::max(s->max_buffered, s->pending.size() - s->pos);
    return static_cast<la_ssize_t>(n);
  }

  bool fail(liftoff::error e, std::string message) {
    failed = true;
    err = diagnostic(e, std::move(message), failure_stage::build);
    return false;
  }

  bool archive_failed(std::string const& what) {
    char const* m = archive_error_string(a);
    return fail(liftoff::error::build_failed, "build context: cannot write " + what + " to the tar stream: " +
                                         (m ? m : "libarchive error"));
  }

  bool open() {
    a = archive_write_new();
    if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open(a, this, nullptr, &state::on_write, nullptr) != ARCHIVE_OK)
      return archive_failed("the header");
    return true;
  }

  bool write_header(std::string const& path, tree_entry_type type, ::mode_t mode, std::uint64_t size,
                    std::string const& link) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type == tree_entry_type::directory ? AE_IFDIR
                                  : type == tree_entry_type::symlink ? AE_IFLNK
                                                                     : AE_IFREG);
    archive_entry_set_perm(e, mode & 07777);
    archive_entry_set_size(e, type == tree_entry_type::regular ? static_cast<la_int64_t>(size) : 0);
    if (type == tree_entry_type::symlink) archive_entry_set_symlink(e, link.c_str());
    // Deterministic metadata: identical contexts give identical tars.
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r < ARCHIVE_WARN) return archive_failed("'" + path + "'");
    return true;
  }

  // Produces the next piece of the tar: one header, or one chunk of a file.
  bool advance() {
    if (fd >= 0 || memory) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, chunk));
      char const* data = nullptr;
      std::size_t got = 0;
      if (memory) {
        data = memory->data() + offset;
        got = want;
      } else {
        if (buffer.size() < chunk) buffer.resize(chunk);
        ssize_t n;
        do n = ::read(fd, buffer.data(), want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
          return fail(liftoff::error::file_unreadable, "build context: " + (dir / current).string() +
                                                  " cannot be read: " + std::strerror(errno));
        if (n == 0)
          return fail(liftoff::error::file_unreadable,
                      "build context: " + (dir / current).string() + " shrank while it was being sent; retry the launch");
        data = buffer.data();
        got = static_cast<std::size_t>(n);
      }
      if (archive_write_data(a, data, got) < 0) return archive_failed("'" + current + "'");
      offset += got;
      remaining -= got;
      if (remaining == 0) {
        if (fd >= 0) ::close(fd);
        fd = -1;
        memory = nullptr;
      }
      return true;
    }
    if (next_entry < entries.size()) {
      auto const& e = entries[next_entry++];
      if (!write_header(e.path, e.type, e.mode, e.size, e.link_target)) return false;
      if (e.type == tree_entry_type::regular && e.size > 0) {
        current = e.path;
        fd = ::open((dir / e.path).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
          return fail(liftoff::error::file_unreadable,
                      "build context: " + (dir / e.path).string() + " cannot be read: " + std::strerror(errno));
        offset = 0;
        remaining = e.size;
      }
      return true;
    }
    if (next_entry < entries.size() + extras.size()) {
      auto const& f = extras[next_entry++ - entries.size()];
      if (!write_header(f.path, tree_entry_type::regular, f.mode, f.content.size(), {})) return false;
      if (!f.content.empty()) {
        current = f.path;
        memory = &f.content;
        offset = 0;
        remaining = f.content.size();
      }
      return true;
    }
    if (!closed) {
      closed = true;
      if (archive_write_close(a) != ARCHIVE_OK) return archive_failed("the end");
      return true;
    }
    finished = true;
    return true;
  }
};

LIFTOFF_DECL context_stream::context_stream(std::unique_ptr<state> s) : s_(std::move(s)) {}
LIFTOFF_DECL context_stream::context_stream(context_stream&&) noexcept = default;
inline context_stream& context_stream::operator=(context_stream&&) noexcept = default;
LIFTOFF_DECL context_stream::~context_stream() = default;

LIFTOFF_DECL std::size_t context_stream::read(std::span<char> out, error_code& ec) {
  auto& s = *s_;
  if (s.failed) {
    ec = s.err.code;
    return 0;
  }
  while (s.pos == s.pending.size()) {
    s.pending.clear();
    s.pos = 0;
    if (s.finished) return 0;
    if (!s.advance()) {
      ec = s.err.code;
      return 0;
    }
  }
  std::size_t n = std::min(out.size(), s.pending.size() - s.pos);
  std::memcpy(out.data(), s.pending.data() + s.pos, n);
  s.pos += n;
  s.produced += n;
  return n;
}

LIFTOFF_DECL diagnostic const& context_stream::error() const noexcept { return s_->err; }
LIFTOFF_DECL std::size_t context_stream::max_buffered() const noexcept { return s_->max_buffered; }
LIFTOFF_DECL std::uint64_t context_stream::bytes_produced() const noexcept { return s_->produced; }

// ---- build_context ---------------------------------------------------------

LIFTOFF_DECL result<build_context> build_context::open(std::filesystem::path const& dir, context_options options) {
  build_context c;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return diagnostic(error::file_not_found, "build context: " + dir.string() + " is not a directory");
  c.dir_ = dir;
  auto ignore_file = dir / ".dockerignore";
  if (std::filesystem::exists(std::filesystem::symlink_status(ignore_file, ec))) {
    auto text = detail::read_small_file(ignore_file, "build context");
    if (!text) return text.error();
    c.dockerignore_ = std::move(*text);
    if (auto ok = detail::check_dockerignore(c.dockerignore_); !ok) return ok.error();
    c.rules_ = ignore_rules::parse(c.dockerignore_, ignore_syntax::dockerignore);
  }
  auto listed = list_tree(dir, c.rules_);
  if (!listed) return listed.error();
  c.entries_ = std::move(*listed);

  // Docker sends the Dockerfile and .dockerignore even when .dockerignore excludes them.
  std::vector<std::string> always{".dockerignore"};
  always.insert(always.end(), options.always_include.begin(), options.always_include.end());
  for (auto const& p : always) {
    if (p.empty() || std::any_of(c.entries_.begin(), c.entries_.end(), [&](auto const& e) { return e.path == p; }))
      continue;
    struct ::stat st {};
    if (::lstat((dir / p).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    tree_entry e;
    e.path = p;
    e.type = tree_entry_type::regular;
    e.mode = st.st_mode & 07777;
    e.size = static_cast<std::uint64_t>(st.st_size);
    c.entries_.push_back(std::move(e));
  }

  for (auto const& e : c.entries_)
    if (e.type == tree_entry_type::symlink && !detail::link_stays_inside(e.path, e.link_target))
      return diagnostic(error::invalid_spec, "build context: the symlink '" + e.path + "' points to '" + e.link_target +
                                                 "', outside the build context " + dir.string() +
                                                 " (Docker cannot follow it; copy the file in or add the link to "
                                                 ".dockerignore)");

  for (auto const& f : options.extra_files)
    std::erase_if(c.entries_, [&](tree_entry const& e) { return e.path == f.path; });
  c.options_ = std::move(options);
  return c;
}

LIFTOFF_DECL context_stream build_context::stream() const {
  auto s = std::make_unique<context_stream::state>();
  s->dir = dir_;
  s->entries = entries_;
  s->extras = options_.extra_files;
  // A file chunk, plus libarchive's block and a header, must fit the window.
  s->chunk = std::clamp<std::size_t>(options_.window / 4, 512, 64 * 1024);
  s->open();
  return context_stream(std::move(s));
}

LIFTOFF_DECL net::body_reader build_context::reader(std::shared_ptr<diagnostic> failure) const {
  auto s = std::make_shared<context_stream>(stream());
  return [s, failure](std::span<char> buffer, error_code& ec) -> std::size_t {
    auto n = s->read(buffer, ec);
    if (ec && failure) *failure = s->error();
    return n;
  };
}

LIFTOFF_DECL result<std::string> build_context::to_tar() const {
  auto s = stream();
  std::string out;
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    error_code ec;
    auto n = s.read(buffer, ec);
    if (ec) return s.error();
    if (n == 0) break;
    out.append(buffer.data(), n);
  }
  return out;
}

}  // namespace liftoff::docker

#endif
