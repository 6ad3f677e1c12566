#ifndef LIFTOFF_DOCKER_IMPL_ENGINE_IPP
#define LIFTOFF_DOCKER_IMPL_ENGINE_IPP

#include <liftoff/docker/engine.hpp>

#include <liftoff/docker/detail/json_message.hpp>
#include <liftoff/docker/detail/routes.hpp>
#include <liftoff/docker/reference.hpp>

#include <atomic>
#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <liftoff/net/url.hpp>
#include <boost/url/grammar/lut_chars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <utility>

namespace liftoff::docker {

namespace detail {

namespace http = boost::beast::http;

/// One Engine API request, before it is turned into a `net::request` or recorded in a dry run.
struct api_call {
  route const& r;
  std::string param;  ///< the value of the path's `{id}` / `{name}`, unencoded
  std::vector<std::pair<std::string, std::string>> query;
  std::optional<boost::json::value> json;  ///< a JSON body
  net::body_reader source;                 ///< a streamed body
  std::string source_description;          ///< what `source` is, for dry runs
  std::string content_type;                ///< of `source`
  std::vector<std::pair<std::string, std::string>> headers;
  bool versioned = true;  ///< false for `/_ping` and `/version`, which are asked before a version is known
  std::optional<bool> idempotent;
};

LIFTOFF_DECL http::verb verb_of(std::string_view m) {
  if (m == "POST") return http::verb::post;
  if (m == "DELETE") return http::verb::delete_;
  if (m == "HEAD") return http::verb::head;
  return http::verb::get;
}

/// Image names keep their '/', ':' and '@' in paths, as the docker CLI sends them.
LIFTOFF_DECL std::string encode_path_param(std::string_view v) { return net::percent_encode(v, ":@/"); }

/// "1.41" as (1, 41); nullopt when it is not MAJOR.MINOR.
LIFTOFF_DECL std::optional<std::pair<int, int>> parse_api_version(std::string_view v) {
  auto dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size()) return std::nullopt;
  std::pair<int, int> out{0, 0};
  for (char c : v.substr(0, dot)) {
    if (c < '0' || c > '9') return std::nullopt;
    out.first = out.first * 10 + (c - '0');
  }
  for (char c : v.substr(dot + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    out.second = out.second * 10 + (c - '0');
  }
  return out;
}

/// The message of an engine error body (`{"message": …}`), else an excerpt of the body.
LIFTOFF_DECL std::string engine_message(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object())
    if (auto const* m = v.as_object().if_contains("message"); m && m->is_string()) return std::string(m->as_string());
  std::string out(body.substr(0, 300));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return out.empty() ? std::string("no message") : out;
}

/// Where the engine is: `host` (its origin explained in `origin`), with `tcp://` given Docker's default port.
LIFTOFF_DECL result<std::string> resolve_docker_host(std::string const& configured, std::string& origin) {
  std::string host;
  if (!configured.empty()) {
    host = configured;
    origin.clear();
  } else if (char const* env = std::getenv("DOCKER_HOST"); env && *env) {
    host = env;
    origin = "from DOCKER_HOST";
  } else {
    host = std::string(default_host);
    origin = "the default; set DOCKER_HOST to use another";
  }
  std::string_view const named = origin == "from DOCKER_HOST" ? "DOCKER_HOST" : "the Docker host";
  auto scheme_end = host.find("://");
  std::string scheme = scheme_end == std::string::npos ? std::string() : host.substr(0, scheme_end);
  if (scheme != "unix" && scheme != "tcp" && scheme != "http")
    return diagnostic(error::unsupported, std::string(named) + " '" + host +
                                              "' is not supported: liftoff reaches Docker engines at unix:///path or "
                                              "tcp://host:port (not ssh://, npipe://, fd:// or TLS)");
  if (scheme != "unix") {
    auto authority_start = scheme_end + 3;
    auto authority = host.substr(authority_start, host.find('/', authority_start) - authority_start);
    auto bracket = authority.rfind(']');
    auto colon = authority.rfind(':');
    if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket))
      host.insert(authority_start + authority.size(), ":2375");
  }
  return host;
}

}  // namespace detail

// ---- log_reader, container_wait ---------------------------------------------

