#ifndef LIFTOFF_DOCKER_DETAIL_ROUTES_HPP
#define LIFTOFF_DOCKER_DETAIL_ROUTES_HPP

// Every Engine API operation `docker::engine` sends, as the spec names it
// (method, path template and query parameters). The engine builds its
// requests from these, and a test checks each against the official
// specification, including the version that introduced a parameter.

#include <array>
#include <span>
#include <string>
#include <string_view>

namespace liftoff::docker::detail {

/// A query parameter the client may send on a route.
struct query_param {
  std::string_view name;   ///< "platform"
  std::string_view since;  ///< the API version that introduced it when newer than 1.40 ("1.41"); empty: older
  /** False for what the engine reads but the specification does not list:
      BuildKit's `session` and `buildid`, which the docker CLI sends (moby's
      api/server/router/build). Those are tested against the real engine. */
  bool documented = true;
};

struct route {
  std::string_view method;              ///< "GET"
  std::string_view path;                ///< "/containers/{id}/json", relative to "/v1.NN"
  std::span<query_param const> query;  ///< every query parameter the client sends on it
  bool documented = true;               ///< false for `/build/cancel`, which the specification does not list
};

inline constexpr query_param image_create_query[]{{"fromImage"}, {"tag"}, {"platform"}};
inline constexpr query_param image_tag_query[]{{"repo"}, {"tag"}};
inline constexpr query_param image_delete_query[]{{"force"}};
inline constexpr query_param image_push_query[]{{"tag"}};
inline constexpr query_param build_query[]{{"t"},       {"dockerfile"}, {"labels"},      {"buildargs"}, {"rm"},
                                            {"forcerm"}, {"pull"},       {"nocache"},     {"platform"},  {"networkmode"},
                                            {"target"},  {"remote"},     {"session", "", false}, {"buildid", "", false}, {"version"}};
inline constexpr query_param build_cancel_query[]{{"id"}};
inline constexpr query_param container_list_query[]{{"all"}, {"filters"}};
inline constexpr query_param container_create_query[]{{"name"}, {"platform", "1.41"}};
inline constexpr query_param container_wait_query[]{{"condition"}};
inline constexpr query_param container_logs_query[]{{"stdout"}, {"stderr"}, {"follow"}};
inline constexpr query_param container_stop_query[]{{"t"}};
inline constexpr query_param container_kill_query[]{{"signal"}};
inline constexpr query_param container_delete_query[]{{"v"}, {"force"}};

inline constexpr route ping_route{"HEAD", "/_ping"};
inline constexpr route version_route{"GET", "/version"};
inline constexpr route image_inspect_route{"GET", "/images/{name}/json"};
inline constexpr route image_create_route{"POST", "/images/create", image_create_query};
inline constexpr route image_tag_route{"POST", "/images/{name}/tag", image_tag_query};
inline constexpr route image_delete_route{"DELETE", "/images/{name}", image_delete_query};
inline constexpr route image_push_route{"POST", "/images/{name}/push", image_push_query};
inline constexpr route distribution_inspect_route{"GET", "/distribution/{name}/json"};
inline constexpr route build_route{"POST", "/build", build_query};
inline constexpr route build_cancel_route{"POST", "/build/cancel", build_cancel_query, false};
inline constexpr route session_route{"POST", "/session"};
inline constexpr route network_inspect_route{"GET", "/networks/{id}"};
inline constexpr route container_list_route{"GET", "/containers/json", container_list_query};
inline constexpr route container_create_route{"POST", "/containers/create", container_create_query};
inline constexpr route container_inspect_route{"GET", "/containers/{id}/json"};
inline constexpr route container_start_route{"POST", "/containers/{id}/start"};
inline constexpr route container_wait_route{"POST", "/containers/{id}/wait", container_wait_query};
inline constexpr route container_logs_route{"GET", "/containers/{id}/logs", container_logs_query};
inline constexpr route container_stop_route{"POST", "/containers/{id}/stop", container_stop_query};
inline constexpr route container_kill_route{"POST", "/containers/{id}/kill", container_kill_query};
inline constexpr route container_delete_route{"DELETE", "/containers/{id}", container_delete_query};

inline constexpr std::array all_routes{
    ping_route,             version_route,          image_inspect_route,     image_create_route,
    image_tag_route,        image_delete_route,     build_route,             container_list_route,
    container_create_route, container_inspect_route, container_start_route,  container_wait_route,
    container_logs_route,   container_stop_route,   container_kill_route,    container_delete_route,
    image_push_route,       distribution_inspect_route, build_cancel_route,   session_route,
    network_inspect_route,
};

/// True when `name` is one of the route's query parameters.
constexpr bool has_query_param(route const& r, std::string_view name) noexcept {
  for (auto const& q : r.query)
    if (q.name == name) return true;
  return false;
}

/// The route's path with its one `{…}` parameter replaced by `value` (already encoded).
inline std::string expand(route const& r, std::string_view value = {}) {
  std::string out(r.path);
  auto open = out.find('{');
  if (open == std::string::npos) return out;
  auto close = out.find('}', open);
  out.replace(open, close - open + 1, value);
  return out;
}

}  // namespace liftoff::docker::detail

#endif
