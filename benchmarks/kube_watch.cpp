// The Kubernetes target's figures: how many watch events per second it
// processes, and the agent's memory while it follows 1,000 runs.
//
//   kube_watch [--events N] [--runs N] [--only throughput|memory]
//
// throughput  A recorded watch stream of --events (100,000) Pod events for
//             --runs (1,000) runs (realistic Pod objects moving Pending →
//             Running → Succeeded, about 2 KiB each), served by a local HTTP
//             server as one chunked watch response. The figure is the time
//             from the watch request to the last event handed to its run:
//             the HTTP client reading lines, Boost.JSON parsing them, the
//             shared watch hub dispatching each event by its run-id label
//             and each run's tracker deciding its state. Beside it: parsing
//             the same lines with Boost.JSON alone, the floor.
// memory      A local API server that follows the Kubernetes OpenAPI
//             document (the test server, in a child process so it is not
//             counted) runs --runs Jobs whose pods stay running and write a
//             log line. This process starts them all with kubernetes_target,
//             as an agent with --max-jobs 1000 would, waits until every run is
//             running and its log is being followed, and reports its
//             resident size (VmRSS) and thread count, then cancels them all.

#include <liftoff/kube/status.hpp>
#include <liftoff/kube/watch_hub.hpp>
#include <liftoff/kube/target.hpp>

#include "support/kube_test_server.hpp"
#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

using namespace liftoff;
namespace json = boost::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

long proc_status(char const* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  return -1;
}

/// A Pod as a kubelet reports it, at one step of its life.
json::object recorded_pod(int run, int step, long rv) {
  static char const* const phases[] = {"Pending", "Pending", "Running", "Running", "Succeeded"};
  std::string const id = "r" + std::to_string(run);
  std::string const name = "train-" + id + "-x7k2q";
  std::string const phase = phases[std::min(step, 4)];
  json::object container_state;
  if (step < 2) container_state = {{"waiting", {{"reason", "ContainerCreating"}}}};
  else if (step < 4) container_state = {{"running", {{"startedAt", "2026-11-28T10:00:05Z"}}}};
  else container_state = {{"terminated", {{"exitCode", 0}, {"reason", "Completed"},
                                          {"startedAt", "2026-11-28T10:00:05Z"},
                                          {"finishedAt", "2026-11-28T10:10:05Z"}}}};
  return {
      {"kind", "Pod"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"name", name},
        {"generateName", "train-" + id + "-"},
        {"namespace", "ml"},
        {"uid", "6f1c2d3e-0000-4000-8000-" + std::to_string(100000000000 + run)},
        {"resourceVersion", std::to_string(rv)},
        {"creationTimestamp", "2026-11-28T10:00:00Z"},
        {"labels",
         {{"liftoff.io/run-id", id},
          {"liftoff.io/agent", "agent-1"},
          {"batch.kubernetes.io/job-name", "train-" + id},
          {"job-name", "train-" + id},
          {"controller-uid", "0b7e6a52-1111-4000-8000-000000000001"}}},
        {"ownerReferences",
         json::array{{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", "train-" + id},
                      {"uid", "0b7e6a52-1111-4000-8000-000000000001"}, {"controller", true},
                      {"blockOwnerDeletion", true}}}}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"serviceAccountName", "default"},
        {"nodeName", "node-3"},
        {"containers",
         json::array{{{"name", "main"},
                      {"image", "registry.example.com/team/train@sha256:"
                                "0f9e8d7c6b5a49382716f5e4d3c2b1a00f9e8d7c6b5a49382716f5e4d3c2b1a0"},
                      {"command", json::array{"python", "train.py", "--epochs", "10"}},
                      {"env", json::array{{{"name", "LIFTOFF_RUN_ID"}, {"value", id}},
                                          {{"name", "LIFTOFF_PROJECT"}, {"value", "vision"}},
                                          {{"name", "LIFTOFF_CONFIG"}, {"value", "{\"lr\":0.001}"}}}},
                      {"resources", {{"limits", {{"memory", "8Gi"}, {"nvidia.com/gpu", "1"}}},
                                     {"requests", {{"cpu", "4"}, {"memory", "8Gi"}}}}},
                      {"securityContext", {{"allowPrivilegeEscalation", false}}},
                      {"terminationMessagePath", "/dev/termination-log"},
                      {"imagePullPolicy", "IfNotPresent"}}}}}},
      {"status",
       {{"phase", phase},
        {"hostIP", "10.0.3.17"},
        {"podIP", "10.244.3.41"},
        {"startTime", "2026-11-28T10:00:01Z"},
        {"qosClass", "Burstable"},
        {"conditions",
         json::array{{{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", "2026-11-28T10:00:00Z"}},
                     {{"type", "Initialized"}, {"status", "True"}, {"lastTransitionTime", "2026-11-28T10:00:01Z"}},
                     {{"type", "Ready"}, {"status", step >= 2 && step < 4 ? "True" : "False"},
                      {"lastTransitionTime", "2026-11-28T10:00:05Z"}}}},
        {"containerStatuses",
         json::array{{{"name", "main"},
                      {"image", "registry.example.com/team/train@sha256:0f9e8d7c"},
                      {"imageID", "registry.example.com/team/train@sha256:0f9e8d7c"},
                      {"ready", step >= 2 && step < 4},
                      {"restartCount", 0},
                      {"started", step >= 2},
                      {"state", container_state}}}}}}};
}

