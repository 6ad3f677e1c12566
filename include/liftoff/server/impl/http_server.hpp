#ifndef LIFTOFF_SERVER_IMPL_HTTP_SERVER_HPP
#define LIFTOFF_SERVER_IMPL_HTTP_SERVER_HPP

// The HTTP half of the server: each handler reads its request, calls one
// operation of `basic_service` and writes the answer. What an operation does
// (merging specs, filling templates, checking states) is the service's.

#include <liftoff/server/detail/data_dir.hpp>
#include <liftoff/server/detail/http_core.hpp>
#include <liftoff/server/detail/util.hpp>
#include <liftoff/server/service.hpp>
#include <liftoff/server/wire.hpp>

#include <boost/json/value_from.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liftoff::server {

namespace detail {

/// The endpoint table of `liftoff/client/client.hpp`, below `/api/v1`.
enum api_route : int {
  route_health,
  route_whoami,
  route_token_create,
  route_token_list,
  route_token_revoke,
  route_artifact_head,
  route_artifact_put,
  route_artifact_get,
  route_job_create,
  route_job_list,
  route_job_versions,
  route_job_version,
  route_job_alias,
  route_queue_create,
  route_queue_list,
  route_queue_get,
  route_queue_delete,
  route_item_push,
  route_item_list,
  route_queue_lease,
  route_lease,
  route_item_ack,
  route_agent_register,
  route_agent_list,
  route_agent_get,
  route_agent_heartbeat,
  route_agent_stop,
  route_agent_stopped,
  route_run_list,
  route_run_get,
  route_run_report,
  route_run_logs_append,
  route_run_logs_read,
  route_run_stop,
};

using boost::beast::http::verb;

inline constexpr route api_routes[] = {
    {verb::get, "/health", route_health, route_kind::open},
    {verb::get, "/whoami", route_whoami, route_kind::plain, everyone},
    {verb::post, "/tokens", route_token_create},
    {verb::get, "/tokens", route_token_list},
    {verb::delete_, "/tokens/{}", route_token_revoke},
    {verb::head, "/artifacts/{}", route_artifact_head, route_kind::artifact_read, everyone},
    // Agents upload build contexts (Kaniko) as users upload code.
    {verb::put, "/artifacts/{}", route_artifact_put, route_kind::artifact_put, everyone},
    {verb::get, "/artifacts/{}", route_artifact_get, route_kind::artifact_read, everyone},
    {verb::post, "/jobs", route_job_create, route_kind::plain, members},
    {verb::get, "/jobs", route_job_list, route_kind::plain, members},
    {verb::get, "/jobs/{}", route_job_versions, route_kind::plain, members},
    {verb::get, "/jobs/{}/versions/{}", route_job_version, route_kind::plain, members},
    {verb::put, "/jobs/{}/aliases/{}", route_job_alias, route_kind::plain, members},
    {verb::post, "/queues", route_queue_create},
    {verb::get, "/queues", route_queue_list, route_kind::plain, members},
    {verb::get, "/queues/{}", route_queue_get, route_kind::plain, members},
    {verb::delete_, "/queues/{}", route_queue_delete},
    {verb::post, "/queues/{}/items", route_item_push, route_kind::plain, members},
    {verb::get, "/queues/{}/items", route_item_list, route_kind::plain, members},
    {verb::post, "/queues/{}/lease", route_queue_lease, route_kind::plain, agents},
    {verb::post, "/lease", route_lease, route_kind::plain, agents},
    {verb::post, "/items/{}/ack", route_item_ack, route_kind::plain, agents},
    {verb::post, "/agents", route_agent_register, route_kind::plain, agents},
    {verb::get, "/agents", route_agent_list, route_kind::plain, members},
    {verb::get, "/agents/{}", route_agent_get, route_kind::plain, members},
    {verb::post, "/agents/{}/heartbeat", route_agent_heartbeat, route_kind::plain, agents},
    {verb::post, "/agents/{}/stop", route_agent_stop},
    {verb::post, "/agents/{}/stopped", route_agent_stopped, route_kind::plain, agents},
    // An agent token reads only its own agent's runs: checked by the handlers.
    {verb::get, "/runs", route_run_list, route_kind::plain, everyone},
    {verb::get, "/runs/{}", route_run_get, route_kind::plain, everyone},
    {verb::post, "/runs/{}/report", route_run_report, route_kind::plain, agents},
    {verb::post, "/runs/{}/logs", route_run_logs_append, route_kind::plain, agents},
    {verb::get, "/runs/{}/logs", route_run_logs_read, route_kind::plain, everyone},
    {verb::post, "/runs/{}/stop", route_run_stop, route_kind::plain, members},
};

/** Whether `who` may use a route admitting `roles` (admins may use every route). `what` is "METHOD /path". */
inline result<void> check_route_role(token_record const& who, unsigned roles, std::string_view what) {
  if ((roles & members) && (roles & agents)) return require_role(who, {token_role::member, token_role::agent}, what);
  if (roles & members) return require_role(who, {token_role::member}, what);
  if (roles & agents) return require_role(who, {token_role::agent}, what);
  return require_role(who, {}, what);
}

/// The key a request made under token `id` also waits on, so that revoking the token ends the wait.
inline std::string token_key(std::int64_t id) { return "token:" + std::to_string(id); }

/// The most log text one read returns.
inline constexpr std::size_t max_log_chunk = 1024 * 1024;

/// `{"queued": n, "leased": n, "acked": n, "done": n, "failed": n}`, from the store's counts.
inline boost::json::object counts_json(std::map<item_state, std::int64_t> const& n) {
  boost::json::object o;
  for (auto s : {item_state::queued, item_state::leased, item_state::acked, item_state::done, item_state::failed}) {
    auto it = n.find(s);
    o[to_string(s)] = it == n.end() ? 0 : it->second;
  }
  return o;
}

/** Writes a new file readable by its owner only; `already_exists` when the
    file exists (it is never overwritten). */
inline result<void> write_private_file(std::filesystem::path const& path, std::string const& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 && errno == EEXIST)
    return diagnostic(error::already_exists, path.string() + " exists already; it was left as it is");
  if (fd < 0) return diagnostic(error::storage_failed, "cannot write " + path.string() + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  std::string_view rest = text;
  bool ok = true;
  while (ok && !rest.empty()) {
    auto w = ::write(fd, rest.data(), rest.size());
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) rest.remove_prefix(static_cast<std::size_t>(w));
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return diagnostic(error::storage_failed, "cannot write " + path.string() + ": " + std::strerror(errno));
  return {};
}

}  // namespace detail

