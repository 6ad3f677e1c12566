#ifndef LIFTOFF_AWS_IMPL_SIGV4_IPP
#define LIFTOFF_AWS_IMPL_SIGV4_IPP

#include <liftoff/aws/sigv4.hpp>

#include <liftoff/detail/hex.hpp>
#include <liftoff/detail/sha256.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>
#include <span>
#include <vector>

namespace liftoff::aws {

LIFTOFF_DECL bool credentials::expires_within(std::chrono::system_clock::duration margin,
                                        std::chrono::system_clock::time_point now) const noexcept {
  return expiration && *expiration - margin <= now;
}

namespace detail {

LIFTOFF_DECL std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<unsigned char const*>(data.data()),
         data.size(), md.data(), &len);
  return std::string(reinterpret_cast<char const*>(md.data()), len);
}

LIFTOFF_DECL std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t const secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

LIFTOFF_DECL bool is_unreserved(unsigned char c) noexcept {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

LIFTOFF_DECL void append_escape(std::string& out, unsigned char c) {
  static constexpr char digits[] = "0123456789ABCDEF";
  out += '%';
  out += digits[c >> 4];
  out += digits[c & 0xf];
}

LIFTOFF_DECL std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) out += ch;
    else append_escape(out, c);
  }
  return out;
}

LIFTOFF_DECL int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes %XX escapes; a '%' not followed by two hex digits stays as it is.
LIFTOFF_DECL std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/** A path as sent, with the characters that need it encoded and the escapes
    already there kept (upper-cased): the single encoding S3 expects. */
LIFTOFF_DECL std::string encode_path_once(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 && hex_value(path[i + 2]) >= 0) {
      out += '%';
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(path[i + 1])));
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(path[i + 2])));
      i += 2;
    } else if (is_unreserved(c) || c == '/') {
      out += path[i];
    } else {
      append_escape(out, c);
    }
  }
  return out;
}

/** The canonical URI. Normalized: "." and ".." segments resolved and empty
    segments dropped (a trailing slash kept), then each segment encoded as a
    whole, so an escape sent as "%20" is signed as "%2520". */
LIFTOFF_DECL std::string canonical_uri(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return encode_path_once(path);
  std::vector<std::string_view> segments;
  bool trailing = false;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    auto seg = path.substr(pos, end - pos);
    bool last = end == path.size();
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing = last;
    } else if (seg == ".") {
      trailing = last;
    } else if (seg.empty()) {
      trailing = last;
    } else {
      segments.push_back(seg);
      trailing = false;
    }
    pos = end + 1;
  }
  std::string out;
  for (auto seg : segments) {
    out += '/';
    out += uri_encode(seg, false);
  }
  if (out.empty() || trailing) out += '/';
  return out;
}

/// "a=1&b" → sorted, encoded "a=1&b=".
LIFTOFF_DECL std::string canonical_query(std::string_view query,
                                   std::vector<std::pair<std::string, std::string>> const& extra = {}) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t pos = 0;
  while (pos < query.size()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    auto item = query.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    auto eq = item.find('=');
    auto name = item.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    params.emplace_back(uri_encode(percent_decode(name), false), uri_encode(percent_decode(value), false));
  }
  for (auto const& [n, v] : extra) params.emplace_back(uri_encode(n, false), uri_encode(v, false));
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto const& [n, v] : params) {
    if (!out.empty()) out += '&';
    out += n;
    out += '=';
    out += v;
  }
  return out;
}

LIFTOFF_DECL std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

LIFTOFF_DECL bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// Trimmed, with inner runs of whitespace (folded lines included) as one space.
LIFTOFF_DECL std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/** Headers the SDKs leave unsigned because proxies and the HTTP layer may
    change them on the way. */
LIFTOFF_DECL bool unsigned_header(std::string_view lower_name) noexcept {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "connection" || lower_name == "transfer-encoding" || lower_name == "x-amzn-trace-id";
}

struct canonical_parts {
  std::string headers;         ///< "host:…\nx-amz-date:…\n"
  std::string signed_headers;  ///< "host;x-amz-date"
};

