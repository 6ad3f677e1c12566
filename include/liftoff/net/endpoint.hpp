#ifndef LIFTOFF_NET_ENDPOINT_HPP
#define LIFTOFF_NET_ENDPOINT_HPP

/** Where an HTTP peer lives: a unix socket, a TCP address, or a TLS address.
    Endpoints are configuration (`DOCKER_HOST`, a kubeconfig `server:`), so a
    test points a real client at a local server. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace liftoff::net {

/// How an endpoint is reached.
enum class transport_kind {
  unix_socket,  ///< `unix:///path/to.sock`: plain HTTP over a unix domain socket
  tcp,          ///< `http://host:port` or `tcp://host:port`: plain HTTP over TCP
  tls,          ///< `https://host:port`: HTTP over TLS
};

/// A parsed endpoint. Build one with `parse_endpoint`.
struct endpoint {
  transport_kind kind = transport_kind::tcp;
  std::string host;         ///< host name or IP address, without brackets; empty for unix sockets
  std::uint16_t port = 0;   ///< TCP port; 0 for unix sockets
  std::string socket_path;  ///< the socket's file path for unix sockets
  std::string base_path;    ///< path prefix put before every request target, without a trailing '/'

  /// True when `host` is an IPv4 or IPv6 literal (no SNI is sent for those).
  bool host_is_ip = false;

  /// The value of the `Host` header requests to this endpoint carry.
  std::string host_header() const;

  /// The endpoint as a URL: `unix:///var/run/docker.sock`, `https://10.0.0.1:6443/prefix`.
  std::string to_string() const;
};

/** Parses an endpoint URL with Boost.URL.

    Accepted forms: `unix:///var/run/docker.sock`, `http://host[:port][/prefix]`
    (port 80 by default), `https://host[:port][/prefix]` (port 443 by default),
    and `tcp://host:port` (plain HTTP, as `DOCKER_HOST` spells it).
    Credentials, queries and fragments are refused: secrets do not belong in
    endpoints, which are printed in error messages.

    @return the endpoint, or a diagnostic with `error::invalid_spec` naming
    what is wrong (never echoing userinfo). */
result<endpoint> parse_endpoint(std::string_view text);

}  // namespace liftoff::net

#if LIFTOFF_HEADER_ONLY
#include <liftoff/net/impl/endpoint.ipp>
#endif

#endif
