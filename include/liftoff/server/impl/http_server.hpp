#ifndef LIFTOFF_SERVER_IMPL_HTTP_SERVER_HPP
#define LIFTOFF_SERVER_IMPL_HTTP_SERVER_HPP

#include <liftoff/core/spec.hpp>
#include <liftoff/server/config_template.hpp>
#include <liftoff/server/detail/http_core.hpp>
#include <liftoff/server/wire.hpp>

#include <boost/json/value_from.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace liftoff::server {

namespace detail {

/// The endpoint table of `liftoff/client/client.hpp`, below `/api/v1`.
enum api_route : int {
  route_health,
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
    {verb::post, "/tokens", route_token_create},
    {verb::get, "/tokens", route_token_list},
    {verb::delete_, "/tokens/{}", route_token_revoke},
    {verb::head, "/artifacts/{}", route_artifact_head, route_kind::artifact_read},
    {verb::put, "/artifacts/{}", route_artifact_put, route_kind::artifact_put},
    {verb::get, "/artifacts/{}", route_artifact_get, route_kind::artifact_read},
    {verb::post, "/jobs", route_job_create},
    {verb::get, "/jobs", route_job_list},
    {verb::get, "/jobs/{}", route_job_versions},
    {verb::get, "/jobs/{}/versions/{}", route_job_version},
    {verb::put, "/jobs/{}/aliases/{}", route_job_alias},
    {verb::post, "/queues", route_queue_create},
    {verb::get, "/queues", route_queue_list},
    {verb::get, "/queues/{}", route_queue_get},
    {verb::delete_, "/queues/{}", route_queue_delete},
    {verb::post, "/queues/{}/items", route_item_push},
    {verb::get, "/queues/{}/items", route_item_list},
    {verb::post, "/queues/{}/lease", route_queue_lease},
    {verb::post, "/lease", route_lease},
    {verb::post, "/items/{}/ack", route_item_ack},
    {verb::post, "/agents", route_agent_register},
    {verb::get, "/agents", route_agent_list},
    {verb::get, "/agents/{}", route_agent_get},
    {verb::post, "/agents/{}/heartbeat", route_agent_heartbeat},
    {verb::post, "/agents/{}/stop", route_agent_stop},
    {verb::post, "/agents/{}/stopped", route_agent_stopped},
    {verb::get, "/runs", route_run_list},
    {verb::get, "/runs/{}", route_run_get},
    {verb::post, "/runs/{}/report", route_run_report},
    {verb::post, "/runs/{}/logs", route_run_logs_append},
    {verb::get, "/runs/{}/logs", route_run_logs_read},
    {verb::post, "/runs/{}/stop", route_run_stop},
};

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

/// Prefixes a diagnostic's sentence with what the request was about.
inline diagnostic about(std::string_view what, diagnostic d) {
  d.message = std::string(what) + ": " + d.what();
  return d;
}

/// Writes the admin token file, readable by its owner only.
inline result<void> write_private_file(std::filesystem::path const& path, std::string const& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
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
  backend(Store& s, api_server_options const& o) : store_(s), options_(o) {}

  void attach(detail::http_core& core) { core_ = &core; }

  result<std::string> authenticate(std::string_view authorization) override {
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
    auto found = store_.find_token(hash_token(token));
    if (!found) return found.error();
    if (!*found)
      return diagnostic(error::invalid_request, "the API token is not valid: it is unknown or was revoked; log in again with a "
                                               "current one (`liftoff login`; an admin makes one with `liftoff token create`)");
    return (*found)->name;
  }

  detail::http_reply handle(detail::request_context& c) override {
    auto r = dispatch(c);
    if (!r) return detail::error_reply(r.error());
    return std::move(*r);
  }

  void sweep() override {
    auto now = store_clock::now();
    if (auto expired = store_.expire_leases(now, options_.max_attempts)) {
      for (auto const& e : *expired) {
        core_->log("lease of item " + std::to_string(e.item_id) + " (run " + e.run_id + ") by agent " +
                   std::to_string(e.agent) + " expired after attempt " + std::to_string(e.attempts) +
                   (e.requeued ? "; back on queue " + e.queue : "; the item failed (stage agent)"));
        if (e.requeued) core_->hub.notify(detail::queue_key(e.queue));
        core_->hub.notify(detail::run_key(e.run_id));
      }
    } else {
      core_->log("expiring leases failed: " + expired.error().what());
    }
    if (auto lost = store_.mark_lost_agents(now, options_.agent_lost_after)) {
      for (auto const& a : *lost)
        core_->log("agent " + std::to_string(a.id) + " (" + a.name + ") is lost: no heartbeat for " +
                   std::to_string(options_.agent_lost_after.count() / 1000) + " s");
    } else {
      core_->log("marking lost agents failed: " + lost.error().what());
    }
  }

private:
  using reply = detail::http_reply;
  using ctx_t = detail::request_context;

  static time_point now_ms() {
    return time_point(std::chrono::duration_cast<std::chrono::milliseconds>(store_clock::now().time_since_epoch()));
  }

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

  result<reply> dispatch(ctx_t& c) {
    using namespace detail;
    switch (static_cast<api_route>(c.route)) {
      case route_health: return json_reply(200, boost::json::object{{"status", "ok"}});
      case route_token_create: return create_token(c);
      case route_token_list: {
        auto t = store_.list_tokens();
        if (!t) return t.error();
        return json_list(*t);
      }
      case route_token_revoke: {
        auto id = path_id(c.params[0], "token");
        if (!id) return id.error();
        auto t = store_.revoke_token(*id);
        if (!t) return t.error();
        return json(200, *t);
      }
      case route_job_create: return create_job(c);
      case route_job_list: {
        auto j = store_.list_jobs();
        if (!j) return j.error();
        return json_list(*j);
      }
      case route_job_versions: {
        auto j = store_.list_job_versions(c.params[0]);
        if (!j) return j.error();
        return json_list(*j);
      }
      case route_job_version: {
        auto j = store_.get_job_version(c.params[0], c.params[1]);
        if (!j) return j.error();
        return json(200, *j);
      }
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
      case route_agent_list: {
        auto a = store_.list_agents();
        if (!a) return a.error();
        return json_list(*a);
      }
      case route_agent_get:
      case route_agent_heartbeat:
      case route_agent_stop:
      case route_agent_stopped: return agent_call(c);
      case route_run_list: return list_runs(c);
      case route_run_get: return get_run(c.params[0]);
      case route_run_report: return report(c);
      case route_run_logs_append: return append_logs(c);
      case route_run_logs_read: return read_logs(c);
      case route_run_stop: return stop_run(c.params[0]);
      default: break;
    }
    return diagnostic(error::not_found, "no handler for this endpoint");
  }

  // ---- tokens ----

  result<reply> create_token(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "token");
    f.only({"name"});
    auto name = f.string("name");
    if (f.ok() && (name.empty() || name.size() > 64))
      f.fail("name", "expected 1 to 64 characters, got " + std::to_string(name.size()));
    if (!f.ok()) return f.error();
    auto token = make_token();
    auto rec = store_.add_token(name, hash_token(token), now_ms());
    if (!rec) return rec.error();
    return detail::json_reply(201, boost::json::object{{"token", token}, {"record", boost::json::value_from(*rec)}});
  }

