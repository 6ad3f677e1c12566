#ifndef LIFTOFF_CLIENT_IMPL_CLIENT_IPP
#define LIFTOFF_CLIENT_IMPL_CLIENT_IPP

#include <liftoff/client/client.hpp>

#include <liftoff/client/detail/artifact.hpp>
#include <liftoff/source/local_dir.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <liftoff/net/url.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace liftoff::client {

namespace detail {

LIFTOFF_DECL std::string getenv_or_empty(char const* name) {
  char const* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

/// One path segment of an API URL, percent-encoded.
LIFTOFF_DECL std::string segment(std::string_view v) { return net::percent_encode(v); }

/// A number of seconds as the `wait` query parameter takes it: "30", or "0.25".
LIFTOFF_DECL std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = std::max<std::int64_t>(0, d.count());
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000), static_cast<long long>(ms % 1000));
  return buf;
}

/// A random suffix for temporary files next to their destination.
LIFTOFF_DECL std::string temp_suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[24];
  std::snprintf(buf, sizeof buf, ".tmp-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

/// Writes `content` to `file` through a temporary file and a rename, with `mode`, synced to disk.
LIFTOFF_DECL result<void> write_file_atomically(std::filesystem::path const& file, std::string_view content, ::mode_t mode,
                                          std::string_view what) {
  auto tmp = file;
  tmp += temp_suffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return diagnostic(error::file_unreadable,
                      std::string(what) + " " + file.string() + " cannot be written: " + std::strerror(errno));
  liftoff::detail::unique_fd guard(fd);
  auto fail = [&](int err) {
    ::unlink(tmp.c_str());
    return diagnostic(error::file_unreadable,
                      std::string(what) + " " + file.string() + " cannot be written: " + std::strerror(err));
  };
  if (::fchmod(fd, mode) != 0) return fail(errno);  // the umask does not get a say
  std::size_t done = 0;
  while (done < content.size()) {
    auto n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno);
  guard.reset();
  if (::rename(tmp.c_str(), file.c_str()) != 0) return fail(errno);
  return {};
}

/// A response's JSON body; `protocol_error` naming the request when it is not JSON.
LIFTOFF_DECL result<boost::json::value> json_body(net::response const& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec)
    return diagnostic(error::protocol_error, r.summary + ": the answer (" + std::to_string(r.status) +
                                                 ") is not JSON: " + ec.message());
  return v;
}

/// A record read from a response with one of wire.hpp's readers; a bad record is the server's `protocol_error`.
template <class T>
result<T> record_from(net::response const& r, result<T> read) {
  if (read) return read;
  return diagnostic(error::protocol_error, r.summary + ": unexpected answer: " + read.error().what());
}

template <class F>
auto read_record(net::response const& r, F read) -> decltype(read(std::declval<boost::json::value const&>())) {
  auto v = json_body(r);
  if (!v) return v.error();
  return record_from(r, read(*v));
}

template <class F>
auto read_list(net::response const& r, F read, std::string_view what)
    -> result<std::vector<typename decltype(read(std::declval<boost::json::value const&>()))::value_type>> {
  auto v = json_body(r);
  if (!v) return v.error();
  return record_from(r, server::list_from_json(*v, read, what));
}

/// A queue with its counts (and, from describe, its items).
LIFTOFF_DECL result<queue_info> queue_info_from_json(boost::json::value const& v) {
  auto q = server::queue_from_json(v);
  if (!q) return q.error();
  queue_info info;
  info.queue = std::move(*q);
  auto const& o = v.get_object();  // queue_from_json checked that it is one
  if (auto const* c = o.if_contains("counts"); c && !c->is_null()) {
    auto const* co = c->if_object();
    if (!co) return diagnostic(error::protocol_error, "queue: field 'counts': expected an object");
    for (auto const& kv : *co) {
      if (!kv.value().is_int64() && !kv.value().is_uint64())
        return diagnostic(error::protocol_error,
                          "queue: field 'counts." + std::string(kv.key()) + "': expected an integer");
      info.counts[std::string(kv.key())] = kv.value().to_number<std::int64_t>();
    }
  }
  if (auto const* items = o.if_contains("items"); items && !items->is_null()) {
    auto list = server::list_from_json(*items, server::item_from_json, "queue: field 'items'");
    if (!list) return list.error();
    info.items = std::move(*list);
  }
  return info;
}

}  // namespace detail

// ---- credentials ---------------------------------------------------------------

LIFTOFF_DECL std::filesystem::path default_credentials_file() {
  auto xdg = detail::getenv_or_empty("XDG_CONFIG_HOME");
  if (!xdg.empty() && std::filesystem::path(xdg).is_absolute())
    return std::filesystem::path(xdg) / "liftoff" / "credentials.json";
  auto home = detail::getenv_or_empty("HOME");
  if (home.empty())
    if (auto const* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) home = pw->pw_dir;
  return std::filesystem::path(home) / ".config" / "liftoff" / "credentials.json";
}

