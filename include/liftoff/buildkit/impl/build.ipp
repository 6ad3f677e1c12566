#ifndef LIFTOFF_BUILDKIT_IMPL_BUILD_IPP
#define LIFTOFF_BUILDKIT_IMPL_BUILD_IPP

#include <liftoff/buildkit/build.hpp>
#include <liftoff/buildkit/detail/filesync.hpp>
#include <liftoff/buildkit/detail/progress.hpp>
#include <liftoff/detail/base64.hpp>
#include <liftoff/detail/hex.hpp>
#include <liftoff/docker/auth.hpp>

#include <liftoff/buildkit/filesync.grpc.pb.h>
#include <liftoff/buildkit/secrets.grpc.pb.h>
#include <liftoff/buildkit/status.pb.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace liftoff::buildkit {

namespace detail {

namespace fsutil_types = ::fsutil::types;
namespace filesync_v1 = ::moby::filesync::v1;
namespace secrets_v1 = ::moby::buildkit::secrets::v1;

/// `n` random characters of [a-z0-9] (the session id), from OpenSSL's generator.
LIFTOFF_DECL std::string random_token(std::size_t n) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  unsigned char bytes[64];
  while (out.size() < n) {
    if (::RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("liftoff: the random generator failed");
    for (unsigned char b : bytes)
      if (b < 252 && out.size() < n) out += alphabet[b % 36];
  }
  return out;
}

LIFTOFF_DECL std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return liftoff::detail::to_hex(std::span<unsigned char const>(md, len));
}

/// The values of metadata `key`, URL-decoded when `key-encoded` says so (as BuildKit encodes non-ASCII patterns).
LIFTOFF_DECL std::vector<std::string> metadata_values(std::multimap<grpc::string_ref, grpc::string_ref> const& md,
                                                     std::string const& key) {
  auto flag = md.find(key + "-encoded");
  bool const encoded = flag != md.end() && std::string_view(flag->second.data(), flag->second.size()) == "true";
  std::vector<std::string> out;
  auto [b, e] = md.equal_range(key);
  for (auto it = b; it != e; ++it) {
    std::string v(it->second.data(), it->second.size());
    if (encoded) {
      std::string d;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          auto hex = v.substr(i + 1, 2);
          char* end = nullptr;
          long c = std::strtol(hex.c_str(), &end, 16);
          if (end == hex.c_str() + 2) {
            d += static_cast<char>(c);
            i += 2;
            continue;
          }
        }
        d += v[i] == '+' ? ' ' : v[i];
      }
      v = std::move(d);
    }
    out.push_back(std::move(v));
  }
  return out;
}

/// Serves the context and the Dockerfile (fsutil's sender side of DiffCopy).
class filesync_service final : public filesync_v1::FileSync::Service {
public:
  std::map<std::string, std::vector<sync_entry>, std::less<>> dirs;

  /// The first failure to read a file, for the build's error.
  std::string failure() const {
    std::lock_guard lock(m_);
    return failure_;
  }

