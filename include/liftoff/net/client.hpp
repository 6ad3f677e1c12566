#ifndef LIFTOFF_NET_CLIENT_HPP
#define LIFTOFF_NET_CLIENT_HPP

/** liftoff's HTTP/1.1 client: Boost.Beast over a unix socket, TCP or TLS,
    with streaming bodies, timeouts, retries with backoff for idempotent
    requests, and request signers. Every backend (Docker, Kubernetes, AWS)
    talks through it. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/net/endpoint.hpp>
#include <liftoff/net/tls.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace boost::asio::ssl {
class context;
}

namespace liftoff::net {

namespace detail {
struct client_state;
struct stream_state;
}  // namespace detail

struct request;

/** Called on every attempt of a request just before it is sent (after Host,
    User-Agent and the body framing headers are set, with the endpoint's base
    path already in `target`), to add credentials: a bearer token, an AWS
    Signature V4. Returning a diagnostic fails the request without sending it. */
using request_signer = std::function<result<void>(request&)>;

/// A signer that sets `Authorization: Bearer <token>`.
request_signer bearer_token_signer(std::string token);

/** A client TLS context built once and shared by many clients (a connection
    pool, a log stream per pod), so its trusted CAs and client certificate
    are loaded, and held in memory, once. */
using shared_tls_context = std::shared_ptr<boost::asio::ssl::context>;

/** Builds a shared TLS context from `o`. Errors say what could not be loaded
    (never the key or certificate data). */
result<shared_tls_context> make_tls_context(tls_options const& o);

/// How a client connects, waits and retries.
struct client_options {
  /// Limit for establishing a connection (resolve, connect, TLS handshake), per attempt.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /** Limit for one attempt of a request, from connecting to the end of the
      response for `send`, or to the end of the response headers for `open`.
      Zero means no limit. */
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  /** For `response_stream`: the longest wait for more body data. Zero (the
      default) waits forever, as log and watch streams may stay quiet. */
  std::chrono::milliseconds read_timeout{0};
  /// Attempts per idempotent request, the first one included (1 disables retries).
  int max_attempts = 3;
  std::chrono::milliseconds backoff_base{100};                    ///< delay before the first retry (before jitter)
  std::chrono::milliseconds backoff_max{std::chrono::seconds(5)};  ///< cap of the exponential delay
  /// A `Retry-After` longer than this is not waited for: the 429/503 response is returned as it is.
  std::chrono::milliseconds max_retry_after{std::chrono::seconds(60)};
  /// Largest response body `send` accepts (also the longest line `read_line` accepts).
  std::uint64_t max_body_size = 64ull * 1024 * 1024;
  std::string user_agent = "liftoff/0.1";  ///< sent unless the request sets its own
  tls_options tls;                         ///< used for `https://` endpoints
  /// When set, used for `https://` endpoints instead of a context built from `tls`.
  shared_tls_context tls_context;
  request_signer signer;                   ///< optional; see `request_signer`
};

/** Produces a request body in chunks (a tar stream being built, a file being
    read). Writes up to `buffer.size()` bytes into `buffer` and returns how many;
    returns 0 at the end. Setting `ec` aborts the request. Called on the
    client's thread while the request is being sent. */
using body_reader = std::function<std::size_t(std::span<char> buffer, error_code& ec)>;

/// An HTTP request. `target` is relative to the endpoint's base path.
struct request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target = "/";            ///< origin-form: path and query, e.g. "/v1.41/containers/json?all=1"
  boost::beast::http::fields headers;  ///< extra headers (Content-Type, Accept, …)
  std::string body;                    ///< the body, sent with Content-Length; ignored when `body_source` is set
  /** A streamed body, sent with `Transfer-Encoding: chunked`. It can be read
      only once, so a request with a body source is retried only when nothing
      of it was sent yet (a failed connect). */
  body_reader body_source;
  /** Whether the request may be repeated: by default true for GET, HEAD, PUT,
      DELETE and OPTIONS, false otherwise. Set it for a POST that is safe to repeat. */
  std::optional<bool> idempotent;
  /** When true (the default), a final status of 400 or above is an
      `error::http_status` failure; when false the response is returned
      whatever its status. */
  bool check_status = true;

  /// `idempotent` if set, else whether `method` is idempotent.
  bool is_idempotent() const noexcept;
};