// ---- the store-typed half ------------------------------------------------------------------

template <store Store>
class basic_api_server<Store>::backend final : public detail::api_backend {
public:
  backend(basic_service<Store>& service, api_server_options const& o) : service_(service), options_(o) {}

  void attach(detail::http_core& core) { core_ = &core; }

  result<token_record> authenticate(std::string_view authorization) override {
    auto space = authorization.find(' ');
    auto scheme = authorization.substr(0, space);
    bool bearer = scheme.size() == 6;
    for (std::size_t i = 0; bearer && i < 6; ++i) bearer = std::tolower(static_cast<unsigned char>(scheme[i])) == "bearer"[i];
    if (authorization.empty() || !bearer || space == std::string_view::npos)
      return diagnostic(error::invalid_request,
                        "this request needs an API token: send 'Authorization: Bearer <token>' "
                        "(`liftoff login` stores one for the CLI)");
    auto token = authorization.substr(space + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    return service_.authenticate(token);
  }

  result<void> authorize(token_record const& who, unsigned roles, std::string_view action) override {
    return detail::check_route_role(who, roles, action);
  }

  detail::http_reply handle(detail::request_context& c) override {
    auto r = authorized_dispatch(c);
    if (!r) return detail::error_reply(r.error());
    // A request that waits also wakes when its token is revoked, and is then refused.
    if (!r->park_on.empty() && c.token) r->park_on.push_back(detail::token_key(c.token->id));
    return std::move(*r);
  }

  void sweep() override {
    auto done = service_.sweep();
    if (done.expired) {
      for (auto const& e : *done.expired)
        core_->log("lease of item " + std::to_string(e.item_id) + " (run " + e.run_id + ") by agent " +
                   std::to_string(e.agent) + " expired after attempt " + std::to_string(e.attempts) +
                   (e.requeued ? "; back on queue " + e.queue : "; the item failed (stage agent)"));
    } else {
      core_->log("expiring leases failed: " + done.expired.error().what());
    }
    if (done.lost) {
      for (auto const& a : *done.lost)
        core_->log("agent " + std::to_string(a.id) + " (" + a.name + ") is lost: no heartbeat for " +
                   std::to_string(options_.agent_lost_after.count() / 1000) + " s");
    } else {
      core_->log("marking lost agents failed: " + done.lost.error().what());
    }
  }

private:
  using reply = detail::http_reply;
  using ctx_t = detail::request_context;

  template <class T>
  static reply json(unsigned status, T const& v) {
    return detail::json_reply(status, boost::json::value_from(v));
  }

  template <class T>
  static reply json_list(std::vector<T> const& v) {
    boost::json::array a;
    a.reserve(v.size());
    for (auto const& x : v) a.push_back(boost::json::value_from(x));
    return detail::json_reply(200, a);
  }

  /// A record as JSON, or the error.
  template <class T>
  static result<reply> json_or_error(unsigned status, result<T> const& r) {
    if (!r) return r.error();
    return json(status, *r);
  }

  template <class T>
  static result<reply> list_or_error(result<std::vector<T>> const& r) {
    if (!r) return r.error();
    return json_list(*r);
  }

  result<reply> authorized_dispatch(ctx_t& c) {
    if (c.token)
      if (auto ok = detail::check_route_role(*c.token, c.roles, c.action); !ok) return ok.error();
    return dispatch(c);
  }

  /// The agent `id` as `c`'s token may act as it (see `basic_service::authorize_agent`).
  result<void> acting_as(ctx_t const& c, std::int64_t id) {
    if (!c.token) return {};
    auto a = service_.authorize_agent(*c.token, id);
    if (!a) return a.error();
    return {};
  }

  result<void> may_read_run(ctx_t const& c, std::string_view run_id) {
    if (!c.token) return {};
    return service_.authorize_run_read(*c.token, run_id);
  }

  result<reply> dispatch(ctx_t& c) {
    using namespace detail;
    switch (static_cast<api_route>(c.route)) {
      case route_health: return json_reply(200, boost::json::object{{"status", "ok"}});
      case route_whoami: return json(200, *c.token);
      case route_token_create: return create_token(c);
      case route_token_list: return list_or_error(service_.list_tokens());
      case route_token_revoke: {
        auto id = path_id(c.params[0], "token");
        if (!id) return id.error();
        return json_or_error(200, service_.revoke_token(*id));
      }
      case route_job_create: return create_job(c);
      case route_job_list: return list_or_error(service_.list_jobs());
      case route_job_versions: return list_or_error(service_.list_job_versions(c.params[0]));
      case route_job_version: return json_or_error(200, service_.get_job_version(c.params[0], c.params[1]));
      case route_job_alias: return set_alias(c);
      case route_queue_create: return create_queue(c);
      case route_queue_list: return list_queues();
      case route_queue_get: return describe_queue(c.params[0]);
      case route_queue_delete: return delete_queue(c);
      case route_item_push: return push(c);
      case route_item_list: return list_items(c);
      case route_queue_lease:
      case route_lease: return lease(c);
      case route_item_ack: return ack(c);
      case route_agent_register: return register_agent(c);
      case route_agent_list: return list_or_error(service_.list_agents());
      case route_agent_get:
      case route_agent_heartbeat:
      case route_agent_stop:
      case route_agent_stopped: return agent_call(c);
      case route_run_list: return list_runs(c);
      case route_run_get: {
        if (auto ok = may_read_run(c, c.params[0]); !ok) return ok.error();
        return get_run(c.params[0]);
      }
      case route_run_report: return report(c);
      case route_run_logs_append: return append_logs(c);
      case route_run_logs_read: return read_logs(c);
      case route_run_stop: return json_or_error(200, service_.stop_run(c.params[0]));
      default: break;
    }
    return diagnostic(error::not_found, "no handler for this endpoint");
  }

  // ---- tokens ----

  result<reply> create_token(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "token");
    f.only({"name", "role"});
    auto name = f.string("name");
    auto role_name = f.string_or("role", "member");
    if (!f.ok()) return f.error();
    auto role = token_role_from_string(role_name);
    if (!role)
      return diagnostic(error::invalid_request,
                        "token: field 'role': expected admin, member or agent, got " +
                            liftoff::detail::quote_excerpt(role_name));
    auto made = service_.create_token(name, *role);
    if (!made) return made.error();
    return detail::json_reply(201, boost::json::object{{"token", made->token},
                                                       {"record", boost::json::value_from(made->record)}});
  }

