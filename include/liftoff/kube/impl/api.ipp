#ifndef LIFTOFF_KUBE_IMPL_API_IPP
#define LIFTOFF_KUBE_IMPL_API_IPP

#include <liftoff/kube/api.hpp>
#include <liftoff/core/parse.hpp>
#include <liftoff/net/detail/text.hpp>

#include <liftoff/kube/detail/api_request.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <cctype>
#include <mutex>
#include <vector>

namespace liftoff::kube {

// ---- resource kinds -----------------------------------------------------------

LIFTOFF_DECL std::string resource_kind::collection_path(std::string_view ns) const {
  std::string p = (api_version.find('/') == std::string::npos ? "/api/" : "/apis/") + api_version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + net::percent_encode(ns);
  return p + "/" + plural;
}

LIFTOFF_DECL std::string resource_kind::object_path(std::string_view ns, std::string_view name) const {
  return collection_path(ns) + "/" + net::percent_encode(name);
}

LIFTOFF_DECL std::string resource_kind::qualified() const {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? plural : plural + "." + api_version.substr(0, slash);
}

namespace kinds {
LIFTOFF_DECL resource_kind const& job() {
  static resource_kind const k{"batch/v1", "Job", "jobs", true};
  return k;
}
LIFTOFF_DECL resource_kind const& pod() {
  static resource_kind const k{"v1", "Pod", "pods", true};
  return k;
}
LIFTOFF_DECL resource_kind const& secret() {
  static resource_kind const k{"v1", "Secret", "secrets", true};
  return k;
}
}  // namespace kinds

LIFTOFF_DECL resource_kind kind_of(std::string_view api_version, std::string_view kind, std::string_view plural) {
  for (auto const* k : {&kinds::job(), &kinds::pod(), &kinds::secret()})
    if (k->api_version == api_version && k->kind == kind && (plural.empty() || plural == k->plural)) return *k;
  resource_kind k{std::string(api_version), std::string(kind), std::string(plural), true};
  if (k.plural.empty()) {
    // client-go's UnsafeGuessKindToResource: what most CRDs and built-in kinds are named.
    std::string s(kind);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!s.empty() && s.back() == 's') s += "es";
    else if (!s.empty() && s.back() == 'y') s = s.substr(0, s.size() - 1) + "ies";
    else if (!s.empty()) s += "s";
    k.plural = std::move(s);
  }
  // The common cluster-scoped kinds; a custom resource is assumed namespaced.
  for (std::string_view cs : {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
                              "StorageClass", "PriorityClass", "CustomResourceDefinition", "RuntimeClass"})
    if (kind == cs) k.namespaced = false;
  return k;
}

// ---- watch_stream -------------------------------------------------------------


struct watch_stream::state {
  explicit state(net::response_stream s) : stream(std::move(s)) {}
  net::response_stream stream;
  std::mutex reading;  // held by next(); close() on another thread must not touch the stream meanwhile
  std::atomic<bool> closed{false};
};

LIFTOFF_DECL watch_stream::watch_stream(std::unique_ptr<state> s) noexcept : s_(std::move(s)) {}
LIFTOFF_DECL watch_stream::watch_stream(watch_stream&&) noexcept = default;
inline watch_stream& watch_stream::operator=(watch_stream&& o) noexcept {
  if (this != &o) {
    close();
    s_ = std::move(o.s_);
  }
  return *this;
}
LIFTOFF_DECL watch_stream::~watch_stream() { close(); }

LIFTOFF_DECL result<std::optional<watch_event>> watch_stream::next() {
  if (!s_) return std::optional<watch_event>();
  std::lock_guard lock(s_->reading);
  for (;;) {
    if (s_->closed) {
      s_->stream.close();
      return std::optional<watch_event>();
    }
    auto line = s_->stream.read_line();
    if (s_->closed) {
      s_->stream.close();
      return std::optional<watch_event>();
    }
    if (!line) return line.error();
    if (!*line) return std::optional<watch_event>();
    auto const& text = **line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    // One arena per event: its many small allocations are freed at once when the event goes.
    auto v = boost::json::parse(text, ec, boost::json::make_shared_resource<boost::json::monotonic_resource>());
    boost::json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
    auto* type = o ? o->if_contains("type") : nullptr;
    auto* object = o ? o->if_contains("object") : nullptr;
    if (!type || !type->is_string() || !object || !object->is_object())
      return diagnostic(error::protocol_error, s_->stream.summary() +
                                                   ": a watch event is not a JSON object with `type` and `object`" +
                                                   (ec ? " (" + ec.message() + ")" : std::string()));
    // Moved, not assigned: the object keeps its arena.
    return std::optional<watch_event>(watch_event{std::string(type->as_string()), std::move(object->as_object())});
  }
}

