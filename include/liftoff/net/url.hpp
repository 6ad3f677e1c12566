#ifndef LIFTOFF_NET_URL_HPP
#define LIFTOFF_NET_URL_HPP

/** Percent-encoding of path segments and query values (Boost.URL), and a
    query string builder: what every API client of liftoff (Engine API,
    Kubernetes, the queue server) needs to put names into URLs. */

#include <liftoff/detail/config.hpp>

#include <string>
#include <string_view>

namespace liftoff::net {

/** Percent-encodes every character but RFC 3986's unreserved ones (letters,
    digits, `-._~`) and those in `keep`: a path segment, or a query value. */
std::string percent_encode(std::string_view text, std::string_view keep = {});

/// Builds "?a=1&b=x%3Dy", values percent-encoded.
class query_string {
public:
  query_string& add(std::string_view key, std::string_view value) {
    s_ += s_.empty() ? '?' : '&';
    s_ += key;
    s_ += '=';
    s_ += percent_encode(value);
    return *this;
  }
  /// Adds the parameter only when `value` is not empty.
  query_string& add_if(std::string_view key, std::string_view value) { return value.empty() ? *this : add(key, value); }
  std::string const& str() const noexcept { return s_; }

private:
  std::string s_;
};

}  // namespace liftoff::net

#if LIFTOFF_HEADER_ONLY
#include <liftoff/net/impl/url.ipp>
#endif

#endif
