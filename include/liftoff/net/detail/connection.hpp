#ifndef LIFTOFF_NET_DETAIL_CONNECTION_HPP
#define LIFTOFF_NET_DETAIL_CONNECTION_HPP

// One connection to an endpoint (unix socket, TCP or TLS), established with
// timeouts, and the helper that runs an async operation to completion on a
// private io_context.

#include <liftoff/core/error.hpp>
#include <liftoff/net/endpoint.hpp>
#include <liftoff/net/tls.hpp>
#include <liftoff/net/detail/text.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>

namespace liftoff::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

using clock = std::chrono::steady_clock;
using unix_stream = beast::basic_stream<asio::local::stream_protocol, asio::any_io_executor, beast::unlimited_rate_policy>;
using tcp_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/** Starts an async operation with a handler that records its error code, and
    runs `ioc` until nothing is left to do. */
template <class Start>
error_code run_sync(asio::io_context& ioc, Start&& start) {
  error_code result;
  std::forward<Start>(start)([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

/// A connected stream of one of the three kinds, and its read buffer.
struct connection {
  template <class Stream, class... Args>
  explicit connection(std::in_place_type_t<Stream> t, Args&&... args) : stream(t, std::forward<Args>(args)...) {}

  std::variant<unix_stream, tcp_stream, tls_stream> stream;
  beast::flat_buffer buffer;
  bool reused = false;  ///< it already carried a request (a stale keep-alive connection may fail at once)

  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), stream);
  }

  /// Operations started from now on fail with beast::error::timeout at `t` (never when t is max()).
  void expires_at(clock::time_point t) {
    visit([&](auto& s) {
      if (t == clock::time_point::max()) beast::get_lowest_layer(s).expires_never();
      else beast::get_lowest_layer(s).expires_at(t);
    });
  }

  bool is_open() {
    return visit([](auto& s) { return beast::get_lowest_layer(s).socket().is_open(); });
  }

  void close() noexcept {
    visit([](auto& s) { beast::get_lowest_layer(s).close(); });
  }
};

/// "connection refused", "timed out after 5s", "TLS handshake failed: …".
struct failure {
  error_code ec;
  std::string detail;
};

inline failure describe_io_error(error_code ec, std::chrono::milliseconds timeout, std::string_view phase = {}) {
  if (ec == beast::error::timeout)
    return {make_error_code(error::timeout), std::string(phase) + "timed out after " + format_duration(timeout)};
  return {ec, std::string(phase) + lower_first(ec.message())};
}

/// True for errors that come from OpenSSL.
inline bool is_tls_error(error_code ec) {
  return ec.category() == asio::error::get_ssl_category() || ec == asio::ssl::error::stream_truncated;
}

/// A TLS error as a sentence; a rejected or missing client certificate says so.
inline std::string describe_tls_error(error_code ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
      return "the server requires a client certificate (TLS alert: certificate required)";
    if (reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
        reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN)
      return "the server rejected the client certificate (" + lower_first(ec.message()) + ")";
  }
  if (ec == asio::ssl::error::stream_truncated) return "TLS error: the peer closed the connection abruptly";
  return "TLS error: " + lower_first(ec.message());
}

/// Builds the client TLS context from `o`. Never puts key or certificate data in a message.
inline std::shared_ptr<asio::ssl::context> make_ssl_context(tls_options const& o, failure& f) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ::SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  auto fail = [&](std::string what) {
    f = {ec, what + ": " + lower_first(ec.message())};
    return nullptr;
  };
  if (!o.ca_data.empty()) {
    ctx->add_certificate_authority(asio::buffer(o.ca_data), ec);
    if (ec) return fail("cannot load the certificate-authority data");
  } else if (!o.ca_file.empty()) {
    ctx->load_verify_file(o.ca_file, ec);
    if (ec) return fail("cannot load the CA file " + o.ca_file);
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) return fail("cannot load the system's trusted certificates");
  }
  bool has_cert = !o.client_cert_data.empty() || !o.client_cert_file.empty();
  bool has_key = !o.client_key_data.empty() || !o.client_key_file.empty();
  if (has_cert != has_key) {
    f = {make_error_code(error::invalid_spec),
         has_cert ? "a client certificate needs its private key" : "a client key needs its certificate"};
    return nullptr;
  }
  if (!o.client_cert_data.empty()) {
    ctx->use_certificate_chain(asio::buffer(o.client_cert_data), ec);
    if (ec) return fail("cannot load the client certificate data");
  } else if (!o.client_cert_file.empty()) {
    ctx->use_certificate_chain_file(o.client_cert_file, ec);
    if (ec) return fail("cannot load the client certificate file " + o.client_cert_file);
  }
  if (!o.client_key_data.empty()) {
    ctx->use_private_key(asio::buffer(o.client_key_data), asio::ssl::context::pem, ec);
    if (ec) return fail("cannot load the client key data");
  } else if (!o.client_key_file.empty()) {
    ctx->use_private_key_file(o.client_key_file, asio::ssl::context::pem, ec);
    if (ec) return fail("cannot load the client key file " + o.client_key_file);
  }
  if (has_cert && ::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    f = {make_error_code(error::invalid_spec), "the client key does not match the client certificate"};
    return nullptr;
  }
  ctx->set_verify_mode(o.insecure_skip_verify ? asio::ssl::verify_none : asio::ssl::verify_peer);
  return ctx;
}

