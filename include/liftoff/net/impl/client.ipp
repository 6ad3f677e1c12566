#ifndef LIFTOFF_NET_IMPL_CLIENT_IPP
#define LIFTOFF_NET_IMPL_CLIENT_IPP

#include <liftoff/net/client.hpp>

#include <liftoff/net/detail/connection.hpp>
#include <liftoff/net/detail/text.hpp>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>

#include <boost/optional/optional.hpp>

#include <array>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace liftoff::net {

namespace detail {

namespace http = boost::beast::http;

struct client_state {
  client_state(endpoint e, client_options o) : ep(std::move(e)), opts(std::move(o)), rng(std::random_device{}()) {}

  endpoint ep;
  client_options opts;
  asio::io_context ioc{1};
  std::shared_ptr<asio::ssl::context> ssl_ctx;  // built on the first TLS connect
  std::unique_ptr<connection> idle;             // kept alive between requests
  std::minstd_rand rng;                         // backoff jitter
};

using response_parser = http::response_parser<http::buffer_body>;

/// Everything a response being read needs, shared by `send` and `response_stream`.
struct stream_state {
  std::shared_ptr<client_state> client;
  std::unique_ptr<connection> conn;
  std::unique_ptr<response_parser> parser;
  unsigned status = 0;
  std::string reason;
  http::fields headers;
  std::string summary;               // "GET http://host/x"
  std::vector<std::string> secrets;  // credential values to scrub from messages
  std::string pending;               // bytes read ahead by read_line
  bool finished = false;
  std::mutex conn_m;                 // guards `conn` against cancel() from another thread
  std::atomic<bool> cancelled{false};

  diagnostic fail(error_code ec, std::string const& detail) const {
    return diagnostic(ec, scrub(summary + ": " + detail, secrets));
  }

  /// Gives the connection back to the client when the response allows it, else closes it.
  void release() noexcept {
    std::lock_guard lock(conn_m);
    if (!conn) return;
    if (!cancelled && finished && parser && parser->get().keep_alive() && conn->is_open()) {
      conn->reused = true;
      conn->expires_at(clock::time_point::max());
      client->idle = std::move(conn);
    } else {
      conn->close();
      conn.reset();
    }
  }

  /// Reads body bytes from the wire (not from `pending`); 0 at the end.
  result<std::size_t> read_wire(std::span<char> buffer, clock::time_point deadline, std::chrono::milliseconds limit) {
    if (cancelled) return fail(asio::error::operation_aborted, "the stream was cancelled");
    if (finished || buffer.empty()) return std::size_t(0);
    while (!parser->is_done()) {
      auto& body = parser->get().body();
      body.data = buffer.data();
      body.size = buffer.size();
      conn->expires_at(deadline);
      auto ec = conn->visit([&](auto& s) {
        return run_sync(client->ioc, [&](auto h) { http::async_read_some(s, conn->buffer, *parser, std::move(h)); });
      });
      if (ec == http::error::need_buffer) ec = {};
      std::size_t n = buffer.size() - body.size;
      body.data = nullptr;
      if (cancelled) return fail(asio::error::operation_aborted, "the stream was cancelled");
      if (ec) {
        if (ec == http::error::body_limit)
          return fail(make_error_code(error::body_too_large),
                      "the response body exceeds the limit of " + std::to_string(client->opts.max_body_size) + " bytes");
        auto f = describe_io_error(ec, limit, "reading the response body ");
        if (!(ec == beast::error::timeout)) f.detail = "reading the response body: " + lower_first(ec.message());
        return fail(f.ec, f.detail);
      }
      if (n > 0) return n;
    }
    finished = true;
    release();
    return std::size_t(0);
  }

  clock::time_point read_deadline() const {
    auto t = client->opts.read_timeout;
    return t.count() > 0 ? clock::now() + t : clock::time_point::max();
  }