LIFTOFF_DECL canonical_parts canonical_headers(std::vector<std::pair<std::string, std::string>> const& headers) {
  std::map<std::string, std::string> merged;
  for (auto const& [name, value] : headers) {
    auto n = lower(name);
    if (unsigned_header(n)) continue;
    auto [it, fresh] = merged.try_emplace(n, canonical_header_value(value));
    if (!fresh) it->second += "," + canonical_header_value(value);
  }
  canonical_parts out;
  for (auto const& [n, v] : merged) {
    out.headers += n + ":" + v + "\n";
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += n;
  }
  return out;
}

LIFTOFF_DECL std::string signing_key(credentials const& c, std::string_view date, signing_params const& p) {
  auto k = hmac_sha256("AWS4" + c.secret_access_key, date);
  k = hmac_sha256(k, p.region);
  k = hmac_sha256(k, p.service);
  return hmac_sha256(k, "aws4_request");
}

LIFTOFF_DECL void erase_header(std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  std::erase_if(headers, [&](auto const& h) { return iequals(h.first, name); });
}

LIFTOFF_DECL result<void> check_signable(http_message const& m, credentials const& c, signing_params const& p) {
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return diagnostic(error::invalid_request,
                      "cannot sign the AWS request: the credentials" +
                          (c.source.empty() ? std::string() : " from " + c.source) +
                          " lack an access key id or a secret access key; set both");
  if (p.region.empty() || p.service.empty())
    return diagnostic(error::invalid_request,
                      "cannot sign the AWS request: the signing region and service name must both be set");
  if (std::none_of(m.headers.begin(), m.headers.end(), [](auto const& h) { return iequals(h.first, "host"); }))
    return diagnostic(error::invalid_request,
                      "cannot sign the AWS request " + m.method + " " + m.target.substr(0, m.target.find('?')) +
                          ": it has no Host header, which SigV4 signs; set Host");
  return {};
}

/// The canonical request, string to sign and signature of `m` with `extra` query parameters.
LIFTOFF_DECL signing_result compute(http_message const& m, credentials const& c, signing_params const& p,
                              std::string const& date, std::string const& payload_hash,
                              std::vector<std::pair<std::string, std::string>> const& extra_query = {},
                              canonical_parts const* headers = nullptr) {
  signing_result r;
  r.amz_date = date;
  auto const day = date.substr(0, 8);
  r.credential_scope = day + "/" + p.region + "/" + p.service + "/aws4_request";
  auto const q = m.target.find('?');
  auto const path = std::string_view(m.target).substr(0, q);
  auto const query = q == std::string::npos ? std::string_view{} : std::string_view(m.target).substr(q + 1);
  auto const parts = headers ? *headers : canonical_headers(m.headers);
  r.signed_headers = parts.signed_headers;
  r.canonical_request = m.method + "\n" + canonical_uri(path, p.normalize_path) + "\n" +
                        canonical_query(query, extra_query) + "\n" + parts.headers + "\n" + parts.signed_headers +
                        "\n" + payload_hash;
  r.string_to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + r.credential_scope + "\n" +
                     liftoff::detail::sha256_hex(r.canonical_request);
  auto const sig = hmac_sha256(signing_key(c, day, p), r.string_to_sign);
  r.signature = liftoff::detail::to_hex(
      std::span<unsigned char const>(reinterpret_cast<unsigned char const*>(sig.data()), sig.size()));
  return r;
}

}  // namespace detail

