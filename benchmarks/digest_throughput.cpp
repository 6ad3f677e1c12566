// Digest throughput: liftoff::directory_digest (what local_dir_source uses to
// tag a job's code) over a generated tree of mixed file sizes, beside
// `sha256sum` over the same files.
//
//   digest_throughput [--size-mib N] [--repeat N] [--dir PATH] [--keep]
//
// The tree (default 1024 MiB, or LIFTOFF_BENCH_SIZE_MIB) is generated in a new
// temporary directory, or in --dir (reused when it already holds a tree of
// the same size). About 10% of its bytes are in small files (1-16 KiB), 30%
// in medium ones (64 KiB-1 MiB) and 60% in a few large ones (8-64 MiB), 100
// files to a directory. Both tools read with a warm page cache: one untimed
// pass of each runs first; the figures are the median of --repeat passes.

#include <liftoff/source/local_dir.hpp>

#include "generated_tree.hpp"

#include <CLI/App.hpp>
#include <CLI/Config.hpp>
#include <CLI/Formatter.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using liftoff::bench::generate_tree;
using liftoff::bench::measure_tree;
using liftoff::bench::shell_quote;
using liftoff::bench::tree_stats;

namespace {

struct options {
  std::uint64_t size_mib = 1024;
  int repeat = 3;
  fs::path dir;
  bool keep = false;
};

/// Says why the benchmark cannot run, and exits with 2.
[[noreturn]] void fail(std::string const& why) {
  std::cerr << "digest_throughput: " << why << "\n";
  std::exit(2);
}

/// The command line (CLI11); LIFTOFF_BENCH_SIZE_MIB sets the default size. Exits on a bad one.
options parse(int argc, char** argv) {
  options o;
  if (char const* e = std::getenv("LIFTOFF_BENCH_SIZE_MIB"); e && *e) o.size_mib = std::stoull(e);
  CLI::App app{"Digest throughput: liftoff::directory_digest beside sha256sum", "digest_throughput"};
  app.add_option("--size-mib", o.size_mib, "Size of the generated tree")->check(CLI::PositiveNumber);
  app.add_option("--repeat", o.repeat, "Timed passes of each side")->check(CLI::PositiveNumber);
  app.add_option("--dir", o.dir, "Where to generate the tree (reused when it exists)");
  app.add_flag("--keep", o.keep, "Keep the generated tree");
  try {
    app.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  return o;
}

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

}  // namespace

int main(int argc, char** argv) {
  options opt = parse(argc, argv);
  std::uint64_t const total = opt.size_mib * 1024 * 1024;

  bool const temporary = opt.dir.empty();
  fs::path root = temporary ? fs::temp_directory_path() / ("liftoff-digest-bench-" + std::to_string(std::random_device{}()))
                            : fs::absolute(opt.dir);
  if (!root.has_filename()) root = root.parent_path();
  // Beside the tree, not in it: neither tool should read it.
  fs::path marker = root.parent_path() / (root.filename().string() + ".bench-size");
  tree_stats st;
  bool reuse = false;
  if (fs::exists(marker)) {
    std::ifstream m(marker);
    std::uint64_t mib = 0;
    reuse = (m >> mib) && mib == opt.size_mib;
  }
  if (reuse) {
    st = measure_tree(root);
    std::cout << "reusing the tree in " << root << "\n";
  } else {
    if (!temporary && fs::exists(root) && !fs::is_empty(root))
      fail("--dir exists and holds something other than a tree of that size");
    fs::create_directories(root);
    std::cout << "generating " << opt.size_mib << " MiB in " << root << " ..." << std::flush;
    auto t = seconds([&] { st = generate_tree(root, total); });
    std::ofstream(marker) << opt.size_mib << "\n";
    std::cout << " " << std::fixed << std::setprecision(1) << t << " s\n";
  }

  double const mib = static_cast<double>(st.bytes) / (1024.0 * 1024.0);
  std::cout << "tree: " << std::fixed << std::setprecision(1) << mib << " MiB in " << st.files << " files\n";

  std::string digest;
  auto run_liftoff = [&] {
    auto d = liftoff::directory_digest(root);
    if (!d) {
      std::cerr << "directory_digest failed: " << d.error().message << "\n";
      std::exit(1);
    }
    digest = *d;
  };
  std::string const sha_cmd = "find " + shell_quote(root.string()) + " -type f -print0 | xargs -0 sha256sum > /dev/null";
  auto run_sha256sum = [&] {
    if (std::system(sha_cmd.c_str()) != 0) {
      std::cerr << "sha256sum failed: " << sha_cmd << "\n";
      std::exit(1);
    }
  };

  run_liftoff();  // warm-up: the page cache now holds the tree
  run_sha256sum();
  std::vector<double> t_liftoff, t_sha;
  for (int i = 0; i < opt.repeat; ++i) {
    t_liftoff.push_back(seconds(run_liftoff));
    t_sha.push_back(seconds(run_sha256sum));
  }
  double const liftoff_rate = mib / median(t_liftoff);
  double const sha_rate = mib / median(t_sha);

  std::cout << "digest: " << digest << "\n"
            << std::setprecision(0)
            << "liftoff::directory_digest   " << std::setw(6) << liftoff_rate << " MiB/s  (median of "
            << opt.repeat << ", " << std::setprecision(3) << median(t_liftoff) << " s)\n"
            << std::setprecision(0)
            << "sha256sum (find | xargs -0) " << std::setw(6) << sha_rate << " MiB/s  (median of " << opt.repeat
            << ", " << std::setprecision(3) << median(t_sha) << " s)\n"
            << std::setprecision(2) << "ratio liftoff/sha256sum     " << std::setw(6) << liftoff_rate / sha_rate
            << "\n";

  if (temporary && !opt.keep) {
    fs::remove_all(root);
    fs::remove(marker);
  } else {
    std::cout << "kept the tree in " << root << " (pass --dir to reuse it)\n";
  }
  return 0;
}