/// One followed run: its tracker, fed by the hub.
struct counting_run : kube::watch_subscriber {
  std::mutex m;
  kube::run_tracker tracker{true};
  std::atomic<long>* delivered = nullptr;
  std::size_t started = 0;  ///< containers whose start the tracker saw
  void on_object(bool is_pod, json::object const& o, bool deleted) override {
    std::lock_guard lock(m);
    if (is_pod) tracker.on_pod(o, deleted);
    else tracker.on_workload(o, deleted);
    started += tracker.take_log_targets().size();
    delivered->fetch_add(1, std::memory_order_relaxed);
  }
  void on_tick() override {}
};

void throughput(int events, int runs) {
  std::printf("recording %d Pod events for %d runs...\n", events, runs);
  std::string recording;
  std::vector<std::string> lines;
  lines.reserve(static_cast<std::size_t>(events));
  for (int i = 0; i < events; ++i) {
    int run = i % runs;
    int step = (i / runs) * 5 / std::max(1, events / runs);
    json::object ev{{"type", "MODIFIED"}, {"object", recorded_pod(run, step, 1000 + i)}};
    lines.push_back(json::serialize(ev));
    recording += lines.back();
    recording += '\n';
  }
  std::printf("  %.1f MiB, %.0f bytes per event\n", static_cast<double>(recording.size()) / (1 << 20),
              static_cast<double>(recording.size()) / events);

  // The floor: Boost.JSON parsing each line, nothing else.
  auto t0 = clock_type::now();
  std::size_t keys = 0;
  for (auto const& l : lines) keys += json::parse(l).as_object().size();
  double parse_s = std::chrono::duration<double>(clock_type::now() - t0).count();

  std::atomic<bool> served{false};
  auto server = test::net_test_server::tcp([&](test::net_exchange& x) {
    auto const& target = x.request().target;
    bool watch = target.find("watch=true") != std::string::npos;
    bool pods = target.find("/pods") != std::string::npos;
    if (!watch) {
      x.respond(200, R"({"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"999"},"items":[]})",
                {{"Content-Type", "application/json"}});
      return;
    }
    if (pods && !served.exchange(true)) {
      x.begin_chunked(200, {{"Content-Type", "application/json"}});
      for (std::size_t at = 0; at < recording.size(); at += 65536)
        x.send_chunk(std::string_view(recording).substr(at, 65536));
      x.end_chunked();
      return;
    }
    x.wait_for_stop(std::chrono::minutes(10));  // the other watches stay open and quiet
    x.respond(200, "");
  });

  kube::connection_config cfg;
  cfg.server = server->url();
  cfg.context = "bench";
  cfg.user_name = "bench";
  kube::api a(cfg);
  std::atomic<long> delivered{0};
  std::vector<std::shared_ptr<counting_run>> subs;
  auto hub = std::make_shared<kube::watch_hub>(a, "ml", kube::kinds::job());
  for (int r = 0; r < runs; ++r) {
    auto s = std::make_shared<counting_run>();
    s->delivered = &delivered;
    hub->subscribe("r" + std::to_string(r), s);
    subs.push_back(s);
  }
  // The hub lists, then watches; the clock starts with its watch request.
  t0 = clock_type::now();
  while (delivered.load() < events) std::this_thread::sleep_for(1ms);
  double hub_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::size_t started = 0;
  for (auto& s : subs) {
    std::lock_guard lock(s->m);
    started += s->started;
  }
  hub.reset();
  server->stop();

  std::printf("\nwatch throughput (%d Pod events, %d runs; %zu containers seen starting):\n", events, runs,
              started);
  (void)keys;
  std::printf("  liftoff watch hub over HTTP   %9.0f events/s   (%.2f s, %.1f MiB/s)\n", events / hub_s, hub_s,
              static_cast<double>(recording.size()) / (1 << 20) / hub_s);
  std::printf("  Boost.JSON parse alone        %9.0f events/s   (%.2f s)\n", events / parse_s, parse_s);
  std::printf("  the hub's cost beyond parsing: %.1f us per event\n", (hub_s - parse_s) / events * 1e6);
}

