#ifndef LIFTOFF_LOCAL_IMPL_BACKEND_IPP
#define LIFTOFF_LOCAL_IMPL_BACKEND_IPP

#include <liftoff/local/backend.hpp>

#include <liftoff/local/launchers.hpp>
#include <liftoff/local/reattach.hpp>

namespace liftoff {

LIFTOFF_DECL backend const& local_process_backend() {
  static backend const b{
      .resource = "local-process",
      .summary = "a child process of this machine (code and git jobs)",
      .default_for = {},
      .resource_args = {{"workdir", "the directory to run in, relative to the job's code"},
                        {"env", "environment variables the run gets, an object of strings"},
                        {"pass_env", "names of the agent's environment variables the run gets, an array"}},
      .options = {},
      .add_launchers =
          [](launcher_registry& reg, backend_settings const& settings) {
            // A user's own launch sees the user's environment; an agent's runs see only what they are given.
            local_process target;
            if (settings.for_agent) target.environment = local_process::environment_policy::minimal;
            reg.add("local-process", local_code_launcher{{}, {}, {}, target});
            reg.add("local-process", local_git_launcher{{}, {}, {}, target});
          },
      // A restarted agent cannot follow a child of the agent before it: it stops what is left.
      .reattach = [](backend_settings const&) { return agent::local_process_reattach(); },
  };
  return b;
}

}  // namespace liftoff

#endif
