// The control plane's figures: dispatch latency, durable throughput beside
// beanstalkd and Redis, and the server's memory.
//
//   control_plane [--liftoff PATH] [--only dispatch|throughput|memory] [--items N] [--clients N]
//                 [--seconds S] [--agents N] [--dir DIR]
//
// dispatch    A real `liftoff server` and one real `liftoff launch-agent`
//             (max 1 job) on a `local-process` queue. Each item's run is
//             this program again (`--probe FILE`), which appends the
//             CLOCK_REALTIME time it started at. The figure is that time
//             minus the time the push returned, over --items items (1,000),
//             pushed one at a time to an idle agent that is waiting in its
//             long-poll (the previous run has ended and 5 ms have passed).
// throughput  Push → lease → ack cycles per second with --clients (16)
//             threads for --seconds (10) each, one queue, every write
//             durable: liftoff (SQLite WAL, synchronous=FULL), beanstalkd
//             (`-b DIR -f 0`: put → reserve → delete) and Redis
//             (`appendfsync always`: LPUSH → BLMOVE → LREM), all three on
//             the same disk (under --dir), in this one run.
// memory      The server's resident size (VmRSS) idle, and with --agents
//             (200) registered agents long-polling at once (one thread each here).
//
// beanstalkd and Redis come from Debian (`apt-get install beanstalkd
// redis-server`); without them, their lines say so and the rest runs.

#include <liftoff/client/client.hpp>
#include <boost/json/parse.hpp>
#include <liftoff/detail/process.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "generated_tree.hpp"

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// ---- processes -------------------------------------------------------------------

std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

using liftoff::bench::shell_quote;

/// A child started through `sh -c 'exec …'` with stderr to a file and stdout on a pipe.
struct child {
  pid_t pid = -1;
  liftoff::detail::unique_fd out;
  std::string pending;

  child() = default;
  child(child&& o) noexcept : pid(std::exchange(o.pid, -1)), out(std::move(o.out)), pending(std::move(o.pending)) {}
  child& operator=(child&& o) noexcept {
    if (this != &o) {
      stop();
      pid = std::exchange(o.pid, -1);
      out = std::move(o.out);
      pending = std::move(o.pending);
    }
    return *this;
  }

  /// The next stdout line, waiting up to `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      if (auto nl = pending.find('\n'); nl != std::string::npos) {
        auto line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{out.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      auto n = ::read(out.get(), buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      pending.append(buf, static_cast<std::size_t>(n));
    }
  }

  void stop(int sig = SIGTERM) {
    if (pid <= 0) return;
    ::kill(pid, sig);
    int st = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
    pid = -1;
  }
  ~child() { stop(); }
};

child start(std::string const& command, fs::path const& log, std::vector<std::string> env = {}) {
  liftoff::detail::spawn_options o;
  o.argv = {"/bin/sh", "-c", "exec " + command + " 2>" + shell_quote(log.string())};
  o.env = liftoff::detail::current_environment();
  for (auto const& e : env) {
    auto eq = e.find('=');
    liftoff::detail::env_set(o.env, e.substr(0, eq), e.substr(eq + 1));
  }
  auto c = liftoff::detail::spawn_process(o);
  if (!c) throw std::runtime_error("cannot start " + command + ": " + c.error().what());
  child ch;
  ch.pid = c->pid;
  ch.out = std::move(c->out);
  return ch;
}

struct server_process {
  child proc;
  std::string url;
  std::string token;
};

server_process start_server(std::string const& liftoff, fs::path const& dir) {
  server_process s;
  fs::create_directories(dir);
  s.proc = start(shell_quote(liftoff) + " server --data-dir " + shell_quote((dir / "data").string()) +
                     " --listen 127.0.0.1:0",
                 dir / "server.log");
  while (s.url.empty() || s.token.empty()) {
    auto line = s.proc.read_line(30s);
    if (!line) throw std::runtime_error("liftoff server did not start; see " + (dir / "server.log").string());
    if (auto p = line->find("admin token: "); p != std::string::npos) s.token = line->substr(p + 13);
    if (auto p = line->find("listening on "); p != std::string::npos) s.url = line->substr(p + 13);
  }
  return s;
}

long rss_kib(pid_t pid, char const* field = "VmRSS:") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  return -1;
}

template <class T>
T value_or_die(liftoff::result<T> r, char const* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().what());
  return std::move(*r);
}

void die_on(liftoff::result<void> r, char const* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().what());
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

bool has_program(char const* name) { return !liftoff::detail::find_executable(name, std::getenv("PATH") ?: "").empty(); }

int free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// ---- dispatch latency ------------------------------------------------------------------