LIFTOFF_DECL void watch_stream::close() noexcept {
  if (!s_) return;
  s_->closed = true;
  s_->stream.cancel();  // wakes a next() blocked on another thread
  // A next() blocked on another thread owns the stream; it closes it when its read returns.
  std::unique_lock lock(s_->reading, std::try_to_lock);
  if (lock.owns_lock()) s_->stream.close();
}

// ---- api --------------------------------------------------------------------

struct api::state {
  state(connection_config c, net::client_options b) : creds(std::move(c)), base(std::move(b)) {}

  credentials creds;
  net::client_options base;
  std::mutex m;                    // guards `idle`
  std::vector<net::client> idle;   // connections given back, most recent last
  static constexpr std::size_t max_idle = 4;

  net::shared_tls_context tls_ctx;  // guarded by `m`; shared by every client while the TLS settings stay the same
  net::tls_options tls_for;

  result<net::client> make_client(bool stream) {
    auto opts = client_options_for(creds, base);
    if (!opts) return opts.error();
    if (creds.config().server.starts_with("https:") && !opts->tls_context) {
      auto same = [](net::tls_options const& a, net::tls_options const& b) {
        return a.ca_file == b.ca_file && a.ca_data == b.ca_data && a.client_cert_file == b.client_cert_file &&
               a.client_cert_data == b.client_cert_data && a.client_key_file == b.client_key_file &&
               a.client_key_data == b.client_key_data && a.insecure_skip_verify == b.insecure_skip_verify;
      };
      std::lock_guard lock(m);
      if (!tls_ctx || !same(tls_for, opts->tls)) {
        auto ctx = net::make_tls_context(opts->tls);
        if (!ctx)
          return diagnostic(ctx.error().code, "the TLS settings of cluster `" + creds.config().cluster_name + "` (" +
                                                  creds.config().origin + "): " + ctx.error().what());
        tls_ctx = std::move(*ctx);
        tls_for = opts->tls;
      }
      opts->tls_context = tls_ctx;
    }
    if (stream) opts->read_timeout = std::chrono::milliseconds(0);  // watches and log follows stay quiet for long
    auto c = net::client::create(creds.config().server, std::move(*opts));
    if (!c)
      return diagnostic(c.error().code, "the server of cluster `" + creds.config().cluster_name + "` (" +
                                            creds.config().origin + "): " + c.error().what());
    return c;
  }

  result<net::client> take() {
    std::optional<net::client> c;
    {
      std::lock_guard lock(m);
      if (!idle.empty()) {
        c.emplace(std::move(idle.back()));
        idle.pop_back();
      }
    }
    if (c && creds.config().exec) {
      // An exec plugin may have handed out a new client certificate: the old client's TLS context has the old one.
      auto t = creds.tls();
      if (!t) return t.error();
      if (t->client_cert_data != c->options().tls.client_cert_data) c.reset();
    }
    if (c) return std::move(*c);
    return make_client(false);
  }

  void give(net::client c) {
    std::lock_guard lock(m);
    if (idle.size() < max_idle) idle.push_back(std::move(c));
  }

  void forget_idle() {
    std::lock_guard lock(m);
    idle.clear();
  }

  bool retry_after_401(net::request const& req) const { return creds.config().exec && !req.body_source; }

  /// One request on a pooled client, whatever the status; a 401 is retried once with fresh exec credentials.
  result<net::response> perform(net::request const& req) {
    auto once = [&]() -> result<net::response> {
      auto c = take();
      if (!c) return c.error();
      auto r = c->send(req);
      give(std::move(*c));
      return r;
    };
    auto r = once();
    if (r && r->status == 401 && retry_after_401(req)) {
      creds.invalidate();
      forget_idle();
      r = once();
    }
    return r;
  }