  // ---- jobs ----

  result<reply> create_job(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "job");
    f.only({"name", "source", "aliases"});
    auto name = f.string("name");
    auto source = f.object_or_empty("source");
    auto aliases = f.strings("aliases");
    if (f.ok() && !f.has("source")) f.fail("source", "required, missing");
    if (!f.ok()) return f.error();
    auto added = service_.add_job(name, source, aliases);
    if (!added) return added.error();
    // 201 for a new version, 200 when a version has this source already.
    return json(added->created ? 201 : 200, added->version);
  }

  result<reply> set_alias(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "job alias");
    f.only({"version"});
    auto selector = f.string("version");
    if (!f.ok()) return f.error();
    return json_or_error(200, service_.set_job_alias(c.params[0], c.params[1], selector));
  }

  // ---- queues ----

  static boost::json::value queue_json(queue_record const& q, std::map<item_state, std::int64_t> const& counts) {
    auto v = boost::json::value_from(q);
    v.as_object()["counts"] = detail::counts_json(counts);
    return v;
  }

  result<reply> create_queue(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "queue");
    f.only({"name", "resource", "config_template", "prioritized"});
    queue_request q;
    q.name = f.string("name");
    q.resource = f.string("resource");
    q.config_template = f.object_or_empty("config_template");
    q.prioritized = f.boolean_or("prioritized", true);
    if (f.ok() && q.resource.empty()) f.fail("resource", "expected " + detail::expected_resource(options_.resources));
    if (!f.ok()) return f.error();
    auto made = service_.create_queue(q);
    if (!made) return made.error();
    auto r = json(201, made->queue);
    for (auto const& w : made->warnings) r.headers.emplace_back("X-Liftoff-Warning", w);
    return r;
  }

  result<reply> list_queues() {
    auto qs = service_.list_queues();
    if (!qs) return qs.error();
    boost::json::array out;
    for (auto const& q : *qs) out.push_back(queue_json(q.queue, q.counts));
    return detail::json_reply(200, out);
  }

  result<reply> describe_queue(std::string const& name) {
    auto d = service_.describe_queue(name);
    if (!d) return d.error();
    auto v = queue_json(d->queue, d->counts);
    boost::json::array pending;
    for (auto const& i : d->pending) pending.push_back(boost::json::value_from(i));
    v.as_object()["items"] = std::move(pending);
    return detail::json_reply(200, v);
  }

  result<reply> delete_queue(ctx_t& c) {
    auto force = detail::query_bool(c, "force", false);
    if (!force) return force.error();
    if (auto d = service_.delete_queue(c.params[0], *force); !d) return d.error();
    return detail::empty_reply(204);
  }

  result<reply> list_items(ctx_t& c) {
    std::optional<item_state> state;
    if (auto s = detail::query_param(c, "state")) {
      state = item_state_from_string(*s);
      if (!state) return detail::bad_query("state", "queued, leased, acked, done or failed", *s);
    }
    return list_or_error(service_.list_items(c.params[0], state));
  }

  // ---- items ----

  result<reply> push(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "push");
    f.only({"spec", "job", "priority", "variables"});
    push_request r;
    auto spec = f.object_or_empty("spec");
    r.job = f.string_or("job", "");
    auto priority_name = f.string_or("priority", "medium");
    r.variables = f.object_or_empty("variables");
    if (!f.ok()) return f.error();
    auto prio = priority_from_string(priority_name);
    if (!prio)
      return diagnostic(error::invalid_request,
                        "push: field 'priority': expected critical, high, medium or low, got \"" + priority_name + "\"");
    r.priority = *prio;
    if (f.has("spec")) r.spec = std::move(spec);
    return json_or_error(201, service_.push(c.params[0], r));
  }

  result<reply> lease(ctx_t& c) {
    auto wait = detail::query_wait(c, options_.max_wait);
    if (!wait) return wait.error();
    auto body = detail::json_body(c);
    if (!body) return body.error();
    bool several = c.route == detail::route_lease;
    field_reader f(*body, "lease");
    if (several) f.only({"agent", "queues"});
    else f.only({"agent"});
    auto agent = f.integer("agent");
    std::vector<std::string> queues = several ? f.strings("queues") : std::vector<std::string>{c.params[0]};
    if (!f.ok()) return f.error();
    if (auto ok = acting_as(c, agent); !ok) return ok.error();
    if (!c.deadline) c.deadline = std::chrono::steady_clock::now() + *wait;
    auto item = several ? service_.lease_any(queues, agent) : service_.lease(queues.front(), agent);
    if (!item) return item.error();
    if (*item) return json(200, **item);
    // Nothing yet: wait for a push (or a requeue) on any of the queues.
    auto r = detail::empty_reply(204);
    for (auto const& q : queues) r.park_on.push_back(detail::queue_key(q));
    return r;
  }

  result<reply> ack(ctx_t& c) {
    auto id = detail::path_id(c.params[0], "item");
    if (!id) return id.error();
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "ack");
    f.only({"agent"});
    auto agent = f.integer("agent");
    if (!f.ok()) return f.error();
    if (auto ok = acting_as(c, agent); !ok) return ok.error();
    return json_or_error(200, service_.ack(*id, agent));
  }

  // ---- agents ----

  result<reply> register_agent(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    auto reg = agent_registration_from_json(*body);
    if (!reg) return reg.error();
    return json_or_error(201, service_.register_agent(std::move(*reg), *c.token));
  }

  result<reply> agent_call(ctx_t& c) {
    auto id = detail::path_id(c.params[0], "agent");
    if (!id) return id.error();
    if (c.route != detail::route_agent_get) {
      auto body = detail::json_body(c);
      if (!body) return body.error();
      field_reader f(*body, "agent request");
      f.only({});
      if (!f.ok()) return f.error();
    }
    if (c.route == detail::route_agent_heartbeat || c.route == detail::route_agent_stopped)
      if (auto ok = acting_as(c, *id); !ok) return ok.error();
    switch (c.route) {
      case detail::route_agent_heartbeat: return json_or_error(200, service_.heartbeat(*id));
      case detail::route_agent_stop: return json_or_error(200, service_.request_stop_agent(*id));
      case detail::route_agent_stopped: return json_or_error(200, service_.agent_stopped(*id));
      default: return json_or_error(200, service_.get_agent(*id));
    }
  }

  // ---- runs ----

  result<reply> list_runs(ctx_t& c) {
    run_filter filter;
    filter.queue = detail::query_param(c, "queue");
    if (auto s = detail::query_param(c, "state")) {
      filter.state = run_state_from_string(*s);
      if (!filter.state)
        return detail::bad_query("state", "a run state (queued, leased, building, starting, running, finished, "
                                          "failed, stopped, crashed, preempted)", *s);
    }
    auto agent = detail::query_integer(c, "agent", 1, INT64_MAX);
    if (!agent) return agent.error();
    filter.agent = *agent;
    if (c.token && c.token->role == token_role::agent) {
      // An agent token lists the runs of its own agent only.
      if (!filter.agent)
        return diagnostic(error::forbidden, "listing every run needs the member role; token '" + c.token->name +
                                                "' has the agent role: list its own agent's runs (?agent=ID)");
      if (auto ok = acting_as(c, *filter.agent); !ok) return ok.error();
    }
    auto active = detail::query_bool(c, "active", false);
    if (!active) return active.error();
    filter.active_only = *active;
    auto limit = detail::query_integer(c, "limit", 1, 100000);
    if (!limit) return limit.error();
    filter.limit = static_cast<std::size_t>(limit->value_or(100));
    return list_or_error(service_.list_runs(filter));
  }

  result<reply> get_run(std::string const& run_id) {
    auto r = service_.get_run(run_id);
    if (!r) return r.error();
    auto v = boost::json::value_from(r->run);
    v.as_object()["spec"] = r->spec ? boost::json::value(*r->spec) : boost::json::value(nullptr);
    return detail::json_reply(200, v);
  }

  result<reply> report(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    auto u = state_update_from_json(*body);
    if (!u) return u.error();
    field_reader f(*body, "state report");
    auto agent = f.integer("agent");
    if (!f.ok()) return f.error();
    if (auto ok = acting_as(c, agent); !ok) return ok.error();
    return json_or_error(200, service_.report(c.params[0], agent, *u));
  }

  result<reply> append_logs(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "logs");
    f.only({"agent", "text"});
    auto agent = f.integer("agent");
    auto text = f.string("text");
    if (!f.ok()) return f.error();
    if (auto ok = acting_as(c, agent); !ok) return ok.error();
    if (auto a = service_.append_logs(c.params[0], agent, text); !a) return a.error();
    return detail::empty_reply(204);
  }

  result<reply> read_logs(ctx_t& c) {
    auto const& run_id = c.params[0];
    if (auto ok = may_read_run(c, run_id); !ok) return ok.error();
    auto wait = detail::query_wait(c, options_.max_wait);
    if (!wait) return wait.error();
    auto offset = detail::query_integer(c, "offset", 0, INT64_MAX);
    if (!offset) return offset.error();
    if (!c.deadline) c.deadline = std::chrono::steady_clock::now() + *wait;
    auto chunk = service_.read_logs(run_id, static_cast<std::uint64_t>(offset->value_or(0)), detail::max_log_chunk);
    if (!chunk) return chunk.error();
    reply out;
    out.status = 200;
    out.content_type = "text/plain; charset=utf-8";
    out.body = std::move(chunk->text);
    out.headers.emplace_back("X-Liftoff-Next-Offset", std::to_string(chunk->next_offset));
    out.headers.emplace_back("X-Liftoff-Run-State", std::string(to_string(chunk->state)));
    if (out.body.empty() && !is_terminal(chunk->state)) out.park_on.push_back(detail::run_key(run_id));
    return out;
  }

  basic_service<Store>& service_;
  api_server_options const& options_;
  detail::http_core* core_ = nullptr;
};