LIFTOFF_DECL result<std::optional<log_line>> log_reader::next() {
  std::array<char, 16384> buf;
  for (;;) {
    if (auto l = demux_.pop()) return l;
    if (ended_ || !stream_) return std::optional<log_line>{};
    auto n = stream_->read_some(buf);
    if (!n) return n.error();
    if (*n == 0) {
      ended_ = true;
      if (auto f = demux_.finish(); !f) return f.error();
      continue;
    }
    if (auto f = demux_.feed(std::string_view(buf.data(), *n)); !f) return f.error();
  }
}

LIFTOFF_DECL void log_reader::close() noexcept {
  ended_ = true;
  if (stream_) stream_->close();
}

LIFTOFF_DECL result<int> container_wait::get() {
  if (!stream_) return 0;
  auto body = stream_->read_all();
  if (!body) return body.error();
  boost::system::error_code ec;
  auto v = boost::json::parse(*body, ec);
  boost::json::object const* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  auto const* code = o ? o->if_contains("StatusCode") : nullptr;
  if (auto const* err = o ? o->if_contains("Error") : nullptr; err && err->is_object())
    if (auto const* m = err->as_object().if_contains("Message"); m && m->is_string() && !m->as_string().empty())
      return diagnostic(error::run_failed, "waiting for container " + id_ + ": " + std::string(m->as_string()));
  if (!code || !code->is_number())
    return diagnostic(error::protocol_error,
                      "waiting for container " + id_ + ": the engine's answer has no StatusCode: " + body->substr(0, 200));
  return static_cast<int>(code->to_number<std::int64_t>());
}

// ---- engine: plumbing -------------------------------------------------------

LIFTOFF_DECL std::string engine::target(detail::api_call const& call) const {
  std::string out = call.versioned ? "/v" + api_version_ : std::string();
  out += detail::expand(call.r, detail::encode_path_param(call.param));
  char sep = '?';
  for (auto const& [k, v] : call.query) {
    assert(detail::has_query_param(call.r, k) && "a query parameter missing from the route table in detail/routes.hpp");
    out += sep;
    sep = '&';
    out += k + "=" + net::percent_encode(v);
  }
  return out;
}

LIFTOFF_DECL void engine::record(detail::api_call const& call) const {
  boost::json::object o;
  o["method"] = call.r.method;
  std::string path = call.versioned ? "/v" + api_version_ : std::string();
  path += detail::expand(call.r, detail::encode_path_param(call.param));
  o["path"] = path;
  if (!call.query.empty()) {
    boost::json::object q;
    for (auto const& [k, v] : call.query) {
      assert(detail::has_query_param(call.r, k) && "a query parameter missing from the route table in detail/routes.hpp");
      if (auto* prev = q.if_contains(k)) {  // repeated parameters (build's `t`) become arrays
        if (!prev->is_array()) *prev = boost::json::array{*prev};
        prev->as_array().emplace_back(v);
      } else {
        q[k] = v;
      }
    }
    o["query"] = std::move(q);
  }
  if (!call.headers.empty()) {
    boost::json::object h;
    for (auto const& [k, v] : call.headers) h[k] = k == "X-Registry-Auth" ? std::string("REDACTED") : v;
    o["headers"] = std::move(h);
  }
  if (call.json) o["body"] = *call.json;
  else if (call.source) o["body"] = call.source_description;
  options_.on_request(o);
}

LIFTOFF_DECL net::request engine::make_request(detail::api_call const& call) const {
  net::request req;
  req.method = detail::verb_of(call.r.method);
  req.target = target(call);
  req.check_status = false;
  req.idempotent = call.idempotent;
  for (auto const& [k, v] : call.headers) req.headers.set(k, v);
  if (call.json) {
    req.headers.set(boost::beast::http::field::content_type, "application/json");
    req.body = boost::json::serialize(*call.json);
  } else if (call.source) {
    req.headers.set(boost::beast::http::field::content_type, call.content_type);
    req.body_source = call.source;
  }
  return req;
}

