#ifndef LIFTOFF_BENCHMARKS_GENERATED_TREE_HPP
#define LIFTOFF_BENCHMARKS_GENERATED_TREE_HPP

// What the benchmarks that read a directory share: a generated tree of mixed
// file sizes with incompressible content, and shell quoting for the commands
// they compare against.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace liftoff::bench {

struct tree_stats {
  std::uint64_t bytes = 0;
  std::uint64_t files = 0;
};

/** Writes about `total` bytes of files under `root` (created as needed): 10% of
    the bytes in 1–16 KiB files, 30% in 64 KiB–1 MiB, 60% in 8–64 MiB, 100 files a
    directory. The content is pseudo-random with a fixed seed: the same tree each
    time, and incompressible. */
inline tree_stats generate_tree(std::filesystem::path const& root, std::uint64_t total) {
  std::mt19937_64 rng(42);
  struct band {
    double share;
    std::uint64_t lo, hi;
  };
  constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB;
  band const bands[] = {{0.10, 1 * KiB, 16 * KiB}, {0.30, 64 * KiB, 1 * MiB}, {0.60, 8 * MiB, 64 * MiB}};
  std::vector<std::uint64_t> sizes;
  for (auto const& b : bands) {
    auto budget = static_cast<std::uint64_t>(b.share * static_cast<double>(total));
    std::uniform_int_distribution<std::uint64_t> d(b.lo, std::max(b.lo, std::min(b.hi, budget)));
    while (budget > 0) {
      std::uint64_t s = std::min(budget, d(rng));
      sizes.push_back(s);
      budget -= s;
    }
  }
  std::shuffle(sizes.begin(), sizes.end(), rng);

  std::vector<std::uint64_t> block(MiB / sizeof(std::uint64_t));
  tree_stats st;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto dir = root / ("d" + std::to_string(i / 100));
    if (i % 100 == 0) std::filesystem::create_directories(dir);
    std::ofstream f(dir / ("f" + std::to_string(i) + ".bin"), std::ios::binary | std::ios::trunc);
    for (std::uint64_t left = sizes[i]; left > 0;) {
      for (auto& w : block) w = rng();
      auto n = std::min<std::uint64_t>(left, MiB);
      f.write(reinterpret_cast<char const*>(block.data()), static_cast<std::streamsize>(n));
      left -= n;
    }
    if (!f) throw std::runtime_error("cannot write the generated tree under " + root.string());
    st.bytes += sizes[i];
    ++st.files;
  }
  return st;
}

/// The regular files under `root` and their total size.
inline tree_stats measure_tree(std::filesystem::path const& root) {
  tree_stats st;
  for (auto const& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file()) {
      st.bytes += e.file_size();
      ++st.files;
    }
  return st;
}

/// `s` as one word for /bin/sh.
inline std::string shell_quote(std::string const& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace liftoff::bench

#endif
