#ifndef LIFTOFF_SERVER_IMPL_WIRE_IPP
#define LIFTOFF_SERVER_IMPL_WIRE_IPP

#include <liftoff/server/wire.hpp>

#include <liftoff/core/spec.hpp>
#include <liftoff/detail/quote.hpp>

#include <boost/json/parse.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace liftoff::server {

// ---- times ---------------------------------------------------------------------

LIFTOFF_DECL std::string format_time(time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<long long>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

LIFTOFF_DECL std::optional<time_point> parse_time(std::string_view text) {
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed != 19)
    return std::nullopt;
  int ms = 0;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    int digits = 0;
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) ms *= 10;
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto secs = timegm(&tm);
  auto const since_epoch = static_cast<long long>(secs) * 1000 + ms;
  // time_point counts finer than milliseconds: a year past its range (2262 for nanoseconds) is not a time it holds.
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  if (since_epoch > duration_cast<milliseconds>(time_point::duration::max()).count() ||
      since_epoch < duration_cast<milliseconds>(time_point::duration::min()).count())
    return std::nullopt;
  return time_point(milliseconds(since_epoch));
}

// ---- errors ----------------------------------------------------------------------

namespace detail {
struct error_name_entry {
  error code;
  std::string_view name;
};
inline constexpr error_name_entry error_names[] = {
    {error::invalid_spec, "invalid_spec"},       {error::unknown_field, "unknown_field"},
    {error::parse_error, "parse_error"},         {error::file_not_found, "file_not_found"},
    {error::file_unreadable, "file_unreadable"}, {error::not_executable, "not_executable"},
    {error::tool_missing, "tool_missing"},       {error::source_failed, "source_failed"},
    {error::build_failed, "build_failed"},       {error::push_failed, "push_failed"},
    {error::run_failed, "run_failed"},           {error::cancelled, "cancelled"},
    {error::timeout, "timeout"},                 {error::unknown_resource, "unknown_resource"},
    {error::http_status, "http_status"},         {error::protocol_error, "protocol_error"},
    {error::body_too_large, "body_too_large"},   {error::unsupported, "unsupported"},
    {error::not_found, "not_found"},             {error::already_exists, "already_exists"},
    {error::conflict, "conflict"},               {error::not_holder, "not_holder"},
    {error::invalid_request, "invalid_request"}, {error::storage_failed, "storage_failed"},
    {error::unauthorized, "unauthorized"}, {error::forbidden, "forbidden"},
};
}  // namespace detail

LIFTOFF_DECL std::string_view error_name(error_code const& ec) {
  if (ec.category() == liftoff_category())
    for (auto const& e : detail::error_names)
      if (static_cast<int>(e.code) == ec.value()) return e.name;
  return "error";
}

LIFTOFF_DECL error error_from_name(std::string_view name) {
  for (auto const& e : detail::error_names)
    if (e.name == name) return e.code;
  return error::http_status;
}

LIFTOFF_DECL unsigned http_status_for(error_code const& ec) {
  if (ec.category() != liftoff_category()) return 500;
  switch (static_cast<error>(ec.value())) {
    case error::not_found: return 404;
    case error::already_exists:
    case error::conflict: return 409;
    case error::not_holder:
    case error::forbidden: return 403;
    case error::unauthorized: return 401;
    case error::body_too_large: return 413;
    case error::invalid_request:
    case error::invalid_spec:
    case error::unknown_field:
    case error::parse_error:
    case error::unknown_resource:
    case error::unsupported: return 400;
    default: return 500;
  }
}

LIFTOFF_DECL boost::json::object error_body(diagnostic const& d) {
  boost::json::object e{{"code", error_name(d.code)}, {"message", d.what()}};
  if (d.stage != failure_stage::none) e["stage"] = to_string(d.stage);
  return boost::json::object{{"error", std::move(e)}};
}

