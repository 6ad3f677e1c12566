#ifndef LIFTOFF_DETAIL_HEX_HPP
#define LIFTOFF_DETAIL_HEX_HPP

/// The forms liftoff writes digests in: lowercase hex, and `sha256:<hex>`.

#include <span>
#include <string>
#include <string_view>

namespace liftoff::detail {

/// Bytes as lowercase hex digits.
inline std::string to_hex(std::span<unsigned char const> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

/// True for exactly 64 lowercase hex digits.
inline bool is_sha256_hex(std::string_view s) noexcept {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

/// True for "sha256:" followed by 64 lowercase hex digits.
inline bool is_sha256_digest(std::string_view s) noexcept {
  return s.starts_with("sha256:") && is_sha256_hex(s.substr(7));
}

}  // namespace liftoff::detail

#endif
