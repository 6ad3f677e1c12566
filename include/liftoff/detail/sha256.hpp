#ifndef LIFTOFF_DETAIL_SHA256_HPP
#define LIFTOFF_DETAIL_SHA256_HPP

/** SHA-256 through OpenSSL's EVP interface, for code artifacts, API tokens
    and job sources (their written forms are in `detail/hex.hpp`). */

#include <liftoff/core/error.hpp>
#include <liftoff/detail/hex.hpp>

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace liftoff::detail {

struct evp_md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

/// An incremental SHA-256.
class sha256 {
public:
  sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw_diagnostic(diagnostic(error::unsupported, "OpenSSL could not start a SHA-256 digest"));
  }
  void update(void const* data, std::size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  /// The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md.data(), &len);
    return to_hex(std::span<unsigned char const>(md.data(), len));
  }

private:
  std::unique_ptr<EVP_MD_CTX, evp_md_ctx_free> ctx_;
};

/// The SHA-256 of `bytes`, as 64 lowercase hex digits.
inline std::string sha256_hex(std::string_view bytes) {
  sha256 h;
  h.update(bytes);
  return h.hex();
}

}  // namespace liftoff::detail

#endif