LIFTOFF_DECL diagnostic diagnostic_from_body(std::string_view body, std::string fallback) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec)
    if (auto const* o = v.if_object())
      if (auto const* e = o->if_contains("error"); e && e->is_object()) {
        auto const& eo = e->get_object();
        diagnostic d(error::http_status, fallback);
        if (auto const* c = eo.if_contains("code"); c && c->is_string()) d.code = make_error_code(error_from_name(c->get_string()));
        if (auto const* m = eo.if_contains("message"); m && m->is_string()) d.message = std::string(m->get_string());
        if (auto const* s = eo.if_contains("stage"); s && s->is_string())
          for (auto st : {failure_stage::agent, failure_stage::source, failure_stage::build, failure_stage::push,
                          failure_stage::run})
            if (to_string(st) == s->get_string()) d.stage = st;
        return d;
      }
  return diagnostic(error::http_status, std::move(fallback));
}

// ---- field_reader ------------------------------------------------------------------

LIFTOFF_DECL field_reader::field_reader(boost::json::value const& v, std::string what) : what_(std::move(what)) {
  obj_ = v.if_object();
  if (!obj_) error_ = diagnostic(error::invalid_request, what_ + ": expected a JSON object, got " +
                                                         std::string(json_kind_name(v)));
}

LIFTOFF_DECL boost::json::value const* field_reader::find(std::string_view key) const {
  if (!obj_) return nullptr;
  auto const* v = obj_->if_contains(key);
  return (v && !v->is_null()) ? v : nullptr;
}

LIFTOFF_DECL bool field_reader::has(std::string_view key) const { return find(key) != nullptr; }

LIFTOFF_DECL void field_reader::fail(std::string_view key, std::string expected) {
  if (!error_)
    error_ = diagnostic(error::invalid_request, what_ + ": field " + liftoff::detail::quote_plain(key) + ": " + expected);
}

LIFTOFF_DECL void field_reader::require_printable(std::string_view key, std::string_view value) {
  if (auto problem = liftoff::detail::describe_unprintable(value); !problem.empty())
    fail(key, problem + "; names are printable text");
}

LIFTOFF_DECL void field_reader::wrong(std::string_view key, std::string_view expected, boost::json::value const& got) {
  fail(key, "expected " + std::string(expected) + ", got " + std::string(json_kind_name(got)));
}

LIFTOFF_DECL std::string field_reader::string(std::string_view key) {
  auto const* v = find(key);
  if (!v) {
    fail(key, "required, missing");
    return {};
  }
  if (!v->is_string()) {
    wrong(key, "a string", *v);
    return {};
  }
  return std::string(v->get_string());
}

LIFTOFF_DECL std::string field_reader::string_or(std::string_view key, std::string fallback) {
  return has(key) ? string(key) : std::move(fallback);
}

LIFTOFF_DECL std::optional<std::string> field_reader::optional_string(std::string_view key) {
  if (!has(key)) return std::nullopt;
  return string(key);
}

LIFTOFF_DECL std::int64_t field_reader::integer(std::string_view key) {
  auto const* v = find(key);
  if (!v) {
    fail(key, "required, missing");
    return 0;
  }
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  // A whole double within int64's range (converting one outside it is undefined).
  if (v->is_double() && std::trunc(v->get_double()) == v->get_double() && v->get_double() >= -0x1p63 &&
      v->get_double() < 0x1p63)
    return static_cast<std::int64_t>(v->get_double());
  wrong(key, "an integer", *v);
  return 0;
}

LIFTOFF_DECL std::optional<std::int64_t> field_reader::optional_integer(std::string_view key) {
  if (!has(key)) return std::nullopt;
  return integer(key);
}

LIFTOFF_DECL bool field_reader::boolean_or(std::string_view key, bool fallback) {
  auto const* v = find(key);
  if (!v) return fallback;
  if (!v->is_bool()) {
    wrong(key, "true or false", *v);
    return fallback;
  }
  return v->get_bool();
}