LIFTOFF_DECL result<credentials> load_credentials(std::optional<std::filesystem::path> file) {
  credentials c;
  c.server = detail::getenv_or_empty("LIFTOFF_SERVER");
  c.token = detail::getenv_or_empty("LIFTOFF_API_TOKEN");
  auto const path = file ? *file : default_credentials_file();

  if (c.server.empty() || c.token.empty()) {
    struct ::stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return diagnostic(error::file_unreadable,
                          "credentials file " + path.string() + " is readable by others than its owner (mode " + mode +
                              "); it holds an API token: run `chmod 600 " + path.string() + "`");
      }
      std::ifstream in(path, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in || in.bad())
        return diagnostic(error::file_unreadable, "credentials file " + path.string() + " cannot be read: " +
                                                      std::strerror(errno));
      boost::system::error_code ec;
      auto v = boost::json::parse(text.str(), ec);
      if (ec)
        return diagnostic(error::parse_error, "credentials file " + path.string() + ": not JSON (" + ec.message() +
                                                  "); run `liftoff login --server URL` again");
      server::field_reader f(v, "credentials file " + path.string());
      auto server_url = f.string_or("server", "");
      auto token = f.string_or("token", "");
      if (!f.ok()) return diagnostic(error::parse_error, f.error().what());
      if (c.server.empty()) c.server = std::move(server_url);
      if (c.token.empty()) c.token = std::move(token);
    } else if (errno != ENOENT) {
      return diagnostic(error::file_unreadable,
                        "credentials file " + path.string() + " cannot be read: " + std::strerror(errno));
    }
  }
  if (c.server.empty())
    return diagnostic(error::file_not_found, "no liftoff server is known: run `liftoff login --server URL`, or set "
                                             "LIFTOFF_SERVER and LIFTOFF_API_TOKEN");
  if (c.token.empty())
    return diagnostic(error::file_not_found, "no API token for " + c.server + ": run `liftoff login --server " +
                                                 c.server + "`, or set LIFTOFF_API_TOKEN");
  return c;
}

LIFTOFF_DECL result<void> save_credentials(credentials const& c, std::optional<std::filesystem::path> file) {
  auto const path = file ? *file : default_credentials_file();
  if (c.server.empty()) return diagnostic(error::invalid_request, "credentials: the server URL is empty");
  if (c.token.empty()) return diagnostic(error::invalid_request, "credentials: the token is empty");
  std::error_code ec;
  if (path.has_parent_path() && !std::filesystem::exists(path.parent_path(), ec)) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      return diagnostic(error::file_unreadable,
                        "credentials directory " + path.parent_path().string() + " cannot be made: " + ec.message());
    ::chmod(path.parent_path().c_str(), 0700);
  }
  boost::json::object o{{"server", c.server}, {"token", c.token}};
  return detail::write_file_atomically(path, boost::json::serialize(o) + "\n", 0600, "credentials file");
}

// ---- the client ------------------------------------------------------------------

namespace detail {

namespace http = boost::beast::http;

/// The failure an error answer stands for: the API's own error read back, or `http_status`.
LIFTOFF_DECL diagnostic answer_error(net::response const& r) {
  return server::diagnostic_from_body(r.body, net::http_status_error(r).message);
}

/// Sends one API request; answers with an error status become the server's diagnostic.
LIFTOFF_DECL result<net::response> call(net::client& http, http::verb method, std::string target,
                                  std::optional<boost::json::value> body = std::nullopt) {
  net::request req;
  req.method = method;
  req.target = "/api/v1" + target;
  req.check_status = false;
  req.headers.set(http::field::accept, "application/json");
  if (body) {
    req.body = boost::json::serialize(*body);
    req.headers.set(http::field::content_type, "application/json");
  }
  auto r = http.send(std::move(req));
  if (!r) return r.error();
  if (r->status >= 400) return answer_error(*r);
  return r;
}

/// `protocol_error` for an answer whose (successful) status is not one the API gives here.
LIFTOFF_DECL diagnostic unexpected_status(net::response const& r) {
  return diagnostic(error::protocol_error,
                    r.summary + ": unexpected answer " + std::to_string(r.status) + " " + r.reason);
}

LIFTOFF_DECL result<void> expect_artifact_digest(std::string_view digest) {
  if (!valid_artifact_digest(digest))
    return diagnostic(error::invalid_request, "artifact digest: expected \"sha256:\" and 64 lowercase hex digits, got \"" +
                                                  std::string(digest) + "\"");
  return {};
}

}  // namespace detail

