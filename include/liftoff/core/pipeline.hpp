#ifndef LIFTOFF_CORE_PIPELINE_HPP
#define LIFTOFF_CORE_PIPELINE_HPP

/** The values that flow between the four stages of a launch, and the options
    every stage sees. */

#include <liftoff/core/run_status.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>

namespace liftoff {

/// What a stage hands to the next: code in a directory, or an image somewhere.
enum class artifact_kind {
  directory,       ///< code in a local directory
  local_image,     ///< an image held by the engine that built it
  registry_image,  ///< an image in a registry, pullable by reference
};

inline std::string_view to_string(artifact_kind k) noexcept {
  switch (k) {
    case artifact_kind::directory: return "directory";
    case artifact_kind::local_image: return "local image";
    case artifact_kind::registry_image: return "registry image";
  }
  return "directory";
}

/// The output of a stage.
struct artifact {
  artifact_kind kind = artifact_kind::directory;
  std::filesystem::path directory;  ///< for `directory`: where the code is
  std::string image;                ///< for images: the reference a target runs
  std::string digest;               ///< `sha256:…` of what went into it, when known
  /// Keeps stage resources (a temporary clone, say) alive for as long as the
  /// artifact, or a run holding it, exists.
  std::shared_ptr<void const> lifetime;
};

/// How a launch reports and what it may do; every member is optional.
struct launch_options {
  /// Receives each log line as it is produced, from a target's reader thread; calls never overlap.
  std::function<void(log_line const&)> on_log;
  /** Receives progress of long steps (an image pull's layers, a build's
      steps), one line at a time; a program shows it on a terminal or drops it. */
  std::function<void(std::string_view)> on_progress;
  /// Receives each state change of the run.
  std::function<void(run_status const&)> on_status;
  /** When set, the launch is a dry run: each stage passes what it would do or
      send to this function (one JSON object per action) instead of doing it. */
  std::function<void(boost::json::object const&)> on_dry_run;
  /// How long a cancelled run may take to stop before it is killed.
  std::chrono::milliseconds grace_period{std::chrono::seconds(10)};
  /// Where stages put what they fetch; empty: a directory under the system's temp dir.
  std::filesystem::path work_dir;
  /** Cancels the launch while it is being prepared: a build in progress is
      stopped (its request aborted) and nothing is started. A started run is
      cancelled with its own `cancel`. */
  std::stop_token stop;
  /// Extra environment for the run (LIFTOFF_QUEUE, LIFTOFF_SERVER, …), added after the spec's.
  std::map<std::string, std::string> environment;

  bool dry_run() const noexcept { return static_cast<bool>(on_dry_run); }
  void emit(boost::json::object const& action) const { if (on_dry_run) on_dry_run(action); }
  void log(log_stream s, std::string text) const { if (on_log) on_log(log_line{s, std::move(text)}); }
  void report(run_status const& s) const { if (on_status) on_status(s); }
  void progress(std::string_view line) const { if (on_progress) on_progress(line); }
};

}  // namespace liftoff

#endif
