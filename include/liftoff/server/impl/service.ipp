#ifndef LIFTOFF_SERVER_IMPL_SERVICE_IPP
#define LIFTOFF_SERVER_IMPL_SERVICE_IPP

#include <liftoff/server/service.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/server/config_template.hpp>
#include <liftoff/server/detail/util.hpp>
#include <liftoff/detail/quote.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <utility>
#include <variant>

namespace liftoff::server {

// ---- checks and the run spec ------------------------------------------------------------------

LIFTOFF_DECL result<job_selector> parse_job_selector(std::string_view text) {
  auto colon = text.find(':');
  job_selector out;
  out.name = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) out.selector = std::string(text.substr(colon + 1));
  if (out.name.empty() || out.selector.empty())
    return diagnostic(error::invalid_request,
                      "expected NAME, NAME:ALIAS or NAME:vN, got " + liftoff::detail::quote_excerpt(text));
  return out;
}

LIFTOFF_DECL result<void> check_job_name(std::string_view name) {
  if (!detail::is_safe_name(name, 128))
    return diagnostic(error::invalid_request, "job: field 'name': expected 1 to 128 letters, digits, '.', '_' or '-', got " +
                                                  liftoff::detail::quote_excerpt(name));
  return {};
}

LIFTOFF_DECL result<void> check_job_alias(std::string_view alias) {
  bool version_like = alias.size() > 1 && alias[0] == 'v' &&
                      alias.find_first_not_of("0123456789", 1) == std::string_view::npos;
  if (alias == "latest" || version_like || !detail::is_safe_name(alias, 64))
    return diagnostic(error::invalid_request,
                      "job: field 'aliases': " + liftoff::detail::quote_excerpt(alias) +
                          " cannot be an alias (expected letters, digits, '.', '_' or '-', "
                          "and neither 'latest' nor a version like v3)");
  return {};
}

LIFTOFF_DECL result<launch_spec> check_job_source(boost::json::object const& source) {
  int kinds = 0;
  for (auto k : {"image", "git", "code"}) kinds += source.contains(k) ? 1 : 0;
  if (kinds != 1)
    return diagnostic(error::invalid_request,
                      "job: field 'source': expected exactly one of image, git and code, got " + std::to_string(kinds));
  for (auto k : {"run_id", "queue"})
    if (source.contains(k))
      return diagnostic(error::invalid_request,
                        std::string("job: field 'source': '") + k + "' belongs to a run, not to a job");
  auto spec = parse_launch_spec(source);
  if (!spec) return detail::about("job: field 'source'", spec.error());
  return std::move(*spec);
}

LIFTOFF_DECL result<void> check_token_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return diagnostic(error::invalid_request,
                      "token: field 'name': expected 1 to 64 characters, got " + std::to_string(name.size()));
  // A token's name is shown in `liftoff token list` and names the caller in the access log.
  if (auto problem = liftoff::detail::describe_unprintable(name); !problem.empty())
    return diagnostic(error::invalid_request, "token: field 'name': " + problem + "; names are printable text");
  return {};
}

LIFTOFF_DECL result<void> require_role(token_record const& who, std::initializer_list<token_role> allowed,
                                       std::string_view what) {
  if (who.role == token_role::admin) return {};
  for (auto r : allowed)
    if (r == who.role) return {};
  std::string needed;
  for (auto r : allowed)
    if (r != token_role::admin) needed += std::string(needed.empty() ? "" : " or ") + std::string(to_string(r));
  needed = needed.empty() ? "the admin role" : "the " + needed + " or admin role";
  return diagnostic(error::forbidden, std::string(what) + " needs " + needed + "; token '" + who.name + "' has the " +
                                          std::string(to_string(who.role)) + " role");
}

LIFTOFF_DECL result<queue_created> prepare_queue(queue_request const& r, std::vector<std::string> const& resources) {
  if (r.resource.empty()) return diagnostic(error::invalid_request, detail::needs_resource_message(r.name, resources));
  if (auto bad = liftoff::detail::describe_unprintable(r.resource); !bad.empty())
    return diagnostic(error::invalid_request, "queue: field 'resource': " + bad + "; a resource is a backend's name");
  auto tmpl = config_template::parse(r.config_template);
  if (!tmpl) return detail::about("queue: field 'config_template'", tmpl.error());
  queue_created out;
  out.queue.name = r.name;
  out.queue.resource = r.resource;
  out.queue.prioritized = r.prioritized;
  auto normalized = tmpl->to_json();
  if (auto const* o = normalized.if_object()) out.queue.config_template = *o;
  out.warnings = tmpl->warnings();
  if (!resources.empty() && std::find(resources.begin(), resources.end(), r.resource) == resources.end())
    out.warnings.push_back("queue " + liftoff::detail::quote_plain(r.name) + ": resource " +
                           liftoff::detail::quote_plain(r.resource) + " is none of those this deployment's agents run (" + detail::join_names(resources) +
                           "); no agent may take its items");
  return out;
}

LIFTOFF_DECL result<boost::json::object> fill_config_template(queue_record const& q,
                                                              boost::json::object const& variables) {
  auto tmpl = config_template::parse(q.config_template);
  if (!tmpl) return detail::about("queue '" + q.name + "' has an unusable config template", tmpl.error());
  auto filled = tmpl->fill(variables);
  if (!filled) {
    auto d = filled.error();
    d.code = make_error_code(error::invalid_request);
    return detail::about("push: field 'variables'", std::move(d));
  }
  return std::move(*filled);
}

