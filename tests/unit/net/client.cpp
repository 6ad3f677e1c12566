#include <liftoff/net/client.hpp>

#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/error.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

using namespace std::chrono_literals;
using liftoff::net::client;
using liftoff::net::client_options;
using liftoff::net::request;
using liftoff::test::net_exchange;
using liftoff::test::net_test_server;
namespace http = boost::beast::http;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

client make_client(std::string const& url, client_options opts = {}) {
  opts.backoff_base = 10ms;
  return client::create(url, std::move(opts)).value();
}

request make_request(http::verb method, std::string target, std::string body = {}) {
  request r;
  r.method = method;
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

/// A port nothing listens on: bound, then released.
unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

void echo(net_exchange& ex) {
  auto const& r = ex.request();
  ex.respond(200, r.method + " " + r.target + " " + r.body, {{"Content-Type", "text/plain"}, {"X-Seen-Host", r.header("host")}});
}

}  // namespace

TEST_CASE("client GETs and POSTs over TCP and reuses its connection", "[net]") {
  auto server = net_test_server::tcp(echo);
  auto c = make_client(server->url());

  auto got = c.send(make_request(http::verb::get, "/v1.41/version"));
  REQUIRE(got.has_value());
  CHECK(got->status == 200);
  CHECK(got->reason == "OK");
  CHECK(got->ok());
  CHECK(got->body == "GET /v1.41/version ");
  CHECK(got->headers["Content-Type"] == "text/plain");
  CHECK(got->headers["X-Seen-Host"] == "127.0.0.1:" + std::to_string(server->port()));

  auto posted = c.send_or_throw(make_request(http::verb::post, "/containers/create?name=x", R"({"Image":"busybox"})"));
  CHECK(posted.status == 200);
  CHECK(posted.body == R"(POST /containers/create?name=x {"Image":"busybox"})");

  CHECK(server->requests() == 2);
  CHECK(server->connections() == 1);
}

TEST_CASE("client talks HTTP over a unix socket", "[net]") {
  liftoff::test::temp_dir dir("liftoff-net");
  auto server = net_test_server::unix_socket(echo, dir / "docker.sock");
  CHECK(server->url() == "unix://" + (dir / "docker.sock").string());
  auto c = make_client(server->url());
  auto got = c.send(make_request(http::verb::get, "/_ping"));
  REQUIRE(got.has_value());
  CHECK(got->body == "GET /_ping ");
  CHECK(got->headers["X-Seen-Host"] == "localhost");
  auto head = c.send(make_request(http::verb::head, "/_ping"));
  REQUIRE(head.has_value());
  CHECK(head->status == 200);
  CHECK(head->body.empty());
}

TEST_CASE("a request body from a body_source is sent chunked and arrives whole", "[net]") {
  std::string received;
  bool chunked = false;
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    received = ex.request().body;
    chunked = ex.request().chunked;
    ex.respond(200, std::to_string(ex.request().body.size()));
  });
  auto c = make_client(server->url());

  std::string expected;
  int calls = 0;
  request r = make_request(http::verb::post, "/build");
  r.body_source = [&](std::span<char> buf, liftoff::error_code&) -> std::size_t {
    if (calls == 5) return 0;
    std::size_t n = std::min<std::size_t>(buf.size(), 10000);
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<char>('a' + (calls + i) % 26);
    expected.append(buf.data(), n);
    ++calls;
    return n;
  };
  auto got = c.send(std::move(r));
  REQUIRE(got.has_value());
  CHECK(chunked);
  CHECK(received.size() == 50000);
  CHECK(received == expected);
  CHECK(got->body == "50000");
}

TEST_CASE("a failing body_source aborts the request with its error", "[net]") {
  auto server = net_test_server::tcp(echo);
  auto c = make_client(server->url());
  request r = make_request(http::verb::post, "/build");
  r.body_source = [](std::span<char>, liftoff::error_code& ec) -> std::size_t {
    ec = liftoff::error::file_unreadable;
    return 0;
  };
  auto got = c.send(std::move(r));
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == liftoff::error::file_unreadable);
  CHECK(contains(got.error().message, "the request body source failed"));
}

