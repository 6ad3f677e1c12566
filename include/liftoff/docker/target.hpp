#ifndef LIFTOFF_DOCKER_TARGET_HPP
#define LIFTOFF_DOCKER_TARGET_HPP

/** `docker_target`: runs a job's image as a container on a Docker engine
    (the `local-container` resource). */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/docker/engine.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace liftoff {

namespace detail {
struct docker_run_state;
}

struct container_attach_options;  // <liftoff/docker/attach.hpp>

/** Target policy that runs an image (built locally or in a registry) as a
    container on the Docker engine at `engine`.

    `start` pulls the image when the engine does not have it (progress lines
    to `options.on_progress`), creates the container with the run's
    environment (`run_environment`, then `resource_args["local-container"].env`),
    the labels `liftoff.run-id`, `liftoff.project` and `liftoff.job` (so a
    restarted agent finds its containers) and the entry point, starts it, and
    reports `running`. A reader thread follows the container's logs (stdout
    and stderr demultiplexed, line by line) into `options.on_log` (never two
    calls at once) and the run's kept lines (the last `max_log_lines`). A
    watcher thread waits for the exit, reports the final state through
    `options.on_status`, then makes it visible to `wait()`:

    - exit code 0: `finished`;
    - killed for memory: `failed` (stage run), "out of memory (limit 16 MiB)";
    - another exit code: `failed` (stage run), "container exited with code N";
    - cancelled: `stopped`.

    The container is removed when the run ends, unless `remove` is false.

    The command: an entry point (the job's, or the launch's override)
    replaces the image's ENTRYPOINT and CMD, with the args after it; args
    alone replace the image's CMD and keep its ENTRYPOINT; neither runs the
    image's defaults.

    `resource_args["local-container"]` is an allow-list, like W&B's:
    - `cpus`: a positive number or numeric string (HostConfig.NanoCpus);
    - `memory`: bytes, or a size like "512m" (k, m, g, t suffixes, as the
      docker CLI reads them) — HostConfig.Memory, and MemorySwap the same so
      the job cannot swap around the limit;
    - `gpus`: "all", a count, or "device=0,1" (HostConfig.DeviceRequests);
    - `shm-size`: a size (HostConfig.ShmSize);
    - `env`: an object of strings, or an array of "NAME=value";
    - `workdir`: an absolute path in the container (WorkingDir);
    - `name`: the container's name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`);
    - `ulimit`: {"nofile": "1024:2048" | 1024 | {"soft": N, "hard": N}} or
      ["nofile=1024:2048"] (HostConfig.Ulimits);
    - `pids-limit`: an integer (HostConfig.PidsLimit);
    - `platform`: "os/arch[/variant]", passed to the engine as `docker run
      --platform` does: the image is pulled for it, and the engine refuses an
      image of another platform (one it has only for another platform is
      pulled again for this one, unless it was built by this engine);
    - `network`: a network name or mode (HostConfig.NetworkMode).
    Anything else (`privileged`, `volume`, `cap-add`, …) is rejected. */
struct docker_target {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate | hook::attach;
  /// Where the engine is; the default finds it as the docker CLI does.
  docker::engine_options engine;
  /// Remove the container when the run ends.
  bool remove = true;
  /// How many log lines a run keeps (the oldest are dropped first).
  std::size_t max_log_lines = 100000;

  static constexpr bool accepts(artifact_kind k) noexcept {
    return k == artifact_kind::local_image || k == artifact_kind::registry_image;
  }

  /** A started container run: a cheap, movable handle over state shared with
      the threads watching the container. Destroying it neither waits for nor
      stops the container. */
  class run {
  public:
    /// The run's id (`spec.run_id`).
    std::string id() const;

    /// A snapshot: `running`, then `finished`, `failed` (stage run, with the exit code) or `stopped`.
    run_status status() const;

    /// Blocks until the container has exited, its output is read and it is removed; returns the final status.
    run_status wait();

    /** Stops the container: its stop signal (SIGTERM), then SIGKILL after
        `grace` (rounded up to whole seconds, as the engine counts). Returns
        once the run has ended and its container is removed (or after a
        minute, if the engine does not answer). The final state is
        `stopped`, unless the run had already ended. */
    void cancel(std::chrono::milliseconds grace);

    /// The kept output lines, oldest first.
    std::vector<log_line> logs() const;

    /// The container's id; empty for a dry run.
    std::string container_id() const;

  private:
    friend struct docker_target;
    friend result<std::optional<run>> attach_container_run(std::string_view, launch_options const&,
                                                           container_attach_options const&);
    explicit run(std::shared_ptr<detail::docker_run_state> s) noexcept : state_(std::move(s)) {}
    std::shared_ptr<detail::docker_run_state> state_;
  };

  using run_type = run;

  /** Checks `resource_args["local-container"]` (see above). Errors name the
      field and what was expected (error::invalid_spec), or list the allowed
      keys for an unknown one (error::unknown_field). A string holding an
      agent macro (`${run_id}`) passes until the macros are expanded. */
  result<void> validate(launch_spec const& spec) const;

  /** Starts the container and reports `running` through `options.report`.
      Fails with error::invalid_spec (bad resource args, no image), the
      engine's diagnostic when it cannot be reached, or a diagnostic with the
      registry's or the engine's message when the image cannot be pulled or
      the container cannot be created or started (no container is left
      behind). A dry run emits each Engine API request as
      `{"stage":"run","action":"docker api","request":…}`, starts nothing and
      returns a finished run. */
  result<run> start(artifact const& in, launch_spec const& spec, launch_options const& options) const;

  /** Finds the container of `spec.run_id` (its `liftoff.run-id` label) on the
      engine and follows it, as `attach_container_run` does with this
      target's engine, `remove` and `max_log_lines`; the first `skip_lines`
      output lines are kept but not passed to `on_log` again. A restarted
      agent follows its runs with it (`hook::attach`). */
  result<std::optional<run>> attach(launch_spec const& spec, launch_options const& options,
                                    std::size_t skip_lines = 0) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/target.ipp>
// docker_target::attach is defined with attach_container_run.
#include <liftoff/docker/impl/attach.ipp>
#endif

#endif
