#ifndef LIFTOFF_KUBE_DETAIL_API_REQUEST_HPP
#define LIFTOFF_KUBE_DETAIL_API_REQUEST_HPP

// The words of Kubernetes REST calls: percent-encoded path segments and
// query values, and the `Status` object the API server answers errors with.

#include <liftoff/net/url.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::kube::detail {

using net::query_string;

/// The parts of a `Status` that error messages use.
struct api_status {
  bool parsed = false;  ///< the body was a JSON object
  std::string message;
  std::string reason;        ///< "NotFound", "AlreadyExists", "Invalid", "Expired", …
  std::string details_kind;  ///< "namespaces", "jobs", …
  std::string details_name;
  std::vector<std::pair<std::string, std::string>> causes;  ///< (field, message)
};

inline std::string json_string(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

inline api_status parse_status(std::string_view body) {
  api_status s;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return s;
  auto const& o = v.as_object();
  s.parsed = true;
  s.message = json_string(o, "message");
  s.reason = json_string(o, "reason");
  if (auto const* d = o.if_contains("details"); d && d->is_object()) {
    s.details_kind = json_string(d->as_object(), "kind");
    s.details_name = json_string(d->as_object(), "name");
    if (auto const* causes = d->as_object().if_contains("causes"); causes && causes->is_array())
      for (auto const& c : causes->as_array())
        if (c.is_object()) s.causes.emplace_back(json_string(c.as_object(), "field"), json_string(c.as_object(), "message"));
  }
  return s;
}

}  // namespace liftoff::kube::detail

#endif
