#ifndef LIFTOFF_CORE_BACKEND_HPP
#define LIFTOFF_CORE_BACKEND_HPP

/** A backend describes itself: the resource it runs on, the launchers it
    offers per kind of job source, its `resource_args` keys, the command-line
    options it adds, and how a restarted agent finds its runs again. The
    library lists its backends in one place (<liftoff/backends.hpp>); the CLI,
    the agent and the server read that list instead of naming resources. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/any_launcher.hpp>
#include <liftoff/core/registry.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/** How a program sets up its backends: what `liftoff launch` and
    `liftoff launch-agent` share with every backend they construct. */
struct backend_settings {
  /// The agent's name (Kubernetes labels its objects with it); empty for a launch in the caller's process.
  std::string agent;
  /** Refuse what only trusted users may ask for (Kubernetes host paths,
      privileged containers, …); on for an agent serving queues. */
  bool secure_mode = false;
  /** The launchers run other people's jobs for an agent serving queues: a
      run gets only what its spec and queue give it, never the agent's own
      environment (a `local-process` run gets `environment_policy::minimal`). */
  bool for_agent = false;
  /// The values of the backends' own settings (`backend_option::setting`), by setting name.
  std::map<std::string, std::string, std::less<>> values;

  /// The value of setting `name`, else `fallback`.
  std::string_view value(std::string_view name, std::string_view fallback = {}) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : std::string_view(it->second);
  }
};

/** A command-line option a backend adds to `liftoff launch` (and, with
    `for_agent`, to `liftoff launch-agent`). Its value goes either into the
    spec's `resource_args.<resource>.<resource_arg>`, or, for an option that
    changes how the backend is set up, into `backend_settings::values[setting]`. */
struct backend_option {
  std::string flag;          ///< "--kube-context"
  std::string help;          ///< one sentence for `--help`
  std::string resource_arg;  ///< the key of `resource_args.<resource>` the value sets; or empty
  std::string setting;       ///< the `backend_settings::values` key the value sets; or empty
  std::vector<std::string> choices;  ///< the values allowed; empty: any
  std::string default_value;         ///< a setting's value when the option is not given
  bool for_launch = true;            ///< offered by `liftoff launch`
  bool for_agent = false;            ///< offered by `liftoff launch-agent`
};

/// One key of a backend's `resource_args`, as `liftoff resources` lists it.
struct resource_arg_doc {
  std::string key;
  std::string help;
};

/** What an agent asks a backend when it finds a run it held before it
    restarted: follow it again. */
struct reattach_request {
  std::string run_id;
  std::string resource;    ///< where it ran (`local-container`, …); empty when the run's spec could not be read
  launch_spec spec;        ///< the run's merged spec, as the server keeps it
  launch_options options;  ///< the callbacks that report the run (its logs, its end)
  /// Output lines the server already has; a target that replays its output skips as many.
  std::size_t delivered_lines = 0;
};

/** Finds a run again on its resource (a container by its labels, …). Returns
    the run; nullopt when it is gone; `error::gone` with the sentence
    that says what became of it; another diagnostic when the resource could
    not be asked; or `error::unsupported` for a resource whose runs it cannot
    find. */
using reattach_fn = std::function<result<std::optional<any_run>>(reattach_request const&)>;

/// One backend: a resource name and everything a program needs to offer it.
struct backend {
  std::string resource;  ///< the registry key and queue resource: `local-container`
  std::string summary;   ///< what it runs on, for help: "containers on a Docker engine"
  /// The kinds of job source for which this is the resource when a spec names none.
  std::vector<source_kind> default_for;
  std::vector<resource_arg_doc> resource_args;  ///< the keys of `resource_args.<resource>` it reads
  std::vector<backend_option> options;          ///< the command-line options it adds
  /// Registers its launchers (one per kind of job source it runs) under `resource`.
  std::function<void(launcher_registry&, backend_settings const&)> add_launchers;
  /// How a restarted agent follows this resource's runs again; empty: it cannot.
  std::function<reattach_fn(backend_settings const&)> reattach;
};

}  // namespace liftoff

#endif
