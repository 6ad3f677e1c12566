#ifndef LIFTOFF_LOCAL_PROCESS_HPP
#define LIFTOFF_LOCAL_PROCESS_HPP

/** `local_process`: runs a job's entry point as a child process of this
    one, in the job's directory. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace liftoff {

namespace detail {
struct local_run_state;
}

/** Target policy that runs a directory artifact as a local process.

    The entry point plus args (`spec.command()`) runs in the job's directory
    (or `resource_args["local-process"].workdir` inside it), in its own
    process group. Its environment (`environment_for`) is what `environment`
    keeps of this process's environment, plus the variables
    `resource_args["local-process"].pass_env` names, less `withheld`; then
    `LIFTOFF_RUN_ID`, `LIFTOFF_PROJECT`, `LIFTOFF_JOB`, `LIFTOFF_RUN_NAME`,
    `LIFTOFF_QUEUE` (when set), `LIFTOFF_CONFIG` (the run config as JSON),
    then `options.environment`, then `resource_args["local-process"].env`,
    each replacing what came before.

    The default, `environment_policy::inherit`, suits a user's own launch
    (`liftoff launch --resource local-process`): the run sees what the
    user's shell has. A program that runs other people's jobs (the launch
    agent, through `backend_settings::for_agent`) chooses
    `environment_policy::minimal`, so that a run cannot read its token, cloud
    keys or anything else its queue template or spec does not name.

    argv[0] containing a `/` is relative to the job's directory; a bare name
    is looked up on the run's PATH, then in the job's directory.

    stdout and stderr are read by threads as they are written, line by line:
    each line goes to `options.on_log` (from a reader thread; never two calls
    at once) and is kept in the run (the last `max_log_lines`). State changes
    go to `options.on_status`: `running` from `start`, the final state from a
    watcher thread before `wait()` returns it.

    When the process exits, whatever it left running in its process group is
    killed, as when a container's main process exits: a run leaves nothing
    behind (a descendant that moved to another session is out of reach). */
struct local_process {
  /// Which of this process's environment variables a run gets.
  enum class environment_policy {
    /// All of them (less `withheld`): a user's own launch.
    inherit,
    /** Only `PATH`, `HOME`, `LANG`, `LC_*`, `TZ`, `USER`, `TMPDIR` and
        `SHELL` (those that are set) and what `pass_env` names: an agent's
        runs. */
    minimal,
  };

  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate;
  /// How many log lines a run keeps (the oldest are dropped first).
  std::size_t max_log_lines = 100000;
  /// Which of this process's environment variables a run gets; `inherit` by default.
  environment_policy environment = environment_policy::inherit;
  /** Variables of this process's environment that no run gets, under either
      policy, and that `pass_env` may not name: the credentials of the
      program that launches it (under `inherit`, the user's own token too; a
      run that needs one is given it in `resource_args["local-process"].env`). */
  std::vector<std::string> withheld = {"LIFTOFF_API_TOKEN"};

  static constexpr bool accepts(artifact_kind k) noexcept { return k == artifact_kind::directory; }

  /** A started local run: a cheap, movable handle over state shared with the
      threads watching the process. Destroying it neither waits for nor stops
      the process. */
  class run {
  public:
    /// The run's id (`spec.run_id`).
    std::string id() const;

    /// A snapshot: `running`, then `finished`, `failed` (stage run, with the exit code or signal) or `stopped`.
    run_status status() const;

    /// Blocks until the process has exited and its output is read; returns the final status.
    run_status wait();

    /** Stops the run: SIGTERM to its whole process group, then SIGKILL to
        the group if anything in it is still alive after `grace`. Returns when
        nothing of the group is left (bounded by a few seconds after SIGKILL).
        The final state is `stopped`, unless the run had already ended. */
    void cancel(std::chrono::milliseconds grace);

    /// The kept output lines, oldest first.
    std::vector<log_line> logs() const;

    /// The child's process group id (its pid); -1 for a dry run.
    ::pid_t process_group() const noexcept;

  private:
    friend struct local_process;
    explicit run(std::shared_ptr<detail::local_run_state> s) noexcept : state_(std::move(s)) {}
    std::shared_ptr<detail::local_run_state> state_;
  };

  using run_type = run;

  /** Checks `resource_args["local-process"]`: only `env` (an object of
      strings), `pass_env` (an array of variable names: letters, digits and
      `_`, not starting with a digit, none of `withheld`) and `workdir` (a
      relative path). Errors name the field; an unknown field is refused
      with a suggestion. */
  result<void> validate(launch_spec const& spec) const;

  /** The whole environment, `NAME=value`, that a run of `spec` gets when
      this process's environment is `parent` (as `NAME=value` strings): see
      the class's description. `spec` is one `validate` accepts; a
      `pass_env` name that `parent` lacks is left out. */
  std::vector<std::string> environment_for(launch_spec const& spec, launch_options const& options,
                                           std::vector<std::string> const& parent) const;

  /** Starts the process and reports `running` through `options.report`.
      Fails with error::invalid_spec (no entry point, bad resource args),
      error::not_executable (entry point missing or not executable, naming it
      and what to do) or error::file_not_found (workdir missing). A dry run
      emits `{"stage":"run","action":"exec","argv":…,"cwd":…,"env":…}` (env:
      the LIFTOFF_* and resource variables only) and returns a finished run. */
  result<run> start(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/local/impl/process.ipp>
#endif

#endif