  grpc::Status DiffCopy(grpc::ServerContext* ctx,
                        grpc::ServerReaderWriter<fsutil_types::Packet, fsutil_types::Packet>* stream) override {
    auto const& md = ctx->client_metadata();
    auto names = metadata_values(md, "dir-name");
    std::string const name = names.empty() ? std::string() : names.front();
    auto dir = dirs.find(name);
    if (dir == dirs.end())
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no access allowed to dir \"" + name + "\"");
    sync_filter filter;
    filter.include_patterns = metadata_values(md, "include-patterns");
    filter.exclude_patterns = metadata_values(md, "exclude-patterns");
    filter.follow_paths = metadata_values(md, "followpaths");
    auto entries = apply_filter(dir->second, filter);
    if (!entries) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, entries.error().what());

    fsutil_types::Packet p;
    for (std::size_t i = 0; i < entries->size(); ++i) {
      auto const& e = (*entries)[i];
      p.Clear();
      p.set_type(fsutil_types::Packet::PACKET_STAT);
      auto* st = p.mutable_stat();
      st->set_path(e.path);
      st->set_mode(go_file_mode(e.type, e.mode));
      st->set_size(e.size);
      st->set_modtime(e.mtime_ns);
      if (e.type == tree_entry_type::symlink) st->set_linkname(e.link_target);
      if (!stream->Write(p)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine closed the file transfer");
    }
    p.Clear();
    p.set_type(fsutil_types::Packet::PACKET_STAT);
    if (!stream->Write(p)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine closed the file transfer");

    fsutil_types::Packet in;
    std::string buffer(32 * 1024, '\0');
    while (stream->Read(&in)) {
      switch (in.type()) {
        case fsutil_types::Packet::PACKET_REQ: {
          auto const id = in.id();
          if (id >= entries->size() || (*entries)[id].type != tree_entry_type::regular)
            return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "invalid file id " + std::to_string(id));
          auto const& e = (*entries)[id];
          auto send = [&](std::string_view data) {
            p.Clear();
            p.set_type(fsutil_types::Packet::PACKET_DATA);
            p.set_id(id);
            p.set_data(std::string(data));
            return stream->Write(p);
          };
          if (e.source.empty()) {
            for (std::size_t off = 0; off < e.content.size(); off += buffer.size())
              if (!send(std::string_view(e.content).substr(off, buffer.size())))
                return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine closed the file transfer");
          } else {
            std::ifstream f(e.source, std::ios::binary);
            if (!f) return fail("cannot read " + e.source.string() + ": " + std::strerror(errno));
            std::int64_t sent = 0;
            while (f) {
              f.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
              auto n = f.gcount();
              if (n <= 0) break;
              sent += n;
              if (!send(std::string_view(buffer.data(), static_cast<std::size_t>(n))))
                return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine closed the file transfer");
            }
            if (f.bad()) return fail("cannot read " + e.source.string());
            if (sent != e.size)
              return fail("the build context changed while it was sent: " + e.source.string() + " had " +
                          std::to_string(e.size) + " bytes, then " + std::to_string(sent));
          }
          if (!send({})) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the engine closed the file transfer");
          break;
        }
        case fsutil_types::Packet::PACKET_FIN:
          p.Clear();
          p.set_type(fsutil_types::Packet::PACKET_FIN);
          stream->Write(p);
          return grpc::Status::OK;
        case fsutil_types::Packet::PACKET_ERR:
          return grpc::Status(grpc::StatusCode::UNKNOWN, "error from the engine: " + in.data());
        default: break;
      }
    }
    return grpc::Status::OK;
  }

private:
  grpc::Status fail(std::string message) {
    {
      std::lock_guard lock(m_);
      if (failure_.empty()) failure_ = message;
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, message);
  }
  mutable std::mutex m_;
  std::string failure_;
};

/// Registry credentials from the Docker config, for the base images the build pulls.
class auth_service final : public filesync_v1::Auth::Service {
public:
  grpc::Status Credentials(grpc::ServerContext*, filesync_v1::CredentialsRequest const* req,
                           filesync_v1::CredentialsResponse* res) override {
    std::string host = req->host();
    if (host == "registry-1.docker.io" || host == "index.docker.io") host = "docker.io";
    auto found = docker::find_registry_auth(host);
    if (!found) return grpc::Status(grpc::StatusCode::INTERNAL, found.error().what());
    if (*found) {
      if (!(*found)->identity_token.empty()) {
        res->set_secret((*found)->identity_token);
      } else {
        res->set_username((*found)->username);
        res->set_secret((*found)->password);
      }
    }
    return grpc::Status::OK;
  }
};

/// Build secrets by id; an unknown id is NOT_FOUND, which a `required=false` mount accepts.
class secrets_service final : public secrets_v1::Secrets::Service {
public:
  std::map<std::string, std::string, std::less<>> values;

  grpc::Status GetSecret(grpc::ServerContext*, secrets_v1::GetSecretRequest const* req,
                         secrets_v1::GetSecretResponse* res) override {
    auto it = values.find(req->id());
    if (it == values.end())
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "secret " + req->id() + " not found: give it with --build-secret id=" +
                                                          req->id() + ",src=PATH (or env=VAR)");
    res->set_data(it->second);
    return grpc::Status::OK;
  }
};

/// The gRPC methods the session offers, announced to the engine in its headers.
inline constexpr char const* session_methods[] = {
    "/moby.filesync.v1.FileSync/DiffCopy",        "/moby.filesync.v1.Auth/Credentials",
    "/moby.buildkit.secrets.v1.Secrets/GetSecret", "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
};

/** Opens `POST /session` on a connection of its own and returns its socket
    once the engine has switched protocols (101), with nothing of what
    follows read: the engine speaks HTTP/2 on it next. */
