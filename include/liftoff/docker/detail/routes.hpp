#ifndef LIFTOFF_DOCKER_DETAIL_ROUTES_HPP
#define LIFTOFF_DOCKER_DETAIL_ROUTES_HPP

// Every Engine API operation `docker::engine` sends, as the spec names it
// (method and path template). The engine builds its requests from these, and
// a test checks each against the official specification.

#include <array>
#include <string>
#include <string_view>

namespace liftoff::docker::detail {

struct route {
  std::string_view method;  ///< "GET"
  std::string_view path;    ///< "/containers/{id}/json", relative to "/v1.NN"
};

inline constexpr route version_route{"GET", "/version"};
inline constexpr route image_inspect_route{"GET", "/images/{name}/json"};
inline constexpr route image_create_route{"POST", "/images/create"};
inline constexpr route image_tag_route{"POST", "/images/{name}/tag"};
inline constexpr route image_delete_route{"DELETE", "/images/{name}"};
inline constexpr route build_route{"POST", "/build"};
inline constexpr route container_list_route{"GET", "/containers/json"};
inline constexpr route container_create_route{"POST", "/containers/create"};
inline constexpr route container_inspect_route{"GET", "/containers/{id}/json"};
inline constexpr route container_start_route{"POST", "/containers/{id}/start"};
inline constexpr route container_wait_route{"POST", "/containers/{id}/wait"};
inline constexpr route container_logs_route{"GET", "/containers/{id}/logs"};
inline constexpr route container_stop_route{"POST", "/containers/{id}/stop"};
inline constexpr route container_kill_route{"POST", "/containers/{id}/kill"};
inline constexpr route container_delete_route{"DELETE", "/containers/{id}"};

inline constexpr std::array all_routes{
    version_route,          image_inspect_route,    image_create_route,      image_tag_route,
    image_delete_route,     build_route,            container_list_route,    container_create_route,
    container_inspect_route, container_start_route, container_wait_route,    container_logs_route,
    container_stop_route,   container_kill_route,   container_delete_route,
};

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