LIFTOFF_DECL api_client::api_client(net::client http, std::string url, std::string token)
    : http_(std::move(http)), url_(std::move(url)), token_(std::move(token)) {}

LIFTOFF_DECL result<api_client> api_client::create(std::string_view server_url, std::string token,
                                             net::client_options options) {
  std::string url(server_url);
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  if (url.empty()) return diagnostic(error::invalid_request, "server URL: empty (give http://HOST:PORT)");
  if (token.empty())
    return diagnostic(error::invalid_request, "API token: empty (run `liftoff login --server " + url + "`)");
  options.signer = net::bearer_token_signer(token);
  auto http = net::client::create(url, std::move(options));
  if (!http) {
    auto d = std::move(http).error();
    d.message = "server URL " + url + ": " + d.what();
    return d;
  }
  return api_client(std::move(*http), std::move(url), std::move(token));
}

LIFTOFF_DECL result<api_client> api_client::create(credentials const& c, net::client_options options) {
  return create(c.server, c.token, std::move(options));
}

LIFTOFF_DECL net::client& api_client::long_poll_client(std::chrono::milliseconds wait) {
  // A long poll must not time out before the server answers it: the wait plus a margin.
  auto const needed = wait + std::chrono::seconds(30);
  auto const base = http_.options().request_timeout;
  if (base.count() == 0 || base >= needed) return http_;
  if (!long_poll_ || long_poll_->options().request_timeout < needed) {
    auto options = http_.options();
    options.request_timeout = std::max(needed, std::chrono::milliseconds(std::chrono::seconds(120)));
    long_poll_.emplace(http_.get_endpoint(), std::move(options));
  }
  return *long_poll_;
}

LIFTOFF_DECL result<void> api_client::health() {
  auto r = detail::call(http_, detail::http::verb::get, "/health");
  if (!r) return r.error();
  return {};
}

// tokens

LIFTOFF_DECL result<std::pair<std::string, server::token_record>> api_client::create_token(std::string_view name,
                                                                                          server::token_role role) {
  auto r = detail::call(http_, detail::http::verb::post, "/tokens",
                        boost::json::object{{"name", name}, {"role", server::to_string(role)}});
  if (!r) return r.error();
  auto v = detail::json_body(*r);
  if (!v) return v.error();
  auto const* o = v->if_object();
  auto const* token = o ? o->if_contains("token") : nullptr;
  auto const* record = o ? o->if_contains("record") : nullptr;
  if (!token || !token->is_string() || !record)
    return diagnostic(error::protocol_error, r->summary + ": unexpected answer: expected {\"token\", \"record\"}");
  auto rec = detail::record_from(*r, server::token_from_json(*record));
  if (!rec) return rec.error();
  return std::make_pair(std::string(token->get_string()), std::move(*rec));
}

LIFTOFF_DECL result<server::token_record> api_client::whoami() {
  auto r = detail::call(http_, detail::http::verb::get, "/whoami");
  if (!r) return r.error();
  return detail::read_record(*r, server::token_from_json);
}

LIFTOFF_DECL result<std::vector<server::token_record>> api_client::list_tokens() {
  auto r = detail::call(http_, detail::http::verb::get, "/tokens");
  if (!r) return r.error();
  return detail::read_list(*r, server::token_from_json, "tokens");
}

LIFTOFF_DECL result<server::token_record> api_client::revoke_token(std::int64_t id) {
  auto r = detail::call(http_, detail::http::verb::delete_, "/tokens/" + std::to_string(id));
  if (!r) return r.error();
  return detail::read_record(*r, server::token_from_json);
}

// artifacts

LIFTOFF_DECL result<bool> api_client::has_artifact(std::string_view digest) {
  if (auto ok = detail::expect_artifact_digest(digest); !ok) return ok.error();
  net::request req;
  req.method = detail::http::verb::head;
  req.target = "/api/v1/artifacts/" + std::string(digest.substr(7));
  req.check_status = false;
  auto r = http_.send(std::move(req));
  if (!r) return r.error();
  if (r->status == 200) return true;
  if (r->status == 404) return false;
  return detail::answer_error(*r);
}

