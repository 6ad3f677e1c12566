#ifndef LIFTOFF_SOURCE_GIT_HPP
#define LIFTOFF_SOURCE_GIT_HPP

/** `git_source`: a job whose code is a git repository, cloned with the
    user's own `git` so that their credentials and SSH configuration work. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/source/local_dir.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace liftoff {

/** Source policy for `git_ref` jobs. `fetch` clones the remote into a fresh
    directory under `options.work_dir` (the system temp dir when empty) and
    checks out `version` — a branch, a tag or a commit; empty: the default
    branch. git never prompts (`GIT_TERMINAL_PROMPT=0`, ssh in batch mode).
    `git` is looked up on the PATH of `options.environment` when it sets one,
    else on the process's PATH.

    The artifact's `lifetime` owns the clone, which is removed when the last
    copy of the artifact (or a run holding it) goes away. Its digest is
    `directory_digest` of the checkout; a `build_context` narrows it to that
    sub-directory. A dry run emits `{"stage":"source","action":"git clone",
    "remote":…,"version":…}` and clones nothing. */
struct git_source {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate;
  static constexpr source_kind kind = source_kind::git;
  static constexpr artifact_kind produces = artifact_kind::directory;

  /// Checks the remote and version (no option-like values).
  result<void> validate(launch_spec const& spec) const;

  /** Clones and checks out. Fails with error::tool_missing (no git),
      error::source_failed (clone failed, with git's own message; version not
      found, naming it) or error::file_not_found (no such build_context). */
  result<artifact> fetch(launch_spec const& spec, launch_options const& options) const;
};

namespace detail {

/// `url` with any password or token in it replaced by `***`.
std::string redact_url(std::string const& url);

/// The environment git runs with: the process's, then `extra`, then no prompts.
std::vector<std::string> git_environment(std::map<std::string, std::string> const& extra);

}  // namespace detail

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/source/impl/git.ipp>
#endif

#endif
