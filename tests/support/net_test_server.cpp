#include "support/net_test_server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace liftoff::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string net_server_request::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

enum class server_kind { tcp, tls, unix_socket };

struct net_test_server::impl {
  server_kind kind;
  net_handler handler;
  asio::io_context ioc;
  std::optional<asio::ip::tcp::acceptor> tcp_acceptor;
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<asio::ssl::context> ssl;
  std::filesystem::path socket_path;
  unsigned short port = 0;

  std::atomic<int> requests{0};
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable stop_cv;
  std::set<int> open_fds;
  std::vector<std::thread> threads;
  std::thread accept_thread;

  bool wait_for_stop(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex);
    return stop_cv.wait_for(lock, d, [&] { return stopping.load(); });
  }

  template <class Stream>
  struct exchange final : net_exchange {
    exchange(Stream& s, impl& server) : stream(s), srv(server) {}
    Stream& stream;
    impl& srv;

    static void add(http::fields& f, net_header_list const& headers) {
      for (auto const& [k, v] : headers) f.insert(k, v);
    }
    void respond(unsigned status, std::string body, net_header_list const& headers) override {
      http::response<http::string_body> res(static_cast<http::status>(status), 11);
      add(res, headers);
      res.body() = std::move(body);
      res.prepare_payload();
      res.keep_alive(!close_);
      if (request().method == "HEAD") {  // the headers of a GET, without its body
        http::response_serializer<http::string_body> sr(res);
        http::write_header(stream, sr);
        return;
      }
      http::write(stream, res);
    }
    void begin_chunked(unsigned status, net_header_list const& headers) override {
      http::response<http::empty_body> res(static_cast<http::status>(status), 11);
      add(res, headers);
      res.chunked(true);
      res.keep_alive(!close_);
      http::response_serializer<http::empty_body> sr(res);
      http::write_header(stream, sr);
    }
    void send_chunk(std::string_view data) override {
      asio::write(stream, http::make_chunk(asio::buffer(data.data(), data.size())));
    }
    void end_chunked() override { asio::write(stream, http::make_chunk_last()); }
    bool wait_for_stop(std::chrono::milliseconds d) override { return srv.wait_for_stop(d); }
  };

  template <class Stream>
  void serve(Stream& stream, std::string const& client_subject) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1ull << 30);
      boost::system::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec) return;
      auto& msg = parser.get();
      exchange<Stream> ex(stream, *this);
      ex.request_.method = std::string(msg.method_string());
      ex.request_.target = std::string(msg.target());
      for (auto const& f : msg) ex.request_.headers[lower(f.name_string())] = std::string(f.value());
      ex.request_.body = std::move(msg.body());
      ex.request_.chunked = parser.chunked();
      ex.request_.client_cert_subject = client_subject;
      ++requests;
      try {
        handler(ex);
      } catch (std::exception const&) {
        return;
      }
      if (ex.close_ || !msg.keep_alive() || stopping) return;
    }
  }

  void track(int fd, bool add) {
    std::lock_guard lock(mutex);
    if (add) open_fds.insert(fd);
    else open_fds.erase(fd);
  }

  template <class Socket>
  void on_connection(Socket socket) {
    ++connections;
    int fd = socket.native_handle();
    try {
      if (kind == server_kind::tls) {
        asio::ssl::stream<Socket&> tls(socket, *ssl);
        boost::system::error_code ec;
        tls.handshake(asio::ssl::stream_base::server, ec);
        if (!ec) {
          std::string subject;
          if (X509* peer = SSL_get1_peer_certificate(tls.native_handle())) {
            char buf[256];
            X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof buf);
            subject = buf;
            X509_free(peer);
          }
          serve(tls, subject);
          tls.shutdown(ec);
        }
      } else {
        serve(socket, {});
      }
    } catch (std::exception const&) {
    }
    track(fd, false);
    boost::system::error_code ec;
    socket.close(ec);
  }

  template <class Acceptor>
  void accept_loop(Acceptor& acceptor) {
    for (;;) {
      boost::system::error_code ec;
      auto socket = acceptor.accept(ec);
      if (stopping) return;
      if (ec) {
        if (ec == asio::error::interrupted || ec == asio::error::connection_aborted) continue;
        return;
      }
      std::lock_guard lock(mutex);
      // Tracked before the thread starts, so that stop() shuts every connection down.
      open_fds.insert(socket.native_handle());
      threads.emplace_back([this, s = std::move(socket)]() mutable { on_connection(std::move(s)); });
    }
  }
};