  /// Reads the rest of the body into `out`, up to `limit` bytes in total.
  result<void> read_rest(std::string& out, std::uint64_t limit, clock::time_point deadline,
                         std::chrono::milliseconds timeout) {
    out += pending;
    pending.clear();
    std::array<char, 16384> buf;
    for (;;) {
      auto n = read_wire(buf, deadline, timeout);
      if (!n) return n.error();
      if (*n == 0) return {};
      if (out.size() + *n > limit)
        return fail(make_error_code(error::body_too_large),
                    "the response body exceeds the limit of " + std::to_string(limit) + " bytes");
      out.append(buf.data(), *n);
    }
  }
};

LIFTOFF_DECL bool retryable_status(unsigned s) { return s == 429 || s == 502 || s == 503 || s == 504; }

/// Header values that are credentials, to scrub from anything printed.
LIFTOFF_DECL std::vector<std::string> secret_values(http::fields const& h) {
  std::vector<std::string> out;
  for (auto const& f : h) {
    auto name = to_lower(f.name_string());
    if (name == "authorization" || name == "proxy-authorization" || name == "cookie" || name == "x-auth-token" ||
        name == "x-registry-auth" || name == "x-amz-security-token") {
      std::string v(f.value());
      out.push_back(v);
      // "Bearer abc" / "Basic abc" / "AWS4-HMAC-SHA256 Credential=…, Signature=abc": the parts too.
      for (std::size_t start = 0; start < v.size();) {
        auto end = v.find_first_of(" ,=", start);
        if (end == std::string::npos) end = v.size();
        if (end - start >= 8) out.push_back(v.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  return out;
}

LIFTOFF_DECL std::string describe_request(endpoint const& ep, http::verb method, std::string_view target) {
  std::string m(http::to_string(method));
  if (ep.kind == transport_kind::unix_socket) return m + " " + ep.to_string() + ":" + redact_target(target);
  return m + " " + ep.to_string() + redact_target(target);
}

/** Sends `req` with retries and reads the response headers. `body_limit` is
    the parser's body limit (none for streams). `deadline_out` receives the
    deadline of the successful attempt, for reading the body in `send`. */
LIFTOFF_DECL result<std::unique_ptr<stream_state>> open_impl(std::shared_ptr<client_state> const& st, request const& req,
                                                        boost::optional<std::uint64_t> body_limit,
                                                        clock::time_point& deadline_out) {
  auto const& opts = st->opts;
  auto const& ep = st->ep;
  bool const idempotent = req.is_idempotent();
  bool const has_source = static_cast<bool>(req.body_source);
  int const max_attempts = std::max(1, opts.max_attempts);
  std::string summary = describe_request(ep, req.method, req.target);
  std::vector<std::string> secrets;
  auto fail = [&](error_code ec, std::string const& detail) {
    return diagnostic(ec, scrub(summary + ": " + detail, secrets));
  };

  if (ep.kind == transport_kind::tls && !st->ssl_ctx) {
    failure f;
    st->ssl_ctx = opts.tls_context ? opts.tls_context : make_ssl_context(opts.tls, f);
    if (!st->ssl_ctx) return fail(f.ec, f.detail);
  }

  bool body_consumed = false;
  bool stale_retry_used = false;
  for (int attempt = 1;; ++attempt) {
    // Each attempt is signed afresh: signatures carry timestamps.
    request out;
    out.method = req.method;
    out.target = ep.base_path + (req.target.empty() || req.target.front() != '/' ? "/" : "") + req.target;
    out.headers = req.headers;
    out.idempotent = req.idempotent;
    if (out.headers.find(http::field::host) == out.headers.end()) out.headers.set(http::field::host, ep.host_header());
    if (out.headers.find(http::field::user_agent) == out.headers.end() && !opts.user_agent.empty())
      out.headers.set(http::field::user_agent, opts.user_agent);
    out.headers.erase(http::field::content_length);
    out.headers.erase(http::field::transfer_encoding);
    if (has_source) {
      out.headers.set(http::field::transfer_encoding, "chunked");
    } else {
      out.body = req.body;
      bool bodyless = req.method == http::verb::get || req.method == http::verb::head ||
                      req.method == http::verb::delete_ || req.method == http::verb::options;
      if (!req.body.empty() || !bodyless) out.headers.set(http::field::content_length, std::to_string(req.body.size()));
    }
    if (opts.signer) {
      auto signed_ok = opts.signer(out);
      secrets = secret_values(out.headers);
      if (!signed_ok) return fail(signed_ok.error().code, "signing the request failed: " + signed_ok.error().what());
    }
    secrets = secret_values(out.headers);

    auto const start = clock::now();
    auto const deadline = opts.request_timeout.count() > 0 ? start + opts.request_timeout : clock::time_point::max();
    bool can_retry = idempotent && attempt < max_attempts;

    auto retry_wait = [&](std::optional<std::chrono::milliseconds> hint) {
      auto d = hint ? *hint : backoff_delay(attempt, opts.backoff_base, opts.backoff_max, st->rng);
      std::this_thread::sleep_for(d);
    };

    // Connect, or reuse the idle connection.
    std::unique_ptr<connection> conn;
    if (st->idle && st->idle->is_open()) conn = std::move(st->idle);
    st->idle.reset();
    if (!conn) {
      failure f;
      auto connect_deadline = std::min(deadline, start + opts.connect_timeout);
      if (opts.connect_timeout.count() <= 0) connect_deadline = deadline;
      conn = connect(st->ioc, ep, opts.tls, st->ssl_ctx.get(), connect_deadline, opts.connect_timeout, f);
      if (!conn) {
        // Nothing was sent; a verification failure will not heal by retrying.
        bool tls_verify = f.detail.starts_with("TLS certificate");
        if (can_retry && !tls_verify && !body_consumed) {
          retry_wait(std::nullopt);
          continue;
        }
        std::string d = f.detail;
        if (attempt > 1) d += " (after " + std::to_string(attempt) + " attempts)";
        return fail(f.ec, d);
      }
    }
    bool const reused = conn->reused;
    conn->expires_at(deadline);

    // Write the request: header, then the body in one piece or chunk by chunk.
    http::request<http::buffer_body> msg(out.method, out.target, 11);
    for (auto const& f : out.headers) msg.insert(f.name_string(), f.value());
    http::request_serializer<http::buffer_body> sr(msg);
    error_code ec;
    std::string body_error;
    auto write = [&] {
      return conn->visit([&](auto& s) {
        return run_sync(st->ioc, [&](auto h) { http::async_write(s, sr, std::move(h)); });
      });
    };
    if (!has_source) {
      msg.body().data = out.body.empty() ? nullptr : out.body.data();
      msg.body().size = out.body.size();
      msg.body().more = false;
      ec = write();
    } else {
      ec = conn->visit([&](auto& s) {
        return run_sync(st->ioc, [&](auto h) { http::async_write_header(s, sr, std::move(h)); });
      });
      std::vector<char> chunk(64 * 1024);
      while (!ec) {
        body_consumed = true;
        error_code source_ec;
        std::size_t n = req.body_source(std::span<char>(chunk), source_ec);
        if (source_ec) {
          body_error = "the request body source failed: " + lower_first(source_ec.message());
          ec = source_ec;
          break;
        }
        msg.body().data = n ? chunk.data() : nullptr;
        msg.body().size = n;
        msg.body().more = n != 0;
        ec = write();
        if (ec == http::error::need_buffer) ec = {};
        if (n == 0) break;
      }
    }
    if (ec) {
      conn->close();
      if (!body_error.empty()) return fail(ec, body_error);
      if (reused && !has_source && !stale_retry_used) {
        // The server closed the kept-alive connection while it was idle.
        stale_retry_used = true;
        --attempt;
        continue;
      }
      auto f = describe_io_error(ec, opts.request_timeout, "sending the request ");
      if (!(ec == beast::error::timeout))
        f.detail = "sending the request: " + (is_tls_error(ec) ? describe_tls_error(ec) : lower_first(ec.message()));
      if (can_retry && !has_source && !(ec == beast::error::timeout)) {
        retry_wait(std::nullopt);
        continue;
      }
      return fail(f.ec, f.detail);
    }

    // Read the response headers.
    auto parser = std::make_unique<response_parser>();
    parser->body_limit(body_limit);
    if (req.method == http::verb::head) parser->skip(true);
    ec = conn->visit([&](auto& s) {
      return run_sync(st->ioc, [&](auto h) { http::async_read_header(s, conn->buffer, *parser, std::move(h)); });
    });
    if (ec) {
      conn->close();
      if (ec == http::error::body_limit)
        return fail(make_error_code(error::body_too_large),
                    "the response body exceeds the limit of " + std::to_string(opts.max_body_size) + " bytes");
      bool nothing_received = !parser->got_some();
      if (reused && nothing_received && !has_source && !stale_retry_used &&
          (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof)) {
        stale_retry_used = true;
        --attempt;
        continue;
      }
      failure f;
      if (ec == beast::error::timeout) {
        f = describe_io_error(ec, opts.request_timeout, "waiting for the response ");
      } else if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
                 !(ec == http::error::end_of_stream) && !(ec == http::error::partial_message)) {
        f = {make_error_code(error::protocol_error), "malformed response: " + lower_first(ec.message())};
      } else if (is_tls_error(ec)) {
        f = {ec, describe_tls_error(ec)};
      } else {
        f = {ec, (ec == http::error::end_of_stream ? std::string("the server closed the connection without answering")
                                                     : "reading the response: " + lower_first(ec.message()))};
      }
      if (can_retry && !has_source && !(ec == beast::error::timeout)) {
        retry_wait(std::nullopt);
        continue;
      }
      return fail(f.ec, f.detail);
    }

    auto const& head = parser->get();
    unsigned status = head.result_int();
    if (retryable_status(status) && can_retry && !has_source) {
      std::optional<std::chrono::milliseconds> hint;
      if (auto it = head.find(http::field::retry_after); it != head.end()) hint = parse_retry_after(it->value());
      if (!hint || *hint <= opts.max_retry_after) {
        conn->close();  // the error body is not worth reading to keep the connection
        retry_wait(hint);
        continue;
      }
    }

    auto s = std::make_unique<stream_state>();
    s->client = st;
    s->conn = std::move(conn);
    s->status = status;
    s->reason = std::string(head.reason());
    if (s->reason.empty()) s->reason = std::string(http::obsolete_reason(head.result()));
    s->headers = static_cast<http::fields const&>(head);
    s->summary = std::move(summary);
    s->secrets = std::move(secrets);
    s->parser = std::move(parser);
    if (s->parser->is_done()) {
      s->finished = true;
      s->release();
    }
    deadline_out = deadline;
    return s;
  }
}

LIFTOFF_DECL diagnostic status_failure(stream_state const& s, std::string_view body) {
  std::string text = std::to_string(s.status) + " " + s.reason;
  auto ex = excerpt(body);
  if (!ex.empty()) text += ": " + ex;
  return s.fail(make_error_code(error::http_status), text);
}

}  // namespace detail

// ---- request / response -----------------------------------------------------

LIFTOFF_DECL bool request::is_idempotent() const noexcept {
  if (idempotent) return *idempotent;
  using boost::beast::http::verb;
  return method == verb::get || method == verb::head || method == verb::put || method == verb::delete_ ||
         method == verb::options;
}

LIFTOFF_DECL request_signer bearer_token_signer(std::string token) {
  return [token = std::move(token)](request& r) -> result<void> {
    r.headers.set(boost::beast::http::field::authorization, "Bearer " + token);
    return {};
  };
}

LIFTOFF_DECL diagnostic http_status_error(response const& r) {
  std::string text = r.summary + ": " + std::to_string(r.status) + " " + r.reason;
  auto ex = detail::excerpt(r.body);
  if (!ex.empty()) text += ": " + ex;
  return diagnostic(error::http_status, std::move(text));
}

// ---- response_stream --------------------------------------------------------

LIFTOFF_DECL response_stream::response_stream(std::unique_ptr<detail::stream_state> s) noexcept : s_(std::move(s)) {}
LIFTOFF_DECL response_stream::response_stream(response_stream&&) noexcept = default;
inline response_stream& response_stream::operator=(response_stream&& other) noexcept {
  if (this != &other) {
    close();
    s_ = std::move(other.s_);
  }
  return *this;
}
LIFTOFF_DECL response_stream::~response_stream() { close(); }

LIFTOFF_DECL unsigned response_stream::status() const noexcept { return s_->status; }
LIFTOFF_DECL std::string const& response_stream::reason() const noexcept { return s_->reason; }
LIFTOFF_DECL boost::beast::http::fields const& response_stream::headers() const noexcept { return s_->headers; }
LIFTOFF_DECL std::string const& response_stream::summary() const noexcept { return s_->summary; }
LIFTOFF_DECL bool response_stream::done() const noexcept { return s_->finished && s_->pending.empty(); }

LIFTOFF_DECL void response_stream::close() noexcept {
  if (s_) s_->release();
}

LIFTOFF_DECL void response_stream::cancel() noexcept {
  if (!s_) return;
  s_->cancelled = true;
  std::lock_guard lock(s_->conn_m);
  // shutdown(2) wakes a read blocked on the socket in the other thread; the socket stays open until close().
  if (s_->conn)
    s_->conn->visit([](auto& s) {
      error_code ec;
      boost::beast::get_lowest_layer(s).socket().shutdown(boost::asio::socket_base::shutdown_both, ec);
    });
}

LIFTOFF_DECL result<std::size_t> response_stream::read_some(std::span<char> buffer) {
  if (!s_->pending.empty()) {
    std::size_t n = std::min(buffer.size(), s_->pending.size());
    std::copy_n(s_->pending.data(), n, buffer.data());
    s_->pending.erase(0, n);
    return n;
  }
  return s_->read_wire(buffer, s_->read_deadline(), s_->client->opts.read_timeout);
}

LIFTOFF_DECL std::size_t response_stream::read_some_or_throw(std::span<char> buffer) { return read_some(buffer).value(); }

LIFTOFF_DECL result<std::optional<std::string>> response_stream::read_line() {
  auto& s = *s_;
  std::size_t scanned = 0;
  std::array<char, 8192> buf;
  for (;;) {
    auto nl = s.pending.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = s.pending.substr(0, nl);
      s.pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return std::optional<std::string>(std::move(line));
    }
    scanned = s.pending.size();
    if (s.pending.size() > s.client->opts.max_body_size)
      return s.fail(make_error_code(error::body_too_large),
                    "a line of the response exceeds the limit of " + std::to_string(s.client->opts.max_body_size) +
                        " bytes");
    auto n = s.read_wire(buf, s.read_deadline(), s.client->opts.read_timeout);
    if (!n) return n.error();
    if (*n == 0) {
      if (s.pending.empty()) return std::optional<std::string>();
      std::string last = std::move(s.pending);
      s.pending.clear();
      return std::optional<std::string>(std::move(last));
    }
    s.pending.append(buf.data(), *n);
  }
}

LIFTOFF_DECL std::optional<std::string> response_stream::read_line_or_throw() { return read_line().value(); }

LIFTOFF_DECL result<std::string> response_stream::read_all() {
  std::string out;
  auto r = s_->read_rest(out, s_->client->opts.max_body_size, s_->read_deadline(), s_->client->opts.read_timeout);
  if (!r) return r.error();
  return out;
}

// ---- client -----------------------------------------------------------------

LIFTOFF_DECL result<shared_tls_context> make_tls_context(tls_options const& o) {
  detail::failure f;
  auto ctx = detail::make_ssl_context(o, f);
  if (!ctx) return diagnostic(f.ec, f.detail);
  return ctx;
}

LIFTOFF_DECL client::client(endpoint ep, client_options options)
    : state_(std::make_shared<detail::client_state>(std::move(ep), std::move(options))) {}

LIFTOFF_DECL result<client> client::create(std::string_view endpoint_url, client_options options) {
  auto ep = parse_endpoint(endpoint_url);
  if (!ep) return ep.error();
  return client(std::move(*ep), std::move(options));
}

LIFTOFF_DECL client::client(client&&) noexcept = default;
inline client& client::operator=(client&&) noexcept = default;
LIFTOFF_DECL client::~client() = default;

LIFTOFF_DECL endpoint const& client::get_endpoint() const noexcept { return state_->ep; }
LIFTOFF_DECL client_options const& client::options() const noexcept { return state_->opts; }

LIFTOFF_DECL result<response> client::send(request req) {
  detail::clock::time_point deadline;
  auto opened = detail::open_impl(state_, req, state_->opts.max_body_size, deadline);
  if (!opened) return opened.error();
  auto& s = **opened;
  response r;
  auto read = s.read_rest(r.body, state_->opts.max_body_size, deadline, state_->opts.request_timeout);
  if (!read) return read.error();
  if (req.check_status && s.status >= 400) return detail::status_failure(s, r.body);
  r.status = s.status;
  r.reason = std::move(s.reason);
  r.headers = std::move(s.headers);
  r.summary = std::move(s.summary);
  return r;
}

LIFTOFF_DECL response client::send_or_throw(request req) { return send(std::move(req)).value(); }

LIFTOFF_DECL result<response_stream> client::open(request req) {
  detail::clock::time_point deadline;
  auto opened = detail::open_impl(state_, req, boost::none, deadline);
  if (!opened) return opened.error();
  auto& s = **opened;
  if (req.check_status && s.status >= 400) {
    // Keep the excerpt small: this may be a stream that never ends.
    std::string body;
    std::array<char, 4096> buf;
    auto n = s.read_wire(buf, deadline, state_->opts.request_timeout);
    if (n) body.assign(buf.data(), *n);
    return detail::status_failure(s, body);
  }
  return response_stream(std::move(*opened));
}

LIFTOFF_DECL response_stream client::open_or_throw(request req) { return open(std::move(req)).value(); }

}  // namespace liftoff::net

#endif
