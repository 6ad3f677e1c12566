#ifndef LIFTOFF_SERVER_DETAIL_HTTP_UTIL_HPP
#define LIFTOFF_SERVER_DETAIL_HTTP_UTIL_HPP

// What the API server's network side and its route handlers share: replies,
// the route table matcher, query parameters and digests (canonical JSON and
// the other helpers the service layer shares are in detail/util.hpp).
// Nothing here depends on the store type.

#include <liftoff/core/error.hpp>
#include <liftoff/core/parse.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/detail/quote.hpp>
#include <liftoff/detail/sha256.hpp>
#include <liftoff/server/detail/util.hpp>
#include <liftoff/server/wire.hpp>

#include <boost/beast/http/verb.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::server::detail {

// ---- replies ---------------------------------------------------------------------

/// The answer to one request, before it is written.
struct http_reply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  /// When set, the body is this file, streamed from disk.
  std::filesystem::path file;
  /** Not empty: the answer is not ready yet (nothing to lease, no new log
      text). The request waits, until its deadline, for a notification of one
      of these keys and is then handled again; when the deadline passes, this
      reply is sent as it is. */
  std::vector<std::string> park_on;
};

inline http_reply json_reply(unsigned status, boost::json::value const& v) {
  http_reply r;
  r.status = status;
  r.body = boost::json::serialize(v);
  return r;
}

inline http_reply empty_reply(unsigned status) {
  http_reply r;
  r.status = status;
  r.content_type.clear();
  return r;
}

inline http_reply error_reply(diagnostic const& d) { return json_reply(http_status_for(d.code), error_body(d)); }

inline http_reply error_reply(unsigned status, diagnostic const& d) { return json_reply(status, error_body(d)); }

/// The keys requests wait on: a queue's items, a run's logs and state.
inline std::string queue_key(std::string_view queue) { return "queue:" + std::string(queue); }
inline std::string run_key(std::string_view run_id) { return "run:" + std::string(run_id); }

// ---- routes ------------------------------------------------------------------------

/// How the network side treats a route.
enum class route_kind {
  open,           ///< no token needed (`GET /health`)
  plain,          ///< a JSON body, handled on the store's threads
  artifact_put,   ///< the body streams to a file
  artifact_read,  ///< GET or HEAD of a stored file
};

/// Which roles besides `admin` (which may do everything) a route admits: a bit set of these.
inline constexpr unsigned admins_only = 0, members = 1, agents = 2, everyone = members | agents;

/// One row of the endpoint table; `pattern` segments written `{}` match any one segment.
struct route {
  boost::beast::http::verb method;
  std::string_view pattern;  ///< below `/api/v1`, e.g. "/queues/{}/items"
  int id;
  route_kind kind = route_kind::plain;
  unsigned roles = admins_only;  ///< `members`, `agents`, `everyone` or `admins_only`; ignored for `open` routes
};

/// The route a request names, with the path's `{}` segments (decoded); or what the path allows.
struct route_match {
  route const* found = nullptr;
  std::vector<std::string> params;
  std::string allow;  ///< no route for the method: the methods the path has, for `Allow`
};

inline std::vector<std::string_view> split_pattern(std::string_view pattern) {
  std::vector<std::string_view> out;
  while (!pattern.empty()) {
    if (pattern.front() == '/') pattern.remove_prefix(1);
    auto slash = pattern.find('/');
    out.push_back(pattern.substr(0, slash));
    pattern.remove_prefix(slash == std::string_view::npos ? pattern.size() : slash);
  }
  return out;
}

/** Matches `segments` (the decoded path below `/api/v1`) against `routes`.
    `found` is null when no route has this path and method; `allow` then lists
    the methods that the path does have (empty: unknown path). */