TEST_CASE("a streamed response is read line by line while the server is still sending", "[net]") {
  std::mutex m;
  std::condition_variable cv;
  bool client_read_first = false;
  std::atomic<bool> server_saw_client_first{false};
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    ex.begin_chunked(200, {{"Content-Type", "application/json"}});
    ex.send_chunk("{\"line\":1}\n{\"li");
    {
      std::unique_lock lock(m);
      // The rest is sent only once the client has read the first line (or after 5 s, which fails the test).
      server_saw_client_first = cv.wait_for(lock, 5s, [&] { return client_read_first; });
    }
    ex.send_chunk("ne\":2}\r\n");
    ex.send_chunk("{\"line\":3}");
    ex.end_chunked();
  });
  auto c = make_client(server->url());
  auto stream = c.open(make_request(http::verb::get, "/containers/x/logs?follow=1"));
  REQUIRE(stream.has_value());
  CHECK(stream->status() == 200);
  CHECK(stream->headers()["Content-Type"] == "application/json");

  auto first = stream->read_line();
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  CHECK(**first == "{\"line\":1}");
  {
    std::lock_guard lock(m);
    client_read_first = true;
  }
  cv.notify_all();
  CHECK(stream->read_line_or_throw() == std::optional<std::string>("{\"line\":2}"));
  CHECK(stream->read_line_or_throw() == std::optional<std::string>("{\"line\":3}"));
  CHECK(stream->read_line_or_throw() == std::nullopt);
  CHECK(stream->done());
  CHECK(server_saw_client_first);

  // The fully read stream gave its connection back.
  auto again = c.send(make_request(http::verb::get, "/x"));
  REQUIRE(again.has_value());
  CHECK(server->connections() == 1);
}

TEST_CASE("a streamed response can be read in chunks with read_some", "[net]") {
  std::string payload(100000, 'z');
  payload[99999] = '!';
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    ex.begin_chunked(200);
    for (std::size_t i = 0; i < payload.size(); i += 30000) ex.send_chunk(std::string_view(payload).substr(i, 30000));
    ex.end_chunked();
  });
  auto c = make_client(server->url());
  auto stream = c.open_or_throw(make_request(http::verb::get, "/images/get"));
  std::string all;
  std::array<char, 4096> buf;
  int reads = 0;
  for (;;) {
    auto n = stream.read_some(buf);
    REQUIRE(n.has_value());
    if (*n == 0) break;
    CHECK(*n <= buf.size());
    all.append(buf.data(), *n);
    ++reads;
  }
  CHECK(all == payload);
  CHECK(reads >= 25);
}

TEST_CASE("a server that never answers times out with a clear error", "[net]") {
  auto server = net_test_server::tcp([](net_exchange& ex) { ex.wait_for_stop(30s); });
  client_options opts;
  opts.request_timeout = 300ms;
  auto c = make_client(server->url(), opts);
  auto start = std::chrono::steady_clock::now();
  auto got = c.send(make_request(http::verb::get, "/v1.41/version"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == liftoff::error::timeout);
  CHECK(got.error().message ==
        "GET http://127.0.0.1:" + std::to_string(server->port()) + "/v1.41/version: waiting for the response timed out after 300ms");
  CHECK(elapsed < 3s);  // not retried: a timeout is not a connection error
  CHECK(server->requests() == 1);
}

TEST_CASE("idempotent requests are retried on 503; POST is not", "[net]") {
  std::atomic<int> failures_left{2};
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    if (failures_left-- > 0) ex.respond(503, "busy");
    else ex.respond(200, "ok");
  });
  client_options opts;
  opts.max_attempts = 3;
  int signed_count = 0;
  opts.signer = [&](request& r) -> liftoff::result<void> {
    ++signed_count;
    r.headers.set("X-Attempt", std::to_string(signed_count));
    return {};
  };
  auto c = make_client(server->url(), opts);

  auto got = c.send(make_request(http::verb::get, "/retry"));
  REQUIRE(got.has_value());
  CHECK(got->status == 200);
  CHECK(got->body == "ok");
  CHECK(server->requests() == 3);
  CHECK(signed_count == 3);  // signed afresh on every attempt

  failures_left = 2;
  auto posted = c.send(make_request(http::verb::post, "/retry", "x"));
  REQUIRE_FALSE(posted.has_value());
  CHECK(posted.error().code == liftoff::error::http_status);
  CHECK(contains(posted.error().message, "POST http://127.0.0.1:"));
  CHECK(contains(posted.error().message, "/retry: 503 Service Unavailable: busy"));
  CHECK(server->requests() == 4);

  // A POST marked idempotent is retried (one failure left, then success).
  request again = make_request(http::verb::post, "/retry", "x");
  again.idempotent = true;
  auto retried = c.send(std::move(again));
  REQUIRE(retried.has_value());
  CHECK(retried->status == 200);
  CHECK(server->requests() == 6);
}