LIFTOFF_DECL double field_reader::number_or(std::string_view key, double fallback) {
  auto const* v = find(key);
  if (!v) return fallback;
  if (v->is_number()) return v->to_number<double>();
  wrong(key, "a number", *v);
  return fallback;
}

LIFTOFF_DECL std::vector<std::string> field_reader::strings(std::string_view key) {
  std::vector<std::string> out;
  auto const* v = find(key);
  if (!v) return out;
  if (!v->is_array()) {
    wrong(key, "an array of strings", *v);
    return out;
  }
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    auto const& e = v->get_array()[i];
    if (!e.is_string()) {
      wrong(std::string(key) + "[" + std::to_string(i) + "]", "a string", e);
      return {};
    }
    out.emplace_back(e.get_string());
  }
  return out;
}

LIFTOFF_DECL boost::json::object field_reader::object_or_empty(std::string_view key) {
  auto const* v = find(key);
  if (!v) return {};
  if (!v->is_object()) {
    wrong(key, "an object", *v);
    return {};
  }
  return v->get_object();
}

LIFTOFF_DECL std::optional<time_point> field_reader::optional_time(std::string_view key) {
  auto s = optional_string(key);
  if (!s) return std::nullopt;
  auto t = parse_time(*s);
  if (!t) fail(key, "expected a time like 2026-11-28T16:46:03.123Z, got " + liftoff::detail::quote_excerpt(*s));
  return t;
}

LIFTOFF_DECL time_point field_reader::time(std::string_view key) {
  if (!has(key)) {
    fail(key, "required, missing");
    return {};
  }
  return optional_time(key).value_or(time_point{});
}

LIFTOFF_DECL void field_reader::only(std::initializer_list<std::string_view> known) {
  if (!obj_) return;
  for (auto const& kv : *obj_) {
    bool ok = false;
    for (auto k : known) ok = ok || k == kv.key();
    if (ok) continue;
    std::string msg = "unknown field";
    if (auto m = closest_match(kv.key(), std::vector<std::string_view>(known)); !m.empty())
      msg += " (did you mean '" + m + "'?)";
    fail(kv.key(), msg);
    return;
  }
}

// ---- records to JSON -------------------------------------------------------------------

