#ifndef LIFTOFF_NET_DETAIL_TEXT_HPP
#define LIFTOFF_NET_DETAIL_TEXT_HPP

// The words of net's error messages: redacted URLs, durations, body excerpts,
// and the small header-value conversions retries need.

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::net::detail {

inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// True for query parameter names that commonly carry credentials (tokens, pre-signed URL signatures).
inline bool is_secret_param(std::string_view name) {
  auto n = to_lower(name);
  for (std::string_view word : {"token", "secret", "password", "passwd", "signature", "credential", "auth", "key"})
    if (n.find(word) != std::string::npos) return true;
  return n == "sig" || n == "code";
}

/// `target` with the values of secret-looking query parameters replaced, for messages.
inline std::string redact_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    // Not a plain path: keep only what precedes any query.
    return std::string(target.substr(0, target.find('?')));
  }
  boost::urls::url_view u = *parsed;
  std::string out(u.encoded_path());
  if (!u.has_query()) return out;
  char sep = '?';
  for (auto const& p : u.encoded_params()) {
    out += sep;
    sep = '&';
    out += std::string_view(p.key);
    if (!p.has_value) continue;
    out += '=';
    if (is_secret_param(p.key.decode())) out += "REDACTED";
    else out += std::string_view(p.value);
  }
  return out;
}

/// "5s", "250ms", "1.5s".
inline std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + "s";
}

/// System messages start with a capital ("Connection refused"); ours continue a sentence.
inline std::string lower_first(std::string s) {
  if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      !std::isupper(static_cast<unsigned char>(s[1])))
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

/// Replaces every occurrence of each secret in `text`.
inline std::string scrub(std::string text, std::vector<std::string> const& secrets) {
  for (auto const& secret : secrets) {
    if (secret.size() < 4) continue;  // too short to be a credential; replacing would mangle text
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
      text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

/// The first `limit` bytes of a body on one line, for an error message.
inline std::string excerpt(std::string_view body, std::size_t limit = 512) {
  std::string out(body.substr(0, limit));
  for (auto& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  if (body.size() > limit) out += "…";
  return out;
}

/** A `Retry-After` value (delta-seconds or an HTTP-date) as a delay from `now`;
    nullopt when it is neither. */
inline std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size() && seconds >= 0)
    return std::chrono::milliseconds(seconds * 1000);
  std::tm tm{};
  std::string text(value);
  char const* rest = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!rest || *rest != '\0') return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

/** Exponential backoff with "equal jitter": half of the capped exponential
    delay plus a random part of the other half, so that clients that failed
    together do not retry together. `retry` counts from 1. */
inline std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                               std::minstd_rand& rng) {
  auto exp = base.count();
  for (int i = 1; i < retry && exp < cap.count(); ++i) exp *= 2;
  exp = std::min<long long>(exp, cap.count());
  if (exp <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<long long> jitter(0, exp / 2);
  return std::chrono::milliseconds(exp - exp / 2 + jitter(rng));
}

}  // namespace liftoff::net::detail

#endif
