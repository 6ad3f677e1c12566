#ifndef LIFTOFF_SERVER_DETAIL_HTTP_CORE_HPP
#define LIFTOFF_SERVER_DETAIL_HTTP_CORE_HPP

// The API server's network side, shared by every store type: the listener,
// one coroutine per connection, the thread pool the store runs on, parked
// long-polls, artifact streaming and the access log. What a route does is the
// business of an `api_backend` (the store-typed part in impl/http_server.hpp).

#include <liftoff/server/detail/artifacts.hpp>
#include <liftoff/server/detail/http_util.hpp>
#include <liftoff/server/detail/http_waiters.hpp>
#include <liftoff/server/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/file_base.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/optional/optional.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sys/resource.h>

namespace liftoff::server::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

/// The store-typed half of the server: authentication, the routes, the periodic sweep.
class api_backend {
public:
  virtual ~api_backend() = default;
  /// The token `authorization` (the header's value) carries, or why it is refused. Runs on the pool.
  virtual result<token_record> authenticate(std::string_view authorization) = 0;
  /// Whether `who` may use a route admitting `roles` (`forbidden` naming the role needed). `action` is "METHOD /path".
  virtual result<void> authorize(token_record const& who, unsigned roles, std::string_view action) = 0;
  /// Answers a plain route. Runs on the pool; may throw (answered 500).
  virtual http_reply handle(request_context& c) = 0;
  /// Takes back expired leases and marks silent agents lost. Runs on the pool.
  virtual void sweep() = 0;
};

class http_core;

/// One connection.
struct http_session {
  http_session(http_core& c, asio::ip::tcp::socket s, std::uint64_t id_, std::string client_)
      : core(c), stream(std::move(s)), id(id_), client(std::move(client_)) {}
  ~http_session();
  http_core& core;
  beast::tcp_stream stream;
  std::uint64_t id;
  std::string client;  ///< the peer's address, as the per-client limit counts it
  bool busy = false;  ///< between reading a request's header and finishing its answer (strand only)
};

/// Runs `f` on the pool and resumes the caller on its own executor with the result.
template <class F>
auto on_pool(asio::thread_pool& pool, F f) -> asio::awaitable<decltype(f())> {
  using R = decltype(f());
  co_return co_await asio::co_spawn(
      pool, [f = std::move(f)]() mutable -> asio::awaitable<R> { co_return f(); }, asio::use_awaitable);
}

/** `text` fit for one log line: control characters, DEL and backslashes
    escaped (`\n`, `\x1b`), so a name or a path cannot forge a line or
    drive a terminal; cut after `max` bytes with "…". */
inline std::string log_escape(std::string_view text, std::size_t max = 256) {
  std::string out;
  out.reserve(std::min(text.size(), max) + 8);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max) {
      out += "\u2026";
      break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else out += static_cast<char>(c);
  }
  return out;
}

/// Splits "HOST:PORT" ("[::1]:8080" for IPv6) into an endpoint.
inline result<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
  auto bad = [&](std::string why) {
    return diagnostic(error::invalid_request, "listen address \"" + std::string(text) + "\": " + why);
  };
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("expected HOST:PORT, e.g. 127.0.0.1:8080");
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return bad("expected a port from 0 to 65535 after the last ':'");
  if (host == "localhost") host = "127.0.0.1";
  error_code aec;
  auto addr = asio::ip::make_address(std::string(host), aec);
  if (aec) return bad("expected an IP address before the port (127.0.0.1, 0.0.0.0, [::1])");
  return asio::ip::tcp::endpoint(addr, static_cast<std::uint16_t>(port));
}

class http_core {
public:
  waiter_hub hub;           ///< parked long-polls
  artifact_store artifacts; ///< DATA/artifacts (run logs are the service's)

  http_core(api_server_options const& options, api_backend& backend, std::span<route const> routes)
      : artifacts(options.data_dir),
        options_(options),
        backend_(backend),
        routes_(routes),
        pool_(static_cast<std::size_t>(std::max(1, options.store_threads))),
        acceptor_(ioc_),
        sweep_timer_(ioc_) {}

  ~http_core() { stop(); }

