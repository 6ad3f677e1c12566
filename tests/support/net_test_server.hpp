#ifndef LIFTOFF_TESTS_SUPPORT_NET_TEST_SERVER_HPP
#define LIFTOFF_TESTS_SUPPORT_NET_TEST_SERVER_HPP

// A small HTTP/1.1 server for tests, on its own threads, over TCP, a unix
// socket or TLS (optionally requiring a client certificate). A test supplies
// the handler; fake Docker, Kubernetes and AWS servers build on it.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace liftoff::test {

/// A request as the server received it (a chunked body arrives decoded).
struct net_server_request {
  std::string method;                          ///< "GET"
  std::string target;                          ///< "/v1/x?y=1"
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  bool chunked = false;             ///< the body came with Transfer-Encoding: chunked
  std::string client_cert_subject;  ///< the TLS client certificate's subject, if one was presented

  /// The value of header `name` (any case), or "".
  std::string header(std::string_view name) const;
};

using net_header_list = std::vector<std::pair<std::string, std::string>>;

/// One request on a connection, and the means to answer it.
class net_exchange {
public:
  virtual ~net_exchange() = default;
  net_server_request const& request() const noexcept { return request_; }

  /// Sends a whole response with Content-Length.
  virtual void respond(unsigned status, std::string body = {}, net_header_list const& headers = {}) = 0;
  /// Starts a chunked response: status line and headers.
  virtual void begin_chunked(unsigned status, net_header_list const& headers = {}) = 0;
  /// Sends one chunk now.
  virtual void send_chunk(std::string_view data) = 0;
  /// Ends a chunked response.
  virtual void end_chunked() = 0;
  /// Closes the connection after this exchange, whatever keep-alive says.
  void close_after() noexcept { close_ = true; }
  /** Blocks until the server is stopping or `d` has passed (a server that
      never answers). Returns true when the server is stopping. */
  virtual bool wait_for_stop(std::chrono::milliseconds d) = 0;

protected:
  net_server_request request_;
  bool close_ = false;
  friend class net_test_server;
};

using net_handler = std::function<void(net_exchange&)>;

/** The server. It listens from construction until `stop()` or destruction;
    each connection is served on its own thread, requests in order. */
class net_test_server {
public:
  struct tls_config {
    std::string cert_pem;       ///< server certificate (chain)
    std::string key_pem;        ///< its key
    std::string client_ca_pem;  ///< when set, a client certificate signed by this CA is required
    bool client_cert_optional = false;  ///< with client_ca_pem: a certificate is checked when presented, not required
  };

  /// Plain HTTP on 127.0.0.1, an ephemeral port.
  static std::unique_ptr<net_test_server> tcp(net_handler handler);
  /// HTTPS on 127.0.0.1, an ephemeral port.
  static std::unique_ptr<net_test_server> tls(net_handler handler, tls_config config);
  /// Plain HTTP on a unix socket at `path`.
  static std::unique_ptr<net_test_server> unix_socket(net_handler handler, std::filesystem::path const& path);

  ~net_test_server();
  net_test_server(net_test_server const&) = delete;
  net_test_server& operator=(net_test_server const&) = delete;

  /// "http://127.0.0.1:PORT", "https://127.0.0.1:PORT" or "unix:///path".
  std::string url() const;
  unsigned short port() const noexcept;
  int requests() const noexcept;     ///< requests received so far
  int connections() const noexcept;  ///< connections accepted so far
  /// Stops listening, wakes waiting handlers, closes connections and joins all threads.
  void stop();

  struct impl;

private:
  explicit net_test_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace liftoff::test

#endif