  // ---- jobs ----

  /// Checks a job's source: launch-spec fields with exactly one of image, git and code; a code artifact must be here.
  result<void> check_job_source(boost::json::object const& source) {
    int kinds = 0;
    for (auto k : {"image", "git", "code"}) kinds += source.contains(k) ? 1 : 0;
    if (kinds != 1)
      return diagnostic(error::invalid_request,
                        "job: field 'source': expected exactly one of image, git and code, got " +
                            std::to_string(kinds));
    for (auto k : {"run_id", "queue"})
      if (source.contains(k))
        return diagnostic(error::invalid_request, std::string("job: field 'source': '") + k +
                                                      "' belongs to a run, not to a job");
    auto spec = parse_launch_spec(source);
    if (!spec) return detail::about("job: field 'source'", spec.error());
    return check_artifact(*spec, "job: field 'source'");
  }

  result<void> check_artifact(launch_spec const& spec, std::string_view what) {
    if (auto const* code = std::get_if<code_dir>(&spec.source); code && !code->artifact.empty()) {
      auto hex = std::string_view(code->artifact).substr(7);
      if (!core_->artifacts.contains(hex))
        return diagnostic(error::invalid_request, std::string(what) + ": code.artifact: the server has no artifact " +
                                                      code->artifact + "; upload it first (PUT /api/v1/artifacts/" +
                                                      std::string(hex) + ")");
    }
    return {};
  }