// ---- basic_api_server ------------------------------------------------------------------------

template <store Store>
basic_api_server<Store>::basic_api_server(Store store, api_server_options options)
    : store_(std::move(store)), options_(std::move(options)) {
  if (options_.data_dir.empty()) options_.data_dir = ".";
  service_options so;
  so.data_dir = options_.data_dir;
  so.lease_time = options_.lease_time;
  so.max_attempts = options_.max_attempts;
  so.agent_lost_after = options_.agent_lost_after;
  so.resources = options_.resources;
  // Artifacts and long-polls are the HTTP side's; the service asks and tells through these.
  so.has_artifact = [this](std::string_view hex) { return core_ && core_->artifacts.contains(hex); };
  so.on_event = [this](service_event const& e) {
    if (!core_) return;
    switch (e.kind) {
      case event_kind::queue: core_->hub.notify(detail::queue_key(e.name)); break;
      case event_kind::run: core_->hub.notify(detail::run_key(e.name)); break;
      case event_kind::token: core_->hub.notify("token:" + e.name); break;
    }
  };
  service_ = std::make_unique<basic_service<Store>>(store_, std::move(so));
  backend_ = std::make_unique<backend>(*service_, options_);
  core_ = std::make_unique<detail::http_core>(options_, *backend_, std::span<detail::route const>(detail::api_routes));
  backend_->attach(*core_);
}