/// A whole response, as returned by `client::send`.
struct response {
  unsigned status = 0;                 ///< e.g. 200
  std::string reason;                  ///< e.g. "OK"
  boost::beast::http::fields headers;  ///< all response headers
  std::string body;
  std::string summary;  ///< method and URL of the request, secrets removed ("GET http://…/version"), for messages

  bool ok() const noexcept { return status >= 200 && status < 300; }
};

/** The failure a response with an error status stands for:
    `error::http_status` and "GET http://…/x: 404 Not Found: {body excerpt}". */
diagnostic http_status_error(response const& r);

/** A response whose body is read as it arrives: log follows, watch streams,
    large downloads. Read it with `read_some` or `read_line` until they report
    the end; a fully read response gives its connection back to the client for
    reuse. Movable; it may outlive the client it came from. */
class response_stream {
public:
  response_stream(response_stream&&) noexcept;
  response_stream& operator=(response_stream&&) noexcept;
  ~response_stream();

  unsigned status() const noexcept;
  std::string const& reason() const noexcept;
  boost::beast::http::fields const& headers() const noexcept;
  std::string const& summary() const noexcept;  ///< "GET http://…/x", for messages

  /// True once the whole body has been read.
  bool done() const noexcept;

  /** Reads the next bytes of the body into `buffer`, waiting until at least one
      byte arrives (up to `client_options::read_timeout`).
      @return the number of bytes read; 0 at the end of the body. */
  result<std::size_t> read_some(std::span<char> buffer);
  /// As `read_some`; throws `liftoff::exception`.
  std::size_t read_some_or_throw(std::span<char> buffer);

  /** Reads the next line of the body, without its "\n" or "\r\n"; a last line
      without a newline is returned too.
      @return the line, or nullopt at the end of the body. A line longer than
      `client_options::max_body_size` fails with `error::body_too_large`. */
  result<std::optional<std::string>> read_line();
  /// As `read_line`; throws `liftoff::exception`.
  std::optional<std::string> read_line_or_throw();

  /// Reads the rest of the body (at most `client_options::max_body_size` bytes).
  result<std::string> read_all();

  /// Stops reading: the connection is closed unless the body was fully read.
  void close() noexcept;

  /** Interrupts the stream from any thread: a read blocked in another thread
      returns (with an error), later reads fail, and the connection is not
      reused. The one member that may be called while another thread uses
      the stream (to stop a log follow or a watch). */
  void cancel() noexcept;

private:
  friend class client;
  explicit response_stream(std::unique_ptr<detail::stream_state> s) noexcept;
  std::unique_ptr<detail::stream_state> s_;
};

/** An HTTP/1.1 client bound to one endpoint. It keeps one idle connection
    alive between requests when the server allows it.

    A client and the streams it opened are used from one thread at a time.
    Synchronous calls run Asio operations on the client's private io_context. */
class client {
public:
  /// A client for `ep`. Nothing is connected until the first request.
  explicit client(endpoint ep, client_options options = {});
  /// Parses `endpoint_url` (see `parse_endpoint`) and makes a client for it.
  static result<client> create(std::string_view endpoint_url, client_options options = {});

  client(client&&) noexcept;
  client& operator=(client&&) noexcept;
  ~client();

  /** Sends `req` and reads the whole response, retrying idempotent requests on
      connection errors and on 429/502/503/504 with exponential backoff and
      jitter (honouring `Retry-After`).
      @return the response, or a diagnostic whose sentence names the method,
      the URL without secrets and what went wrong: a system error code
      (connection refused…), `error::timeout`, `error::body_too_large`,
      `error::protocol_error`, or `error::http_status` (see `request::check_status`). */
  result<response> send(request req);
  /// As `send`; throws `liftoff::exception`.
  response send_or_throw(request req);

  /** Sends `req` and returns once the response headers have arrived, leaving
      the body to be read from the returned stream. Retries as `send` does.
      With `check_status`, an error status fails with `error::http_status`
      (the message carries an excerpt of the body). */
  result<response_stream> open(request req);
  /// As `open`; throws `liftoff::exception`.
  response_stream open_or_throw(request req);

  endpoint const& get_endpoint() const noexcept;
  client_options const& options() const noexcept;

private:
  std::shared_ptr<detail::client_state> state_;
};

}  // namespace liftoff::net

#if LIFTOFF_HEADER_ONLY
#include <liftoff/net/impl/client.ipp>
#endif

#endif
