#ifndef LIFTOFF_AGENT_DETAIL_LEFTOVERS_HPP
#define LIFTOFF_AGENT_DETAIL_LEFTOVERS_HPP

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace liftoff::detail {

/** The processes (of this user: others' environments cannot be read) whose
    environment says `LIFTOFF_RUN_ID=<run_id>`: what is left of a local run
    whose agent went away. They are no children of a new agent, which can
    neither wait for them nor read their output. */
inline std::vector<::pid_t> processes_of_run(std::string_view run_id, std::filesystem::path const& proc = "/proc") {
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

/** Stops processes as a cancelled run is stopped: SIGTERM, then SIGKILL to
    those still alive after `grace`. Returns the pids that were signalled. */
inline std::vector<::pid_t> stop_processes(std::vector<::pid_t> const& pids, std::chrono::milliseconds grace) {
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

}  // namespace liftoff::detail

#endif
