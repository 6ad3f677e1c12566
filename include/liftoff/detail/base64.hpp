#ifndef LIFTOFF_DETAIL_BASE64_HPP
#define LIFTOFF_DETAIL_BASE64_HPP

// Base64 (for registry auth, kubeconfig data, AWS blobs) through OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock, plus the URL-safe
// alphabet the Engine API uses for X-Registry-Auth (Go's base64.URLEncoding).

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>

namespace liftoff::detail {

/// Standard base64 with padding.
inline std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(data.data()), static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return out;
}

/// URL-safe base64 with padding ('-' and '_' for '+' and '/').
inline std::string base64url_encode(std::string_view data) {
  auto out = base64_encode(data);
  for (auto& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

/// Decodes standard or URL-safe base64 (padding required for the standard form); nullopt when malformed.
inline std::optional<std::string> base64_decode(std::string_view text) {
  std::string in(text);
  while (!in.empty() && (in.back() == '\n' || in.back() == '\r' || in.back() == ' ')) in.pop_back();
  for (auto& c : in) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (in.size() % 4 != 0) in += '=';  // Go's RawURLEncoding omits the padding
  std::string out(3 * (in.size() / 4), '\0');
  int n = ::EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<unsigned char const*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the zero bytes the padding stands for.
  std::size_t pad = 0;
  if (!in.empty() && in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace liftoff::detail

#endif
