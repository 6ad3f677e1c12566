#ifndef LIFTOFF_BUILDKIT_DETAIL_FILESYNC_HPP
#define LIFTOFF_BUILDKIT_DETAIL_FILESYNC_HPP

// What a build session serves through FileSync.DiffCopy: the files of a
// directory (the build context) or in memory (the Dockerfile), as the
// fsutil protocol describes them, and the engine's filters over them.

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/source/ignore.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::buildkit::detail {

/// One file of a synced directory, in the order it is sent.
struct sync_entry {
  std::string path;                ///< relative, `/`-separated
  tree_entry_type type = tree_entry_type::regular;
  std::uint32_t mode = 0;          ///< permission bits (07777)
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;       ///< compared by the engine with its cache: a changed file must change it or its size
  std::string link_target;         ///< for symlinks
  std::filesystem::path source;    ///< where its bytes are read; empty for in-memory files and directories
  std::string content;             ///< an in-memory file's bytes
};

/** `mode` and `type` as Go's `os.FileMode`, which fsutil sends: the
    permission bits, setuid 1<<23, setgid 1<<22, sticky 1<<20, and the type
    (directory 1<<31, symlink 1<<27). */
std::uint32_t go_file_mode(tree_entry_type type, std::uint32_t mode) noexcept;

/** The entries of `root` that `walk` listed (its `tree_entry` list, in walk
    order), with their modification times read again (nanoseconds).
    Fails naming a file that vanished since. */
result<std::vector<sync_entry>> entries_of(std::filesystem::path const& root, std::vector<tree_entry> const& listed);

/** An in-memory file; its modification time is derived from its content, so
    that the engine's cache sees a changed file as changed. */
sync_entry memory_file(std::string path, std::string content, std::uint32_t mode = 0644);

/// The filters the engine asks with (gRPC metadata of DiffCopy).
struct sync_filter {
  std::vector<std::string> include_patterns;  ///< only what matches (and the directories leading to it)
  std::vector<std::string> exclude_patterns;  ///< `.dockerignore` rules, `!` included
  std::vector<std::string> follow_paths;      ///< only these paths (and their parent directories)
};

/** The entries `filter` lets through, in order; a directory is kept when
    something below it is. Fails (error::invalid_spec) on a malformed pattern. */
result<std::vector<sync_entry>> apply_filter(std::vector<sync_entry> const& entries, sync_filter const& filter);

/** Sorts entries as fsutil walks: component by component, in byte order
    (so "a", "a/b", "a-b"), each directory before what it holds. */
void sort_for_walk(std::vector<sync_entry>& entries);

}  // namespace liftoff::buildkit::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/buildkit/impl/filesync.ipp>
#endif

#endif