LIFTOFF_DECL result<bool> api_client::upload_artifact(std::string_view digest, std::filesystem::path const& file) {
  if (auto ok = detail::expect_artifact_digest(digest); !ok) return ok.error();
  auto held = has_artifact(digest);
  if (!held) return held.error();
  if (*held) return false;

  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return diagnostic(errno == ENOENT ? error::file_not_found : error::file_unreadable,
                      "artifact " + file.string() + " cannot be read: " + std::strerror(errno));
  struct ::stat st {};
  ::fstat(fd, &st);
  auto source = std::make_shared<liftoff::detail::unique_fd>(fd);
  auto read_failure = std::make_shared<std::string>();
  net::request req;
  req.method = detail::http::verb::put;
  req.target = "/api/v1/artifacts/" + std::string(digest.substr(7));
  req.check_status = false;
  req.headers.set(detail::http::field::content_type, "application/gzip");
  req.headers.set(detail::http::field::accept, "application/json");
  req.body_source = [source, read_failure](std::span<char> buffer, error_code& ec) -> std::size_t {
    for (;;) {
      auto n = ::read(source->get(), buffer.data(), buffer.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      *read_failure = std::strerror(errno);
      ec = error_code(errno, boost::system::system_category());
      return 0;
    }
  };
  // Streaming a large file takes longer than a small request may.
  auto& http = long_poll_client(std::chrono::milliseconds(st.st_size / 1024));
  auto r = http.send(std::move(req));
  if (!read_failure->empty())
    return diagnostic(error::file_unreadable, "artifact " + file.string() + " cannot be read: " + *read_failure);
  if (!r) return r.error();
  if (r->status >= 400) return detail::answer_error(*r);
  if (r->status != 200 && r->status != 201) return detail::unexpected_status(*r);
  return true;
}

LIFTOFF_DECL result<void> api_client::download_artifact(std::string_view digest, std::filesystem::path const& file) {
  if (auto ok = detail::expect_artifact_digest(digest); !ok) return ok.error();
  net::request req;
  req.method = detail::http::verb::get;
  req.target = "/api/v1/artifacts/" + std::string(digest.substr(7));
  req.check_status = false;
  auto stream = http_.open(std::move(req));
  if (!stream) return stream.error();
  if (stream->status() != 200) {
    auto body = stream->read_all();
    net::response r;
    r.status = stream->status();
    r.reason = stream->reason();
    r.summary = stream->summary();
    if (body) r.body = std::move(*body);
    if (r.status >= 400) return detail::answer_error(r);
    return detail::unexpected_status(r);
  }

  auto tmp = file;
  tmp += detail::temp_suffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return diagnostic(error::file_unreadable, "artifact " + file.string() + " cannot be written: " + std::strerror(errno));
  liftoff::detail::unique_fd guard(fd);
  auto fail = [&](diagnostic d) {
    guard.reset();
    ::unlink(tmp.c_str());
    return d;
  };
  detail::sha256 hash;
  std::vector<char> buffer(256 * 1024);
  for (;;) {
    auto n = stream->read_some(buffer);
    if (!n) return fail(n.error());
    if (*n == 0) break;
    hash.update(buffer.data(), *n);
    std::size_t done = 0;
    while (done < *n) {
      auto w = ::write(fd, buffer.data() + done, *n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return fail(diagnostic(error::file_unreadable,
                               "artifact " + file.string() + " cannot be written: " + std::strerror(errno)));
      }
      done += static_cast<std::size_t>(w);
    }
  }
  auto got = hash.hex();
  if (got != digest.substr(7))
    return fail(diagnostic(error::protocol_error, stream->summary() + ": the downloaded bytes have SHA-256 " + got +
                                                      ", not the artifact's " + std::string(digest.substr(7))));
  if (::fsync(fd) != 0)
    return fail(diagnostic(error::file_unreadable, "artifact " + file.string() + " cannot be written: " + std::strerror(errno)));
  guard.reset();
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    return fail(diagnostic(error::file_unreadable, "artifact " + file.string() + " cannot be written: " + std::strerror(errno)));
  return {};
}

// jobs

LIFTOFF_DECL result<server::job_version_record> api_client::create_job(std::string_view name, boost::json::object source,
                                                                 std::vector<std::string> const& aliases) {
  boost::json::object body{{"name", name}, {"source", std::move(source)}};
  if (!aliases.empty()) {
    boost::json::array a;
    for (auto const& x : aliases) a.emplace_back(x);
    body["aliases"] = std::move(a);
  }
  auto r = detail::call(http_, detail::http::verb::post, "/jobs", std::move(body));
  if (!r) return r.error();
  return detail::read_record(*r, server::job_version_from_json);
}

LIFTOFF_DECL result<std::vector<server::job_version_record>> api_client::list_jobs() {
  auto r = detail::call(http_, detail::http::verb::get, "/jobs");
  if (!r) return r.error();
  return detail::read_list(*r, server::job_version_from_json, "jobs");
}

LIFTOFF_DECL result<std::vector<server::job_version_record>> api_client::job_versions(std::string_view name) {
  auto r = detail::call(http_, detail::http::verb::get, "/jobs/" + detail::segment(name));
  if (!r) return r.error();
  return detail::read_list(*r, server::job_version_from_json, "job versions");
}

LIFTOFF_DECL result<server::job_version_record> api_client::job_version(std::string_view name, std::string_view selector) {
  auto r = detail::call(http_, detail::http::verb::get,
                        "/jobs/" + detail::segment(name) + "/versions/" + detail::segment(selector));
  if (!r) return r.error();
  return detail::read_record(*r, server::job_version_from_json);
}

LIFTOFF_DECL result<server::job_version_record> api_client::set_job_alias(std::string_view name, std::string_view alias,
                                                                    std::string_view selector) {
  auto r = detail::call(http_, detail::http::verb::put,
                        "/jobs/" + detail::segment(name) + "/aliases/" + detail::segment(alias),
                        boost::json::object{{"version", selector}});
  if (!r) return r.error();
  return detail::read_record(*r, server::job_version_from_json);
}

// queues

LIFTOFF_DECL result<server::queue_record> api_client::create_queue(std::string_view name, std::string_view resource,
                                                             boost::json::object config_template, bool prioritized) {
  boost::json::object body{{"name", name}, {"resource", resource}, {"prioritized", prioritized}};
  if (!config_template.empty()) body["config_template"] = std::move(config_template);
  auto r = detail::call(http_, detail::http::verb::post, "/queues", std::move(body));
  if (!r) return r.error();
  return detail::read_record(*r, server::queue_from_json);
}

LIFTOFF_DECL result<std::vector<queue_info>> api_client::list_queues() {
  auto r = detail::call(http_, detail::http::verb::get, "/queues");
  if (!r) return r.error();
  return detail::read_list(*r, detail::queue_info_from_json, "queues");
}

LIFTOFF_DECL result<queue_info> api_client::describe_queue(std::string_view name) {
  auto r = detail::call(http_, detail::http::verb::get, "/queues/" + detail::segment(name));
  if (!r) return r.error();
  return detail::read_record(*r, detail::queue_info_from_json);
}

LIFTOFF_DECL result<void> api_client::delete_queue(std::string_view name, bool force) {
  auto r = detail::call(http_, detail::http::verb::delete_,
                        "/queues/" + detail::segment(name) + (force ? "?force=true" : ""));
  if (!r) return r.error();
  return {};
}

// items

LIFTOFF_DECL result<server::item_record> api_client::push(push_request const& p) {
  if (!p.spec && p.job.empty())
    return diagnostic(error::invalid_request, "push: give a launch spec, a stored job, or both");
  boost::json::object body{{"priority", server::to_string(p.priority)}};
  if (p.spec) body["spec"] = *p.spec;
  if (!p.job.empty()) body["job"] = p.job;
  if (!p.variables.empty()) body["variables"] = p.variables;
  auto r = detail::call(http_, detail::http::verb::post, "/queues/" + detail::segment(p.queue) + "/items",
                        std::move(body));
  if (!r) return r.error();
  return detail::read_record(*r, server::item_from_json);
}

LIFTOFF_DECL result<std::vector<server::item_record>> api_client::list_items(std::string_view queue,
                                                                       std::optional<server::item_state> state) {
  std::string target = "/queues/" + detail::segment(queue) + "/items";
  if (state) target += "?state=" + std::string(server::to_string(*state));
  auto r = detail::call(http_, detail::http::verb::get, std::move(target));
  if (!r) return r.error();
  return detail::read_list(*r, server::item_from_json, "items");
}

// agents

LIFTOFF_DECL result<server::agent_record> api_client::register_agent(server::agent_registration const& reg) {
  auto r = detail::call(http_, detail::http::verb::post, "/agents", boost::json::value_from(reg));
  if (!r) return r.error();
  return detail::read_record(*r, server::agent_from_json);
}

LIFTOFF_DECL result<std::vector<server::agent_record>> api_client::list_agents() {
  auto r = detail::call(http_, detail::http::verb::get, "/agents");
  if (!r) return r.error();
  return detail::read_list(*r, server::agent_from_json, "agents");
}

LIFTOFF_DECL result<server::agent_record> api_client::get_agent(std::int64_t id) {
  auto r = detail::call(http_, detail::http::verb::get, "/agents/" + std::to_string(id));
  if (!r) return r.error();
  return detail::read_record(*r, server::agent_from_json);
}

LIFTOFF_DECL result<server::heartbeat_reply> api_client::heartbeat(std::int64_t agent) {
  auto r = detail::call(http_, detail::http::verb::post, "/agents/" + std::to_string(agent) + "/heartbeat",
                        boost::json::object{});
  if (!r) return r.error();
  return detail::read_record(*r, server::heartbeat_reply_from_json);
}

LIFTOFF_DECL result<server::agent_record> api_client::request_stop_agent(std::int64_t id) {
  auto r = detail::call(http_, detail::http::verb::post, "/agents/" + std::to_string(id) + "/stop",
                        boost::json::object{});
  if (!r) return r.error();
  return detail::read_record(*r, server::agent_from_json);
}

LIFTOFF_DECL result<server::agent_record> api_client::agent_stopped(std::int64_t id) {
  auto r = detail::call(http_, detail::http::verb::post, "/agents/" + std::to_string(id) + "/stopped",
                        boost::json::object{});
  if (!r) return r.error();
  return detail::read_record(*r, server::agent_from_json);
}

LIFTOFF_DECL result<std::optional<server::item_record>> api_client::lease(std::int64_t agent,
                                                                    std::vector<std::string> const& queues,
                                                                    std::chrono::milliseconds wait) {
  if (queues.empty()) return diagnostic(error::invalid_request, "lease: name at least one queue");
  boost::json::array names;
  for (auto const& q : queues) names.emplace_back(q);
  auto r = detail::call(long_poll_client(wait), detail::http::verb::post, "/lease?wait=" + detail::seconds_text(wait),
                        boost::json::object{{"agent", agent}, {"queues", std::move(names)}});
  if (!r) return r.error();
  if (r->status == 204) return std::optional<server::item_record>();
  if (r->status != 200) return detail::unexpected_status(*r);
  auto item = detail::read_record(*r, server::item_from_json);
  if (!item) return item.error();
  return std::optional<server::item_record>(std::move(*item));
}

LIFTOFF_DECL result<server::item_record> api_client::ack(std::int64_t item, std::int64_t agent) {
  auto r = detail::call(http_, detail::http::verb::post, "/items/" + std::to_string(item) + "/ack",
                        boost::json::object{{"agent", agent}});
  if (!r) return r.error();
  return detail::read_record(*r, server::item_from_json);
}

// runs

LIFTOFF_DECL result<std::vector<server::run_record>> api_client::list_runs(run_query const& q) {
  std::string query;
  auto add = [&](std::string_view key, std::string const& value) {
    query += query.empty() ? '?' : '&';
    query += key;
    query += '=';
    query += detail::segment(value);
  };
  if (q.queue) add("queue", *q.queue);
  if (q.state) add("state", std::string(to_string(*q.state)));
  if (q.agent) add("agent", std::to_string(*q.agent));
  if (q.active_only) add("active", "true");
  add("limit", std::to_string(q.limit));
  auto r = detail::call(http_, detail::http::verb::get, "/runs" + query);
  if (!r) return r.error();
  return detail::read_list(*r, server::run_from_json, "runs");
}

LIFTOFF_DECL result<server::run_record> api_client::get_run(std::string_view run_id) {
  auto r = detail::call(http_, detail::http::verb::get, "/runs/" + detail::segment(run_id));
  if (!r) return r.error();
  return detail::read_record(*r, server::run_from_json);
}

LIFTOFF_DECL result<boost::json::object> api_client::run_spec(std::string_view run_id) {
  auto r = detail::call(http_, detail::http::verb::get, "/runs/" + detail::segment(run_id));
  if (!r) return r.error();
  auto v = detail::json_body(*r);
  if (!v) return v.error();
  auto const* o = v->if_object();
  auto const* spec = o ? o->if_contains("spec") : nullptr;
  if (!spec || !spec->is_object())
    return diagnostic(error::protocol_error, r->summary + ": unexpected answer: the run has no 'spec' object");
  return spec->get_object();
}

LIFTOFF_DECL result<server::run_record> api_client::report(std::string_view run_id, std::int64_t agent,
                                                     server::state_update const& u) {
  auto body = boost::json::value_from(u);
  body.as_object()["agent"] = agent;
  auto r = detail::call(http_, detail::http::verb::post, "/runs/" + detail::segment(run_id) + "/report",
                        std::move(body));
  if (!r) return r.error();
  return detail::read_record(*r, server::run_from_json);
}

LIFTOFF_DECL result<void> api_client::append_logs(std::string_view run_id, std::int64_t agent, std::string_view text) {
  auto r = detail::call(http_, detail::http::verb::post, "/runs/" + detail::segment(run_id) + "/logs",
                        boost::json::object{{"agent", agent}, {"text", text}});
  if (!r) return r.error();
  return {};
}

LIFTOFF_DECL result<log_chunk> api_client::logs(std::string_view run_id, std::uint64_t offset,
                                          std::chrono::milliseconds wait) {
  std::string target = "/runs/" + detail::segment(run_id) + "/logs?offset=" + std::to_string(offset);
  if (wait.count() > 0) target += "&wait=" + detail::seconds_text(wait);
  auto r = detail::call(wait.count() > 0 ? long_poll_client(wait) : http_, detail::http::verb::get, std::move(target));
  if (!r) return r.error();
  log_chunk c;
  c.text = std::move(r->body);
  auto next = r->headers.find("X-Liftoff-Next-Offset");
  auto state = r->headers.find("X-Liftoff-Run-State");
  if (next == r->headers.end() || state == r->headers.end())
    return diagnostic(error::protocol_error,
                      r->summary + ": unexpected answer: no X-Liftoff-Next-Offset or X-Liftoff-Run-State header");
  auto nv = next->value();
  auto [end, ec] = std::from_chars(nv.data(), nv.data() + nv.size(), c.next_offset);
  if (ec != std::errc() || end != nv.data() + nv.size())
    return diagnostic(error::protocol_error, r->summary + ": unexpected answer: X-Liftoff-Next-Offset is \"" +
                                                 std::string(nv) + "\", not a byte offset");
  auto st = run_state_from_string(state->value());
  if (!st)
    return diagnostic(error::protocol_error, r->summary + ": unexpected answer: X-Liftoff-Run-State is \"" +
                                                 std::string(state->value()) + "\", not a run state");
  c.state = *st;
  return c;
}

LIFTOFF_DECL result<server::run_record> api_client::request_stop_run(std::string_view run_id) {
  auto r = detail::call(http_, detail::http::verb::post, "/runs/" + detail::segment(run_id) + "/stop",
                        boost::json::object{});
  if (!r) return r.error();
  return detail::read_record(*r, server::run_from_json);
}

// ---- code artifacts ------------------------------------------------------------------

LIFTOFF_DECL result<std::string> pack_code_artifact(std::filesystem::path const& dir, std::filesystem::path const& out) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return diagnostic(error::file_not_found, "code: " + dir.string() + " is not a directory");
  auto rules = ignore_rules::load(dir / ".liftoffignore");
  if (!rules) return rules.error();
  auto entries = list_tree(dir, *rules);
  if (!entries) return entries.error();
  for (auto const& e : *entries)
    if (e.type == tree_entry_type::symlink && !detail::link_stays_inside(e.path, e.link_target))
      return diagnostic(error::invalid_spec, "code: the symlink '" + e.path + "' in " + dir.string() + " points to '" +
                                                 e.link_target + "', outside the directory (copy the file in, or "
                                                 "add the link to .liftoffignore)");
  auto tmp = out;
  tmp += detail::temp_suffix();
  if (auto written = detail::write_code_tarball(dir, *entries, tmp); !written) {
    ::unlink(tmp.c_str());
    return written.error();
  }
  auto hex = detail::sha256_file(tmp, "code artifact");
  if (!hex) {
    ::unlink(tmp.c_str());
    return hex.error();
  }
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return diagnostic(error::file_unreadable, "code artifact " + out.string() + " cannot be written: " + std::strerror(err));
  }
  return "sha256:" + *hex;
}