  static result<void> check_alias(std::string const& alias) {
    bool version_like = alias.size() > 1 && alias[0] == 'v' &&
                        alias.find_first_not_of("0123456789", 1) == std::string::npos;
    if (alias == "latest" || version_like || !detail::is_safe_name(alias, 64))
      return diagnostic(error::invalid_request,
                        "job: field 'aliases': \"" + alias +
                            "\" cannot be an alias (expected letters, digits, '.', '_' or '-', "
                            "and neither 'latest' nor a version like v3)");
    return {};
  }

  result<reply> create_job(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "job");
    f.only({"name", "source", "aliases"});
    auto name = f.string("name");
    auto source = f.object_or_empty("source");
    auto aliases = f.strings("aliases");
    if (f.ok() && !detail::is_safe_name(name, 128))
      f.fail("name", "expected 1 to 128 letters, digits, '.', '_' or '-', got \"" + name + "\"");
    if (f.ok() && !f.has("source")) f.fail("source", "required, missing");
    if (!f.ok()) return f.error();
    if (auto ok = check_job_source(source); !ok) return ok.error();
    for (auto const& a : aliases)
      if (auto ok = check_alias(a); !ok) return ok.error();
    auto digest = detail::json_digest(source);
    // 201 for a new version, 200 when a version has this source already.
    bool created = true;
    if (auto versions = store_.list_job_versions(name))
      for (auto const& existing : *versions) created = created && existing.digest != digest;
    auto v = store_.add_job_version(name, source, digest, now_ms());
    if (!v) return v.error();
    auto selector = "v" + std::to_string(v->version);
    for (auto const& a : aliases)
      if (auto s = store_.set_job_alias(name, a, selector); !s) return s.error();
    if (!aliases.empty()) {
      v = store_.get_job_version(name, selector);
      if (!v) return v.error();
    }
    return json(created ? 201 : 200, *v);
  }

  result<reply> set_alias(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "job alias");
    f.only({"version"});
    auto selector = f.string("version");
    if (!f.ok()) return f.error();
    if (auto ok = check_alias(c.params[1]); !ok) return ok.error();
    auto v = store_.set_job_alias(c.params[0], c.params[1], selector);
    if (!v) return v.error();
    return json(200, *v);
  }

  // ---- queues ----

  result<reply> create_queue(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "queue");
    f.only({"name", "resource", "config_template", "prioritized"});
    queue_record q;
    q.name = f.string("name");
    q.resource = f.string("resource");
    auto tmpl_json = f.object_or_empty("config_template");
    q.prioritized = f.boolean_or("prioritized", true);
    if (f.ok() && q.resource.empty()) f.fail("resource", "expected a resource name such as local-process");
    if (!f.ok()) return f.error();
    auto tmpl = config_template::parse(tmpl_json);
    if (!tmpl) return detail::about("queue: field 'config_template'", tmpl.error());
    auto normalized = tmpl->to_json();
    if (auto const* o = normalized.if_object()) q.config_template = *o;
    q.created_at = now_ms();
    auto made = store_.create_queue(std::move(q));
    if (!made) return made.error();
    auto r = json(201, *made);
    for (auto const& w : tmpl->warnings()) r.headers.emplace_back("X-Liftoff-Warning", w);
    return r;
  }

  result<reply> list_queues() {
    auto qs = store_.list_queues();
    if (!qs) return qs.error();
    boost::json::array out;
    for (auto const& q : *qs) {
      auto counts = store_.count_items(q.name);
      if (!counts) return counts.error();
      auto v = boost::json::value_from(q);
      v.as_object()["counts"] = detail::counts_json(*counts);
      out.push_back(std::move(v));
    }
    return detail::json_reply(200, out);
  }

  result<reply> describe_queue(std::string const& name) {
    auto q = store_.get_queue(name);
    if (!q) return q.error();
    auto counts = store_.count_items(name);
    if (!counts) return counts.error();
    auto v = boost::json::value_from(*q);
    auto& o = v.as_object();
    o["counts"] = detail::counts_json(*counts);
    boost::json::array pending;
    for (auto state : {item_state::queued, item_state::leased}) {
      auto items = store_.list_items(name, state);
      if (!items) return items.error();
      for (auto const& i : *items) pending.push_back(boost::json::value_from(i));
    }
    o["items"] = std::move(pending);
    return detail::json_reply(200, v);
  }

  result<reply> delete_queue(ctx_t& c) {
    auto force = detail::query_bool(c, "force", false);
    if (!force) return force.error();
    auto d = store_.delete_queue(c.params[0], *force);
    if (!d) return d.error();
    core_->hub.notify(detail::queue_key(c.params[0]));
    return detail::empty_reply(204);
  }

  result<reply> list_items(ctx_t& c) {
    std::optional<item_state> state;
    if (auto s = detail::query_param(c, "state")) {
      state = item_state_from_string(*s);
      if (!state) return detail::bad_query("state", "queued, leased, acked, done or failed", *s);
    }
    if (auto q = store_.get_queue(c.params[0]); !q) return q.error();
    auto items = store_.list_items(c.params[0], state);
    if (!items) return items.error();
    return json_list(*items);
  }

  // ---- items ----

  /** The launch spec a push makes: the stored job's source under the
      request's own spec, the queue's filled template over its
      resource_args, the queue's resource and name, a run id. */
  result<reply> push(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "push");
    f.only({"spec", "job", "priority", "variables"});
    auto spec_in = f.object_or_empty("spec");
    auto job = f.string_or("job", "");
    auto priority_name = f.string_or("priority", "medium");
    auto variables = f.object_or_empty("variables");
    if (!f.ok()) return f.error();
    auto prio = priority_from_string(priority_name);
    if (!prio)
      return diagnostic(error::invalid_request,
                        "push: field 'priority': expected critical, high, medium or low, got \"" + priority_name + "\"");
    if (!f.has("spec") && job.empty())
      return diagnostic(error::invalid_request, "push: give a launch spec (field 'spec'), a stored job (field 'job') or both");

    auto q = store_.get_queue(c.params[0]);
    if (!q) return q.error();

    boost::json::object merged;
    if (!job.empty()) {
      auto colon = job.find(':');
      std::string name = job.substr(0, colon);
      std::string selector = colon == std::string::npos ? "latest" : job.substr(colon + 1);
      if (name.empty() || selector.empty())
        return diagnostic(error::invalid_request,
                          "push: field 'job': expected NAME, NAME:ALIAS or NAME:vN, got \"" + job + "\"");
      auto v = store_.get_job_version(name, selector);
      if (!v) return detail::about("push: field 'job'", v.error());
      merged = v->source;
      merged["job_name"] = name;
      if (spec_in.contains("image") || spec_in.contains("git") || spec_in.contains("code"))
        for (auto k : {"image", "git", "code"}) merged.erase(k);
    }
    for (auto const& kv : spec_in) merged[kv.key()] = kv.value();

    auto tmpl = config_template::parse(q->config_template);
    if (!tmpl) return detail::about("queue '" + q->name + "' has an unusable config template", tmpl.error());
    auto filled = tmpl->fill(variables);
    if (!filled) {
      auto d = filled.error();
      d.code = make_error_code(error::invalid_request);
      return detail::about("push: field 'variables'", std::move(d));
    }
    if (!filled->empty()) {
      boost::json::object args;
      if (auto const* existing = merged.if_contains("resource_args"); existing && existing->is_object())
        args = existing->get_object();
      else if (existing && !existing->is_null())
        return diagnostic(error::invalid_spec, "push: resource_args: expected an object keyed by resource name, got " +
                                                   std::string(json_kind_name(*existing)));
      // The queue's template is the queue owner's word: it wins over the spec's own values.
      detail::deep_merge(args, *filled);
      merged["resource_args"] = std::move(args);
    }
    merged["resource"] = q->resource;
    merged["queue"] = q->name;
    if (auto const* rid = merged.if_contains("run_id"); !rid || !rid->is_string() || rid->get_string().empty())
      merged["run_id"] = make_run_id();

    auto spec = parse_launch_spec(merged);
    if (!spec) return detail::about("push", spec.error());
    if (auto ok = check_artifact(*spec, "push"); !ok) return ok.error();
    auto stored = to_json(*spec);
    auto item = store_.push(q->name, *prio, stored.as_object(), spec->run_id, now_ms());
    if (!item) return item.error();
    core_->hub.notify(detail::queue_key(q->name));
    return json(201, *item);
  }

  /// Agents of a multi-queue lease take their queues in turn, starting after the one that last gave them an item.
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
    if (f.ok() && queues.empty()) f.fail("queues", "expected at least one queue name");
    if (!f.ok()) return f.error();
    if (!c.deadline) c.deadline = std::chrono::steady_clock::now() + *wait;

    std::size_t start = 0;
    if (several) {
      std::lock_guard lock(rr_mutex_);
      start = next_queue_[agent] % queues.size();
    }
    for (std::size_t i = 0; i < queues.size(); ++i) {
      auto idx = (start + i) % queues.size();
      auto item = store_.lease(queues[idx], agent, options_.lease_time, now_ms());
      if (!item) return item.error();
      if (*item) {
        if (several) {
          std::lock_guard lock(rr_mutex_);
          next_queue_[agent] = idx + 1;
        }
        return json(200, **item);
      }
    }
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
    auto item = store_.ack(*id, agent);
    if (!item) return item.error();
    return json(200, *item);
  }

  // ---- agents ----

  result<reply> register_agent(ctx_t& c) {
    auto body = detail::json_body(c);
    if (!body) return body.error();
    auto reg = agent_registration_from_json(*body);
    if (!reg) return reg.error();
    auto a = store_.register_agent(*reg, now_ms());
    if (!a) return a.error();
    return json(201, *a);
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
    switch (c.route) {
      case detail::route_agent_heartbeat: {
        auto h = store_.heartbeat(*id, options_.lease_time, now_ms());
        if (!h) return h.error();
        return json(200, *h);
      }
      case detail::route_agent_stop: {
        auto a = store_.request_stop_agent(*id);
        if (!a) return a.error();
        return json(200, *a);
      }
      case detail::route_agent_stopped: {
        auto a = store_.agent_stopped(*id);
        if (!a) return a.error();
        for (auto const& q : a->queues) core_->hub.notify(detail::queue_key(q));
        return json(200, *a);
      }
      default: {
        auto a = store_.get_agent(*id);
        if (!a) return a.error();
        return json(200, *a);
      }
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
    auto active = detail::query_bool(c, "active", false);
    if (!active) return active.error();
    filter.active_only = *active;
    auto limit = detail::query_integer(c, "limit", 1, 100000);
    if (!limit) return limit.error();
    filter.limit = static_cast<std::size_t>(limit->value_or(100));
    auto runs = store_.list_runs(filter);
    if (!runs) return runs.error();
    return json_list(*runs);
  }

  result<reply> get_run(std::string const& run_id) {
    auto r = store_.get_run(run_id);
    if (!r) return r.error();
    auto v = boost::json::value_from(*r);
    auto item = store_.get_item(r->item_id);
    v.as_object()["spec"] = item ? boost::json::value(item->run_spec) : boost::json::value(nullptr);
    return detail::json_reply(200, v);
  }

  /** A `preempted` run goes back on its queue with the same run id (the
      store bounds how often); its queue's waiting agents are woken. */
  result<reply> report(ctx_t& c) {
    auto const& run_id = c.params[0];
    auto body = detail::json_body(c);
    if (!body) return body.error();
    auto u = state_update_from_json(*body);
    if (!u) return u.error();
    field_reader f(*body, "state report");
    auto agent = f.integer("agent");
    if (!f.ok()) return f.error();
    auto r = store_.report(run_id, agent, *u, now_ms());
    if (!r) return r.error();
    core_->hub.notify(detail::run_key(run_id));
    if (is_terminal(r->state) || r->state == run_state::queued) core_->hub.notify(detail::queue_key(r->queue));
    return json(200, *r);
  }

  result<reply> append_logs(ctx_t& c) {
    auto const& run_id = c.params[0];
    auto body = detail::json_body(c);
    if (!body) return body.error();
    field_reader f(*body, "logs");
    f.only({"agent", "text"});
    auto agent = f.integer("agent");
    auto text = f.string("text");
    if (!f.ok()) return f.error();
    auto r = store_.get_run(run_id);
    if (!r) return r.error();
    if (!r->agent || *r->agent != agent)
      return diagnostic(error::not_holder, "agent " + std::to_string(agent) + " does not hold run " + run_id +
                                               "; only its agent appends to its logs");
    if (!text.empty()) {
      if (auto a = core_->logs.append(run_id, text); !a) return a.error();
      core_->hub.notify(detail::run_key(run_id));
    }
    return detail::empty_reply(204);
  }

  result<reply> read_logs(ctx_t& c) {
    auto const& run_id = c.params[0];
    auto wait = detail::query_wait(c, options_.max_wait);
    if (!wait) return wait.error();
    auto offset = detail::query_integer(c, "offset", 0, INT64_MAX);
    if (!offset) return offset.error();
    if (!c.deadline) c.deadline = std::chrono::steady_clock::now() + *wait;
    auto r = store_.get_run(run_id);
    if (!r) return r.error();
    auto chunk = core_->logs.read(run_id, static_cast<std::uint64_t>(offset->value_or(0)), detail::max_log_chunk);
    if (!chunk) return chunk.error();
    reply out;
    out.status = 200;
    out.content_type = "text/plain; charset=utf-8";
    out.body = std::move(chunk->first);
    out.headers.emplace_back("X-Liftoff-Next-Offset", std::to_string(chunk->second));
    out.headers.emplace_back("X-Liftoff-Run-State", std::string(to_string(r->state)));
    if (out.body.empty() && !is_terminal(r->state)) out.park_on.push_back(detail::run_key(run_id));
    return out;
  }

  result<reply> stop_run(std::string const& run_id) {
    auto r = store_.request_stop_run(run_id, now_ms());
    if (!r) return r.error();
    core_->hub.notify(detail::run_key(run_id));
    core_->hub.notify(detail::queue_key(r->queue));
    return json(200, *r);
  }

  Store& store_;
  api_server_options const& options_;
  detail::http_core* core_ = nullptr;
  std::mutex rr_mutex_;
  std::unordered_map<std::int64_t, std::size_t> next_queue_;
};