LIFTOFF_DECL diagnostic engine::unreachable(diagnostic const& d) const {
  // Errors of the HTTP exchange itself (a malformed answer, a body too large) are not about reachability.
  if (d.code.category() == liftoff_category() && d.code != error::timeout) return d;
  auto colon = d.message.find(": ");
  std::string detail = colon == std::string::npos ? d.what() : d.message.substr(colon + 2);
  std::string msg = "cannot reach the Docker engine at " + host_;
  if (!host_origin_.empty()) msg += " (" + host_origin_ + ")";
  msg += ": " + detail + " — ";
  if (d.code == boost::system::errc::permission_denied)
    msg += "this user may not use the engine's socket: run as root or join the group that owns it (usually docker)";
  else if (host_origin_ == "from DOCKER_HOST")
    msg += "start it with `systemctl start docker` or `dockerd`, or point DOCKER_HOST at a running engine";
  else
    msg += "start it with `systemctl start docker` or `dockerd`";
  return diagnostic(d.code, std::move(msg), d.stage);
}

LIFTOFF_DECL diagnostic engine::engine_error(net::response const& r, std::string const& what) const {
  return diagnostic(error::http_status, what + ": " + detail::engine_message(r.body));
}

LIFTOFF_DECL diagnostic engine::stream_error(net::response_stream& s, std::string const& what) const {
  auto body = s.read_all();
  return diagnostic(error::http_status,
                    what + ": " + (body ? detail::engine_message(*body) : std::to_string(s.status()) + " " + s.reason()));
}

LIFTOFF_DECL result<net::response> engine::send(detail::api_call const& call, net::client& c) {
  auto r = c.send(make_request(call));
  if (!r) return unreachable(r.error());
  return r;
}

LIFTOFF_DECL net::client engine::stream_client() const {
  auto o = options_.net;
  o.request_timeout = std::chrono::milliseconds(0);  // a pull, a build, a wait or a follow takes as long as it takes
  return net::client(endpoint_, std::move(o));
}

LIFTOFF_DECL result<net::response_stream> engine::open(detail::api_call const& call) {
  auto c = stream_client();
  auto s = c.open(make_request(call));
  if (!s) return unreachable(s.error());
  return s;
}

// ---- engine: connect ----------------------------------------------------------

LIFTOFF_DECL result<engine> engine::connect(engine_options options) {
  engine e;
  e.options_ = std::move(options);
  auto host = detail::resolve_docker_host(e.options_.host, e.host_origin_);
  if (!host) return host.error();
  e.host_ = *host;
  auto ep = net::parse_endpoint(e.host_.starts_with("tcp://") ? "http://" + e.host_.substr(6) : e.host_);
  if (!ep) return diagnostic(error::invalid_spec, "the Docker host '" + e.host_ + "'" +
                                                      (e.host_origin_.empty() ? "" : " (" + e.host_origin_ + ")") +
                                                      " is not valid: " + ep.error().what());
  e.endpoint_ = *ep;
  e.client_.emplace(e.endpoint_, e.options_.net);

  std::string const& wanted = e.options_.api_version;
  auto const oldest = *detail::parse_api_version(min_api_version);
  auto const newest = *detail::parse_api_version(max_api_version);
  std::optional<std::pair<int, int>> wanted_v;
  if (!wanted.empty()) {
    wanted_v = detail::parse_api_version(wanted);
    if (!wanted_v || *wanted_v < oldest)
      return diagnostic(error::invalid_spec, "engine_options.api_version '" + wanted + "' is not an API version liftoff speaks (" +
                                                 std::string(min_api_version) + " or newer, as MAJOR.MINOR)");
  }
  if (e.dry_run()) {
    e.api_version_ = wanted.empty() ? std::string(min_api_version) : wanted;
    return e;
  }

  // As the docker CLI, ask `HEAD /_ping` (API 1.40) first: its `Api-Version` header is the
  // engine's version, at a fraction of `GET /version`'s cost. A peer that sends no such header
  // (a proxy, an engine older than 1.40) is asked `GET /version`.
  detail::api_call ping{detail::ping_route};
  ping.versioned = false;
  ping.idempotent = true;
  auto p = e.send(ping);
  if (!p) return p.error();
  std::optional<std::pair<int, int>> server_v;
  std::string server_text;
  if (auto h = p->headers.find("Api-Version"); h != p->headers.end()) {
    server_text = std::string(h->value());
    server_v = detail::parse_api_version(server_text);
  }
  if (!server_v) {
    detail::api_call call{detail::version_route};
    call.versioned = false;
    auto r = e.send(call);
    if (!r) return r.error();
    server_text.clear();
    if (r->status == 200) {
      boost::system::error_code ec;
      auto v = boost::json::parse(r->body, ec);
      if (!ec && v.is_object())
        if (auto const* a = v.as_object().if_contains("ApiVersion"); a && a->is_string()) {
          server_text = std::string(a->as_string());
          server_v = detail::parse_api_version(server_text);
        }
    }
    if (!server_v)
      return diagnostic(error::protocol_error, e.host_ + " answered GET /version with " + std::to_string(r->status) + " " +
                                                   r->reason + " and no ApiVersion: is it a Docker engine?");
  }
  std::string const where = "Docker engine at " + e.host_;
  if (*server_v < oldest)
    return diagnostic(error::unsupported, where + " speaks API " + server_text + "; liftoff needs " +
                                              std::string(min_api_version) + " (Docker 20.10) or newer");
  if (wanted_v) {
    if (*server_v < *wanted_v)
      return diagnostic(error::unsupported, where + " speaks API " + server_text +
                                                " at most; engine_options.api_version asks for " + wanted);
    e.api_version_ = wanted;
  } else {
    e.api_version_ = *server_v < newest ? server_text : std::string(max_api_version);
  }
  return e;
}