LIFTOFF_DECL result<int> open_session(docker::engine const& engine, std::string const& id, std::string const& name,
                                     std::string const& key) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  auto const& ep = engine.endpoint();
  std::string const target = ep.base_path + "/v" + engine.api_version() + "/session";
  std::string const where = "POST " + ep.to_string() + target;

  http::request<http::empty_body> req{http::verb::post, target, 11};
  req.set(http::field::host, ep.host_header());
  req.set(http::field::user_agent, "liftoff/0.1");
  req.set(http::field::upgrade, "h2c");
  req.set(http::field::connection, "Upgrade");
  req.set("X-Docker-Expose-Session-Uuid", id);
  req.set("X-Docker-Expose-Session-Name", name);
  req.set("X-Docker-Expose-Session-Sharedkey", key);
  for (auto const* m : session_methods) req.insert("X-Docker-Expose-Session-Grpc-Method", m);

  auto exchange = [&](auto& sock) -> result<int> {
    boost::system::error_code ec;
    http::write(sock, req, ec);
    if (ec) return diagnostic(ec, where + ": " + ec.message());
    // Byte by byte up to the end of the header: what follows is HTTP/2 for gRPC, which must stay unread.
    std::string head;
    char c = 0;
    while (!head.ends_with("\r\n\r\n")) {
      if (head.size() > 64 * 1024)
        return diagnostic(error::protocol_error, where + ": the engine's answer has no end of header");
      asio::read(sock, asio::buffer(&c, 1), ec);
      if (ec) return diagnostic(ec, where + ": " + ec.message());
      head += c;
    }
    http::response_parser<http::string_body> parser;
    parser.put(asio::buffer(head), ec);
    if (ec && ec != http::error::need_more)
      return diagnostic(error::protocol_error, where + ": the engine's answer is not HTTP: " + ec.message());
    auto const status = parser.get().result_int();
    if (status != 101) {
      std::string body;
      if (auto len = parser.content_length(); len && *len > 0 && *len < 65536) {
        body.resize(*len);
        asio::read(sock, asio::buffer(body), ec);
      }
      std::string message = body;
      boost::system::error_code jec;
      auto v = boost::json::parse(body, jec);
      if (!jec && v.is_object())
        if (auto const* m = v.as_object().if_contains("message"); m && m->is_string()) message = std::string(m->as_string());
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
      auto text = where + ": " + std::to_string(status) + " " + std::string(parser.get().reason()) +
                  (message.empty() ? "" : ": " + message);
      if (status == 404 || status == 400 || status == 501)
        return diagnostic(error::unsupported, "the Docker engine offers no BuildKit session (" + text + ")");
      return diagnostic(error::build_failed, text);
    }
    int fd = ::fcntl(sock.native_handle(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return diagnostic(error_code(errno, boost::system::system_category()), where + ": " + std::strerror(errno));
    return fd;
  };

  asio::io_context io;
  boost::system::error_code ec;
  if (ep.kind == net::transport_kind::unix_socket) {
    asio::local::stream_protocol::socket sock(io);
    sock.connect(asio::local::stream_protocol::endpoint(ep.socket_path), ec);
    if (ec) return diagnostic(ec, where + ": " + ec.message());
    return exchange(sock);
  }
  if (ep.kind != net::transport_kind::tcp)
    return diagnostic(error::unsupported, "BuildKit sessions over TLS are not supported (" + ep.to_string() + ")");
  asio::ip::tcp::resolver resolver(io);
  auto found = resolver.resolve(ep.host, std::to_string(ep.port), ec);
  if (ec) return diagnostic(ec, where + ": " + ec.message());
  asio::ip::tcp::socket sock(io);
  asio::connect(sock, found, ec);
  if (ec) return diagnostic(ec, where + ": " + ec.message());
  return exchange(sock);
}

/** Copies bytes both ways between the engine's session connection and a
    connection to the session's gRPC server (on a private unix socket): the
    server then serves it as any client connection. Stops when either side
    ends, or when destroyed. */
class relay {
public:
  relay(int engine_fd, int server_fd) : a_(engine_fd), b_(server_fd) {
    t1_ = std::thread([this] { pump(a_, b_); });
    t2_ = std::thread([this] { pump(b_, a_); });
  }
  relay(relay const&) = delete;
  relay& operator=(relay const&) = delete;
  ~relay() {
    ::shutdown(a_, SHUT_RDWR);
    ::shutdown(b_, SHUT_RDWR);
    t1_.join();
    t2_.join();
    ::close(a_);
    ::close(b_);
  }

private:
  static void pump(int from, int to) {
    char buf[64 * 1024];
    for (;;) {
      auto n = ::read(from, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        auto w = ::send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          ::shutdown(from, SHUT_RD);
          return;
        }
        off += w;
      }
    }
    ::shutdown(to, SHUT_WR);
  }
  int a_, b_;
  std::thread t1_, t2_;
};

