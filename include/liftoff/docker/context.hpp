#ifndef LIFTOFF_DOCKER_CONTEXT_HPP
#define LIFTOFF_DOCKER_CONTEXT_HPP

/** `liftoff::docker::build_context`: a directory as the tar stream that
    `POST /build` reads, written with libarchive while the directory is
    read: a pull-based `net::body_reader` whose memory stays within a small
    window whatever the size of the files, with nothing copied to disk.

    The tar is deterministic (pax restricted, mtime 0, uid/gid 0, no owner
    names, entries in walk order), so identical directories give identical
    bytes. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/net/client.hpp>
#include <liftoff/source/ignore.hpp>

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace liftoff::docker {

/// A file that exists only in memory and is added to the context (a generated Dockerfile).
struct context_file {
  std::string path;     ///< inside the context, `/`-separated ("`.liftoff/Dockerfile`")
  std::string content;
  ::mode_t mode = 0644;
};

/// What goes into a build context beyond the directory's own files.
struct context_options {
  /** Paths always sent even when `.dockerignore` excludes them, as Docker
      does for the Dockerfile (`.dockerignore` itself is always sent). */
  std::vector<std::string> always_include;
  /// In-memory files, added after the directory's; one replaces a file of the same path.
  std::vector<context_file> extra_files;
  /// Upper bound of the bytes a stream holds between reads (its window).
  std::size_t window = std::size_t(1) << 20;
};

/** One pass over a context as tar bytes. Each `read` advances the walk and
    the current file just enough to fill the caller's buffer; at most
    `context_options::window` bytes are held at once. */
class context_stream {
public:
  context_stream(context_stream&&) noexcept;
  context_stream& operator=(context_stream&&) noexcept;
  ~context_stream();

  /** Fills `buffer` with the next bytes of the tar.
      @return the number of bytes written, 0 at the end of the tar (or on
      failure, with `ec` set and `error()` saying which file could not be read). */
  std::size_t read(std::span<char> buffer, error_code& ec);

  /// Why the last `read` failed: the file that could not be read or changed while being sent.
  diagnostic const& error() const noexcept;

  /// The most bytes held between reads so far (never above the window).
  std::size_t max_buffered() const noexcept;

  /// The tar bytes produced so far.
  std::uint64_t bytes_produced() const noexcept;

private:
  friend class build_context;
  struct state;
  explicit context_stream(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
};

/** A build context: a directory, filtered by its `.dockerignore`, checked
    and listed when opened. Opening reads only metadata; file contents are
    read by the streams, as they are sent. */
class build_context {
public:
  /** Lists `dir` with the rules of `dir/.dockerignore`.
      Refuses (error::invalid_spec) a `.dockerignore` pattern that reaches
      outside the context (`../x`), and a symlink whose target is absolute or
      resolves outside the context, naming the link. Fails with
      error::file_not_found / error::file_unreadable naming what cannot be read. */
  static result<build_context> open(std::filesystem::path const& dir, context_options options = {});

  /// The context directory.
  std::filesystem::path const& directory() const noexcept { return dir_; }
  /// The directory's entries that are sent, in tar order (in-memory files not included).
  std::vector<tree_entry> const& entries() const noexcept { return entries_; }
  /// The text of `.dockerignore` (empty when there is none).
  std::string const& dockerignore_text() const noexcept { return dockerignore_; }
  /// The parsed `.dockerignore` rules.
  ignore_rules const& rules() const noexcept { return rules_; }
  context_options const& options() const noexcept { return options_; }

  /// A new pass over the context, from its first byte.
  context_stream stream() const;

  /** A body for `engine::build`: a new pass, shared by the copies of the
      returned function. `failure`, when given, receives the stream's
      diagnostic if a read fails (so a caller can report which file). */
  net::body_reader reader(std::shared_ptr<diagnostic> failure = {}) const;

  /// The whole tar in memory (for tests and small contexts).
  result<std::string> to_tar() const;

private:
  std::filesystem::path dir_;
  std::vector<tree_entry> entries_;
  std::string dockerignore_;
  ignore_rules rules_;
  context_options options_;
};

namespace detail {

/** Checks `.dockerignore` text: a pattern that reaches outside the context
    (a `..` segment) is an error naming its line. */
result<void> check_dockerignore(std::string_view text);

}  // namespace detail

}  // namespace liftoff::docker

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/context.ipp>
#endif

#endif
