#ifndef LIFTOFF_LOCAL_LAUNCHERS_HPP
#define LIFTOFF_LOCAL_LAUNCHERS_HPP

/** The launchers that run jobs as local processes on this machine. */

#include <liftoff/builder/noop.hpp>
#include <liftoff/core/launcher.hpp>
#include <liftoff/source/git.hpp>
#include <liftoff/source/local_dir.hpp>
#include <liftoff/local/process.hpp>
#include <liftoff/transport/local_daemon.hpp>

namespace liftoff {

/// Runs a local code directory (`--uri .`) as a local process.
using local_code_launcher = launcher<local_dir_source, noop_builder, local_daemon, local_process>;

/// Clones a git repository and runs it as a local process.
using local_git_launcher = launcher<git_source, noop_builder, local_daemon, local_process>;

}  // namespace liftoff

#endif