void dispatch(std::string const& liftoff, std::string const& self, fs::path const& dir, int items) {
  auto server = start_server(liftoff, dir / "dispatch");
  auto api = value_or_die(liftoff::client::api_client::create(server.url, server.token), "client");
  value_or_die(api.create_queue("dispatch", "local-process"), "create queue");
  fs::path probe_file = dir / "dispatch" / "probe.txt";
  fs::path job_dir = dir / "dispatch" / "job";
  fs::create_directories(job_dir);
  std::ofstream(probe_file).close();

  auto agent = start(shell_quote(liftoff) + " launch-agent --queue dispatch --max-jobs 1 --name bench-agent",
                     dir / "dispatch" / "agent.log",
                     {"LIFTOFF_SERVER=" + server.url, "LIFTOFF_API_TOKEN=" + server.token,
                      "XDG_STATE_HOME=" + (dir / "dispatch" / "state").string()});
  // Wait for the agent to register.
  for (int i = 0; i < 300; ++i) {
    auto agents = api.list_agents();
    if (agents && !agents->empty()) break;
    std::this_thread::sleep_for(20ms);
  }

  boost::json::object spec{{"code", job_dir.string()},
                           {"entry_point", boost::json::array{self, "--probe", probe_file.string()}}};
  std::vector<double> latencies_ms;
  std::ifstream probe(probe_file);
  std::string line;
  for (int i = 0; i < items + 1; ++i) {  // the first is untimed
    liftoff::client::push_request r;
    r.queue = "dispatch";
    r.spec = spec;
    auto item = value_or_die(api.push(r), "push");
    auto pushed = realtime_ns();
    // The probe's line for this run.
    std::optional<std::int64_t> started;
    auto deadline = clock_type::now() + 30s;
    while (!started && clock_type::now() < deadline) {
      if (std::getline(probe, line)) {
        auto sp = line.find(' ');
        if (sp != std::string::npos && line.substr(sp + 1) == item.run_id) started = std::stoll(line.substr(0, sp));
        continue;
      }
      probe.clear();
      std::this_thread::sleep_for(100us);
    }
    if (!started) throw std::runtime_error("run " + item.run_id + " never started; see the agent's log");
    if (i > 0) latencies_ms.push_back(static_cast<double>(*started - pushed) / 1e6);
    // Wait for the run to end so the agent is idle (and back in its long-poll) before the next push.
    for (;;) {
      auto run = value_or_die(api.get_run(item.run_id), "get run");
      if (liftoff::is_terminal(run.state)) break;
      std::this_thread::sleep_for(1ms);
    }
    std::this_thread::sleep_for(5ms);
  }
  agent.stop();
  std::printf("dispatch latency (push returned -> run's process started), %d items, idle agent:\n", items);
  std::printf("  p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   max %.2f ms\n", percentile(latencies_ms, 0.5),
              percentile(latencies_ms, 0.9), percentile(latencies_ms, 0.99), percentile(latencies_ms, 1.0));
  std::printf("  goal: p99 under 20 ms -> %s   (W&B Launch's agent polls every 10 s: 5,000 ms mean wait)\n",
              percentile(latencies_ms, 0.99) < 20 ? "met" : "NOT met");
}

// ---- throughput ------------------------------------------------------------------------

std::string const payload =
    R"({"image": "busybox:latest", "entry_point": ["python3", "train.py"], "overrides": {"run_config": {"lr": 0.001}}})";

template <class Cycle>
double run_clients(int clients, std::chrono::seconds duration, Cycle make_worker) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<long> cycles{0};
  std::atomic<int> failures{0};
  std::string first_error;
  std::mutex m;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      try {
        auto worker = make_worker(t);
        while (!go) std::this_thread::yield();
        while (!stop) {
          worker();
          cycles.fetch_add(1, std::memory_order_relaxed);
        }
      } catch (std::exception const& e) {
        ++failures;
        std::lock_guard l(m);
        if (first_error.empty()) first_error = e.what();
        stop = true;
      }
    });
  std::this_thread::sleep_for(300ms);  // connections set up
  auto start = clock_type::now();
  go = true;
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& th : threads) th.join();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  if (failures) throw std::runtime_error(first_error);
  return static_cast<double>(cycles.load()) / secs;
}

double liftoff_throughput(std::string const& liftoff, fs::path const& dir, int clients, std::chrono::seconds d) {
  auto server = start_server(liftoff, dir / "liftoff");
  auto api = value_or_die(liftoff::client::api_client::create(server.url, server.token), "client");
  value_or_die(api.create_queue("bench", "local-container"), "create queue");
  auto spec = boost::json::parse(payload).as_object();
  return run_clients(clients, d, [&](int t) {
    auto c = std::make_shared<liftoff::client::api_client>(
        value_or_die(liftoff::client::api_client::create(server.url, server.token), "client"));
    auto agent = value_or_die(c->register_agent({"bench-" + std::to_string(t), "localhost", {"bench"}, 100000}),
                              "register agent")
                     .id;
    return [c, agent, spec] {
      liftoff::client::push_request r;
      r.queue = "bench";
      r.spec = spec;
      value_or_die(c->push(r), "push");
      auto item = value_or_die(c->lease(agent, {"bench"}, 5s), "lease");
      if (!item) throw std::runtime_error("lease found nothing");
      value_or_die(c->ack(item->id, agent), "ack");
    };
  });
}

