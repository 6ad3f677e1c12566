// Fuzzes the queue server's HTTP handling (<liftoff/server/http_server.hpp>)
// over a real socket: one api_server over a sqlite_store in a scratch data
// directory, started once per process; each input is written as raw bytes
// to a new loopback connection, which is then half-closed, and whatever the
// server answers is read until it closes (or a short timeout). Every
// `TOKEN` in the input is replaced by the admin token, so that inputs reach
// the authenticated handlers. The store keeps what earlier inputs made
// (queues, items, agents), as a real server does, until every 1024th input
// starts the server again over an empty one.
//
// Invariants: nothing the server answers is other than an HTTP/1.x response;
// no request is answered with a 5xx status (a handler that throws is
// answered 500 "internal error", which is a bug to find); the server still
// answers GET /api/v1/health after every 64 inputs and at exit.
// LIFTOFF_FUZZ_SHOW=1 in the environment prints every answer.

#include <liftoff/server/http_server.hpp>

#include "fuzz_support.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

struct fuzz_server {
  std::unique_ptr<liftoff::server::api_server> server;
  std::string token;
  std::uint16_t port = 0;
  std::uint64_t inputs = 0;
  std::uint64_t timeouts = 0;
};

fuzz_server& the_server();

/** Sends `request` on a new connection, half-closes it and returns what came
    back before the server closed; `timed_out` tells whether it stopped
    waiting first. */
std::string exchange(std::uint16_t port, std::string_view request, bool& timed_out) {
  timed_out = false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  LIFTOFF_FUZZ_CHECK(fd >= 0, std::strerror(errno));
  timeval tv{};
  tv.tv_sec = 2;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    liftoff::fuzz::fail("the server does not accept connections", std::strerror(errno));

  // The server may answer and close before it has read everything (a body
  // over the limit): a failed send is not a failure.
  for (std::size_t sent = 0; sent < request.size();) {
    auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);

  std::string answer;
  char buf[16 * 1024];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      if (answer.size() < (1u << 20)) answer.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) timed_out = true;
    break;
  }
  ::close(fd);
  return answer;
}

/// `text` lower-cased (header names).
std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/** Walks the responses in `answer` (pipelined requests get several): each
    must be HTTP/1.x with a complete header, and none may be a 5xx. A
    response's body is skipped by its Content-Length, or not at all (the
    answer to HEAD). An answer cut short by the size cap or a timeout ends
    the walk. */
void check_answer(std::string_view answer, std::string_view request) {
  auto broken = [&](char const* what, std::size_t at) {
    liftoff::fuzz::fail(what, std::string(answer.substr(at, 600)) + "\n  to: " + std::string(request.substr(0, 600)));
  };
  std::size_t at = 0;
  while (at < answer.size()) {
    auto const rest = answer.substr(at);
    if (!rest.starts_with("HTTP/1.1 ") && !rest.starts_with("HTTP/1.0 ")) broken("an answer that is not HTTP/1.x", at);
    auto const header_end = answer.find("\r\n\r\n", at);
    if (header_end == std::string_view::npos) return;  // cut short
    if (rest.size() < 12 || rest[9] < '1' || rest[9] > '5') broken("a response without a status", at);
    if (rest[9] == '5') broken("the server answered with a 5xx status", at);
    auto const header = lower(answer.substr(at, header_end - at));
    std::size_t length = 0;
    if (auto cl = header.find("\r\ncontent-length:"); cl != std::string::npos)
      length = std::strtoull(header.c_str() + cl + 17, nullptr, 10);
    auto const body = header_end + 4;
    if (body + length < answer.size() && answer.substr(body + length).starts_with("HTTP/1.")) at = body + length;
    else if (answer.substr(body).starts_with("HTTP/1.")) at = body;
    else if (body + length >= answer.size()) return;
    else broken("bytes after a response that are not a response", body);
  }
}