/// A connection to the unix socket at `path`, or -1 with errno set.
LIFTOFF_DECL int connect_unix(std::string const& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

LIFTOFF_DECL std::optional<double> seconds_of(google::protobuf::Timestamp const& t, bool present) {
  if (!present) return std::nullopt;
  return static_cast<double>(t.seconds()) + t.nanos() / 1e9;
}

/// A `StatusResponse` (the bytes of a `moby.buildkit.trace` aux) as the printer's model.
LIFTOFF_DECL std::optional<status_update> decode_status(std::string const& bytes) {
  ::moby::buildkit::v1::StatusResponse r;
  if (!r.ParseFromString(bytes)) return std::nullopt;
  status_update u;
  for (auto const& v : r.vertexes()) {
    vertex_update x;
    x.digest = v.digest();
    x.name = v.name();
    x.cached = v.cached();
    x.started = seconds_of(v.started(), v.has_started());
    x.completed = seconds_of(v.completed(), v.has_completed());
    x.error = v.error();
    u.vertexes.push_back(std::move(x));
  }
  for (auto const& s : r.statuses())
    u.statuses.push_back({s.id(), s.vertex(), s.name(), s.current(), s.total(), s.has_completed()});
  for (auto const& l : r.logs()) u.logs.push_back({l.vertex(), static_cast<int>(l.stream()), l.msg()});
  for (auto const& w : r.warnings()) u.warnings.push_back({w.vertex(), w.short_()});
  return u;
}

}  // namespace detail