// ---- basic_api_server ------------------------------------------------------------------------

template <store Store>
basic_api_server<Store>::basic_api_server(Store store, api_server_options options)
    : store_(std::move(store)), options_(std::move(options)) {
  if (options_.data_dir.empty()) options_.data_dir = ".";
  backend_ = std::make_unique<backend>(store_, options_);
  core_ = std::make_unique<detail::http_core>(options_, *backend_, std::span<detail::route const>(detail::api_routes));
  backend_->attach(*core_);
}

template <store Store>
basic_api_server<Store>::~basic_api_server() {
  stop();
}

template <store Store>
result<void> basic_api_server<Store>::start() {
  std::error_code fec;
  std::filesystem::create_directories(options_.data_dir, fec);
  if (fec) return diagnostic(fec, "cannot create " + options_.data_dir.string() + ": " + fec.message());
  if (auto started = core_->start(); !started) return started.error();
  auto tokens = store_.list_tokens();
  std::optional<diagnostic> failed;
  if (!tokens) failed = tokens.error();
  else if (tokens->empty()) {
    // The first start: make the admin token, keep only its hash, show it once.
    auto token = make_token();
    auto added = store_.add_token("admin", hash_token(token), store_clock::now());
    if (!added) failed = added.error();
    else if (auto w = detail::write_private_file(options_.data_dir / "admin-token", token + "\n"); !w)
      failed = w.error();
    else {
      std::string line = "admin token: " + token;
      if (options_.notice) options_.notice(line);
      else std::cout << line << '\n' << std::flush;
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

}  // namespace liftoff::server

#endif
