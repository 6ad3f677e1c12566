// Build of a large context: liftoff::docker_builder::build (the Engine API's
// classic POST /build, the context streamed as tar while the directory is
// read) beside `docker build` of the same context with the Debian 20.10 client
// (DOCKER_BUILDKIT=0, so the engine's same classic builder).
//
//   docker_build [--size-mib N] [--rounds N] [--docker PATH] [--image BASE] [--dir PATH] [--keep]
//
// The context (default 500 MiB, or LIFTOFF_BENCH_SIZE_MIB) is generated in a
// new temporary directory: incompressible content, about 10% of the bytes in
// small files (1-16 KiB), 30% in medium ones (64 KiB-1 MiB), 60% in a few
// large ones (8-64 MiB); its Dockerfile is `FROM <base>` / `COPY . /ctx`.
// Every build is a real one: a small nonce file changes before each build
// (so neither side finds the other's COPY layer in the build cache, nor
// liftoff its content tag), and both images are removed after each round.
// Both sides put the same labels on the image. The order alternates from
// round to round; one untimed round runs first (page cache, engine).
//
// The liftoff figure is `docker_builder::build` from the bare directory: it
// includes the content digest of the context (which the source stage
// computes in a real launch). It is also shown with the digest given, i.e.
// the builder alone as the launcher calls it, and the digest's own time.
//
// Two figures split each build and are less moved by the machine's load:
// "upload" is the time until the engine's first "Step 1/" line (the engine
// starts the steps once it has the whole context: so it is the digest, the
// tar stream and the engine unpacking it), and "client CPU" is the user+sys
// CPU of the client side (liftoff's process for its builds; the docker CLI,
// a waited-for child, for docker's).

#include <liftoff/docker/builder.hpp>
#include <liftoff/docker/launch_support.hpp>
#include <liftoff/source/local_dir.hpp>

#include "generated_tree.hpp"

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using liftoff::bench::generate_tree;
using liftoff::bench::shell_quote;
using liftoff::bench::tree_stats;