  /// A streamed request on its own client.
  result<net::response_stream> open(net::request const& req) {
    auto once = [&]() -> result<net::response_stream> {
      auto c = make_client(true);
      if (!c) return c.error();
      return c->open(req);  // the stream keeps what it needs of the client
    };
    auto s = once();
    if (s && s->status() == 401 && retry_after_401(req)) {
      s->close();
      creds.invalidate();
      forget_idle();
      s = once();
    }
    return s;
  }
};

LIFTOFF_DECL api::api(connection_config config, net::client_options base)
    : state_(std::make_shared<state>(std::move(config), std::move(base))) {}

LIFTOFF_DECL result<api> api::connect(load_options const& options, net::client_options base) {
  auto c = load_config(options);
  if (!c) return c.error();
  return api(std::move(*c), std::move(base));
}

LIFTOFF_DECL connection_config const& api::config() const noexcept { return state_->creds.config(); }
LIFTOFF_DECL credentials& api::creds() const noexcept { return state_->creds; }

namespace detail {

LIFTOFF_DECL void prepare(net::request& req) {
  if (req.headers.find(boost::beast::http::field::accept) == req.headers.end())
    req.headers.set(boost::beast::http::field::accept, "application/json");
}

LIFTOFF_DECL result<boost::json::object> json_object(net::response const& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object())
    return diagnostic(error::protocol_error, r.summary + ": the response is not a JSON object" +
                                                 (ec ? " (" + ec.message() + ")" : std::string()));
  return std::move(v.as_object());
}

LIFTOFF_DECL net::request make_request(boost::beast::http::verb method, std::string target) {
  net::request r;
  r.method = method;
  r.target = std::move(target);
  return r;
}

LIFTOFF_DECL void set_json_body(net::request& r, boost::json::object const& o) {
  r.headers.set(boost::beast::http::field::content_type, "application/json");
  r.body = boost::json::serialize(o);
}

}  // namespace detail

LIFTOFF_DECL result<net::response> api::send(net::request req) const {
  detail::prepare(req);
  bool const check = req.check_status;
  req.check_status = false;
  auto r = state_->perform(req);
  if (!r) return r.error();
  if (check && r->status >= 400) return error_for(*r);
  return r;
}

LIFTOFF_DECL result<boost::json::object> api::create(resource_kind const& k, std::string_view ns,
                                               boost::json::object const& object, bool dry_run) const {
  detail::query_string q;
  q.add("fieldValidation", "Strict");
  if (dry_run) q.add("dryRun", "All");
  auto req = detail::make_request(boost::beast::http::verb::post, k.collection_path(ns) + q.str());
  detail::set_json_body(req, object);
  auto r = send(std::move(req));
  if (!r) return r.error();
  return detail::json_object(*r);
}

LIFTOFF_DECL result<boost::json::object> api::get(resource_kind const& k, std::string_view ns,
                                            std::string_view name) const {
  auto r = send(detail::make_request(boost::beast::http::verb::get, k.object_path(ns, name)));
  if (!r) return r.error();
  return detail::json_object(*r);
}

LIFTOFF_DECL result<boost::json::object> api::list(resource_kind const& k, std::string_view ns,
                                             list_options const& o) const {
  detail::query_string q;
  q.add_if("labelSelector", o.label_selector).add_if("fieldSelector", o.field_selector);
  q.add_if("resourceVersion", o.resource_version);
  auto r = send(detail::make_request(boost::beast::http::verb::get, k.collection_path(ns) + q.str()));
  if (!r) return r.error();
  return detail::json_object(*r);
}

LIFTOFF_DECL result<void> api::remove(resource_kind const& k, std::string_view ns, std::string_view name,
                                std::string_view propagation_policy) const {
  auto req = detail::make_request(boost::beast::http::verb::delete_, k.object_path(ns, name));
  boost::json::object options{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!propagation_policy.empty()) options["propagationPolicy"] = propagation_policy;
  detail::set_json_body(req, options);
  auto r = send(std::move(req));
  if (!r) return r.error();
  return {};
}