LIFTOFF_DECL result<launch_spec> make_run_spec(queue_record const& q, job_version_record const* job,
                                               push_request const& r) {
  if (!r.spec && !job) return detail::push_needs_spec_or_job();
  static boost::json::object const no_spec;
  auto const& spec_in = r.spec ? *r.spec : no_spec;

  boost::json::object merged;
  if (job) {
    merged = job->source;
    merged["job_name"] = job->job;
    if (spec_in.contains("image") || spec_in.contains("git") || spec_in.contains("code"))
      for (auto k : {"image", "git", "code"}) merged.erase(k);
  }
  for (auto const& kv : spec_in) merged[kv.key()] = kv.value();

  auto filled = fill_config_template(q, r.variables);
  if (!filled) return filled.error();
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
  merged["resource"] = q.resource;
  merged["queue"] = q.name;
  if (auto const* rid = merged.if_contains("run_id"); !rid || !rid->is_string() || rid->get_string().empty())
    merged["run_id"] = liftoff::make_run_id();

  auto spec = parse_launch_spec(merged);
  if (!spec) return detail::about("push", spec.error());
  return std::move(*spec);
}

LIFTOFF_DECL result<void> check_state_report(run_record const& run, state_update const& u) {
  if (auto ok = detail::check_reported_state(u.state); !ok) return ok;
  if (is_terminal(run.state))
    return diagnostic(error::conflict, "run '" + run.run_id + "' already ended as " + std::string(to_string(run.state)) +
                                           "; a terminal state is final");
  if (run_state_rank(u.state) < run_state_rank(run.state))
    return diagnostic(error::conflict, "run '" + run.run_id + "' is " + std::string(to_string(run.state)) +
                                           "; it cannot go back to " + std::string(to_string(u.state)) +
                                           " (a run's state only moves forward: building, starting, running, "
                                           "then a terminal state)");
  return {};
}

// ---- service_core ----------------------------------------------------------------------------

namespace detail {

LIFTOFF_DECL result<void> check_agent_binding(agent_record const& a, token_record const& who) {
  if (a.token ? *a.token == who.id : who.role == token_role::admin) return {};
  return diagnostic(error::forbidden, "agent " + std::to_string(a.id) + " (" + a.name +
                                          ") is bound to another token; token '" + who.name +
                                          "' acts only as the agent it registered");
}

LIFTOFF_DECL result<void> check_reported_state(run_state s) {
  if (s == run_state::queued || s == run_state::leased)
    return diagnostic(error::invalid_request,
                      "an agent reports building, starting, running or a terminal state, not " + std::string(to_string(s)));
  return {};
}

LIFTOFF_DECL diagnostic push_needs_spec_or_job() {
  return diagnostic(error::invalid_request, "push: give a launch spec (field 'spec'), a stored job (field 'job') or both");
}

LIFTOFF_DECL service_core::service_core(service_options options)
    : options_(std::move(options)), logs_(options_.data_dir.empty() ? std::filesystem::path(".") : options_.data_dir) {}

LIFTOFF_DECL result<void> service_core::prepare() { return logs_.prepare(); }

LIFTOFF_DECL time_point service_core::now() const {
  if (options_.clock) return options_.clock();
  return time_point(std::chrono::duration_cast<std::chrono::milliseconds>(store_clock::now().time_since_epoch()));
}

LIFTOFF_DECL void service_core::notify(event_kind kind, std::string_view name) const {
  if (options_.on_event) options_.on_event(service_event{kind, std::string(name)});
}

LIFTOFF_DECL result<void> service_core::check_artifact(launch_spec const& spec, std::string_view what) const {
  auto const* code = std::get_if<code_dir>(&spec.source);
  if (!code || code->artifact.empty()) return {};
  // The spec parser accepts only "sha256:" and 64 hex digits here.
  auto hex = std::string_view(code->artifact).substr(7);
  if (options_.has_artifact && options_.has_artifact(hex)) return {};
  return diagnostic(error::invalid_request, std::string(what) + ": code.artifact: the server has no artifact " +
                                                code->artifact + "; upload it first (PUT /api/v1/artifacts/" +
                                                std::string(hex) + ")");
}

LIFTOFF_DECL std::size_t service_core::first_queue(std::int64_t agent, std::size_t n) {
  std::lock_guard lock(rr_mutex_);
  auto it = next_queue_.find(agent);
  return it == next_queue_.end() ? 0 : it->second % n;
}

LIFTOFF_DECL void service_core::leased_from(std::int64_t agent, std::size_t index) {
  std::lock_guard lock(rr_mutex_);
  next_queue_[agent] = index + 1;
}

LIFTOFF_DECL result<void> service_core::append_log(run_record const& run, std::int64_t agent,
                                                   std::string_view text) {
  if (!run.agent || *run.agent != agent)
    return diagnostic(error::not_holder, "agent " + std::to_string(agent) + " does not hold run " + run.run_id +
                                             "; only its agent appends to its logs");
  if (is_terminal(run.state))
    return diagnostic(error::conflict, "run '" + run.run_id + "' already ended as " + std::string(to_string(run.state)) +
                                           "; its logs are closed");
  if (text.empty()) return {};
  return logs_.append(run.run_id, text);
}

LIFTOFF_DECL result<log_chunk> service_core::read_log(run_record const& run, std::uint64_t offset,
                                                      std::size_t max) const {
  auto chunk = logs_.read(run.run_id, offset, max);
  if (!chunk) return chunk.error();
  log_chunk out;
  out.text = std::move(chunk->first);
  out.next_offset = chunk->second;
  out.state = run.state;
  return out;
}

}  // namespace detail

}  // namespace liftoff::server

#endif