namespace {

constexpr double goal = 1.0;

struct options {
  std::uint64_t size_mib = 500;
  int rounds = 3;
  std::string docker = "/usr/bin/docker";
  std::string base = "liftoff-test/busybox:latest";
  fs::path dir;
  bool keep = false;
};

/// Says why the benchmark cannot run, and exits with 2.
[[noreturn]] void fail(std::string const& why) {
  std::cerr << "docker_build: " << why << "\n";
  std::exit(2);
}

/// The command line (CLI11); LIFTOFF_BENCH_SIZE_MIB sets the default size. Exits on a bad one.
options parse(int argc, char** argv) {
  options o;
  if (char const* e = std::getenv("LIFTOFF_BENCH_SIZE_MIB"); e && *e) o.size_mib = std::stoull(e);
  CLI::App app{"Docker build of a large context: liftoff's docker_builder beside docker build", "docker_build"};
  app.add_option("--size-mib", o.size_mib, "Size of the generated context")->check(CLI::PositiveNumber);
  app.add_option("--rounds", o.rounds, "Timed rounds")->check(CLI::PositiveNumber);
  app.add_option("--docker", o.docker, "The docker CLI");
  app.add_option("--image", o.base, "Base image of the Dockerfile");
  app.add_option("--dir", o.dir, "Where to generate the context");
  app.add_flag("--keep", o.keep, "Keep the generated context");
  try {
    app.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return o;
}

/// Runs a shell command; its exit status (non-zero on failure to run).
int shell(std::string const& cmd) {
  int st = std::system(cmd.c_str());
  return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : 1;
}

double cpu_seconds(int who) {
  ::rusage u{};
  ::getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

using steady = std::chrono::steady_clock;

/// One timed build: wall seconds, seconds to the first "Step 1/" line, client CPU seconds.
struct build_time {
  double wall = 0, upload = 0, cpu = 0;
};

template <class F>
double seconds(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  options opt = parse(argc, argv);
  std::uint64_t const total = opt.size_mib * 1024 * 1024;
  ::setenv("DOCKER_BUILDKIT", "0", 1);

  if (shell(shell_quote(opt.docker) + " image inspect " + shell_quote(opt.base) + " > /dev/null") != 0)
    fail("the engine has no image " + opt.base + " (see .ci/start-docker), or " + opt.docker + " does not run");

  bool const temporary = opt.dir.empty();
  fs::path root = temporary ? fs::temp_directory_path() / ("liftoff-build-bench-" + std::to_string(std::random_device{}()))
                            : fs::absolute(opt.dir);
  if (fs::exists(root) && !fs::is_empty(root)) fail("--dir exists and is not empty");
  fs::create_directories(root);
  std::cout << "generating " << opt.size_mib << " MiB in " << root.string() << " ..." << std::flush;
  tree_stats st;
  auto tg = seconds([&] { st = generate_tree(root / "data", total); });
  std::ofstream(root / "Dockerfile") << "FROM " << opt.base << "\nCOPY . /ctx\n";
  std::cout << " " << fixed(tg, 1) << " s" << std::endl;
  std::cout << "context: " << fixed(static_cast<double>(st.bytes) / (1024.0 * 1024.0), 1) << " MiB in "
            << st.files << " files, Dockerfile: FROM " << opt.base << " / COPY . /ctx\n";

  std::mt19937_64 nonce_rng(std::random_device{}());
  auto new_nonce = [&] {
    std::ofstream(root / "nonce") << std::hex << nonce_rng() << nonce_rng() << "\n";
  };

  liftoff::docker_builder builder;
  liftoff::launch_spec spec;
  spec.job_name = "build-bench";
  liftoff::launch_options lopts;  // on_progress notes the first "Step 1/" line (set per build)
  std::string const job = spec.job_name;

  std::vector<std::string> to_remove;
  auto remove_images = [&] {
    for (auto const& i : to_remove) shell(shell_quote(opt.docker) + " rmi -f " + shell_quote(i) + " > /dev/null 2>&1");
    to_remove.clear();
  };

  // liftoff from the bare directory (the builder computes the content digest itself).
  auto run_liftoff = [&](std::string const& given_digest) {
    build_time bt;
    auto t0 = steady::now();
    std::optional<steady::time_point> first_step;
    lopts.on_progress = [&](std::string_view line) {
      if (!first_step && line.find("Step 1/") != std::string_view::npos) first_step = steady::now();
    };
    double c0 = cpu_seconds(RUSAGE_SELF);
    liftoff::artifact in{liftoff::artifact_kind::directory, root, {}, given_digest, {}};
    auto out = builder.build(in, spec, lopts);
    bt.wall = std::chrono::duration<double>(steady::now() - t0).count();
    bt.cpu = cpu_seconds(RUSAGE_SELF) - c0;
    if (!out) {
      std::cerr << "docker_builder::build failed: " << out.error().what() << "\n";
      std::exit(1);
    }
    if (first_step) bt.upload = std::chrono::duration<double>(*first_step - t0).count();
    to_remove.push_back(out->image);
    return bt;
  };
  // docker build of the same context with labels like liftoff's (same keys, same value lengths),
  // its output read line by line (as liftoff reads the engine's) to see when the steps begin.
  int docker_round = 0;
  auto run_docker = [&] {
    build_time bt;
    std::string tag = "liftoff-bench/docker-build:r" + std::to_string(docker_round++);
    std::string cmd = shell_quote(opt.docker) + " build -t " + shell_quote(tag) + " --label " +
                      shell_quote(std::string(liftoff::docker::source_digest_label) + "=sha256:" + std::string(64, '0')) +
                      " --label " + shell_quote(std::string(liftoff::docker::job_label) + "=" + job) + " " +
                      shell_quote(root.string());
    to_remove.push_back(tag);
    double c0 = cpu_seconds(RUSAGE_CHILDREN);
    auto t0 = steady::now();
    std::optional<steady::time_point> first_step;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) fail("cannot run " + cmd);
    char line[4096];
    while (std::fgets(line, sizeof line, p))
      if (!first_step && std::strstr(line, "Step 1/")) first_step = steady::now();
    int st = ::pclose(p);
    bt.wall = std::chrono::duration<double>(steady::now() - t0).count();
    bt.cpu = cpu_seconds(RUSAGE_CHILDREN) - c0;
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::cerr << "docker build failed: " << cmd << "\n";
      std::exit(1);
    }
    if (first_step) bt.upload = std::chrono::duration<double>(*first_step - t0).count();
    return bt;
  };

  std::cout << "liftoff: docker_builder::build (POST /build, tar streamed; context digest included)\n"
            << "docker:  DOCKER_BUILDKIT=0 " << opt.docker << " build -t TAG --label ... " << root.string() << "\n"
            << "warm-up round (untimed) ..." << std::flush;
  new_nonce();
  run_liftoff({});
  new_nonce();
  run_docker();
  remove_images();
  std::cout << " done" << std::endl;

  std::vector<build_time> b_lift, b_dock, b_given;
  std::vector<double> t_digest, ratios;
  for (int r = 0; r < opt.rounds; ++r) {
    build_time tl, td;
    auto lift = [&] {
      new_nonce();
      tl = run_liftoff({});
    };
    auto dock = [&] {
      new_nonce();
      td = run_docker();
    };
    if (r % 2 == 0) {
      lift();
      dock();
    } else {
      dock();
      lift();
    }
    // The builder alone, as the launcher calls it: the source stage's digest given.
    new_nonce();
    std::string digest;
    t_digest.push_back(seconds([&] { digest = liftoff::directory_digest(root).value(); }));
    b_given.push_back(run_liftoff(digest));
    remove_images();
    b_lift.push_back(tl);
    b_dock.push_back(td);
    ratios.push_back(tl.wall / td.wall);
    std::cout << "round " << r + 1 << ": liftoff " << fixed(tl.wall, 2) << " s (upload " << fixed(tl.upload, 2)
              << ", CPU " << fixed(tl.cpu, 2) << ")  docker build " << fixed(td.wall, 2) << " s (upload "
              << fixed(td.upload, 2) << ", CPU " << fixed(td.cpu, 2) << ")  ratio " << fixed(tl.wall / td.wall, 3)
              << "  [digest given: " << fixed(b_given.back().wall, 2) << " s, upload " << fixed(b_given.back().upload, 2)
              << "; digest alone " << fixed(t_digest.back(), 2) << " s]" << std::endl;
  }

  auto med = [](std::vector<build_time> const& v, double build_time::*m) {
    std::vector<double> x;
    for (auto const& b : v) x.push_back(b.*m);
    return median(x);
  };
  double const mib = static_cast<double>(st.bytes) / (1024.0 * 1024.0);
  double const ml = med(b_lift, &build_time::wall), md = med(b_dock, &build_time::wall), ratio = median(ratios);
  double const mg = med(b_given, &build_time::wall);
  auto row = [&](char const* name, std::vector<build_time> const& v) {
    std::cout << name << "median " << fixed(med(v, &build_time::wall), 2) << " s (" << fixed(mib / med(v, &build_time::wall), 0)
              << " MiB/s)  upload " << fixed(med(v, &build_time::upload), 2) << " s  steps "
              << fixed(med(v, &build_time::wall) - med(v, &build_time::upload), 2) << " s  client CPU "
              << fixed(med(v, &build_time::cpu), 2) << " s\n";
  };
  std::cout << "rounds: " << opt.rounds << " (alternating order, after one untimed round)\n";
  row("liftoff docker_builder::build   ", b_lift);
  row("  with the digest given         ", b_given);
  std::cout << "  directory_digest alone        median " << fixed(median(t_digest), 2) << " s\n";
  row("docker build (classic)          ", b_dock);
  std::cout << "median ratio liftoff/docker     " << fixed(ratio, 3) << "  (ratio of the medians " << fixed(ml / md, 3)
            << "; digest given: " << fixed(mg / md, 3) << ")\n"
            << "goal: median ratio <= " << fixed(goal, 2) << ": " << (ratio <= goal ? "MET" : "MISSED") << " ("
            << fixed(ratio, 3) << ")\n";

  if (opt.keep) {
    std::cout << "kept the context in " << root.string() << "\n";
  } else {
    fs::remove_all(root);
  }
  return 0;
}
