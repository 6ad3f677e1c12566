#ifndef LIFTOFF_SERVER_DETAIL_UTIL_HPP
#define LIFTOFF_SERVER_DETAIL_UTIL_HPP

// What the service layer, the stores and the HTTP side share: plain names,
// canonical JSON and its digest, deep merge, prefixed diagnostics and the
// sentences about resource names. Nothing here depends on Beast or on a
// store type.

#include <liftoff/core/error.hpp>
#include <liftoff/detail/quote.hpp>
#include <liftoff/detail/sha256.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::server::detail {

/// Prefixes a diagnostic's sentence with what the request was about.
inline diagnostic about(std::string_view what, diagnostic d) {
  d.message = std::string(what) + ": " + d.what();
  return d;
}

/// Letters, digits, '.', '_' and '-', not starting with '.', 1 to `max` characters.
inline bool is_safe_name(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max || s.front() == '.') return false;
  for (unsigned char ch : s)
    if (!std::isalnum(ch) && ch != '.' && ch != '_' && ch != '-') return false;
  return true;
}

inline void write_canonical(boost::json::value const& v, std::string& out) {
  if (auto const* o = v.if_object()) {
    std::vector<std::pair<std::string_view, boost::json::value const*>> fields;
    for (auto const& kv : *o) fields.emplace_back(kv.key(), &kv.value());
    std::sort(fields.begin(), fields.end(), [](auto const& a, auto const& b) { return a.first < b.first; });
    out += '{';
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += boost::json::serialize(boost::json::string(fields[i].first));
      out += ':';
      write_canonical(*fields[i].second, out);
    }
    out += '}';
  } else if (auto const* a = v.if_array()) {
    out += '[';
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i) out += ',';
      write_canonical((*a)[i], out);
    }
    out += ']';
  } else {
    out += boost::json::serialize(v);
  }
}

/** `v` serialized with every object's keys sorted and no whitespace, so that
    equal values give equal text whatever order their fields came in. */
inline std::string canonical_json(boost::json::value const& v) {
  std::string out;
  write_canonical(v, out);
  return out;
}

/// "sha256:<hex>" of the canonical JSON of `v`: a job version's digest.
inline std::string json_digest(boost::json::value const& v) {
  return "sha256:" + liftoff::detail::sha256_hex(canonical_json(v));
}

/** Merges `from` into `into`: objects merge key by key, anything else from
    `from` replaces what `into` had. */
inline void deep_merge(boost::json::object& into, boost::json::object const& from) {
  for (auto const& kv : from) {
    auto* mine = into.if_contains(kv.key());
    if (mine && mine->is_object() && kv.value().is_object())
      deep_merge(mine->get_object(), kv.value().get_object());
    else
      into[kv.key()] = kv.value();
  }
}

/// "a, b, c".
inline std::string join_names(std::vector<std::string> const& names) {
  std::string out;
  for (auto const& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

/** What a queue's resource must be, after "expected": "one of: local-process,
    kubernetes" when the deployment's resources are known, else "a resource
    name such as the agent's". */
inline std::string expected_resource(std::vector<std::string> const& resources) {
  if (resources.empty()) return "a resource name such as the agent's";
  return "one of: " + join_names(resources);
}

/** "queue 'q' needs a resource, one of: local-process, kubernetes", or, when
    the deployment's resources are not known, "queue 'q' needs a resource
    name such as the agent's". */
inline std::string needs_resource_message(std::string_view queue, std::vector<std::string> const& resources) {
  std::string head = "queue " + liftoff::detail::quote_plain(queue) + " needs a resource";
  if (resources.empty()) return head + " name such as the agent's";
  return head + ", one of: " + join_names(resources);
}

}  // namespace liftoff::server::detail

#endif
