#ifndef LIFTOFF_DOCKER_ATTACH_HPP
#define LIFTOFF_DOCKER_ATTACH_HPP

/** Finding a run's container again: what an agent that restarted does to
    keep watching the runs `docker_target` started before it went away. */

#include <liftoff/detail/config.hpp>
#include <liftoff/docker/target.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/// How `attach_container_run` follows a container it finds.
struct container_attach_options {
  /// Where the engine is; the default finds it as the docker CLI does.
  docker::engine_options engine;
  /// Remove the container when the run ends, as `docker_target` would have.
  bool remove = true;
  /** Output lines already delivered (the engine replays a container's
      output from its start): the first `skip_lines` lines are not passed to
      `on_log` again, though they are kept in the run's logs. */
  std::size_t skip_lines = 0;
  /// How many log lines the run keeps (the oldest are dropped first).
  std::size_t max_log_lines = 100000;
};

/** A container run found again by its `liftoff.run-id` label. It behaves as
    a `docker_target::run`: the same states and messages at the end, the
    same cancel. A movable handle over state shared with its watcher threads. */
class attached_container_run {
public:
  std::string id() const;
  /// `running`, then `finished`, `failed` (stage run, with the exit code) or `stopped`.
  run_status status() const;
  /// Blocks until the container has exited, its output is read and (with `remove`) it is removed.
  run_status wait();
  /** Stops the container: its stop signal, then SIGKILL after `grace`
      (whole seconds); returns once the run has ended. */
  void cancel(std::chrono::milliseconds grace);
  /// The kept output lines, oldest first (including the skipped ones).
  std::vector<log_line> logs() const;
  /// The container's id.
  std::string container_id() const;

private:
  friend result<std::optional<attached_container_run>> attach_container_run(std::string_view, launch_options const&,
                                                                            container_attach_options const&);
  explicit attached_container_run(std::shared_ptr<detail::docker_run_state> s) noexcept : state_(std::move(s)) {}
  std::shared_ptr<detail::docker_run_state> state_;
};

static_assert(run<attached_container_run>);

/** Finds the container carrying `liftoff.run-id=<run_id>` on the engine and
    follows it: a running container is waited for (`POST
    /containers/{id}/wait`) and its logs followed into `options.on_log`; one
    that exited while nobody watched ends at once, with its exit code and
    output. The final state goes to `options.on_status`, as a
    `docker_target` run reports it.

    A container that was created but never started is removed, and counts
    as not found: its run never ran.
    @return the run; nullopt when no container carries the label; a
    diagnostic when the engine cannot be reached or answers with an error. */
result<std::optional<attached_container_run>> attach_container_run(std::string_view run_id,
                                                                   launch_options const& options,
                                                                   container_attach_options const& how = {});

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/attach.ipp>
#endif

#endif