LIFTOFF_DECL result<signing_result> sign_headers(http_message& m, credentials const& c, signing_params const& p) {
  if (auto ok = detail::check_signable(m, c, p); !ok) return ok.error();
  // Signing again (a retried request) replaces what an earlier signature added.
  detail::erase_header(m.headers, "Authorization");
  detail::erase_header(m.headers, "X-Amz-Date");
  if (!c.session_token.empty()) detail::erase_header(m.headers, "X-Amz-Security-Token");
  if (p.sign_body) detail::erase_header(m.headers, "X-Amz-Content-Sha256");

  auto const date = detail::amz_date(p.time);
  auto const payload_hash = liftoff::detail::sha256_hex(m.body);
  bool const signed_token = !c.session_token.empty() && !p.omit_session_token;
  if (signed_token) m.headers.emplace_back("X-Amz-Security-Token", c.session_token);
  m.headers.emplace_back("X-Amz-Date", date);
  if (p.sign_body) m.headers.emplace_back("X-Amz-Content-Sha256", payload_hash);

  auto r = detail::compute(m, c, p, date, payload_hash);
  m.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + c.access_key_id + "/" +
                                              r.credential_scope + ", SignedHeaders=" + r.signed_headers +
                                              ", Signature=" + r.signature);
  if (!c.session_token.empty() && p.omit_session_token) m.headers.emplace_back("X-Amz-Security-Token", c.session_token);
  return r;
}

LIFTOFF_DECL result<signing_result> sign_query(http_message& m, credentials const& c, signing_params const& p) {
  if (auto ok = detail::check_signable(m, c, p); !ok) return ok.error();
  auto const date = detail::amz_date(p.time);
  auto const payload_hash = liftoff::detail::sha256_hex(m.body);
  auto const headers = detail::canonical_headers(m.headers);
  auto const scope = date.substr(0, 8) + "/" + p.region + "/" + p.service + "/aws4_request";

  std::vector<std::pair<std::string, std::string>> params{
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", c.access_key_id + "/" + scope},
      {"X-Amz-Date", date},
      {"X-Amz-SignedHeaders", headers.signed_headers},
      {"X-Amz-Expires", std::to_string(p.expires.count())},
  };
  if (!c.session_token.empty() && !p.omit_session_token) params.emplace_back("X-Amz-Security-Token", c.session_token);

  auto r = detail::compute(m, c, p, date, payload_hash, params, &headers);
  if (!c.session_token.empty() && p.omit_session_token) params.emplace_back("X-Amz-Security-Token", c.session_token);
  params.emplace_back("X-Amz-Signature", r.signature);

  auto const q = m.target.find('?');
  for (auto const& [name, value] : params) {
    if (q == std::string::npos && &name == &params.front().first) m.target += '?';
    else if (m.target.back() != '?' && m.target.back() != '&') m.target += '&';
    m.target += name + "=" + detail::uri_encode(value, false);
  }
  return r;
}

LIFTOFF_DECL net::request_signer sigv4_signer(credentials_provider provider, signing_params p) {
  return [provider = std::move(provider), p = std::move(p)](net::request& req) -> result<void> {
    if (req.body_source)
      return diagnostic(error::unsupported,
                        "AWS Signature V4 signs the hash of the whole body, so a streamed request body cannot be "
                        "signed; send the body as a string");
    if (!provider)
      return diagnostic(error::unauthorized, "no AWS credentials provider was given to sign the request with");
    auto creds = provider();
    if (!creds) return creds.error();

    http_message m;
    m.method = std::string(boost::beast::http::to_string(req.method));
    m.target = req.target;
    for (auto const& f : req.headers) m.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    m.body = req.body;

    auto params = p;
    params.time = std::chrono::system_clock::now();
    auto r = sign_headers(m, *creds, params);
    if (!r) return r.error();

    boost::beast::http::fields out;
    for (auto const& [name, value] : m.headers) out.insert(name, value);
    req.headers = std::move(out);
    return {};
  };
}

LIFTOFF_DECL std::string redact_authorization(std::string_view authorization) {
  std::string out(authorization);
  auto pos = out.find("Signature=");
  if (pos == std::string::npos) {
    // Not a SigV4 value: keep only the scheme.
    auto space = out.find(' ');
    return space == std::string::npos ? std::string("<redacted>") : out.substr(0, space) + " <redacted>";
  }
  pos += 10;
  auto end = out.find_first_of(", ", pos);
  if (end == std::string::npos) end = out.size();
  out.replace(pos, end - pos, "<redacted>");
  return out;
}

}  // namespace liftoff::aws

#endif
