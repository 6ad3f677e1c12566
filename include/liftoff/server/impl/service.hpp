#ifndef LIFTOFF_SERVER_IMPL_SERVICE_HPP
#define LIFTOFF_SERVER_IMPL_SERVICE_HPP

// The store-typed half of `basic_service`: each operation is a few store
// calls around the non-template checks of impl/service.ipp.

#include <liftoff/server/detail/util.hpp>

#include <utility>

namespace liftoff::server {

template <store Store>
basic_service<Store>::basic_service(Store& store, service_options options)
    : store_(store), core_(std::move(options)) {}

template <store Store>
result<void> basic_service<Store>::prepare() {
  return core_.prepare();
}

// ---- tokens ----

template <store Store>
result<token_record> basic_service<Store>::authenticate(std::string_view token) {
  auto found = store_.find_token(hash_token(token));
  if (!found) return found.error();
  if (!*found)
    return diagnostic(error::invalid_request, "the API token is not valid: it is unknown or was revoked; log in again with a "
                                             "current one (`liftoff login`; an admin makes one with `liftoff token create`)");
  return std::move(**found);
}

template <store Store>
result<new_token> basic_service<Store>::create_token(std::string_view name, token_role role) {
  if (auto ok = check_token_name(name); !ok) return ok.error();
  new_token out;
  out.token = make_token();
  auto rec = store_.add_token(name, hash_token(out.token), role, core_.now());
  if (!rec) return rec.error();
  out.record = std::move(*rec);
  return out;
}

template <store Store>
result<std::optional<new_token>> basic_service<Store>::create_first_token(std::string_view name) {
  auto tokens = store_.list_tokens();
  if (!tokens) return tokens.error();
  if (!tokens->empty()) return std::optional<new_token>();
  auto made = create_token(name, token_role::admin);
  if (!made) return made.error();
  return std::optional<new_token>(std::move(*made));
}

template <store Store>
result<std::vector<token_record>> basic_service<Store>::list_tokens() {
  return store_.list_tokens();
}

template <store Store>
result<token_record> basic_service<Store>::revoke_token(std::int64_t id) {
  auto t = store_.revoke_token(id);
  if (t) core_.notify(event_kind::token, std::to_string(id));
  return t;
}

// ---- acting as an agent ----

template <store Store>
result<agent_record> basic_service<Store>::authorize_agent(token_record const& who, std::int64_t agent) {
  auto a = store_.get_agent(agent);
  if (!a) return a.error();
  if (auto ok = detail::check_agent_binding(*a, who); !ok) return ok.error();
  return a;
}

template <store Store>
result<void> basic_service<Store>::authorize_run_read(token_record const& who, std::string_view run_id) {
  if (who.role != token_role::agent) return {};
  auto r = store_.get_run(run_id);
  if (!r) return r.error();
  if (r->agent) {
    auto a = store_.get_agent(*r->agent);
    if (a && a->token && *a->token == who.id) return {};
  }
  return diagnostic(error::forbidden, "reading run '" + r->run_id + "' needs the member role; token '" + who.name +
                                          "' has the agent role and reads only the runs of the agent it registered");
}

// ---- jobs ----

template <store Store>
result<job_added> basic_service<Store>::add_job(std::string_view name, boost::json::object const& source,
                                                std::vector<std::string> const& aliases) {
  if (auto ok = check_job_name(name); !ok) return ok.error();
  auto spec = check_job_source(source);
  if (!spec) return spec.error();
  if (auto ok = core_.check_artifact(*spec, "job: field 'source'"); !ok) return ok.error();
  for (auto const& a : aliases)
    if (auto ok = check_job_alias(a); !ok) return ok.error();
  auto digest = detail::json_digest(source);
  bool created = true;
  if (auto versions = store_.list_job_versions(name))
    for (auto const& existing : *versions) created = created && existing.digest != digest;
  auto v = store_.add_job_version(name, source, digest, core_.now());
  if (!v) return v.error();
  auto selector = "v" + std::to_string(v->version);
  for (auto const& a : aliases)
    if (auto s = store_.set_job_alias(name, a, selector); !s) return s.error();
  if (!aliases.empty()) {
    v = store_.get_job_version(name, selector);
    if (!v) return v.error();
  }
  return job_added{std::move(*v), created};
}

template <store Store>
result<job_version_record> basic_service<Store>::set_job_alias(std::string_view job, std::string_view alias,
                                                               std::string_view selector) {
  if (auto ok = check_job_alias(alias); !ok) return ok.error();
  return store_.set_job_alias(job, alias, selector);
}

template <store Store>
result<job_version_record> basic_service<Store>::get_job_version(std::string_view job, std::string_view selector) {
  return store_.get_job_version(job, selector);
}

template <store Store>
result<job_version_record> basic_service<Store>::select_job(std::string_view selector) {
  auto sel = parse_job_selector(selector);
  if (!sel) return sel.error();
  return store_.get_job_version(sel->name, sel->selector);
}

template <store Store>
result<std::vector<job_version_record>> basic_service<Store>::list_job_versions(std::string_view job) {
  return store_.list_job_versions(job);
}

template <store Store>
result<std::vector<job_version_record>> basic_service<Store>::list_jobs() {
  return store_.list_jobs();
}

// ---- queues ----

template <store Store>
result<queue_created> basic_service<Store>::create_queue(queue_request const& r) {
  auto made = prepare_queue(r, core_.options().resources);
  if (!made) return made.error();
  made->queue.created_at = core_.now();
  auto stored = store_.create_queue(std::move(made->queue));
  if (!stored) return stored.error();
  made->queue = std::move(*stored);
  return made;
}

template <store Store>
result<queue_record> basic_service<Store>::get_queue(std::string_view name) {
  return store_.get_queue(name);
}

template <store Store>
result<std::vector<queue_summary>> basic_service<Store>::list_queues() {
  auto qs = store_.list_queues();
  if (!qs) return qs.error();
  std::vector<queue_summary> out;
  out.reserve(qs->size());
  for (auto& q : *qs) {
    auto counts = store_.count_items(q.name);
    if (!counts) return counts.error();
    out.push_back({std::move(q), std::move(*counts)});
  }
  return out;
}

template <store Store>
result<queue_details> basic_service<Store>::describe_queue(std::string_view name) {
  auto q = store_.get_queue(name);
  if (!q) return q.error();
  auto counts = store_.count_items(name);
  if (!counts) return counts.error();
  queue_details out{std::move(*q), std::move(*counts), {}};
  for (auto state : {item_state::queued, item_state::leased}) {
    auto items = store_.list_items(name, state);
    if (!items) return items.error();
    for (auto& i : *items) out.pending.push_back(std::move(i));
  }
  return out;
}

template <store Store>
result<void> basic_service<Store>::delete_queue(std::string_view name, bool force) {
  auto d = store_.delete_queue(name, force);
  if (!d) return d.error();
  core_.notify(event_kind::queue, name);
  return {};
}

template <store Store>
result<std::vector<item_record>> basic_service<Store>::list_items(std::string_view queue,
                                                                  std::optional<item_state> state) {
  if (auto q = store_.get_queue(queue); !q) return q.error();
  return store_.list_items(queue, state);
}

// ---- items and leases ----

template <store Store>
result<item_record> basic_service<Store>::push(std::string_view queue, push_request const& r) {
  if (!r.spec && r.job.empty()) return detail::push_needs_spec_or_job();
  auto q = store_.get_queue(queue);
  if (!q) return q.error();
  std::optional<job_version_record> job;
  if (!r.job.empty()) {
    auto v = select_job(r.job);
    if (!v) return detail::about("push: field 'job'", v.error());
    job = std::move(*v);
  }
  auto spec = make_run_spec(*q, job ? &*job : nullptr, r);
  if (!spec) return spec.error();
  if (auto ok = core_.check_artifact(*spec, "push"); !ok) return ok.error();
  auto stored = to_json(*spec);
  auto item = store_.push(q->name, r.priority, std::move(stored.as_object()), spec->run_id, core_.now());
  if (!item) return item.error();
  core_.notify(event_kind::queue, q->name);
  return item;
}

template <store Store>
result<std::optional<item_record>> basic_service<Store>::lease(std::string_view queue, std::int64_t agent) {
  return store_.lease(queue, agent, core_.options().lease_time, core_.now());
}

template <store Store>
result<std::optional<item_record>> basic_service<Store>::lease_any(std::vector<std::string> const& queues,
                                                                   std::int64_t agent) {
  if (queues.empty())
    return diagnostic(error::invalid_request, "lease: field 'queues': expected at least one queue name");
  auto start = core_.first_queue(agent, queues.size());
  for (std::size_t i = 0; i < queues.size(); ++i) {
    auto idx = (start + i) % queues.size();
    auto item = lease(queues[idx], agent);
    if (!item) return item.error();
    if (*item) {
      core_.leased_from(agent, idx);
      return item;
    }
  }
  return std::optional<item_record>();
}

template <store Store>
result<item_record> basic_service<Store>::ack(std::int64_t item, std::int64_t agent) {
  return store_.ack(item, agent);
}

// ---- agents ----

template <store Store>
result<agent_record> basic_service<Store>::register_agent(agent_registration const& r) {
  return store_.register_agent(r, core_.now());
}

template <store Store>
result<agent_record> basic_service<Store>::register_agent(agent_registration r, token_record const& who) {
  if (auto ok = require_role(who, {token_role::agent}, "registering an agent"); !ok) return ok.error();
  r.token = who.id;
  if (r.resume) {
    // A resume by another token is refused, not turned into a new agent: that is somebody else's identity.
    if (auto old = store_.get_agent(*r.resume); old && old->name == r.name && old->state != agent_state::stopped)
      if (auto ok = detail::check_agent_binding(*old, who); !ok) return ok.error();
  }
  if (who.role == token_role::agent) {
    auto agents = store_.list_agents();
    if (!agents) return agents.error();
    for (auto const& a : *agents) {
      bool alive = a.state == agent_state::polling || a.state == agent_state::running;
      bool resumed = r.resume && *r.resume == a.id && a.name == r.name;
      if (a.token && *a.token == who.id && alive && !resumed)
        return diagnostic(error::conflict, "token '" + who.name + "' already acts as agent " + std::to_string(a.id) +
                                               " (" + a.name + "), which is alive; a token with the agent role "
                                               "registers one agent: resume that one (its state file), or have an "
                                               "admin stop it (`liftoff agent stop " + std::to_string(a.id) + "`)");
    }
  }
  return store_.register_agent(r, core_.now());
}

template <store Store>
result<agent_record> basic_service<Store>::get_agent(std::int64_t id) {
  return store_.get_agent(id);
}

template <store Store>
result<std::vector<agent_record>> basic_service<Store>::list_agents() {
  return store_.list_agents();
}

template <store Store>
result<heartbeat_reply> basic_service<Store>::heartbeat(std::int64_t agent) {
  return store_.heartbeat(agent, core_.options().lease_time, core_.now());
}

template <store Store>
result<agent_record> basic_service<Store>::request_stop_agent(std::int64_t agent) {
  return store_.request_stop_agent(agent);
}

template <store Store>
result<agent_record> basic_service<Store>::agent_stopped(std::int64_t agent) {
  auto a = store_.agent_stopped(agent);
  if (!a) return a.error();
  // Its parked leases must answer now rather than wait out their time.
  for (auto const& q : a->queues) core_.notify(event_kind::queue, q);
  return a;
}

// ---- runs ----

template <store Store>
result<std::vector<run_record>> basic_service<Store>::list_runs(run_filter const& filter) {
  return store_.list_runs(filter);
}

template <store Store>
result<run_details> basic_service<Store>::get_run(std::string_view run_id) {
  auto r = store_.get_run(run_id);
  if (!r) return r.error();
  run_details out{std::move(*r), std::nullopt};
  if (auto item = store_.get_item(out.run.item_id)) out.spec = std::move(item->run_spec);
  return out;
}

template <store Store>
result<run_record> basic_service<Store>::report(std::string_view run_id, std::int64_t agent, state_update const& u) {
  // The state itself first, as the store does: a report of `queued` is wrong whatever the run.
  if (auto ok = detail::check_reported_state(u.state); !ok) return ok.error();
  auto current = store_.get_run(run_id);
  if (!current) return current.error();
  if (auto ok = check_state_report(*current, u); !ok) return ok.error();
  // The store checks again, atomically with the write: the run may have ended since.
  auto r = store_.report(run_id, agent, u, core_.now());
  if (!r) return r.error();
  core_.notify(event_kind::run, run_id);
  if (is_terminal(r->state) || r->state == run_state::queued) core_.notify(event_kind::queue, r->queue);
  return r;
}

template <store Store>
result<run_record> basic_service<Store>::stop_run(std::string_view run_id) {
  auto r = store_.request_stop_run(run_id, core_.now());
  if (!r) return r.error();
  core_.notify(event_kind::run, run_id);
  core_.notify(event_kind::queue, r->queue);
  return r;
}

template <store Store>
result<void> basic_service<Store>::append_logs(std::string_view run_id, std::int64_t agent, std::string_view text) {
  auto r = store_.get_run(run_id);
  if (!r) return r.error();
  if (auto a = core_.append_log(*r, agent, text); !a) return a.error();
  if (!text.empty()) core_.notify(event_kind::run, run_id);
  return {};
}

template <store Store>
result<log_chunk> basic_service<Store>::read_logs(std::string_view run_id, std::uint64_t offset, std::size_t max) {
  auto r = store_.get_run(run_id);
  if (!r) return r.error();
  return core_.read_log(*r, offset, max);
}

// ---- upkeep ----

template <store Store>
sweep_report basic_service<Store>::sweep() {
  auto now = core_.now();
  auto expired = store_.expire_leases(now, core_.options().max_attempts);
  if (expired) {
    for (auto const& e : *expired) {
      if (e.requeued) core_.notify(event_kind::queue, e.queue);
      core_.notify(event_kind::run, e.run_id);
    }
  }
  auto lost = store_.mark_lost_agents(now, core_.options().agent_lost_after);
  return sweep_report{std::move(expired), std::move(lost)};
}

}  // namespace liftoff::server

#endif