/// One beanstalkd connection speaking its text protocol.
struct beanstalk {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock{io};
  boost::asio::streambuf buf;

  explicit beanstalk(int port) { sock.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}); }
  std::string line() {
    boost::asio::read_until(sock, buf, "\r\n");
    std::istream is(&buf);
    std::string l;
    std::getline(is, l);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    return l;
  }
  void send(std::string const& s) { boost::asio::write(sock, boost::asio::buffer(s)); }
  void cycle() {
    send("put 0 0 60 " + std::to_string(payload.size()) + "\r\n" + payload + "\r\n");
    auto ins = line();
    if (ins.rfind("INSERTED ", 0) != 0) throw std::runtime_error("beanstalkd put: " + ins);
    send("reserve-with-timeout 5\r\n");
    auto res = line();  // RESERVED <id> <bytes>
    if (res.rfind("RESERVED ", 0) != 0) throw std::runtime_error("beanstalkd reserve: " + res);
    std::istringstream is(res.substr(9));
    std::string id;
    std::size_t bytes = 0;
    is >> id >> bytes;
    if (buf.size() < bytes + 2) boost::asio::read(sock, buf, boost::asio::transfer_exactly(bytes + 2 - buf.size()));
    buf.consume(bytes + 2);
    send("delete " + id + "\r\n");
    auto del = line();
    if (del != "DELETED") throw std::runtime_error("beanstalkd delete: " + del);
  }
};

std::optional<double> beanstalkd_throughput(fs::path const& dir, int clients, std::chrono::seconds d) {
  if (!has_program("beanstalkd")) return std::nullopt;
  auto port = free_port();
  fs::create_directories(dir / "beanstalkd");
  auto proc = start("beanstalkd -l 127.0.0.1 -p " + std::to_string(port) + " -b " +
                        shell_quote((dir / "beanstalkd").string()) + " -f 0",
                    dir / "beanstalkd.log");
  for (int i = 0; i < 100; ++i) {
    try {
      beanstalk probe(port);
      break;
    } catch (...) {
      std::this_thread::sleep_for(50ms);
    }
  }
  return run_clients(clients, d, [&](int) {
    auto b = std::make_shared<beanstalk>(port);
    return [b] { b->cycle(); };
  });
}

std::optional<double> redis_throughput(fs::path const& dir, int clients, std::chrono::seconds d) {
  if (!has_program("redis-server")) return std::nullopt;
  auto port = free_port();
  fs::create_directories(dir / "redis");
  auto proc = start("redis-server --bind 127.0.0.1 --port " + std::to_string(port) + " --dir " +
                        shell_quote((dir / "redis").string()) +
                        " --appendonly yes --appendfsync always --save '' --daemonize no",
                    dir / "redis.log");
  for (int i = 0; i < 100; ++i) {
    auto* c = redisConnect("127.0.0.1", port);
    bool ok = c && !c->err;
    if (c) redisFree(c);
    if (ok) break;
    std::this_thread::sleep_for(50ms);
  }
  return run_clients(clients, d, [&](int) {
    std::shared_ptr<redisContext> c(redisConnect("127.0.0.1", port), [](redisContext* p) { if (p) redisFree(p); });
    if (!c || c->err) throw std::runtime_error("cannot connect to redis");
    return [c] {
      auto call = [&](auto... args) {
        auto* r = static_cast<redisReply*>(redisCommand(c.get(), args...));
        if (!r || r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_NIL) {
          std::string msg = r && r->str ? r->str : "no reply";
          if (r) freeReplyObject(r);
          throw std::runtime_error("redis: " + msg);
        }
        freeReplyObject(r);
      };
      call("LPUSH bench %b", payload.data(), payload.size());
      call("BLMOVE bench bench:processing RIGHT LEFT 5");
      call("LREM bench:processing 1 %b", payload.data(), payload.size());
    };
  });
}

