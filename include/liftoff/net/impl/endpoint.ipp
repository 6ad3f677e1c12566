#ifndef LIFTOFF_NET_IMPL_ENDPOINT_IPP
#define LIFTOFF_NET_IMPL_ENDPOINT_IPP

#include <liftoff/net/endpoint.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>

namespace liftoff::net {

LIFTOFF_DECL std::string endpoint::host_header() const {
  if (kind == transport_kind::unix_socket) return "localhost";
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (kind == transport_kind::tls && port == 443) || (kind == transport_kind::tcp && port == 80);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

LIFTOFF_DECL std::string endpoint::to_string() const {
  if (kind == transport_kind::unix_socket) return "unix://" + socket_path;
  return std::string(kind == transport_kind::tls ? "https://" : "http://") + host_header() + base_path;
}

LIFTOFF_DECL result<endpoint> parse_endpoint(std::string_view text) {
  namespace urls = boost::urls;
  auto fail = [&](std::string why) -> result<endpoint> {
    return diagnostic(error::invalid_spec, "endpoint: " + why);
  };
  auto parsed = urls::parse_uri(text);
  if (!parsed) return fail("not a URL (expected unix:///path, http://host:port, https://host:port or tcp://host:port)");
  urls::url_view u = *parsed;
  // Never echo userinfo: the password would end up in a log.
  if (u.has_userinfo()) return fail("credentials in the URL are not accepted; configure them separately");
  if (u.has_query() || u.has_fragment()) return fail("a query or fragment is not accepted in " + std::string(u.scheme()) + "://" + std::string(u.encoded_host_and_port()));

  endpoint ep;
  std::string scheme(u.scheme());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "unix") {
    auto host = u.host();
    if (!host.empty() && host != "localhost") return fail("unix socket URLs take a path: unix:///path/to.sock");
    ep.kind = transport_kind::unix_socket;
    ep.socket_path = u.path();
    if (ep.socket_path.empty() || ep.socket_path.front() != '/')
      return fail("unix socket URLs take an absolute path: unix:///path/to.sock");
    return ep;
  }
  if (scheme == "http" || scheme == "tcp") ep.kind = transport_kind::tcp;
  else if (scheme == "https") ep.kind = transport_kind::tls;
  else return fail("unsupported scheme '" + scheme + "' (expected unix, http, https or tcp)");

  if (!u.has_authority() || u.encoded_host().empty()) return fail("missing host in " + scheme + " URL");
  ep.host = u.host_address();
  ep.host_is_ip = u.host_type() == urls::host_type::ipv4 || u.host_type() == urls::host_type::ipv6;
  if (u.host_type() == urls::host_type::ipvfuture) return fail("unsupported IP literal");
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) return fail("invalid port '" + std::string(u.port()) + "'");
    ep.port = u.port_number();
  } else if (scheme == "tcp") {
    return fail("tcp:// endpoints need a port, as in tcp://host:2375");
  } else {
    ep.port = ep.kind == transport_kind::tls ? 443 : 80;
  }
  ep.base_path = std::string(u.encoded_path());
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  return ep;
}

}  // namespace liftoff::net

#endif