TEST_CASE("retries stop after max_attempts and honour Retry-After", "[net]") {
  std::atomic<int> calls{0};
  auto server = net_test_server::tcp([&](net_exchange& ex) {
    ++calls;
    if (ex.request().target == "/always") ex.respond(502, "bad gateway");
    else if (calls == 1) ex.respond(429, "slow down", {{"Retry-After", "1"}});
    else ex.respond(200, "ok");
  });
  client_options opts;
  opts.max_attempts = 2;
  auto c = make_client(server->url(), opts);

  auto failed = c.send(make_request(http::verb::get, "/always"));
  REQUIRE_FALSE(failed.has_value());
  CHECK(calls == 2);
  CHECK(contains(failed.error().message, "502 Bad Gateway: bad gateway"));

  calls = 0;
  auto start = std::chrono::steady_clock::now();
  auto got = c.send(make_request(http::verb::get, "/limited"));
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(got.has_value());
  CHECK(got->status == 200);
  CHECK(calls == 2);
  CHECK(elapsed >= 900ms);
}

TEST_CASE("connection refused gives a clear error and is retried only for idempotent requests", "[net]") {
  auto port = free_port();
  client_options opts;
  opts.max_attempts = 2;
  auto c = make_client("http://127.0.0.1:" + std::to_string(port), opts);
  auto got = c.send(make_request(http::verb::get, "/v1.41/version"));
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == boost::asio::error::connection_refused);
  CHECK(got.error().message ==
        "GET http://127.0.0.1:" + std::to_string(port) + "/v1.41/version: connection refused (after 2 attempts)");

  auto posted = c.send(make_request(http::verb::post, "/x"));
  REQUIRE_FALSE(posted.has_value());
  CHECK(posted.error().message == "POST http://127.0.0.1:" + std::to_string(port) + "/x: connection refused");

  auto missing = client::create("unix:///nonexistent/liftoff.sock").value().send(make_request(http::verb::get, "/_ping"));
  REQUIRE_FALSE(missing.has_value());
  CHECK(contains(missing.error().message, "GET unix:///nonexistent/liftoff.sock:/_ping: cannot connect to the socket"));
}

TEST_CASE("a response body over max_body_size fails with body_too_large", "[net]") {
  auto server = net_test_server::tcp([](net_exchange& ex) {
    if (ex.request().target == "/chunked") {
      ex.begin_chunked(200);
      for (int i = 0; i < 10; ++i) ex.send_chunk(std::string(300, 'c'));
      ex.end_chunked();
    } else {
      ex.respond(200, std::string(2000, 'b'));
    }
  });
  client_options opts;
  opts.max_body_size = 1000;
  auto c = make_client(server->url(), opts);
  auto sized = c.send(make_request(http::verb::get, "/sized"));
  REQUIRE_FALSE(sized.has_value());
  CHECK(sized.error().code == liftoff::error::body_too_large);
  CHECK(contains(sized.error().message, "exceeds the limit of 1000 bytes"));

  auto chunked = c.send(make_request(http::verb::get, "/chunked"));
  REQUIRE_FALSE(chunked.has_value());
  CHECK(chunked.error().code == liftoff::error::body_too_large);

  // A stream has no overall limit.
  auto stream = c.open(make_request(http::verb::get, "/chunked"));
  REQUIRE(stream.has_value());
  auto all = stream->read_all();  // read_all keeps the limit
  REQUIRE_FALSE(all.has_value());
  CHECK(all.error().code == liftoff::error::body_too_large);
}