void check_health(fuzz_server& s) {
  bool timed_out = false;
  auto answer = exchange(s.port, "GET /api/v1/health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n", timed_out);
  if (!answer.starts_with("HTTP/1.1 200")) {
    // A burst of earlier inputs may still hold the store's threads: once more, a little later.
    std::this_thread::sleep_for(2s);
    answer = exchange(s.port, "GET /api/v1/health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n", timed_out);
  }
  if (!answer.starts_with("HTTP/1.1 200"))
    liftoff::fuzz::fail("the server no longer answers GET /api/v1/health", answer.substr(0, 300));
}

/// A new server over an empty store in the scratch data directory.
void start(fuzz_server& fs) {
  auto const data = liftoff::fuzz::scratch_dir() / "data";
  std::filesystem::remove_all(data);
  auto store = liftoff::server::sqlite_store::open(data);
  if (!store) liftoff::fuzz::fail("cannot open the store", store.error().what());
  liftoff::server::api_server_options o;
  o.listen = "127.0.0.1:0";
  o.data_dir = data;
  o.network_threads = 2;
  o.store_threads = 4;
  o.max_wait = 500ms;           // long-polls end quickly
  o.idle_timeout = 3s;
  o.max_body_size = 64 * 1024;  // limits a fuzzer can reach
  o.max_artifact_size = 64 * 1024;
  o.log = [](std::string_view) {};
  o.notice = [](std::string_view) {};
  fs.server = std::make_unique<liftoff::server::api_server>(std::move(*store), o);
  if (auto started = fs.server->start(); !started) liftoff::fuzz::fail("cannot start the server", started.error().what());
  fs.port = fs.server->port();
  std::ifstream in(data / "admin-token");
  fs.token.clear();
  std::getline(in, fs.token);
  LIFTOFF_FUZZ_CHECK(fs.token.starts_with("lft_"), fs.token);
}

fuzz_server& the_server() {
  // Never destroyed: stopped at exit by the handler below, before the
  // statics it uses are gone.
  static fuzz_server* const s = [] {
    auto* fs = new fuzz_server;
    start(*fs);
    std::atexit([] {
      auto& srv = the_server();
      check_health(srv);
      srv.server->stop();
      if (srv.timeouts)
        std::fprintf(stderr, "liftoff fuzz: %llu of %llu inputs got no end of answer within 2 s\n",
                     static_cast<unsigned long long>(srv.timeouts), static_cast<unsigned long long>(srv.inputs));
    });
    return fs;
  }();
  return *s;
}

}  // namespace

/** This target's defaults, put before the command line's flags (which win):
    the server's threads allocate and reach new code between inputs, so
    libFuzzer's leak check after each input (a scan of the whole heap) and its
    entropic schedule cost more than the input itself. Leaks are still
    reported at exit. */
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static std::vector<char*> args;
  static char detect_leaks[] = "-detect_leaks=0";
  static char entropic[] = "-entropic=0";
  args.assign(*argv, *argv + 1);
  args.push_back(detect_leaks);
  args.push_back(entropic);
  args.insert(args.end(), *argv + 1, *argv + *argc);
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size()) - 1;
  *argv = args.data();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto& s = the_server();
  std::string request(liftoff::fuzz::text_of(data, size));
  for (std::size_t at = 0; (at = request.find("TOKEN", at)) != std::string::npos; at += s.token.size())
    request.replace(at, 5, s.token);

  bool timed_out = false;
  auto answer = exchange(s.port, request, timed_out);
  // LIFTOFF_FUZZ_SHOW=1 prints each answer (to see what seeds reach).
  static bool const show = std::getenv("LIFTOFF_FUZZ_SHOW") != nullptr;
  if (show) std::fprintf(stderr, "---- answer%s:\n%s\n", timed_out ? " (timed out)" : "", answer.c_str());
  check_answer(answer, request);
  if (timed_out) ++s.timeouts;
  if (++s.inputs % 64 == 1) check_health(s);
  // What inputs made accumulates and every listing grows with it: a new
  // store now and then keeps an input's cost (and coverage) its own.
  if (s.inputs % 1024 == 0) {
    check_health(s);
    s.server->stop();
    s.server.reset();
    start(s);
  }
  return 0;
}