void throughput(std::string const& liftoff, fs::path const& dir, int clients, std::chrono::seconds d) {
  std::printf("durable throughput: push -> lease -> ack cycles/s, %d clients, %lld s each, data under %s\n", clients,
              static_cast<long long>(d.count()), dir.string().c_str());
  auto l = liftoff_throughput(liftoff, dir, clients, d);
  std::printf("  liftoff (SQLite WAL, synchronous=FULL)      %9.0f cycles/s\n", l);
  auto b = beanstalkd_throughput(dir, clients, d);
  if (b) std::printf("  beanstalkd -f 0 (put, reserve, delete)       %9.0f cycles/s   liftoff/beanstalkd %.2f\n", *b, l / *b);
  else std::printf("  beanstalkd: not installed (apt-get install beanstalkd)\n");
  auto r = redis_throughput(dir, clients, d);
  if (r) std::printf("  redis appendfsync always (LPUSH, BLMOVE, LREM) %7.0f cycles/s   liftoff/redis %.2f\n", *r, l / *r);
  else std::printf("  redis: not installed (apt-get install redis-server)\n");
  if (b && r)
    std::printf("  goal: ahead of both -> %s\n", (l > *b && l > *r) ? "met" : "NOT met");
}

// ---- memory ------------------------------------------------------------------------------

void memory(std::string const& liftoff, fs::path const& dir, int agents) {
  auto server = start_server(liftoff, dir / "memory");
  auto api = value_or_die(liftoff::client::api_client::create(server.url, server.token), "client");
  value_or_die(api.create_queue("idle", "local-process"), "create queue");
  std::this_thread::sleep_for(500ms);
  auto idle = rss_kib(server.proc.pid);

  std::atomic<int> parked{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < agents; ++i)
    threads.emplace_back([&, i] {
      auto c = value_or_die(liftoff::client::api_client::create(server.url, server.token), "client");
      auto id = value_or_die(c.register_agent({"idle-" + std::to_string(i), "localhost", {"idle"}, 1}), "register").id;
      ++parked;
      (void)c.lease(id, {"idle"}, 15s);
    });
  while (parked < agents) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(2s);  // every lease request sent and parked
  auto busy = rss_kib(server.proc.pid);
  auto peak = rss_kib(server.proc.pid, "VmHWM:");
  server.proc.stop();  // answers the parked polls
  for (auto& t : threads) t.join();
  std::printf("server memory (VmRSS):\n  idle %.1f MiB   with %d agents long-polling %.1f MiB   (peak %.1f MiB, "
              "%.1f KiB per waiting agent)\n",
              idle / 1024.0, agents, busy / 1024.0, peak / 1024.0, static_cast<double>(busy - idle) / agents);
}

fs::path find_liftoff(char const* argv0) {
  if (auto* e = std::getenv("LIFTOFF_CLI")) return e;
  auto here = fs::absolute(argv0).parent_path();
  for (auto p : {here / ".." / "examples" / "liftoff", here / "liftoff"})
    if (fs::exists(p)) return fs::canonical(p);
  return "liftoff";
}

}  // namespace

int main(int argc, char** argv) {
  std::string liftoff = find_liftoff(argv[0]).string(), only, probe;
  int items = 1000, clients = 16, seconds = 10, agents = 200;
  fs::path dir;
  CLI::App app{"The control plane: dispatch latency, durable throughput beside beanstalkd and Redis, server memory",
               "control_plane"};
  app.add_option("--liftoff", liftoff, "The liftoff CLI");
  app.add_option("--only", only, "Run one part")->check(CLI::IsMember({"dispatch", "throughput", "memory"}));
  app.add_option("--items", items, "Items pushed for the dispatch latency")->check(CLI::PositiveNumber);
  app.add_option("--clients", clients, "Client threads for the throughput")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "Seconds each throughput run lasts")->check(CLI::PositiveNumber);
  app.add_option("--agents", agents, "Long-polling agents for the memory figure")->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "Where the servers keep their data (kept afterwards); default a temporary directory");
  app.add_option("--probe", probe, "(a dispatched run) append the time it started to this file")->group("");
  try {
    app.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!probe.empty()) {  // a dispatched run: note when it started
    auto now = realtime_ns();
    auto const* run = std::getenv("LIFTOFF_RUN_ID");
    auto line = std::to_string(now) + " " + (run ? run : "?") + "\n";
    int fd = ::open(probe.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
    ::close(fd);
    return 0;
  }
  bool keep = !dir.empty();
  if (dir.empty()) dir = fs::temp_directory_path() / ("liftoff-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  dir = fs::canonical(dir);
  ::signal(SIGPIPE, SIG_IGN);
  std::string self = fs::canonical("/proc/self/exe").string();
  std::printf("liftoff: %s\n", liftoff.c_str());
  int rc = 0;
  try {
    if (only.empty() || only == "dispatch") dispatch(liftoff, self, dir, items);
    if (only.empty() || only == "throughput") throughput(liftoff, dir, clients, std::chrono::seconds(seconds));
    if (only.empty() || only == "memory") memory(liftoff, dir, agents);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "control_plane: %s (logs under %s)\n", e.what(), dir.string().c_str());
    keep = true;
    rc = 1;
  }
  if (!keep) fs::remove_all(dir);
  return rc;
}