TEST_CASE("error statuses name the request and the body; check_status=false returns them", "[net]") {
  auto server = net_test_server::tcp([](net_exchange& ex) {
    ex.respond(404, "{\"message\":\"No such image: busybox:nope\"}\n");
  });
  auto c = make_client(server->url());
  auto got = c.send(make_request(http::verb::get, "/images/busybox:nope/json"));
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == liftoff::error::http_status);
  CHECK(got.error().message == "GET " + server->url() +
                                   "/images/busybox:nope/json: 404 Not Found: {\"message\":\"No such image: busybox:nope\"}");
  CHECK_THROWS_AS(c.send_or_throw(make_request(http::verb::get, "/x")), liftoff::exception);

  request lenient = make_request(http::verb::get, "/images/busybox:nope/json");
  lenient.check_status = false;
  auto r = c.send(lenient);
  REQUIRE(r.has_value());
  CHECK(r->status == 404);
  CHECK_FALSE(r->ok());
  CHECK(liftoff::net::http_status_error(*r).message == got.error().message);

  auto stream = c.open(make_request(http::verb::get, "/logs"));
  REQUIRE_FALSE(stream.has_value());
  CHECK(contains(stream.error().message, "404 Not Found: {\"message\""));
}

TEST_CASE("credentials never appear in error messages", "[net]") {
  std::string const token = "s3cr3t-t0ken-value-42";
  auto server = net_test_server::tcp([](net_exchange& ex) {
    // A careless server echoing the credential back.
    ex.respond(401, "bad credentials: " + ex.request().header("authorization"));
  });
  client_options opts;
  opts.signer = liftoff::net::bearer_token_signer(token);
  auto c = make_client(server->url(), opts);

  auto got = c.send(make_request(http::verb::get, "/api/v1/pods?watch=1&access_token=querysecret99"));
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == liftoff::error::http_status);
  CHECK(contains(got.error().message, "401 Unauthorized: bad credentials: [redacted]"));
  CHECK(contains(got.error().message, "watch=1&access_token=REDACTED"));
  CHECK_FALSE(contains(got.error().message, token));
  CHECK_FALSE(contains(got.error().message, "querysecret99"));
  CHECK(server->requests() == 1);

  auto port = free_port();
  auto refused = make_client("http://127.0.0.1:" + std::to_string(port), opts).send(make_request(http::verb::get, "/x"));
  REQUIRE_FALSE(refused.has_value());
  CHECK_FALSE(contains(refused.error().message, token));
  CHECK_FALSE(contains(refused.error().message, "Bearer"));

  // A signer that fails stops the request before anything is sent.
  client_options failing;
  failing.signer = [](request&) -> liftoff::result<void> {
    return liftoff::diagnostic(liftoff::error::invalid_spec, "no credentials for this cluster");
  };
  auto unsigned_req = make_client(server->url(), failing).send(make_request(http::verb::get, "/x"));
  REQUIRE_FALSE(unsigned_req.has_value());
  CHECK(contains(unsigned_req.error().message, "signing the request failed: no credentials for this cluster"));
  CHECK(server->requests() == 1);
}

TEST_CASE("a kept-alive connection closed by the server is replaced transparently", "[net]") {
  auto server = net_test_server::tcp([](net_exchange& ex) {
    ex.respond(200, "ok");
    ex.close_after();  // closes without telling the client (keep-alive was announced before)
  });
  auto c = make_client(server->url());
  REQUIRE(c.send(make_request(http::verb::get, "/a")).has_value());
  std::this_thread::sleep_for(50ms);
  auto second = c.send(make_request(http::verb::post, "/b", "body"));
  REQUIRE(second.has_value());
  CHECK(second->body == "ok");
  CHECK(server->connections() == 2);
}