template <store Store>
basic_api_server<Store>::~basic_api_server() {
  stop();
}

template <store Store>
result<void> basic_api_server<Store>::start() {
  if (auto made = detail::make_private_dir(options_.data_dir); !made) return made.error();
  if (!lock_ || !lock_->held()) {
    auto lock = detail::data_dir_lock::acquire(options_.data_dir);
    if (!lock) return lock.error();
    lock_ = std::make_unique<detail::data_dir_lock>(std::move(*lock));
  }
  if (auto prepared = service_->prepare(); !prepared) return prepared.error();
  if (auto started = core_->start(); !started) return started.error();
  std::optional<diagnostic> failed;
  // The first start: make the admin token, keep only its hash, show it once.
  if (auto made = service_->create_first_token("admin"); !made)
    failed = made.error();
  else if (*made) {
    auto const& token = (*made)->token;
    auto w = detail::write_private_file(options_.data_dir / "admin-token", token + "\n");
    if (!w && w.error().code != make_error_code(error::already_exists)) {
      failed = w.error();
    } else {
      auto say = [&](std::string const& line) {
        if (options_.notice) options_.notice(line);
        else std::cout << line << '\n' << std::flush;
      };
      say("admin token: " + token);
      // A file from an earlier database is kept: it may be the only copy of a token somebody still needs.
      if (!w) say("note: " + w.error().what() + "; the new admin token above is not in it");
    }
  }
  if (failed) {
    core_->stop();
    return *failed;
  }
  return {};
}

template <store Store>
void basic_api_server<Store>::stop() {
  if (core_) core_->stop();
  if (lock_) lock_->release();
}

template <store Store>
std::uint16_t basic_api_server<Store>::port() const noexcept {
  return core_->port();
}

template <store Store>
std::string basic_api_server<Store>::url() const {
  return core_->url();
}

template <store Store>
std::size_t basic_api_server<Store>::parked_requests() const noexcept {
  return core_->hub.parked();
}

template <store Store>
std::size_t basic_api_server<Store>::connections() const {
  return core_->connections();
}

}  // namespace liftoff::server

#endif