namespace detail {

/// A byte count for people: "512 bytes", "1 MiB", "4.5 GiB".
LIFTOFF_DECL std::string byte_count_text(std::uint64_t bytes) {
  static constexpr char const* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<std::uint64_t>(v)))
    std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(v), units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

/// Unpacks `file` under `root` (an existing directory without symlinks in its path), within `limits`.
LIFTOFF_DECL result<void> unpack_tarball(std::filesystem::path const& file, std::filesystem::path const& root,
                                         unpack_limits const& limits) {
  std::unique_ptr<archive, archive_read_deleter> in(archive_read_new());
  std::unique_ptr<archive, archive_write_deleter> out(archive_write_disk_new());
  std::string const what = "code artifact " + file.string();
  if (!in || !out) return diagnostic(error::unsupported, what + ": libarchive cannot make a reader");
  archive_read_support_filter_gzip(in.get());
  archive_read_support_format_tar(in.get());
  // The archive's own paths are checked against NOABSOLUTEPATHS and NODOTDOT below, before they are put under
  // `root`; libarchive checks the joined path again for `..` and for symlinks it would write through. PERM keeps
  // modes exactly (no umask); the setuid, setgid and sticky bits are masked off each entry first.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_PERM);
  if (archive_read_open_filename(in.get(), file.c_str(), 64 * 1024) != ARCHIVE_OK)
    return diagnostic(error::file_unreadable, what + " cannot be read: " + archive_message(in.get()));

  auto bomb = [&](std::string const& why, std::string const& setting) {
    return diagnostic(error::body_too_large, what + " " + why + ": it is refused as a possible archive bomb; if it is "
                                                                "expected, raise " + setting);
  };
  auto too_big = [&](std::string const& path) {
    return bomb("unpacks to more than " + byte_count_text(limits.max_unpacked_bytes) + " (" +
                    std::to_string(limits.max_unpacked_bytes) + " bytes), the limit, at its entry '" + path + "'",
                limits.unpacked_bytes_setting);
  };
  std::uint64_t entries = 0;
  std::uint64_t unpacked = 0;  // bytes written by the entries before this one
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return diagnostic(error::file_unreadable, what + " is not a readable tar.gz: " + archive_message(in.get()));
    if (++entries > limits.max_entries)
      return bomb("has more than " + std::to_string(limits.max_entries) +
                      (limits.max_entries == 1 ? " entry" : " entries") + ", the limit",
                  limits.entries_setting);
    char const* raw = archive_entry_pathname(e);
    std::string path = raw ? raw : "";
    while (path.starts_with("./")) path.erase(0, 2);
    if (path.empty() || path == ".") continue;
    if (path.front() == '/' || !stays_inside(path))
      return diagnostic(error::invalid_request, what + ": the entry '" + path +
                                                    "' would land outside the directory (absolute or with '..'); "
                                                    "the artifact is refused");
    auto type = archive_entry_filetype(e);
    if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
      return diagnostic(error::invalid_request, what + ": the entry '" + path +
                                                    "' is not a file, a directory or a symlink; the artifact is refused");
    if (archive_entry_hardlink(e))
      return diagnostic(error::invalid_request, what + ": the entry '" + path + "' is a hard link; the artifact is refused");
    if (type == AE_IFLNK) {
      char const* target = archive_entry_symlink(e);
      if (!target || !link_stays_inside(path, target))
        return diagnostic(error::invalid_request, what + ": the symlink '" + path + "' points to '" +
                                                      (target ? target : "") + "', outside the directory; "
                                                      "the artifact is refused");
    }
    // The size the header declares (a sparse file's whole size) is checked before anything of the entry is written.
    auto const declared = static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(e)));
    if (type == AE_IFREG && declared > limits.max_unpacked_bytes - std::min(unpacked, limits.max_unpacked_bytes))
      return too_big(path);
    auto dest = (root / path).string();
    archive_entry_set_pathname(e, dest.c_str());
    archive_entry_set_uid(e, ::getuid());
    archive_entry_set_gid(e, ::getgid());
    // No setuid, setgid or sticky bit; a directory stays the owner's to fill and to remove.
    archive_entry_set_perm(e, (archive_entry_perm(e) & 0777) | (type == AE_IFDIR ? 0700 : 0));
    if (archive_write_header(out.get(), e) < ARCHIVE_WARN)
      return diagnostic(error::file_unreadable, what + ": cannot unpack '" + path + "': " + archive_message(out.get()));
    std::uint64_t written = 0;  // the end of the entry's data written so far
    if (type == AE_IFREG && declared > 0) {
      void const* buf = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      for (;;) {
        r = archive_read_data_block(in.get(), &buf, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
          return diagnostic(error::file_unreadable, what + ": cannot read '" + path + "': " + archive_message(in.get()));
        auto const block_end = static_cast<std::uint64_t>(std::max<la_int64_t>(0, offset)) + size;
        if (block_end > limits.max_unpacked_bytes - std::min(unpacked, limits.max_unpacked_bytes))
          return too_big(path);
        written = std::max(written, block_end);
        if (archive_write_data_block(out.get(), buf, size, offset) < ARCHIVE_WARN)
          return diagnostic(error::file_unreadable, what + ": cannot unpack '" + path + "': " + archive_message(out.get()));
      }
    }
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return diagnostic(error::file_unreadable, what + ": cannot unpack '" + path + "': " + archive_message(out.get()));
    if (type == AE_IFREG) unpacked += std::max(declared, written);
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return diagnostic(error::file_unreadable, what + ": cannot finish unpacking: " + archive_message(out.get()));
  return {};
}

}  // namespace detail

LIFTOFF_DECL result<void> unpack_code_artifact(std::filesystem::path const& file, std::filesystem::path const& dir,
                                               unpack_limits const& limits) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // What `dir` held before, so that a failure removes only what this call added.
  bool const made = !fs::exists(fs::symlink_status(dir, ec));
  std::vector<fs::path> before;
  if (!made)
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) before.push_back(it->path());
  fs::create_directories(dir, ec);
  if (ec) return diagnostic(error::file_unreadable, "code: " + dir.string() + " cannot be made: " + ec.message());
  // No symlink in the destination's own path, so that ARCHIVE_EXTRACT_SECURE_SYMLINKS only ever sees the archive's.
  auto root = fs::canonical(dir, ec);
  if (ec) return diagnostic(error::file_unreadable, "code: " + dir.string() + " cannot be read: " + ec.message());

  auto done = detail::unpack_tarball(file, root, limits);
  if (!done) {
    if (made) {
      fs::remove_all(dir, ec);
    } else {
      std::vector<fs::path> added;
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (std::find(before.begin(), before.end(), it->path()) == before.end()) added.push_back(it->path());
      for (auto const& p : added) fs::remove_all(p, ec);
    }
  }
  return done;
}

}  // namespace liftoff::client

#endif
