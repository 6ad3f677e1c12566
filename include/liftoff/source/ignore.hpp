#ifndef LIFTOFF_SOURCE_IGNORE_HPP
#define LIFTOFF_SOURCE_IGNORE_HPP

/** Ignore rules (`.liftoffignore`, `.dockerignore`) and the directory walk
    that every consumer of a job's code shares: the digest, and the tar
    stream of a Docker build context. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/// Which file's semantics a set of patterns follows.
enum class ignore_syntax {
  /** `.gitignore`-like: a pattern without a `/` (other than a trailing one)
      matches a name at any depth; an excluded directory's contents cannot be
      re-included. */
  gitignore,
  /** `.dockerignore`-like: every pattern is relative to the root; `!` may
      re-include paths inside an excluded directory. */
  dockerignore,
};

/** A list of ignore patterns, matched with `fnmatch(3)` (`FNM_PATHNAME`) one
    path segment at a time. Supported: blank lines and `#` comments (`\#`
    for a literal), `!` negation (`\!` for a literal), `**` as a whole
    segment for any number of directories (`a/` + `**` for everything inside `a`),
    a leading `/` anchoring to the root, a trailing `/` for directories only.
    The last matching pattern wins. */
class ignore_rules {
public:
  ignore_rules() = default;

  /// Parses the text of an ignore file, one pattern a line.
  static ignore_rules parse(std::string_view text, ignore_syntax syntax = ignore_syntax::gitignore);

  /** Reads an ignore file; a file that does not exist gives no rules. Fails
      (error::file_unreadable, naming the file) when it exists but cannot be read. */
  static result<ignore_rules> load(std::filesystem::path const& file,
                                   ignore_syntax syntax = ignore_syntax::gitignore);

  /// Adds one pattern line (comments and blank lines are skipped).
  void add(std::string_view line);

  /** True when `relative_path` (`/`-separated, relative to the root) is
      excluded, taking excluded parent directories into account. */
  bool ignored(std::string_view relative_path, bool is_directory) const;

  /** The verdict for this one path, assuming its parents are not excluded:
      true when the last matching pattern excludes it. */
  bool matches(std::string_view relative_path, bool is_directory) const;

  /// True when a `!` pattern exists (a walk must look inside excluded directories, for .dockerignore).
  bool has_negations() const noexcept { return negations_; }

  ignore_syntax syntax() const noexcept { return syntax_; }
  bool empty() const noexcept { return rules_.empty(); }
  std::size_t size() const noexcept { return rules_.size(); }

private:
  struct rule {
    std::vector<std::string> segments;  ///< the pattern split at `/`
    bool negate = false;
    bool directory_only = false;
    bool anchored = false;  ///< matched from the root, not against any suffix of the path
  };
  static bool match_segments(std::vector<std::string> const& pattern, std::size_t pi,
                             std::vector<std::string_view> const& path, std::size_t si);
  bool rule_matches(rule const& r, std::vector<std::string_view> const& path, bool is_directory) const;

  std::vector<rule> rules_;
  ignore_syntax syntax_ = ignore_syntax::gitignore;
  bool negations_ = false;
};

/// The kinds of entry a walk yields (other kinds — sockets, FIFOs, devices — are skipped).
enum class tree_entry_type { regular, directory, symlink };

/// One entry of a directory walk.
struct tree_entry {
  std::string path;              ///< relative to the root, `/`-separated, no leading `./`
  tree_entry_type type = tree_entry_type::regular;
  ::mode_t mode = 0;             ///< the permission bits (07777), including the executable bits
  std::uint64_t size = 0;        ///< for regular files: the size in bytes
  std::string link_target;       ///< for symlinks: the target as written (never followed)
};

/** Walks `root` depth-first, each directory's entries in byte order of
    their names, a directory before its contents. Skips every `.git` and
    every path `rules` excludes (an excluded directory is not entered, except
    that .dockerignore rules with `!` patterns look inside). Symlinks are
    reported, not followed. `visit` may stop the walk by returning an error,
    which the walk returns. Fails with error::file_not_found or
    error::file_unreadable naming the path that could not be read. */
result<void> walk_tree(std::filesystem::path const& root, ignore_rules const& rules,
                       std::function<result<void>(tree_entry const&)> const& visit);

/// As `walk_tree`, collecting the entries.
result<std::vector<tree_entry>> list_tree(std::filesystem::path const& root, ignore_rules const& rules);

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/source/impl/ignore.ipp>
#endif

#endif