LIFTOFF_DECL result<docker::build_result> build(docker::engine& engine, docker::build_request request,
                                               build_input const& in, std::function<void(std::string_view)> on_line,
                                               std::stop_token stop) {
  auto fail = [](diagnostic d) {
    d.stage = failure_stage::build;
    return d;
  };
  if (!in.context) return fail(diagnostic(error::invalid_spec, "a BuildKit build needs a build context"));
  if (stop.stop_requested()) return fail(diagnostic(error::cancelled, "the build was cancelled before it started"));
  auto const& ctx = *in.context;

  detail::filesync_service files;
  {
    auto entries = detail::entries_of(ctx.directory(), ctx.entries());
    if (!entries) return fail(entries.error());
    detail::sort_for_walk(*entries);
    files.dirs["context"] = std::move(*entries);
    auto const slash = in.dockerfile_path.rfind('/');
    std::string const name = slash == std::string::npos ? in.dockerfile_path : in.dockerfile_path.substr(slash + 1);
    files.dirs["dockerfile"] = {detail::memory_file(name, in.dockerfile_text)};
    request.dockerfile = name;
  }
  detail::auth_service auth;
  detail::secrets_service secrets;
  for (auto const& s : in.secrets) secrets.values[s.id] = s.value;

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.RegisterService(&files);
  builder.RegisterService(&auth);
  builder.RegisterService(&secrets);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  // The server listens on a unix socket in a directory only this user can
  // enter; the session's connection is relayed to it.
  std::error_code dir_ec;
  auto const sock_dir = std::filesystem::temp_directory_path(dir_ec) / ("liftoff-buildkit-" + detail::random_token(12));
  if (!std::filesystem::create_directory(sock_dir, dir_ec) || dir_ec)
    return fail(diagnostic(error::build_failed, "cannot make the build session's directory " + sock_dir.string() + ": " +
                                                    dir_ec.message()));
  std::filesystem::permissions(sock_dir, std::filesystem::perms::owner_all, dir_ec);
  struct remove_dir {
    std::filesystem::path p;
    ~remove_dir() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } dir_guard{sock_dir};
  auto const sock_path = (sock_dir / "grpc.sock").string();
  builder.AddListeningPort("unix:" + sock_path, grpc::InsecureServerCredentials());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return fail(diagnostic(error::build_failed, "could not start the gRPC server of the build session"));
  struct shutdown_guard {
    grpc::Server* s;
    ~shutdown_guard() {
      s->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
      s->Wait();
    }
  } guard{server.get()};

  auto const id = detail::random_token(25);
  auto dir_name = ctx.directory().filename().string();
  if (dir_name.empty()) dir_name = ".";
  auto fd = detail::open_session(engine, id, dir_name,
                                 detail::sha256_hex(std::filesystem::absolute(ctx.directory()).string()));
  if (!fd) return fail(fd.error());
  int const local = detail::connect_unix(sock_path);
  if (local < 0) {
    auto e = errno;
    ::close(*fd);
    return fail(diagnostic(error::build_failed, "cannot reach the build session's server at " + sock_path + ": " + std::strerror(e)));
  }
  std::optional<detail::relay> relay;
  relay.emplace(*fd, local);

  request.version = 2;
  request.remote = "client-session";
  request.session = id;
  request.build_id = detail::random_token(32);

  std::mutex m;
  net::response_stream* live = nullptr;
  std::atomic<bool> cancelled{false};
  std::stop_callback on_stop(stop, [&] {
    cancelled = true;
    std::lock_guard lock(m);
    if (live) live->cancel();
  });

  auto opened = engine.open_build(request);
  if (!opened) {
    auto d = opened.error();
    if (d.message.find("buildkit not supported") != std::string::npos ||
        d.message.find("BuildKit is not supported") != std::string::npos)
      d.code = error::unsupported;
    return fail(std::move(d));
  }
  auto& stream = *opened;
  {
    std::lock_guard lock(m);
    live = &stream;
  }
  if (cancelled) stream.cancel();
  struct unlive {
    std::mutex& m;
    net::response_stream*& p;
    ~unlive() {
      std::lock_guard lock(m);
      p = nullptr;
    }
  } unlive_guard{m, live};

  detail::progress_printer printer;
  auto emit = [&](std::vector<std::string> const& lines) {
    if (on_line)
      for (auto const& l : lines) on_line(l);
  };
  std::string image_id, engine_error;
  std::optional<diagnostic> broken;
  for (;;) {
    auto line = stream.read_line();
    if (!line) {
      broken = line.error();
      break;
    }
    if (!*line) break;
    boost::system::error_code ec;
    auto v = boost::json::parse(**line, ec);
    if (ec || !v.is_object()) continue;
    auto const& o = v.as_object();
    auto str = [](boost::json::object const& from, char const* key) {
      auto const* f = from.if_contains(key);
      return f && f->is_string() ? std::string(f->as_string()) : std::string();
    };
    auto const msg_id = str(o, "id");
    auto const* aux = o.if_contains("aux");
    if (msg_id == "moby.buildkit.trace" && aux && aux->is_string()) {
      auto bytes = liftoff::detail::base64_decode(aux->as_string());
      if (!bytes) continue;
      if (auto u = detail::decode_status(*bytes)) emit(printer.feed(*u));
    } else if (msg_id == "moby.image.id" && aux && aux->is_object()) {
      image_id = str(aux->as_object(), "ID");
    } else if (auto const* d = o.if_contains("errorDetail"); d && d->is_object()) {
      engine_error = str(d->as_object(), "message");
    } else if (auto e = str(o, "error"); !e.empty()) {
      engine_error = e;
    } else if (auto s = str(o, "stream"); !s.empty()) {
      while (!s.empty() && s.back() == '\n') s.pop_back();
      if (!s.empty()) emit({s});
    }
  }
  emit(printer.finish());

  if (cancelled) {
    (void)engine.cancel_build(request.build_id);
    return fail(diagnostic(error::cancelled, "the build was cancelled"));
  }
  if (auto f = files.failure(); !f.empty()) return fail(diagnostic(error::file_unreadable, f));
  if (broken) return fail(*broken);
  if (!engine_error.empty() || image_id.empty()) {
    std::string msg = "the Docker build failed";
    if (auto step = printer.failed_step(); !step.empty()) msg += " at " + step;
    msg += ": " + (engine_error.empty() ? std::string("the engine reported no image id") : engine_error);
    if (auto lines = printer.failed_lines(); !lines.empty()) {
      msg += "\nits last lines:";
      for (auto const& l : lines) msg += "\n  " + l;
    }
    diagnostic d(error::build_failed, std::move(msg), failure_stage::build);
    if (engine_error.find("buildkit not supported") != std::string::npos) d.code = error::unsupported;
    return d;
  }
  return docker::build_result{image_id, request.tags};
}

}  // namespace liftoff::buildkit

#endif