LIFTOFF_DECL result<watch_stream> api::watch(resource_kind const& k, std::string_view ns, list_options const& o) const {
  detail::query_string q;
  q.add("watch", "true");
  if (o.allow_bookmarks) q.add("allowWatchBookmarks", "true");
  q.add_if("labelSelector", o.label_selector).add_if("fieldSelector", o.field_selector);
  q.add_if("resourceVersion", o.resource_version);
  if (o.timeout_seconds > 0) q.add("timeoutSeconds", std::to_string(o.timeout_seconds));
  auto req = detail::make_request(boost::beast::http::verb::get, k.collection_path(ns) + q.str());
  detail::prepare(req);
  auto s = open_stream(std::move(req));
  if (!s) return s.error();
  return watch_stream(std::make_unique<watch_stream::state>(std::move(*s)));
}

LIFTOFF_DECL result<net::response_stream> api::pod_logs(std::string_view ns, std::string_view pod,
                                                  std::string_view container, bool follow,
                                                  std::string_view since_time) const {
  detail::query_string q;
  if (follow) q.add("follow", "true");
  q.add_if("container", container).add_if("sinceTime", since_time);
  q.add("timestamps", "false");
  auto req = detail::make_request(boost::beast::http::verb::get, kinds::pod().object_path(ns, pod) + "/log" + q.str());
  detail::prepare(req);
  return open_stream(std::move(req));
}

LIFTOFF_DECL result<net::response_stream> api::open_stream(net::request req) const {
  req.check_status = false;
  auto s = state_->open(req);
  if (!s) return s.error();
  if (s->status() >= 400) {
    net::response r;
    r.status = s->status();
    r.reason = s->reason();
    r.summary = s->summary();
    if (auto body = s->read_all()) r.body = std::move(*body);
    return error_for(r);
  }
  return s;
}

LIFTOFF_DECL result<boost::json::value> api::openapi_v2() const {
  auto r = send(detail::make_request(boost::beast::http::verb::get, "/openapi/v2"));
  if (!r) return r.error();
  boost::system::error_code ec;
  auto v = boost::json::parse(r->body, ec);
  if (ec) return diagnostic(error::parse_error, r->summary + ": the OpenAPI document is not valid JSON: " + ec.message());
  return v;
}

LIFTOFF_DECL diagnostic api::error_for(net::response const& r) const {
  auto const st = detail::parse_status(r.body);
  auto const& c = config();
  std::string msg = st.message;
  if (msg.empty()) msg = net::detail::excerpt(r.body);
  if (msg.empty()) msg = std::to_string(r.status) + " " + r.reason;
  switch (r.status) {
    case 401:
      return diagnostic(error::unauthorized,
                        "the cluster at " + c.server + " refused the credentials of " + c.identity() + ": " + msg);
    case 403: return diagnostic(error::forbidden, c.identity() + " is not allowed: " + msg);
    case 404:
      if (st.details_kind == "namespaces")
        return diagnostic(error::not_found, "namespace `" + st.details_name + "` does not exist in " +
                                                (c.context.empty() ? "the cluster at " + c.server
                                                                   : "context `" + c.context + "`"));
      return diagnostic(error::not_found, r.summary + ": " + msg);
    case 409:
      return diagnostic(st.reason == "AlreadyExists" ? error::already_exists : error::conflict, r.summary + ": " + msg);
    case 400:
    case 422: {
      std::string causes;
      for (auto const& [field, message] : st.causes) {
        if (field.empty() && message.empty()) continue;
        causes += causes.empty() ? " (" : "; ";
        causes += field.empty() ? message : "`" + field + "`: " + message;
      }
      if (!causes.empty()) causes += ")";
      return diagnostic(error::invalid_spec, r.summary + ": " + msg + causes);
    }
    default: {
      std::string text = r.summary + ": " + std::to_string(r.status) + " " + r.reason;
      if (!st.message.empty() || !net::detail::excerpt(r.body).empty()) text += ": " + msg;
      return diagnostic(error::http_status, std::move(text));
    }
  }
}

}  // namespace liftoff::kube

#endif