net_test_server::net_test_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {
  auto* i = impl_.get();
  if (i->tcp_acceptor) i->accept_thread = std::thread([i] { i->accept_loop(*i->tcp_acceptor); });
  else i->accept_thread = std::thread([i] { i->accept_loop(*i->unix_acceptor); });
}

net_test_server::~net_test_server() { stop(); }

namespace {
std::unique_ptr<net_test_server::impl> make_tcp_impl(net_handler handler, server_kind kind) {
  auto i = std::make_unique<net_test_server::impl>();
  i->kind = kind;
  i->handler = std::move(handler);
  i->tcp_acceptor.emplace(i->ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  i->port = i->tcp_acceptor->local_endpoint().port();
  return i;
}
}  // namespace

std::unique_ptr<net_test_server> net_test_server::tcp(net_handler handler) {
  return std::unique_ptr<net_test_server>(new net_test_server(make_tcp_impl(std::move(handler), server_kind::tcp)));
}

std::unique_ptr<net_test_server> net_test_server::tls(net_handler handler, tls_config config) {
  auto i = make_tcp_impl(std::move(handler), server_kind::tls);
  i->ssl.emplace(asio::ssl::context::tls_server);
  i->ssl->use_certificate_chain(asio::buffer(config.cert_pem));
  i->ssl->use_private_key(asio::buffer(config.key_pem), asio::ssl::context::pem);
  if (!config.client_ca_pem.empty()) {
    i->ssl->add_certificate_authority(asio::buffer(config.client_ca_pem));
    i->ssl->set_verify_mode(config.client_cert_optional
                                ? asio::ssl::verify_peer
                                : asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  }
  return std::unique_ptr<net_test_server>(new net_test_server(std::move(i)));
}

std::unique_ptr<net_test_server> net_test_server::unix_socket(net_handler handler, std::filesystem::path const& path) {
  auto i = std::make_unique<impl>();
  i->kind = server_kind::unix_socket;
  i->handler = std::move(handler);
  i->socket_path = path;
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  i->unix_acceptor.emplace(i->ioc, asio::local::stream_protocol::endpoint(path.string()));
  return std::unique_ptr<net_test_server>(new net_test_server(std::move(i)));
}

std::string net_test_server::url() const {
  switch (impl_->kind) {
    case server_kind::tcp: return "http://127.0.0.1:" + std::to_string(impl_->port);
    case server_kind::tls: return "https://127.0.0.1:" + std::to_string(impl_->port);
    case server_kind::unix_socket: return "unix://" + impl_->socket_path.string();
  }
  return {};
}

unsigned short net_test_server::port() const noexcept { return impl_->port; }
int net_test_server::requests() const noexcept { return impl_->requests; }
int net_test_server::connections() const noexcept { return impl_->connections; }

void net_test_server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_cv.notify_all();
  }
  // shutdown() wakes the threads blocked in accept() and read() on these descriptors.
  int listen_fd = impl_->tcp_acceptor ? impl_->tcp_acceptor->native_handle() : impl_->unix_acceptor->native_handle();
  ::shutdown(listen_fd, SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
    threads = std::move(impl_->threads);
  }
  for (auto& t : threads) t.join();
  boost::system::error_code ec;
  if (impl_->tcp_acceptor) impl_->tcp_acceptor->close(ec);
  if (impl_->unix_acceptor) {
    impl_->unix_acceptor->close(ec);
    std::error_code ignored;
    std::filesystem::remove(impl_->socket_path, ignored);
  }
}

}  // namespace liftoff::test
