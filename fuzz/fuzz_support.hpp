#ifndef LIFTOFF_FUZZ_SUPPORT_HPP
#define LIFTOFF_FUZZ_SUPPORT_HPP

// What the fuzz targets share: an invariant check that libFuzzer sees as a
// crash, a scratch directory per process, and the ways an input is cut into
// the parts a target feeds to liftoff.

#include <liftoff/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <unistd.h>

namespace liftoff::fuzz {

/// Stops the process (libFuzzer keeps the input) when an invariant does not hold.
[[noreturn]] inline void fail(char const* what, std::string_view detail = {}) {
  std::fprintf(stderr, "\nliftoff fuzz: invariant broken: %s\n", what);
  if (!detail.empty()) std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
  std::abort();
}

#define LIFTOFF_FUZZ_CHECK(cond, ...) \
  do {                                \
    if (!(cond)) ::liftoff::fuzz::fail(#cond __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)

/// The input as text.
inline std::string_view text_of(std::uint8_t const* data, std::size_t size) noexcept {
  return {reinterpret_cast<char const*>(data), size};
}

/// The text before the first NUL and the text after it (empty when there is none).
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view text) noexcept {
  auto nul = text.find('\0');
  if (nul == std::string_view::npos) return {text, {}};
  return {text.substr(0, nul), text.substr(nul + 1)};
}

/** A failed parse must be one of liftoff's errors with a message, as every
    parser documents ("errors are `result` errors naming the field"). */
inline void check_error(diagnostic const& d) {
  LIFTOFF_FUZZ_CHECK(d.code.category() == liftoff_category(), d.code.category().name());
  LIFTOFF_FUZZ_CHECK(d.code.value() != 0);
  LIFTOFF_FUZZ_CHECK(!d.message.empty(), d.code.message());
}

/** A directory of this process's own (under TMPDIR, else /dev/shm when it
    exists, else /tmp), emptied at exit. */
inline std::filesystem::path const& scratch_dir() {
  // Never destroyed: the exit handler below runs after static destructors would.
  static std::filesystem::path const* const dir = [] {
    namespace fs = std::filesystem;
    fs::path base = "/tmp";
    if (char const* t = std::getenv("TMPDIR"); t && *t) base = t;
    else if (std::error_code ec; fs::is_directory("/dev/shm", ec)) base = "/dev/shm";
    auto* d = new fs::path(base / ("liftoff-fuzz-" + std::to_string(::getpid())));
    fs::remove_all(*d);
    fs::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

/// Writes `text` to `path` (replacing it).
inline void write_file(std::filesystem::path const& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  LIFTOFF_FUZZ_CHECK(out.good(), path.string());
}

}  // namespace liftoff::fuzz

#endif