  api_server_options const& options() const noexcept { return options_; }
  asio::thread_pool& pool() noexcept { return pool_; }
  std::span<route const> routes() const noexcept { return routes_; }
  api_backend& backend() noexcept { return backend_; }
  bool stopping() const noexcept { return stopping_.load(); }
  std::uint16_t port() const noexcept { return port_; }

  /// Writes one line to the log sink.
  void log(std::string_view line) {
    if (options_.log) {
      options_.log(line);
      return;
    }
    std::lock_guard lock(log_mutex_);
    std::cerr << line << '\n';
  }

  /// Binds the socket and starts the network threads and the sweep.
  result<void> start() {
    auto ep = parse_listen_address(options_.listen);
    if (!ep) return ep.error();
    if (auto r = artifacts.prepare(); !r) return r.error();
    if (options_.raise_open_files_limit) raise_open_files_limit();
    error_code ec;
    acceptor_.open(ep->protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(*ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return diagnostic(ec, "cannot listen on " + options_.listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    host_ = ep->address().is_v6() ? "[" + ep->address().to_string() + "]" : ep->address().to_string();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    asio::co_spawn(ioc_, sweep_loop(), asio::detached);
    work_.emplace(ioc_.get_executor());
    for (int i = 0; i < std::max(1, options_.network_threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    started_ = true;
    return {};
  }

  std::string url() const { return "http://" + host_ + ":" + std::to_string(port_); }

  void stop() {
    if (!started_ || stopping_.exchange(true)) {
      join();
      return;
    }
    asio::post(ioc_, [this] {
      error_code ec;
      acceptor_.close(ec);
      sweep_timer_.cancel();
    });
    hub.close();
    close_idle_sessions();
    {
      std::lock_guard lock(refusal_mutex_);
      flush_refusals_locked(std::chrono::steady_clock::now());
    }
    {
      // Requests in flight finish; a client that never completes its request is cut off after a while.
      std::unique_lock lock(sessions_mutex_);
      sessions_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return sessions_.empty(); });
    }
    join();
  }

  /** Counts the session in, so `stop` can wait for it; empty when the
      connection is over the total or the per-client limit (it is then the
      caller's to refuse). */
  std::shared_ptr<http_session> make_session(asio::ip::tcp::socket& s, std::string const& client) {
    std::lock_guard lock(sessions_mutex_);
    auto& from_client = per_client_[client];
    if (sessions_.size() >= options_.max_connections || from_client >= options_.max_connections_per_client) {
      if (from_client == 0) per_client_.erase(client);
      return nullptr;
    }
    ++from_client;
    auto session = std::make_shared<http_session>(*this, std::move(s), ++next_session_, client);
    sessions_.emplace(session->id, session);
    return session;
  }

  void forget_session(std::uint64_t id, std::string const& client) {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(id);
    if (auto it = per_client_.find(client); it != per_client_.end() && --it->second == 0) per_client_.erase(it);
    if (sessions_.empty()) sessions_cv_.notify_all();
  }

  /// Connections open now (for monitoring and tests).
  std::size_t connections() const {
    std::lock_guard lock(sessions_mutex_);
    return sessions_.size();
  }

  /** Notes a connection refused over a limit; logs at once when nothing was
      logged for an interval, else counts it for the next interval's line. */
  void note_refusal(std::string const& client, bool total) {
    std::lock_guard lock(refusal_mutex_);
    ++refused_;
    last_refused_client_ = client;
    refused_total_ = refused_total_ || total;
    auto now = std::chrono::steady_clock::now();
    if (!refusal_logged_ || now - last_refusal_log_ >= options_.refusal_log_interval) flush_refusals_locked(now);
  }

  /// Logs the refusals counted since the last line, if any.
  void flush_refusals() {
    std::lock_guard lock(refusal_mutex_);
    if (refused_ > 0 && std::chrono::steady_clock::now() - last_refusal_log_ >= options_.refusal_log_interval)
      flush_refusals_locked(std::chrono::steady_clock::now());
  }

private:
  void flush_refusals_locked(std::chrono::steady_clock::time_point now) {
    if (refused_ == 0) return;
    log("refused " + std::to_string(refused_) + " connection(s) with 503 (limits: " +
        std::to_string(options_.max_connections) + " in total, " + std::to_string(options_.max_connections_per_client) +
        " per client address; " + (refused_total_ ? "the total was reached" : "a client address was at its limit") +
        "; last from " + last_refused_client_ + ")");
    refused_ = 0;
    refused_total_ = false;
    last_refusal_log_ = now;
    refusal_logged_ = true;
  }

  /// The open-files soft limit up to the hard one, so that many connections fit; logs what it could not do.
  void raise_open_files_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
      auto want = rl;
      want.rlim_cur = rl.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < options_.max_connections + 64)
      log("the open-files limit is " + std::to_string(rl.rlim_cur) + ", below max_connections (" +
          std::to_string(options_.max_connections) + ") and what the server needs beside them; raise it "
          "(`ulimit -n`, LimitNOFILE= in a systemd unit) or lower max_connections");
  }

  void join() {
    std::lock_guard lock(join_mutex_);
    if (joined_ || !started_) return;
    joined_ = true;
    pool_.join();
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  void close_idle_sessions() {
    std::vector<std::shared_ptr<http_session>> live;
    {
      std::lock_guard lock(sessions_mutex_);
      for (auto& [id, w] : sessions_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live)
      asio::post(s->stream.get_executor(), [s] {
        if (s->busy) return;
        error_code ec;
        s->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        s->stream.socket().close(ec);
      });
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> sweep_loop();

  api_server_options const& options_;
  api_backend& backend_;
  std::span<route const> routes_;
  std::mutex log_mutex_;

  mutable std::mutex sessions_mutex_;
  std::condition_variable sessions_cv_;
  std::unordered_map<std::uint64_t, std::weak_ptr<http_session>> sessions_;
  std::unordered_map<std::string, std::size_t> per_client_;
  std::uint64_t next_session_ = 0;

  std::mutex refusal_mutex_;
  std::uint64_t refused_ = 0;
  bool refused_total_ = false;
  std::string last_refused_client_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  bool refusal_logged_ = false;  ///< the first refusal is logged at once

  asio::thread_pool pool_;
  // Declared after what sessions touch in their destructors: the io_context
  // destroys the handlers (and sessions) still queued in it.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer sweep_timer_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex join_mutex_;
  bool started_ = false;
  bool joined_ = false;
  std::uint16_t port_ = 0;
  std::string host_;
};

inline http_session::~http_session() { core.forget_session(id, client); }

// ---- answering -------------------------------------------------------------------------

/// Writes `r`; for HEAD, only the header (with the length the body would have).
inline asio::awaitable<error_code> write_reply(http_session& s, http_reply& r, unsigned version, bool keep_alive,
                                               bool head) {
  auto fill = [&](auto& res) {
    for (auto const& [k, v] : r.headers) res.set(k, v);
    if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
    res.set(http::field::server, "liftoff/0.1");
    res.keep_alive(keep_alive);
  };
  s.stream.expires_after(std::chrono::minutes(5));
  if (!r.file.empty() && !head) {
    http::response<http::file_body> res{static_cast<http::status>(r.status), version};
    beast::error_code ec;
    res.body().open(r.file.c_str(), beast::file_mode::scan, ec);
    if (!ec) {
      fill(res);
      res.prepare_payload();
      auto [wec, n] = co_await http::async_write(s.stream, res, asio::as_tuple(asio::use_awaitable));
      co_return wec;
    }
    r = error_reply(diagnostic(error::storage_failed, "cannot read " + r.file.string() + ": " + ec.message()));
  }
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  fill(res);
  if (head) {
    std::uint64_t length = r.body.size();
    if (!r.file.empty()) {
      error_code fec;
      length = std::filesystem::file_size(r.file, fec);
    }
    res.content_length(length);
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
  }
  auto [wec, n] = co_await http::async_write(s.stream, res, asio::as_tuple(asio::use_awaitable));
  co_return wec;
}

/** After answering a request whose body was not read (refused before it):
    stop sending, then read and drop what the client still sends for a
    short while, so that it sees the answer instead of a connection reset. */
inline asio::awaitable<void> linger_and_close(http_session& s) {
  error_code ec;
  s.stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  s.stream.expires_after(std::chrono::seconds(5));
  std::vector<char> sink(64 * 1024);
  for (;;) {
    auto [rec, n] = co_await s.stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (rec) break;
  }
  s.stream.close();
}

/** Waits, without holding a thread, until a key of `keys` changes, the
    deadline passes, the server stops or the client goes away. */
inline asio::awaitable<wake_reason> park_request(std::shared_ptr<http_session> s, std::vector<std::string> keys,
                                                 std::uint64_t stamp, std::chrono::steady_clock::time_point deadline) {
  auto w = std::make_shared<waiter>(s->stream.get_executor());
  w->keys = std::move(keys);
  w->timer.expires_at(deadline);
  switch (s->core.hub.park(w, stamp)) {
    case park_result::changed: co_return wake_reason::notified;
    case park_result::closed: co_return wake_reason::stopping;
    case park_result::parked: break;
  }
  // A readable socket while parked is a client that closed (or one sending
  // before its answer, which is left for later).
  s->stream.socket().async_wait(asio::ip::tcp::socket::wait_read, [s, w](error_code ec) {
    if (ec || w->reason.load() != 0) return;
    error_code aec;
    auto n = s->stream.socket().available(aec);
    if (aec || n == 0) s->core.hub.wake(w, wake_reason::gone);
  });
  error_code ec;
  co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) s->core.hub.wake(w, wake_reason::timeout);
  error_code cec;
  s->stream.socket().cancel(cec);
  auto why = w->why();
  co_return why == wake_reason::none ? wake_reason::stopping : why;
}

inline http_reply unauthorized(diagnostic const& d) {
  auto r = error_reply(401, d);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

/** Authenticates and handles a plain route, parking while it has nothing
    to say. Every attempt authenticates again, so a request that waited
    while its token was revoked is refused (401) when it wakes. */
inline asio::awaitable<std::optional<http_reply>> handle_plain(std::shared_ptr<http_session> s, request_context& ctx,
                                                               std::string const& authorization, bool needs_token,
                                                               std::string& token_label) {
  auto& core = s->core;
  bool first = true;
  for (;;) {
    auto stamp = core.hub.stamp();
    auto reply = co_await on_pool(core.pool(), [&]() -> http_reply {
      try {
        if (needs_token) {
          auto who = core.backend().authenticate(authorization);
          if (!who) return unauthorized(who.error());
          ctx.token_name = who->name;
          ctx.token = std::move(*who);
        }
        return core.backend().handle(ctx);
      } catch (liftoff::exception const& e) {
        return error_reply(e.diag());
      } catch (std::exception const& e) {
        return error_reply(diagnostic(error::storage_failed, std::string("internal error: ") + e.what()));
      }
    });
    if (first && needs_token && reply.status != 401) token_label = log_escape(ctx.token_name, 64);
    first = false;
    if (reply.park_on.empty() || !ctx.deadline || std::chrono::steady_clock::now() >= *ctx.deadline) {
      reply.park_on.clear();
      co_return reply;
    }
    auto why = co_await park_request(s, reply.park_on, stamp, *ctx.deadline);
    if (why == wake_reason::notified) continue;
    if (why == wake_reason::gone) co_return std::nullopt;
    reply.park_on.clear();
    co_return reply;
  }
}

/// 408 for a body that came slower than the minimum upload rate.
inline http_reply too_slow(api_server_options const& o) {
  return error_reply(408, diagnostic(error::timeout, "request body: it arrived slower than the minimum of " +
                                                         std::to_string(o.min_upload_rate) + " bytes/s"));
}

/** Reads the rest of a request's body into `p`, at no less than the
    options' minimum upload rate on average after the grace time (the
    deadline moves on with every byte that arrives); `beast::error::timeout`
    when it is slower, with the connection still open for the answer. */
template <class Parser>
asio::awaitable<error_code> read_body(std::shared_ptr<http_session> s, beast::flat_buffer& buffer, Parser& p) {
  auto const& o = s->core.options();
  auto const started = std::chrono::steady_clock::now();
  std::uint64_t got = 0;
  // The stream's own timeout would close the socket; this timer only cancels the read, so 408 can still be sent.
  auto slow = std::make_shared<bool>(false);
  asio::steady_timer timer(s->stream.get_executor());
  s->stream.expires_never();
  while (!p.is_done()) {
    if (o.min_upload_rate == 0) {
      timer.expires_after(std::chrono::seconds(60));
    } else {
      auto allowed = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(static_cast<double>(got) / static_cast<double>(o.min_upload_rate)));
      timer.expires_at(started + o.upload_grace + allowed);
    }
    timer.async_wait([w = std::weak_ptr<http_session>(s), slow](error_code ec) {
      if (ec) return;
      *slow = true;
      if (auto live = w.lock()) {
        error_code cec;
        live->stream.socket().cancel(cec);
      }
    });
    auto [ec, n] = co_await http::async_read_some(s->stream, buffer, p, asio::as_tuple(asio::use_awaitable));
    timer.cancel();
    if (*slow) co_return beast::error::timeout;
    if (ec) co_return ec;
    got += n;
  }
  co_return error_code{};
}

/** Serves one request whose header `hp` holds: routes it, reads its body
    (within limits), answers it and logs it. Returns whether the connection
    may carry another request. */
inline asio::awaitable<bool> serve_request(std::shared_ptr<http_session> s, beast::flat_buffer& buffer,
                                           http::request_parser<http::empty_body>& hp) {
  auto& core = s->core;
  auto const& opts = core.options();
  auto started = std::chrono::steady_clock::now();

  auto const& req = hp.get();
  request_context ctx;
  ctx.method = req.method();
  std::string method_name(req.method_string());
  unsigned version = req.version();
  bool keep_alive = req.keep_alive();
  bool head = req.method() == http::verb::head;
  std::string authorization(req[http::field::authorization]);
  std::string target(req.target());
  std::string log_target = "-";
  std::string token_label = "-";

  std::optional<http_reply> reply;
  bool linger = false;  // the body was not read: answer, then drain and close
  route const* rt = nullptr;

  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    reply = error_reply(diagnostic(error::invalid_request, "the request target is not a valid URL path"));
  } else {
    log_target = log_escape(loggable_target(*url), 512);
    std::vector<std::string> segments;
    for (auto seg : url->segments()) segments.push_back(seg);
    for (auto p : url->params()) ctx.query[p.key] = p.value;
    if (segments.size() < 2 || segments[0] != "api" || segments[1] != "v1") {
      reply = error_reply(diagnostic(error::not_found, "no API endpoint at " + std::string(url->path()) +
                                                           " (the API is under /api/v1)"));
    } else {
      segments.erase(segments.begin(), segments.begin() + 2);
      auto m = match_route(core.routes(), req.method(), segments);
      if (m.found) {
        rt = m.found;
        ctx.route = rt->id;
        ctx.params = std::move(m.params);
        ctx.roles = rt->roles;
        ctx.action = method_name + " /api/v1" + std::string(rt->pattern);
      } else if (m.allow.empty()) {
        reply = error_reply(diagnostic(error::not_found, "no API endpoint " + method_name + " " +
                                                             std::string(url->path())));
      } else {
        reply = error_reply(405, diagnostic(error::invalid_request, std::string(url->path()) + " does not allow " +
                                                                        method_name + "; it allows " + m.allow));
        reply->headers.emplace_back("Allow", m.allow);
      }
    }
  }

  auto declared = hp.content_length();
  if (rt && rt->kind == route_kind::artifact_put) {
    // Authenticate before accepting what may be a gigabyte.
    auto who = co_await on_pool(core.pool(), [&] { return core.backend().authenticate(authorization); });
    std::string const& hex = ctx.params.at(0);
    auto allowed = who ? core.backend().authorize(*who, rt->roles, ctx.action) : result<void>();
    if (who) token_label = log_escape(who->name, 64);
    if (!who) {
      reply = unauthorized(who.error());
      linger = !hp.is_done();
    } else if (!allowed) {
      reply = error_reply(allowed.error());
      linger = !hp.is_done();
    } else if (!is_sha256_hex(hex)) {
      reply = error_reply(diagnostic(error::invalid_request, "artifact digest \"" + hex +
                                                                 "\": expected 64 lowercase hex digits (SHA-256)"));
      linger = !hp.is_done();
    } else if (declared && *declared > opts.max_artifact_size) {
      reply = error_reply(diagnostic(error::body_too_large, "artifact upload: " + std::to_string(*declared) +
                                                                " bytes is over the limit of " +
                                                                std::to_string(opts.max_artifact_size) + " bytes"));
      linger = true;
    } else {
      http::request_parser<artifact_upload_body> up(std::move(hp));
      up.body_limit(opts.max_artifact_size);
      auto opened = up.get().body().open(core.artifacts.temp_path());
      if (!opened) {
        reply = error_reply(opened.error());
        linger = !up.is_done();
      } else {
        auto ec = co_await read_body(s, buffer, up);
        if (ec == beast::error::timeout) {
          reply = too_slow(opts);
          linger = true;
        } else if (ec == http::error::body_limit) {
          reply = error_reply(diagnostic(error::body_too_large, "artifact upload: over the limit of " +
                                                                    std::to_string(opts.max_artifact_size) + " bytes"));
          linger = true;
        } else if (ec) {
          core.log(method_name + " " + log_target + " - (connection lost: " + ec.message() + ")");
          co_return false;
        } else {
          auto committed = co_await on_pool(core.pool(), [&] { return core.artifacts.commit(up.get().body(), hex); });
          if (committed)
            reply = json_reply(201, boost::json::object{{"digest", "sha256:" + hex}, {"size", *committed}});
          else
            reply = error_reply(committed.error());
        }
      }
    }
  } else if (declared && *declared > opts.max_body_size) {
    reply = error_reply(diagnostic(error::body_too_large, "request body: " + std::to_string(*declared) +
                                                              " bytes is over the limit of " +
                                                              std::to_string(opts.max_body_size) + " bytes"));
    linger = true;
  } else if (!hp.is_done()) {
    http::request_parser<http::string_body> bp(std::move(hp));
    bp.body_limit(opts.max_body_size);
    auto ec = co_await read_body(s, buffer, bp);
    if (ec == beast::error::timeout) {
      reply = too_slow(opts);
      linger = true;
    } else if (ec == http::error::body_limit) {
      reply = error_reply(diagnostic(error::body_too_large, "request body: over the limit of " +
                                                                std::to_string(opts.max_body_size) + " bytes"));
      linger = true;
    } else if (ec) {
      co_return false;
    } else {
      ctx.body = std::move(bp.get().body());
    }
  }

  if (!reply && rt) {
    if (rt->kind == route_kind::artifact_read) {
      auto who = co_await on_pool(core.pool(), [&] { return core.backend().authenticate(authorization); });
      std::string const& hex = ctx.params.at(0);
      auto allowed = who ? core.backend().authorize(*who, rt->roles, ctx.action) : result<void>();
      if (who) token_label = log_escape(who->name, 64);
      if (!who) reply = unauthorized(who.error());
      else if (!allowed) reply = error_reply(allowed.error());
      else if (!is_sha256_hex(hex))
        reply = error_reply(diagnostic(error::invalid_request, "artifact digest \"" + hex +
                                                                   "\": expected 64 lowercase hex digits (SHA-256)"));
      else if (!core.artifacts.contains(hex))
        reply = error_reply(diagnostic(error::not_found, "no artifact sha256:" + hex + " on this server"));
      else {
        reply.emplace();
        reply->content_type = "application/octet-stream";
        reply->file = core.artifacts.path_of(hex);
      }
    } else {
      auto r = co_await handle_plain(s, ctx, authorization, rt->kind != route_kind::open, token_label);
      if (!r) {
        core.log(method_name + " " + log_target + " - (client went away while waiting) " + token_label);
        co_return false;
      }
      reply = std::move(*r);
    }
  }

  if (linger || core.stopping()) keep_alive = false;
  // Logged as the answer leaves, so the line is there before the client has the answer.
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  char timing[32];
  std::snprintf(timing, sizeof timing, "%.1fms", ms);
  core.log(method_name + " " + log_target + " " + std::to_string(reply->status) + " " + timing + " " + token_label);
  auto wec = co_await write_reply(*s, *reply, version, keep_alive, head);
  if (wec) co_return false;
  if (linger) {
    co_await linger_and_close(*s);
    co_return false;
  }
  co_return keep_alive;
}

inline asio::awaitable<void> run_session(std::shared_ptr<http_session> s) {
  auto& core = s->core;
  beast::flat_buffer buffer;
  auto const& o = core.options();
  bool first = true;
  try {
    while (!core.stopping()) {
      s->busy = false;
      http::request_parser<http::empty_body> hp;
      hp.header_limit(64 * 1024);
      hp.body_limit(boost::none);  // the limit depends on the route: checked once the target is known
      if (!first && buffer.size() == 0) {
        // Kept alive: wait (up to the idle time) for the next request's first byte.
        s->stream.expires_after(o.idle_timeout);
        auto [wec, got] =
            co_await s->stream.async_read_some(buffer.prepare(4096), asio::as_tuple(asio::use_awaitable));
        if (wec) break;
        buffer.commit(got);
      }
      first = false;
      // The whole header within the header time of its first byte (of the connection's opening, at first).
      s->stream.expires_after(o.header_timeout);
      auto [ec, n] = co_await http::async_read_header(s->stream, buffer, hp, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        bool malformed = ec.category() == make_error_code(http::error::bad_target).category() &&
                         ec != http::error::end_of_stream && ec != http::error::partial_message;
        if (ec == beast::error::timeout && buffer.size() > 0)
          core.log("- - (closed: the request header did not arrive within " +
                   std::to_string(o.header_timeout.count()) + " ms) " + log_escape(s->client, 64));
        if (malformed) {
          http_reply r = error_reply(ec == http::error::header_limit ? 431 : 400,
                                     diagnostic(error::invalid_request, "malformed HTTP request: " + ec.message()));
          co_await write_reply(*s, r, 11, false, false);
          core.log("- - " + std::to_string(r.status) + " (" + ec.message() + ")");
        }
        break;
      }
      s->busy = true;
      if (!co_await serve_request(s, buffer, hp)) break;
    }
  } catch (std::exception const& e) {
    core.log(std::string("connection closed after an internal error: ") + e.what());
  }
  error_code ec;
  s->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  s->stream.close();
}

inline asio::awaitable<void> http_core::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (stopping() || ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // Out of file descriptors and the like: wait a little rather than spin.
      log("accept failed: " + ec.message());
      asio::steady_timer pause(ioc_, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (stopping()) co_return;
    error_code nec;
    asio::ip::tcp::socket sock(std::move(socket));
    auto peer = sock.remote_endpoint(nec);
    std::string client = nec ? std::string("?") : peer.address().to_string();
    auto session = make_session(sock, client);
    if (!session) {
      // Over a limit: a short answer written without waiting (a full send buffer just loses it), then closed.
      static constexpr std::string_view busy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Retry-After: 5\r\nContent-Length: 95\r\n\r\n"
          "{\"error\":{\"code\":\"unavailable\",\"message\":\"the server is at its connection limit; retry later\"}}";
      sock.non_blocking(true, nec);
      sock.write_some(asio::buffer(busy.data(), busy.size()), nec);
      sock.shutdown(asio::ip::tcp::socket::shutdown_both, nec);
      sock.close(nec);
      bool total = connections() >= options_.max_connections;
      note_refusal(client, total);
      continue;
    }
    session->stream.socket().set_option(asio::ip::tcp::no_delay(true), nec);
    asio::co_spawn(session->stream.get_executor(), run_session(session), asio::detached);
  }
}

inline asio::awaitable<void> http_core::sweep_loop() {
  while (!stopping()) {
    sweep_timer_.expires_after(options_.sweep_interval);
    co_await sweep_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping()) co_return;
    co_await on_pool(pool_, [this] {
      try {
        backend_.sweep();
      } catch (std::exception const& e) {
        log(std::string("sweep failed: ") + e.what());
      }
      return 0;
    });
    hub.prune(std::chrono::minutes(10));
    flush_refusals();
  }
}

}  // namespace liftoff::server::detail

#endif