void memory(int runs) {
  if (!test::kube_test_server::available()) {
    std::printf("memory: skipped: %s\n", test::kube_test_server::why_not().c_str());
    return;
  }
  test::temp_dir dir("liftoff-kube-bench");
  auto kubeconfig = dir / "config";
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe failed");
  pid_t child = fork();
  if (child == 0) {
    close(to_child[1]);
    close(from_child[0]);
    {
      test::kube_test_server::options o;
      o.history = 200000;
      test::kube_test_server server(o);
      server.set_script([](json::object const&) { return test::scripts::run_forever({"step 1"}); });
      server.write_kubeconfig(kubeconfig);
      char ok = 'y';
      (void)!write(from_child[1], &ok, 1);
      char c;
      (void)!read(to_child[0], &c, 1);  // until the parent closes the pipe
    }
    _exit(0);
  }
  close(to_child[0]);
  close(from_child[1]);
  char c;
  if (read(from_child[0], &c, 1) != 1) throw std::runtime_error("the API server did not start");

  kubernetes_target target;
  target.connection.files = {kubeconfig};
  target.agent = "agent-1";
  auto start_one = [&](int i) {
    launch_spec s;
    s.source = image_ref{"127.0.0.1:5000/train@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    s.entry_point = {"python", "train.py"};
    s.resource = "kubernetes";
    s.run_id = "m" + std::to_string(i);
    s.job_name = "train";
    artifact in{artifact_kind::registry_image, {}, "127.0.0.1:5000/train@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "", nullptr};
    auto r = target.start(in, s, {});
    if (!r) throw std::runtime_error("start failed: " + r.error().what());
    return std::move(*r);
  };
  long before = proc_status("VmRSS:");
  std::vector<kubernetes_target::run> started;
  started.push_back(start_one(0));  // fetches and parses the cluster's OpenAPI document once
  auto wait_running = [&] {
    for (auto& r : started)
      while (r.status().state != run_state::running) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(500ms);  // the log readers connect
  };
  wait_running();
  long one = proc_status("VmRSS:");
  long threads_one = proc_status("Threads:");
  auto t0 = clock_type::now();
  for (int i = 1; i < runs; ++i) started.push_back(start_one(i));
  double start_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  wait_running();
  long all = proc_status("VmRSS:");
  long threads_all = proc_status("Threads:");
  bool all_logs = true;
  for (auto& r : started) {
    bool got = false;
    for (auto const& l : r.logs()) got = got || l.text == "step 1";
    all_logs = all_logs && got;
  }
  std::printf("\nmemory of the process following Kubernetes runs (VmRSS):\n");
  std::printf("  before any run %.1f MiB; with 1 run %.1f MiB (the cluster's OpenAPI document parsed once)\n",
              before / 1024.0, one / 1024.0);
  std::printf("  with %d runs running: %.1f MiB, %.1f KiB per run; %ld threads (%ld with 1 run)\n", runs, all / 1024.0,
              static_cast<double>(all - one) / (runs - 1), threads_all, threads_one);
  std::printf("  started %d runs in %.2f s (%.1f ms each); every run's log followed: %s\n", runs, start_s,
              start_s * 1000 / runs, all_logs ? "yes" : "NO");
  t0 = clock_type::now();
  std::vector<std::thread> cancellers;
  for (int k = 0; k < 16; ++k)
    cancellers.emplace_back([&, k] {
      for (std::size_t i = static_cast<std::size_t>(k); i < started.size(); i += 16) started[i].cancel(1s);
    });
  for (auto& t : cancellers) t.join();
  std::printf("  cancelled them all in %.2f s\n", std::chrono::duration<double>(clock_type::now() - t0).count());
  close(to_child[1]);
  waitpid(child, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The Kubernetes target's watch throughput and memory", "kube_watch"};
  int events = 100000;
  int runs = 1000;
  std::string only;
  app.add_option("--events", events, "Pod events in the recorded watch stream")->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "Runs followed at once")->check(CLI::Range(2, 100000));
  app.add_option("--only", only, "Run one part")->check(CLI::IsMember({"throughput", "memory"}));
  CLI11_PARSE(app, argc, argv);
  try {
    if (only.empty() || only == "throughput") throughput(events, runs);
    if (only.empty() || only == "memory") memory(runs);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "kube_watch: %s\n", e.what());
    return 1;
  }
}