/** Connects to `ep`: resolve (TCP/TLS), connect, TLS handshake with SNI and
    host name verification. Each step ends by `deadline`; `connect_timeout` is
    what a timeout message reports. */
inline std::unique_ptr<connection> connect(asio::io_context& ioc, endpoint const& ep, tls_options const& tls,
                                           asio::ssl::context* ssl_ctx, clock::time_point deadline,
                                           std::chrono::milliseconds connect_timeout, failure& f) {
  error_code ec;
  if (ep.kind == transport_kind::unix_socket) {
    auto c = std::make_unique<connection>(std::in_place_type<unix_stream>, ioc.get_executor());
    auto& s = std::get<unix_stream>(c->stream);
    s.expires_at(deadline);
    ec = run_sync(ioc, [&](auto h) { s.async_connect(asio::local::stream_protocol::endpoint(ep.socket_path), std::move(h)); });
    if (ec) {
      f = describe_io_error(ec, connect_timeout, "connect ");
      if (!(ec == beast::error::timeout)) f.detail = "cannot connect to the socket: " + lower_first(ec.message());
      return nullptr;
    }
    return c;
  }

  // Resolve. An IP literal needs no resolver; a name is looked up with the deadline enforced by run_until.
  asio::ip::tcp::resolver::results_type endpoints;
  if (ep.host_is_ip) {
    auto address = asio::ip::make_address(ep.host, ec);
    if (ec) {
      f = {ec, "invalid address"};
      return nullptr;
    }
    endpoints = asio::ip::tcp::resolver::results_type::create(asio::ip::tcp::endpoint(address, ep.port), ep.host,
                                                               std::to_string(ep.port));
  } else {
    asio::ip::tcp::resolver resolver(ioc);
    bool done = false;
    resolver.async_resolve(ep.host, std::to_string(ep.port),
                           [&](error_code e, asio::ip::tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             done = true;
                           });
    ioc.restart();
    ioc.run_until(deadline);
    if (!done) {
      resolver.cancel();
      ioc.restart();
      ioc.run();
      f = {make_error_code(error::timeout), "resolving " + ep.host + " timed out after " + format_duration(connect_timeout)};
      return nullptr;
    }
    if (ec) {
      f = {ec, "cannot resolve " + ep.host + ": " + lower_first(ec.message())};
      return nullptr;
    }
  }

  std::unique_ptr<connection> c;
  tcp_stream* tcp = nullptr;
  if (ep.kind == transport_kind::tls) {
    c = std::make_unique<connection>(std::in_place_type<tls_stream>, ioc.get_executor(), *ssl_ctx);
    tcp = &beast::get_lowest_layer(std::get<tls_stream>(c->stream));
  } else {
    c = std::make_unique<connection>(std::in_place_type<tcp_stream>, ioc.get_executor());
    tcp = &std::get<tcp_stream>(c->stream);
  }
  tcp->expires_at(deadline);
  ec = run_sync(ioc, [&](auto h) { tcp->async_connect(endpoints, std::move(h)); });
  if (ec) {
    f = describe_io_error(ec, connect_timeout, "connect ");
    if (!(ec == beast::error::timeout)) f.detail = lower_first(ec.message());
    return nullptr;
  }
  tcp->socket().set_option(asio::ip::tcp::no_delay(true), ec);
  if (ep.kind != transport_kind::tls) return c;

  auto& s = std::get<tls_stream>(c->stream);
  std::string const& name = tls.server_name.empty() ? ep.host : tls.server_name;
  bool name_is_ip = tls.server_name.empty() ? ep.host_is_ip : false;
  if (!name_is_ip) {
    asio::ip::make_address(name, ec);
    name_is_ip = !ec;
  }
  // SNI carries host names only (RFC 6066); an IP literal is checked against the certificate's IP SANs.
  if (!name_is_ip && ::SSL_set_tlsext_host_name(s.native_handle(), name.c_str()) != 1) {
    f = {make_error_code(error::invalid_spec), "invalid TLS server name '" + name + "'"};
    return nullptr;
  }
  if (!tls.insecure_skip_verify) s.set_verify_callback(asio::ssl::host_name_verification(name));
  ec = run_sync(ioc, [&](auto h) { s.async_handshake(asio::ssl::stream_base::client, std::move(h)); });
  if (ec) {
    if (ec == beast::error::timeout) {
      f = describe_io_error(ec, connect_timeout, "TLS handshake ");
      return nullptr;
    }
    long verify = ::SSL_get_verify_result(s.native_handle());
    // host_name_verification rejects a valid chain without an OpenSSL reason of its own.
    if (!tls.insecure_skip_verify && (verify == X509_V_ERR_UNSPECIFIED ||
                                      (verify == X509_V_OK && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                                                                  SSL_R_CERTIFICATE_VERIFY_FAILED)))
      f = {ec, "TLS certificate verification failed: the certificate is not valid for '" + name + "'"};
    else if (!tls.insecure_skip_verify && verify != X509_V_OK)
      f = {ec, "TLS certificate verification failed: " + std::string(::X509_verify_cert_error_string(verify))};
    else
      f = {ec, "TLS handshake failed: " + describe_tls_error(ec)};
    return nullptr;
  }
  return c;
}

}  // namespace liftoff::net::detail

#endif
