#ifndef LIFTOFF_SOURCE_LOCAL_DIR_HPP
#define LIFTOFF_SOURCE_LOCAL_DIR_HPP

/** `local_dir_source`: a job whose code is a directory on this machine, and
    the content digest every source uses to name what went into a build. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/source/ignore.hpp>

#include <filesystem>
#include <string>

namespace liftoff {

/** The SHA-256 of a directory's content, as `sha256:<64 hex digits>`.

    Covers, for every entry of `walk_tree(dir, rules)` in walk order, an
    unambiguous framing of its relative path, its type, its permission bits,
    its size and its contents (a symlink's target text, not what it points
    to). Timestamps, owners and the directory's own location do not count:
    touching a file or moving the tree leaves the digest unchanged; editing a
    byte, `chmod +x`, renaming or adding a file changes it.

    @param dir    the directory; `.git` is always skipped
    @param rules  paths to leave out
    @return the digest; error::file_not_found / error::file_unreadable naming the path that could not be read */
result<std::string> directory_digest(std::filesystem::path const& dir, ignore_rules const& rules);

/// As above, with the rules of `dir/.liftoffignore` (none when absent).
result<std::string> directory_digest(std::filesystem::path const& dir);

/** Source policy for `code_dir` jobs (`--uri .`): the artifact is the
    directory itself, canonical, with its digest. A relative path resolves
    against the current directory; a `build_context` narrows the artifact to
    that sub-directory. A dry run still reads the tree (harmless) and emits
    `{"stage":"source","action":"digest","directory":…,"digest":…}`. */
struct local_dir_source {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate;
  static constexpr source_kind kind = source_kind::code;
  static constexpr artifact_kind produces = artifact_kind::directory;

  /// Checks that the spec names a directory.
  result<void> validate(launch_spec const& spec) const;

  /** The canonical directory and its digest. Fails with error::file_not_found
      (missing), error::file_unreadable (cannot be read) or error::invalid_spec
      (not a directory), each naming the path. */
  result<artifact> fetch(launch_spec const& spec, launch_options const& options) const;
};

namespace detail {

/** `root/sub` when `sub` names a directory inside `root` (no escaping with `..`);
    `origin` names the source in the message. */
result<std::filesystem::path> build_context_dir(std::filesystem::path const& root, std::string const& sub,
                                                std::string const& origin);

}  // namespace detail

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/source/impl/local_dir.ipp>
#endif

#endif