// ---- engine: images -------------------------------------------------------------

LIFTOFF_DECL result<std::optional<boost::json::object>> engine::inspect_image(std::string_view image) {
  detail::api_call call{detail::image_inspect_route, std::string(image)};
  if (dry_run()) {
    record(call);
    return std::optional<boost::json::object>{};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (r->status == 404) return std::optional<boost::json::object>{};
  if (!r->ok()) return engine_error(*r, "inspecting image " + std::string(image));
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (ec || !v.is_object())
    return diagnostic(error::protocol_error, "inspecting image " + std::string(image) + ": the engine's answer is not a JSON object");
  return std::optional<boost::json::object>(std::move(v.as_object()));
}

LIFTOFF_DECL result<void> engine::pull(std::string_view image, progress_fn progress, std::string_view platform) {
  auto auth = find_image_auth(image);
  if (!auth) return auth.error();
  return pull(image, *auth ? &**auth : nullptr, std::move(progress), platform);
}

LIFTOFF_DECL result<void> engine::pull(std::string_view image, registry_auth const* auth, progress_fn progress,
                                 std::string_view platform) {
  auto ref = parse_image_reference(image);
  if (!ref) return ref.error();
  std::string const what =
      "pulling " + std::string(image) + (platform.empty() ? std::string() : " for " + std::string(platform));
  detail::api_call call{detail::image_create_route};
  call.query = {{"fromImage", ref->name()}, {"tag", ref->digest.empty() ? ref->tag : ref->digest}};
  if (!platform.empty()) call.query.emplace_back("platform", std::string(platform));
  if (auth) call.headers.emplace_back("X-Registry-Auth", registry_auth_header(*auth));
  call.idempotent = true;  // pulling twice is harmless
  if (dry_run()) {
    record(call);
    return {};
  }
  auto s = open(call);
  if (!s) return s.error();
  if (s->status() != 200) return stream_error(*s, what);
  detail::pull_tracker tracker;
  for (;;) {
    auto line = s->read_line();
    if (!line) return line.error();
    if (!*line) return {};
    auto m = detail::parse_json_message(**line);
    if (!m) return m.error();
    if (m->is_error()) {
      s->close();
      return diagnostic(error::http_status, what + ": " + m->error);
    }
    if (progress)
      if (auto text = tracker.line(*m)) progress(*text);
  }
}

LIFTOFF_DECL result<void> engine::tag_image(std::string_view source, std::string_view target_name) {
  auto ref = parse_image_reference(target_name);
  if (!ref) return ref.error();
  if (!ref->digest.empty())
    return diagnostic(error::invalid_spec, "cannot tag image " + std::string(source) + " as " + std::string(target_name) +
                                               ": a tag cannot name a digest");
  detail::api_call call{detail::image_tag_route, std::string(source)};
  call.query = {{"repo", ref->familiar_name()}, {"tag", ref->tag}};
  if (dry_run()) {
    record(call);
    return {};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok()) return engine_error(*r, "tagging image " + std::string(source) + " as " + std::string(target_name));
  return {};
}

LIFTOFF_DECL result<void> engine::remove_image(std::string_view image, bool force) {
  detail::api_call call{detail::image_delete_route, std::string(image)};
  if (force) call.query = {{"force", "1"}};
  if (dry_run()) {
    record(call);
    return {};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok()) return engine_error(*r, "removing image " + std::string(image));
  return {};
}

LIFTOFF_DECL result<std::string> engine::push_image(std::string_view image, std::optional<registry_auth> const& auth,
                                              progress_fn progress) {
  auto const what = "pushing " + std::string(image);
  auto fail = [&what](std::string message) {
    return diagnostic(error::push_failed, what + ": " + std::move(message), failure_stage::push);
  };
  auto ref = parse_image_reference(image);
  if (!ref) return fail(ref.error().message);
  if (!ref->digest.empty()) return fail("a push needs a tag, not a digest");
  detail::api_call call{detail::image_push_route, ref->familiar_name()};
  call.query = {{"tag", ref->tag}};
  // The engine requires the header; `{}` is an anonymous push.
  call.headers.emplace_back("X-Registry-Auth", auth ? registry_auth_header(*auth) : liftoff::detail::base64url_encode("{}"));
  if (dry_run()) {
    record(call);
    return std::string();
  }
  auto s = open(call);
  if (!s) {
    auto d = s.error();
    d.stage = failure_stage::push;
    return d;
  }
  if (s->status() != 200) {  // "No such image: …"
    auto d = stream_error(*s, what);
    return diagnostic(error::push_failed, std::move(d.message), failure_stage::push);
  }
  detail::pull_tracker tracker;  // a push reports per-layer status as a pull does
  std::string digest;
  for (;;) {
    auto line = s->read_line();
    if (!line) {
      auto d = line.error();
      d.stage = failure_stage::push;
      return d;
    }
    if (!*line) break;
    auto m = detail::parse_json_message(**line);
    if (!m) return fail(m.error().message);
    if (m->is_error()) {
      s->close();
      return fail(m->error);
    }
    if (m->aux)
      if (auto const* d = m->aux->if_contains("Digest"); d && d->is_string()) digest = std::string(d->as_string());
    // Engines without `aux` say it in a status line: "<tag>: digest: sha256:… size: 527".
    if (auto at = m->status.find(" digest: sha256:"); digest.empty() && at != std::string::npos) {
      auto d = m->status.substr(at + 9);
      digest = d.substr(0, d.find(' '));
    }
    if (progress)
      if (auto text = tracker.line(*m)) progress(*text);
  }
  if (digest.empty()) return fail("the engine reported no manifest digest at the end of the push");
  return digest;
}

LIFTOFF_DECL result<std::optional<std::string>> engine::distribution_inspect(std::string_view image,
                                                                       std::optional<registry_auth> const& auth) {
  auto ref = parse_image_reference(image);
  if (!ref) return ref.error();
  detail::api_call call{detail::distribution_inspect_route, ref->familiar()};
  if (auth) call.headers.emplace_back("X-Registry-Auth", registry_auth_header(*auth));
  call.idempotent = true;
  if (dry_run()) {
    record(call);
    return std::optional<std::string>{};
  }
  auto r = send(call);
  if (!r) return r.error();
  auto const what = "asking the registry " + ref->domain + " for " + std::string(image);
  if (r->status == 404) return std::optional<std::string>{};
  if (r->status == 401)
    return diagnostic(error::unauthorized, what + ": the registry refused the credentials (" +
                                               detail::engine_message(r->body) + "); log in with `docker login " +
                                               ref->domain + "`");
  if (r->status == 403)
    return diagnostic(error::forbidden, what + ": access denied (" + detail::engine_message(r->body) + ")");
  if (!r->ok()) return engine_error(*r, what);
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (!ec && v.is_object())
    if (auto const* d = v.as_object().if_contains("Descriptor"); d && d->is_object())
      if (auto const* digest = d->as_object().if_contains("digest"); digest && digest->is_string())
        return std::optional<std::string>(std::string(digest->as_string()));
  return diagnostic(error::protocol_error, what + ": the engine's answer has no Descriptor.digest");
}

LIFTOFF_DECL result<build_result> engine::build(build_request const& request, net::body_reader context, progress_fn progress,
                                               std::stop_token stop) {
  detail::api_call call{detail::build_route};
  for (auto const& t : request.tags) call.query.emplace_back("t", t);
  if (!request.dockerfile.empty()) call.query.emplace_back("dockerfile", request.dockerfile);
  if (!request.labels.empty()) {
    boost::json::object o;
    for (auto const& [k, v] : request.labels) o[k] = v;
    call.query.emplace_back("labels", boost::json::serialize(o));
  }
  if (!request.build_args.empty()) {
    boost::json::object o;
    for (auto const& [k, v] : request.build_args) o[k] = v;
    call.query.emplace_back("buildargs", boost::json::serialize(o));
  }
  call.query.emplace_back("rm", "1");
  call.query.emplace_back("forcerm", "1");
  if (request.pull) call.query.emplace_back("pull", "1");
  if (request.no_cache) call.query.emplace_back("nocache", "1");
  if (!request.platform.empty()) call.query.emplace_back("platform", request.platform);
  if (!request.network_mode.empty()) call.query.emplace_back("networkmode", request.network_mode);
  if (!request.target.empty()) call.query.emplace_back("target", request.target);
  call.source = std::move(context);
  call.content_type = "application/x-tar";
  call.source_description = "the build context, a tar stream (application/x-tar, chunked)";
  if (dry_run()) {
    record(call);
    return build_result{"", request.tags};
  }
  if (stop.stop_requested()) return diagnostic(error::cancelled, "the build was cancelled", failure_stage::build);
  auto s = open(call);
  if (!s) {
    auto d = s.error();
    d.stage = failure_stage::build;
    return d;
  }
  if (s->status() != 200) {
    auto d = stream_error(*s, "the Docker build failed");
    return diagnostic(error::build_failed, std::move(d.message), failure_stage::build);
  }
  std::atomic<bool> cancelled{false};
  std::stop_callback on_stop(stop, [&] {
    cancelled = true;
    s->cancel();
  });
  detail::build_tracker tracker;
  for (;;) {
    auto line = s->read_line();
    if (cancelled) return diagnostic(error::cancelled, "the build was cancelled", failure_stage::build);
    if (!line) {
      auto d = line.error();
      d.stage = failure_stage::build;
      return d;
    }
    if (!*line) break;
    auto m = detail::parse_json_message(**line);
    if (!m) {
      auto d = m.error();
      d.stage = failure_stage::build;
      return d;
    }
    for (auto const& out : tracker.feed(*m))
      if (progress) progress(out);
  }
  if (auto last = tracker.finish(); last && progress) progress(*last);
  if (!tracker.error().empty() || tracker.image_id().empty()) return tracker.failure();
  return build_result{tracker.image_id(), request.tags};
}

LIFTOFF_DECL result<net::response_stream> engine::open_build(build_request const& request) {
  detail::api_call call{detail::build_route};
  for (auto const& t : request.tags) call.query.emplace_back("t", t);
  call.query.emplace_back("dockerfile", request.dockerfile.empty() ? std::string("Dockerfile") : request.dockerfile);
  auto object_of = [](std::map<std::string, std::string> const& m) {
    boost::json::object o;
    for (auto const& [k, v] : m) o[k] = v;
    return boost::json::serialize(o);
  };
  if (!request.labels.empty()) call.query.emplace_back("labels", object_of(request.labels));
  if (!request.build_args.empty()) call.query.emplace_back("buildargs", object_of(request.build_args));
  call.query.emplace_back("rm", "1");
  call.query.emplace_back("forcerm", "1");
  if (request.pull) call.query.emplace_back("pull", "1");
  if (request.no_cache) call.query.emplace_back("nocache", "1");
  if (!request.platform.empty()) call.query.emplace_back("platform", request.platform);
  if (!request.network_mode.empty()) call.query.emplace_back("networkmode", request.network_mode);
  if (!request.target.empty()) call.query.emplace_back("target", request.target);
  call.query.emplace_back("version", std::to_string(request.version));
  if (!request.remote.empty()) call.query.emplace_back("remote", request.remote);
  if (!request.session.empty()) call.query.emplace_back("session", request.session);
  if (!request.build_id.empty()) call.query.emplace_back("buildid", request.build_id);
  if (dry_run()) {
    record(call);
    return diagnostic(error::unsupported, "a BuildKit build is not run in a dry run");
  }
  auto s = open(call);
  if (!s) {
    auto d = s.error();
    d.stage = failure_stage::build;
    return d;
  }
  if (s->status() != 200) {
    auto d = stream_error(*s, "the Docker build failed");
    return diagnostic(error::build_failed, std::move(d.message), failure_stage::build);
  }
  return s;
}

LIFTOFF_DECL result<void> engine::cancel_build(std::string_view build_id) {
  detail::api_call call{detail::build_cancel_route};
  call.query.emplace_back("id", std::string(build_id));
  if (dry_run()) {
    record(call);
    return {};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok()) return engine_error(*r, "cancelling the build failed");
  return {};
}

LIFTOFF_DECL result<bool> engine::has_network(std::string_view name) {
  detail::api_call call{detail::network_inspect_route, std::string(name)};
  if (dry_run()) {
    record(call);
    return true;
  }
  auto r = send(call);
  if (!r) return r.error();
  if (r->status == 404) return false;
  if (!r->ok()) return engine_error(*r, "inspecting network " + std::string(name) + " failed");
  return true;
}

// ---- engine: containers -----------------------------------------------------------

LIFTOFF_DECL result<std::string> engine::create_container(boost::json::object const& config, std::string_view name,
                                                    std::string_view platform) {
  detail::api_call call{detail::container_create_route};
  if (!name.empty()) call.query.emplace_back("name", std::string(name));
  if (!platform.empty()) call.query.emplace_back("platform", std::string(platform));
  call.json = config;
  if (dry_run()) {
    record(call);
    return std::string("dry-run");
  }
  auto r = send(call);
  if (!r) return r.error();
  std::string image;
  if (auto const* i = config.if_contains("Image"); i && i->is_string()) image = std::string(i->as_string());
  // With a platform, the engine answers 404 also when it has the image only for another platform.
  std::string const for_platform = platform.empty() ? std::string() : " for platform " + std::string(platform);
  if (r->status == 404 && !image.empty())
    return diagnostic(error::http_status, "creating a container: the engine has no image '" + image + "'" + for_platform +
                                              " (" + detail::engine_message(r->body) + "); pull or build it" +
                                              (platform.empty() ? "" : " for that platform") + " first");
  if (!r->ok())
    return engine_error(*r, "creating a container" + (image.empty() ? std::string() : " from " + image) + for_platform);
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (!ec && v.is_object())
    if (auto const* id = v.as_object().if_contains("Id"); id && id->is_string()) return std::string(id->as_string());
  return diagnostic(error::protocol_error, "creating a container: the engine's answer has no Id");
}

LIFTOFF_DECL result<void> engine::start_container(std::string_view id) {
  detail::api_call call{detail::container_start_route, std::string(id)};
  if (dry_run()) {
    record(call);
    return {};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok() && r->status != 304) return engine_error(*r, "starting container " + std::string(id));
  return {};
}

LIFTOFF_DECL result<container_wait> engine::begin_wait(std::string_view id, wait_condition condition) {
  detail::api_call call{detail::container_wait_route, std::string(id)};
  call.query = {{"condition", condition == wait_condition::next_exit ? "next-exit"
                              : condition == wait_condition::removed ? "removed"
                                                                     : "not-running"}};
  call.idempotent = true;  // waiting has no effect to repeat
  if (dry_run()) {
    record(call);
    return container_wait(std::nullopt, std::string(id));
  }
  // The engine answers with headers once the wait is registered, and with the body when it holds.
  auto s = open(call);
  if (!s) return s.error();
  if (s->status() != 200) return stream_error(*s, "waiting for container " + std::string(id));
  return container_wait(std::move(*s), std::string(id));
}

LIFTOFF_DECL result<int> engine::wait_container(std::string_view id, wait_condition condition) {
  auto w = begin_wait(id, condition);
  if (!w) return w.error();
  return w->get();
}

LIFTOFF_DECL result<log_reader> engine::logs(std::string_view id, bool follow, std::optional<bool> tty) {
  detail::api_call call{detail::container_logs_route, std::string(id)};
  call.query = {{"stdout", "1"}, {"stderr", "1"}};
  if (follow) call.query.emplace_back("follow", "1");
  if (dry_run()) {
    record(call);
    return log_reader(std::nullopt, true);
  }
  // From API 1.42 the engine says which kind of stream it sends; before, a container's TTY setting
  // tells: the caller's word for it, else the container's record.
  std::optional<bool> multiplexed;
  bool const typed = *detail::parse_api_version(api_version_) >= std::pair{1, 42};
  if (!typed && tty) {
    multiplexed = !*tty;
  } else if (!typed) {
    auto info = inspect_container(id);
    if (!info) return info.error();
    bool tty = false;
    if (auto const* cfg = info->if_contains("Config"); cfg && cfg->is_object())
      if (auto const* t = cfg->as_object().if_contains("Tty"); t && t->is_bool()) tty = t->as_bool();
    multiplexed = !tty;
  }
  auto s = open(call);
  if (!s) return s.error();
  if (s->status() == 404) return stream_error(*s, "reading the logs of container " + std::string(id) + ": no such container");
  if (s->status() != 200) return stream_error(*s, "reading the logs of container " + std::string(id));
  if (!multiplexed) {
    auto ct = s->headers().find(boost::beast::http::field::content_type);
    multiplexed = !(ct != s->headers().end() && ct->value() == "application/vnd.docker.raw-stream");
  }
  return log_reader(std::move(*s), *multiplexed);
}

LIFTOFF_DECL result<void> engine::stop_container(std::string_view id, std::chrono::seconds grace) {
  detail::api_call call{detail::container_stop_route, std::string(id)};
  call.query = {{"t", std::to_string(grace.count())}};
  if (dry_run()) {
    record(call);
    return {};
  }
  // The engine answers after the container stopped: up to `grace`, and the kill after it.
  auto opts = options_.net;
  auto needed = std::chrono::duration_cast<std::chrono::milliseconds>(grace) + std::chrono::seconds(30);
  if (opts.request_timeout.count() > 0 && opts.request_timeout < needed) opts.request_timeout = needed;
  net::client c(endpoint_, std::move(opts));
  auto r = send(call, c);
  if (!r) return r.error();
  if (!r->ok() && r->status != 304) return engine_error(*r, "stopping container " + std::string(id));
  return {};
}

LIFTOFF_DECL result<void> engine::kill_container(std::string_view id, std::string_view signal) {
  detail::api_call call{detail::container_kill_route, std::string(id)};
  call.query = {{"signal", std::string(signal)}};
  if (dry_run()) {
    record(call);
    return {};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok()) return engine_error(*r, "killing container " + std::string(id));
  return {};
}

LIFTOFF_DECL result<void> engine::remove_container(std::string_view id, bool force) {
  detail::api_call call{detail::container_delete_route, std::string(id)};
  call.query = {{"v", "1"}};
  if (force) call.query.emplace_back("force", "1");
  if (dry_run()) {
    record(call);
    return {};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok()) return engine_error(*r, "removing container " + std::string(id));
  return {};
}

LIFTOFF_DECL result<boost::json::object> engine::inspect_container(std::string_view id) {
  detail::api_call call{detail::container_inspect_route, std::string(id)};
  if (dry_run()) {
    record(call);
    // What a dry run's container looks like afterwards: exited, successfully.
    return boost::json::object{{"Id", id}, {"State", {{"Status", "exited"}, {"ExitCode", 0}, {"OOMKilled", false}}}};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (r->status == 404) return diagnostic(error::http_status, "no such container: " + std::string(id));
  if (!r->ok()) return engine_error(*r, "inspecting container " + std::string(id));
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (ec || !v.is_object())
    return diagnostic(error::protocol_error, "inspecting container " + std::string(id) + ": the engine's answer is not a JSON object");
  return std::move(v.as_object());
}

LIFTOFF_DECL result<std::vector<boost::json::object>> engine::list_containers(std::vector<std::string> const& labels, bool all) {
  detail::api_call call{detail::container_list_route};
  if (all) call.query.emplace_back("all", "1");
  if (!labels.empty()) {
    boost::json::array a;
    for (auto const& l : labels) a.emplace_back(l);
    call.query.emplace_back("filters", boost::json::serialize(boost::json::object{{"label", std::move(a)}}));
  }
  if (dry_run()) {
    record(call);
    return std::vector<boost::json::object>{};
  }
  auto r = send(call);
  if (!r) return r.error();
  if (!r->ok()) return engine_error(*r, "listing containers");
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (ec || !v.is_array()) return diagnostic(error::protocol_error, "listing containers: the engine's answer is not a JSON array");
  std::vector<boost::json::object> out;
  for (auto& c : v.as_array())
    if (c.is_object()) out.push_back(std::move(c.as_object()));
  return out;
}

}  // namespace liftoff::docker

#endif
