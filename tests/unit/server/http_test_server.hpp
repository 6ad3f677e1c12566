#ifndef LIFTOFF_TESTS_UNIT_SERVER_HTTP_TEST_SERVER_HPP
#define LIFTOFF_TESTS_UNIT_SERVER_HTTP_TEST_SERVER_HPP

// A real API server on an ephemeral port over SQLite in a temporary
// directory, and raw API calls to it: what the server's HTTP tests share.

#include <liftoff/server/http_server.hpp>

#include "support/test_support.hpp"

#include <liftoff/net/client.hpp>
#include <liftoff/server/detail/http_util.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace liftoff::test::http_server {


using namespace std::chrono_literals;
namespace http = boost::beast::http;
namespace json = boost::json;
using liftoff::server::api_server;
using liftoff::server::api_server_options;

inline bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// A server on an ephemeral port over a SQLite store in a temporary directory, with its output captured.
class test_server {
public:
  explicit test_server(liftoff::test::temp_dir const& dir, api_server_options o = {}) : dir_(dir) {
    auto store = liftoff::server::sqlite_store::open(dir.path() / "data");
    REQUIRE(store.has_value());
    o.listen = "127.0.0.1:0";
    o.data_dir = dir.path() / "data";
    o.network_threads = 2;
    o.store_threads = 8;
    o.log = [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      log_ += std::string(line) + "\n";
    };
    o.notice = [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      notices_.emplace_back(line);
    };
    server_ = std::make_unique<api_server>(std::move(*store), o);
    auto started = server_->start();
    REQUIRE(started.has_value());
    REQUIRE(server_->port() != 0);
    token_ = liftoff::test::read_file(o.data_dir / "admin-token");
    while (!token_.empty() && token_.back() == '\n') token_.pop_back();
  }

  // The server logs into this object while it stops: stop it first.
  ~test_server() { server_.reset(); }

  api_server& server() { return *server_; }
  std::string const& token() const { return token_; }
  std::string log() {
    std::lock_guard lock(mutex_);
    return log_;
  }
  std::vector<std::string> notices() {
    std::lock_guard lock(mutex_);
    return notices_;
  }
  void stop() { server_->stop(); }

  /// A client of this server (one per thread).
  liftoff::net::client client() const {
    liftoff::net::client_options opts;
    opts.max_attempts = 1;
    opts.request_timeout = 30s;
    return liftoff::net::client::create(server_->url(), opts).value();
  }

private:
  liftoff::test::temp_dir const& dir_;
  std::unique_ptr<api_server> server_;
  std::string token_;
  std::mutex mutex_;
  std::string log_;
  std::vector<std::string> notices_;
};

/// Raw API calls with the admin token (or another).
struct caller {
  liftoff::net::client http;
  std::string token;

  liftoff::net::response call(http::verb method, std::string const& path, std::string body = {},
                              std::optional<std::string> with_token = std::nullopt) {
    liftoff::net::request r;
    r.method = method;
    r.target = "/api/v1" + path;
    r.body = std::move(body);
    r.check_status = false;
    auto t = with_token.value_or(token);
    if (!t.empty()) r.headers.set(http::field::authorization, "Bearer " + t);
    if (!r.body.empty()) r.headers.set(http::field::content_type, "application/json");
    auto got = http.send(std::move(r));
    REQUIRE(got.has_value());
    return std::move(*got);
  }
  liftoff::net::response get(std::string const& path) { return call(http::verb::get, path); }
  liftoff::net::response post(std::string const& path, json::value const& body) {
    return call(http::verb::post, path, json::serialize(body));
  }
  json::value get_json(std::string const& path) {
    auto r = get(path);
    INFO(path << ": " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    return json::parse(r.body);
  }
  json::value post_json(std::string const& path, json::value const& body, unsigned expected) {
    auto r = post(path, body);
    INFO(path << ": " << r.status << " " << r.body);
    REQUIRE(r.status == expected);
    return r.body.empty() ? json::value() : json::parse(r.body);
  }

  void make_queue(std::string const& name, bool prioritized = true, json::object tmpl = {}) {
    json::object q{{"name", name}, {"resource", "local-process"}, {"prioritized", prioritized}};
    if (!tmpl.empty()) q["config_template"] = std::move(tmpl);
    post_json("/queues", q, 201);
  }
  std::int64_t make_agent(std::vector<std::string> const& queues, int max_jobs = 100) {
    json::array qs;
    for (auto const& q : queues) qs.emplace_back(q);
    auto a = post_json("/agents", json::object{{"name", "agent"}, {"host", "h"}, {"queues", qs}, {"max_jobs", max_jobs}},
                       201);
    return a.at("id").as_int64();
  }
  json::value push(std::string const& queue, std::string const& name, std::string const& priority = "medium") {
    return post_json("/queues/" + queue + "/items",
                     json::object{{"spec", json::object{{"image", "busybox"}, {"name", name}}}, {"priority", priority}},
                     201);
  }
  /// Leases without waiting; empty name when nothing came.
  std::string lease_name(std::string const& queue, std::int64_t agent) {
    auto r = post("/queues/" + queue + "/lease", json::object{{"agent", agent}});
    if (r.status == 204) return {};
    REQUIRE(r.status == 200);
    return std::string(json::parse(r.body).at("run_spec").at("name").as_string());
  }
};

inline caller make_caller(test_server const& s) { return caller{s.client(), s.token()}; }

inline std::string error_code_of(liftoff::net::response const& r) {
  auto v = json::parse(r.body);
  return std::string(v.at("error").at("code").as_string());
}
inline std::string error_message_of(liftoff::net::response const& r) {
  auto v = json::parse(r.body);
  return std::string(v.at("error").at("message").as_string());
}

inline std::string sha256_hex(std::string const& data) {
  liftoff::server::detail::sha256_hasher h;
  h.update(data.data(), data.size());
  return h.hex();
}


}  // namespace liftoff::test::http_server

#endif
