#ifndef LIFTOFF_LOCAL_IMPL_REATTACH_IPP
#define LIFTOFF_LOCAL_IMPL_REATTACH_IPP

#include <liftoff/local/reattach.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace liftoff {

namespace detail {

LIFTOFF_DECL std::vector<::pid_t> processes_of_run(std::string_view run_id, std::filesystem::path const& proc) {
  std::vector<::pid_t> out;
  if (run_id.empty()) return out;
  std::string const needle = "LIFTOFF_RUN_ID=" + std::string(run_id);
  std::error_code ec;
  for (std::filesystem::directory_iterator it(proc, ec), end; !ec && it != end; it.increment(ec)) {
    auto const name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    auto const pid = static_cast<::pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    std::ifstream in(it->path() / "environ", std::ios::binary);
    if (!in) continue;
    std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string_view rest(env);
    while (!rest.empty()) {
      auto end_of = rest.find('\0');
      auto entry = rest.substr(0, end_of);
      if (entry == needle) {
        out.push_back(pid);
        break;
      }
      if (end_of == std::string_view::npos) break;
      rest.remove_prefix(end_of + 1);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

LIFTOFF_DECL std::vector<::pid_t> stop_processes(std::vector<::pid_t> const& pids, std::chrono::milliseconds grace) {
  std::vector<::pid_t> signalled;
  for (auto pid : pids)
    if (::kill(pid, SIGTERM) == 0) signalled.push_back(pid);
  auto alive = [&] {
    return std::any_of(signalled.begin(), signalled.end(), [](::pid_t p) {
      if (::kill(p, 0) != 0) return false;
      // A zombie has ended; only its parent's wait is missing.
      std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
      std::string line;
      std::getline(stat, line);
      auto close = line.rfind(')');
      return !(close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z');
    });
  };
  auto const deadline = std::chrono::steady_clock::now() + grace;
  while (alive() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto pid : signalled) ::kill(pid, SIGKILL);
  return signalled;
}

}  // namespace detail

namespace agent {

LIFTOFF_DECL reattach_fn local_process_reattach() {
  return [](reattach_request const& r) -> result<std::optional<any_run>> {
    if (!r.resource.empty() && r.resource != "local-process")
      return diagnostic(error::unsupported, "runs on " + r.resource + " are not local processes");
    // What is left of the run cannot be watched by this agent: stopped, so that the run ends with its report.
    auto stopped = liftoff::detail::stop_processes(liftoff::detail::processes_of_run(r.run_id), r.options.grace_period);
    if (stopped.empty())
      return diagnostic(error::gone,
                        "the agent restarted and the run's process was not found: it ended with the previous agent");
    std::string pids;
    for (auto p : stopped) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
    bool const one = stopped.size() == 1;
    return diagnostic(error::gone, "the agent restarted and could not follow the run again: its process" +
                                            std::string(one ? " " : "es ") + pids + (one ? " is" : " are") +
                                            " not the new agent's child (its output and exit cannot be watched), so "
                                            "it was stopped");
  };
}

}  // namespace agent

}  // namespace liftoff

#endif