namespace detail {
LIFTOFF_DECL boost::json::array json_strings(std::vector<std::string> const& v) {
  boost::json::array a;
  for (auto const& s : v) a.emplace_back(s);
  return a;
}
template <class T>
boost::json::value json_optional(std::optional<T> const& v) {
  if (!v) return nullptr;
  return boost::json::value(*v);
}
LIFTOFF_DECL boost::json::value json_optional_time(std::optional<time_point> const& t) {
  if (!t) return nullptr;
  return boost::json::value(format_time(*t));
}
}  // namespace detail

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, queue_record const& q) {
  v = boost::json::object{{"name", q.name},
                          {"resource", q.resource},
                          {"config_template", q.config_template},
                          {"prioritized", q.prioritized},
                          {"created_at", format_time(q.created_at)}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, item_record const& i) {
  v = boost::json::object{{"id", i.id},
                          {"queue", i.queue},
                          {"priority", to_string(i.priority)},
                          {"seq", i.seq},
                          {"run_id", i.run_id},
                          {"run_spec", i.run_spec},
                          {"state", to_string(i.state)},
                          {"attempts", i.attempts},
                          {"agent", detail::json_optional(i.agent)},
                          {"lease_expires_at", detail::json_optional_time(i.lease_expires_at)},
                          {"pushed_at", format_time(i.pushed_at)}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, state_change const& c) {
  v = boost::json::object{{"state", to_string(c.state)}, {"at", format_time(c.at)}, {"message", c.message}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, run_record const& r) {
  boost::json::array history;
  for (auto const& c : r.history) history.push_back(boost::json::value_from(c));
  v = boost::json::object{{"run_id", r.run_id},
                          {"item_id", r.item_id},
                          {"queue", r.queue},
                          {"state", to_string(r.state)},
                          {"history", std::move(history)},
                          {"exit_code", detail::json_optional(r.exit_code)},
                          {"stage", to_string(r.stage)},
                          {"message", r.message},
                          {"warnings", detail::json_strings(r.warnings)},
                          {"logs_tail", r.logs_tail},
                          {"agent", detail::json_optional(r.agent)},
                          {"stop_requested", r.stop_requested},
                          {"created_at", format_time(r.created_at)},
                          {"started_at", detail::json_optional_time(r.started_at)},
                          {"ended_at", detail::json_optional_time(r.ended_at)}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, agent_record const& a) {
  v = boost::json::object{{"id", a.id},
                          {"name", a.name},
                          {"host", a.host},
                          {"queues", detail::json_strings(a.queues)},
                          {"max_jobs", a.max_jobs},
                          {"state", to_string(a.state)},
                          {"last_heartbeat", format_time(a.last_heartbeat)},
                          {"stop_requested", a.stop_requested},
                          {"registered_at", format_time(a.registered_at)},
                          {"token", detail::json_optional(a.token)}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, token_record const& t) {
  v = boost::json::object{
      {"id", t.id},           {"name", t.name}, {"role", to_string(t.role)}, {"created_at", format_time(t.created_at)},
      {"revoked", t.revoked}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, job_version_record const& j) {
  v = boost::json::object{{"job", j.job},
                          {"version", j.version},
                          {"source", j.source},
                          {"digest", j.digest},
                          {"aliases", detail::json_strings(j.aliases)},
                          {"created_at", format_time(j.created_at)}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, agent_registration const& r) {
  boost::json::object o{{"name", r.name}, {"host", r.host}, {"queues", detail::json_strings(r.queues)},
                        {"max_jobs", r.max_jobs}};
  if (r.resume) o["resume"] = *r.resume;
  v = std::move(o);
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, state_update const& u) {
  boost::json::object o{{"state", to_string(u.state)}};
  if (u.exit_code) o["exit_code"] = *u.exit_code;
  if (u.stage != failure_stage::none) o["stage"] = to_string(u.stage);
  if (!u.message.empty()) o["message"] = u.message;
  if (!u.warnings.empty()) o["warnings"] = detail::json_strings(u.warnings);
  if (!u.logs_tail.empty()) o["logs_tail"] = u.logs_tail;
  v = std::move(o);
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, heartbeat_reply const& h) {
  v = boost::json::object{{"stop_runs", detail::json_strings(h.stop_runs)},
                          {"stop_agent", h.stop_agent},
                          {"lease_ms", h.lease_time.count()}};
}

LIFTOFF_DECL void tag_invoke(boost::json::value_from_tag, boost::json::value& v, lease_expiry const& e) {
  v = boost::json::object{{"item_id", e.item_id}, {"run_id", e.run_id},     {"queue", e.queue},
                          {"agent", e.agent},     {"attempts", e.attempts}, {"requeued", e.requeued}};
}

// ---- records from JSON -----------------------------------------------------------------

namespace detail {
LIFTOFF_DECL failure_stage read_stage(field_reader& f, std::string_view key) {
  auto s = f.string_or(std::string(key), "none");
  for (auto st : {failure_stage::none, failure_stage::agent, failure_stage::source, failure_stage::build,
                  failure_stage::push, failure_stage::run})
    if (to_string(st) == s) return st;
  f.fail(key, "expected one of none, agent, source, build, push, run, got " + liftoff::detail::quote_excerpt(s));
  return failure_stage::none;
}
LIFTOFF_DECL run_state read_run_state(field_reader& f, std::string_view key) {
  auto s = f.string(key);
  if (auto st = run_state_from_string(s)) return *st;
  if (f.ok())
    f.fail(key, "expected one of queued, leased, building, starting, running, finished, failed, stopped, crashed, "
                "preempted, got " + liftoff::detail::quote_excerpt(s));
  return run_state::queued;
}
LIFTOFF_DECL std::optional<int> read_optional_int(field_reader& f, std::string_view key) {
  auto v = f.optional_integer(key);
  if (!v) return std::nullopt;
  if (*v < INT32_MIN || *v > INT32_MAX) {
    f.fail(key, "out of range");
    return std::nullopt;
  }
  return static_cast<int>(*v);
}
}  // namespace detail

LIFTOFF_DECL result<queue_record> queue_from_json(boost::json::value const& v) {
  field_reader f(v, "queue");
  queue_record q;
  q.name = f.string("name");
  q.resource = f.string("resource");
  q.config_template = f.object_or_empty("config_template");
  q.prioritized = f.boolean_or("prioritized", true);
  q.created_at = f.optional_time("created_at").value_or(time_point{});
  return f.finish(std::move(q));
}

LIFTOFF_DECL result<item_record> item_from_json(boost::json::value const& v) {
  field_reader f(v, "item");
  item_record i;
  i.id = f.integer("id");
  i.queue = f.string("queue");
  auto p = f.string_or("priority", "medium");
  if (auto pp = priority_from_string(p)) i.priority = *pp;
  else f.fail("priority", "expected critical, high, medium or low, got " + liftoff::detail::quote_excerpt(p));
  i.seq = f.optional_integer("seq").value_or(0);
  i.run_id = f.string("run_id");
  i.run_spec = f.object_or_empty("run_spec");
  auto s = f.string_or("state", "queued");
  if (auto ss = item_state_from_string(s)) i.state = *ss;
  else f.fail("state", "expected queued, leased, acked, done or failed, got " + liftoff::detail::quote_excerpt(s));
  i.attempts = static_cast<int>(f.optional_integer("attempts").value_or(0));
  i.agent = f.optional_integer("agent");
  i.lease_expires_at = f.optional_time("lease_expires_at");
  i.pushed_at = f.optional_time("pushed_at").value_or(time_point{});
  return f.finish(std::move(i));
}

LIFTOFF_DECL result<run_record> run_from_json(boost::json::value const& v) {
  field_reader f(v, "run");
  run_record r;
  r.run_id = f.string("run_id");
  r.item_id = f.optional_integer("item_id").value_or(0);
  r.queue = f.string_or("queue", "");
  r.state = detail::read_run_state(f, "state");
  if (auto const* o = v.if_object())
    if (auto const* h = o->if_contains("history"); h && h->is_array())
      for (auto const& e : h->get_array()) {
        field_reader hf(e, "run history entry");
        state_change c;
        c.state = detail::read_run_state(hf, "state");
        c.at = hf.time("at");
        c.message = hf.string_or("message", "");
        if (!hf.ok()) return hf.error();
        r.history.push_back(std::move(c));
      }
  r.exit_code = detail::read_optional_int(f, "exit_code");
  r.stage = detail::read_stage(f, "stage");
  r.message = f.string_or("message", "");
  r.warnings = f.strings("warnings");
  r.logs_tail = f.string_or("logs_tail", "");
  r.agent = f.optional_integer("agent");
  r.stop_requested = f.boolean_or("stop_requested", false);
  r.created_at = f.optional_time("created_at").value_or(time_point{});
  r.started_at = f.optional_time("started_at");
  r.ended_at = f.optional_time("ended_at");
  return f.finish(std::move(r));
}

LIFTOFF_DECL result<agent_record> agent_from_json(boost::json::value const& v) {
  field_reader f(v, "agent");
  agent_record a;
  a.id = f.integer("id");
  a.name = f.string("name");
  a.host = f.string_or("host", "");
  a.queues = f.strings("queues");
  a.max_jobs = static_cast<int>(f.optional_integer("max_jobs").value_or(1));
  auto s = f.string_or("state", "polling");
  bool known = false;
  for (auto st : {agent_state::polling, agent_state::running, agent_state::stopped, agent_state::lost})
    if (to_string(st) == s) a.state = st, known = true;
  if (!known) f.fail("state", "expected polling, running, stopped or lost, got " + liftoff::detail::quote_excerpt(s));
  a.last_heartbeat = f.optional_time("last_heartbeat").value_or(time_point{});
  a.stop_requested = f.boolean_or("stop_requested", false);
  a.registered_at = f.optional_time("registered_at").value_or(time_point{});
  a.token = f.optional_integer("token");
  return f.finish(std::move(a));
}

LIFTOFF_DECL result<token_record> token_from_json(boost::json::value const& v) {
  field_reader f(v, "token");
  token_record t;
  t.id = f.integer("id");
  t.name = f.string_or("name", "");
  t.created_at = f.optional_time("created_at").value_or(time_point{});
  t.revoked = f.boolean_or("revoked", false);
  auto role = f.string_or("role", "member");
  if (auto r = token_role_from_string(role)) t.role = *r;
  else f.fail("role", "expected admin, member or agent, got \"" + role + "\"");
  return f.finish(std::move(t));
}

LIFTOFF_DECL result<job_version_record> job_version_from_json(boost::json::value const& v) {
  field_reader f(v, "job version");
  job_version_record j;
  j.job = f.string("job");
  j.version = static_cast<int>(f.integer("version"));
  j.source = f.object_or_empty("source");
  j.digest = f.string_or("digest", "");
  j.aliases = f.strings("aliases");
  j.created_at = f.optional_time("created_at").value_or(time_point{});
  return f.finish(std::move(j));
}

LIFTOFF_DECL result<agent_registration> agent_registration_from_json(boost::json::value const& v) {
  field_reader f(v, "agent registration");
  f.only({"name", "host", "queues", "max_jobs", "resume"});
  agent_registration r;
  r.name = f.string("name");
  r.host = f.string_or("host", "");
  r.queues = f.strings("queues");
  // Shown in `liftoff agent list`, the dashboard and the server's log: no control characters.
  f.require_printable("name", r.name);
  f.require_printable("host", r.host);
  for (std::size_t i = 0; i < r.queues.size(); ++i) f.require_printable("queues[" + std::to_string(i) + "]", r.queues[i]);
  auto mj = f.optional_integer("max_jobs").value_or(1);
  if (mj < 1 || mj > 100000) f.fail("max_jobs", "expected an integer from 1 to 100000, got " + std::to_string(mj));
  r.max_jobs = static_cast<int>(mj);
  r.resume = f.optional_integer("resume");
  return f.finish(std::move(r));
}

LIFTOFF_DECL result<state_update> state_update_from_json(boost::json::value const& v) {
  field_reader f(v, "state report");
  f.only({"agent", "state", "exit_code", "stage", "message", "warnings", "logs_tail"});
  state_update u;
  u.state = detail::read_run_state(f, "state");
  u.exit_code = detail::read_optional_int(f, "exit_code");
  u.stage = detail::read_stage(f, "stage");
  u.message = f.string_or("message", "");
  u.warnings = f.strings("warnings");
  u.logs_tail = f.string_or("logs_tail", "");
  return f.finish(std::move(u));
}

LIFTOFF_DECL result<heartbeat_reply> heartbeat_reply_from_json(boost::json::value const& v) {
  field_reader f(v, "heartbeat reply");
  heartbeat_reply h;
  h.stop_runs = f.strings("stop_runs");
  h.stop_agent = f.boolean_or("stop_agent", false);
  h.lease_time = std::chrono::milliseconds(f.optional_integer("lease_ms").value_or(0));
  return f.finish(std::move(h));
}

}  // namespace liftoff::server

#endif