inline route_match match_route(std::span<route const> routes, boost::beast::http::verb method,
                               std::vector<std::string> const& segments) {
  route_match m;
  for (auto const& r : routes) {
    auto pat = split_pattern(r.pattern);
    if (pat.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool same = true;
    for (std::size_t i = 0; i < pat.size() && same; ++i) {
      if (pat[i] == "{}") {
        if (segments[i].empty()) same = false;
        else params.push_back(segments[i]);
      } else
        same = pat[i] == segments[i];
    }
    if (!same) continue;
    if (r.method == method) {
      m.found = &r;
      m.params = std::move(params);
      m.allow.clear();
      return m;
    }
    auto name = std::string(boost::beast::http::to_string(r.method));
    if (m.allow.find(name) == std::string::npos) m.allow += (m.allow.empty() ? "" : ", ") + name;
  }
  return m;
}

// ---- the request -------------------------------------------------------------------

/// One parsed request, as route handlers see it.
struct request_context {
  int route = 0;
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::vector<std::string> params;                ///< the `{}` segments of the route, decoded
  std::map<std::string, std::string> query;       ///< decoded query parameters (the last of a repeated name)
  std::string body;
  std::string token_name;                         ///< the name of the token that authenticated the request
  std::optional<token_record> token;              ///< the token that authenticated it (empty on open routes)
  unsigned roles = admins_only;                   ///< the route's `roles`
  std::string action;                             ///< "METHOD /api/v1/pattern", for refusals
  /// For requests that may wait (`?wait=`): when the wait ends; set on the first attempt.
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

/// The query parameter `name`, if given.
inline std::optional<std::string> query_param(request_context const& c, std::string_view name) {
  auto it = c.query.find(std::string(name));
  if (it == c.query.end()) return std::nullopt;
  return it->second;
}

inline diagnostic bad_query(std::string_view name, std::string_view expected, std::string_view got) {
  return diagnostic(error::invalid_request, "query parameter '" + std::string(name) + "': expected " +
                                                std::string(expected) + ", got " + liftoff::detail::quote_excerpt(got));
}

/// An integer query parameter within [lo, hi].
inline result<std::optional<std::int64_t>> query_integer(request_context const& c, std::string_view name,
                                                         std::int64_t lo, std::int64_t hi) {
  auto v = query_param(c, name);
  if (!v) return std::optional<std::int64_t>();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < lo || n > hi)
    return bad_query(name, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi), *v);
  return std::optional<std::int64_t>(n);
}

/// A boolean query parameter: true/false/1/0.
inline result<bool> query_bool(request_context const& c, std::string_view name, bool fallback) {
  auto v = query_param(c, name);
  if (!v) return fallback;
  if (*v == "true" || *v == "1" || v->empty()) return true;
  if (*v == "false" || *v == "0") return false;
  return bad_query(name, "true or false", *v);
}

/// `?wait=SECONDS` (a number, fractions allowed), capped at `longest`.
inline result<std::chrono::milliseconds> query_wait(request_context const& c, std::chrono::milliseconds longest) {
  auto v = query_param(c, "wait");
  if (!v) return std::chrono::milliseconds(0);
  double secs = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), secs);
  if (ec != std::errc() || end != v->data() + v->size() || !(secs >= 0))
    return bad_query("wait", "a number of seconds", *v);
  auto ms = std::chrono::milliseconds(static_cast<std::int64_t>(std::min(secs, 1e9) * 1000.0));
  return std::min(ms, longest);
}

/// A path segment that names a record by number.
inline result<std::int64_t> path_id(std::string const& segment, std::string_view what) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(segment.data(), segment.data() + segment.size(), n);
  if (ec != std::errc() || end != segment.data() + segment.size() || n < 1)
    return diagnostic(error::invalid_request,
                      std::string(what) + " id: expected a positive integer, got " + liftoff::detail::quote_excerpt(segment));
  return n;
}

/** The request body as JSON (an empty body reads as `{}`); errors give the
    line and column. A key that an object names twice is `invalid_request`
    ("request body: duplicate key \"agent\" at line 1, column 19; …"):
    the service would act on one of the two and a proxy or a log reader
    might see the other. */
inline result<boost::json::value> json_body(request_context const& c) {
  auto first = c.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return boost::json::value(boost::json::object());
  return liftoff::parse_json(c.body, "request body", error::invalid_request);
}

/** The query of a target for the access log: parameters whose names suggest a
    secret (token, key, secret, password, signature, credential) have their
    values replaced by `***`. */
inline std::string loggable_target(boost::urls::url_view const& u) {
  std::string out(u.encoded_path());
  if (!u.has_query()) return out;
  out += '?';
  bool first = true;
  for (auto const& p : u.encoded_params()) {
    if (!first) out += '&';
    first = false;
    std::string key(p.key);
    std::string lower = key;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    out += key;
    if (!p.has_value) continue;
    bool secret = false;
    for (auto word : {"token", "key", "secret", "password", "signature", "credential", "auth"})
      secret = secret || lower.find(word) != std::string::npos;
    out += '=';
    out += secret ? std::string("***") : std::string(p.value);
  }
  return out;
}

// ---- digests -------------------------------------------------------------------------

using liftoff::detail::is_sha256_hex;
using sha256_hasher = liftoff::detail::sha256;

}  // namespace liftoff::server::detail

#endif
