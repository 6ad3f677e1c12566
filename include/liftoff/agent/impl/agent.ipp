#ifndef LIFTOFF_AGENT_IMPL_AGENT_IPP
#define LIFTOFF_AGENT_IMPL_AGENT_IPP

#include <liftoff/agent/agent.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/agent/detail/dispatcher.hpp>
#include <liftoff/agent/detail/heartbeat.hpp>
#include <liftoff/agent/detail/lease.hpp>
#include <liftoff/agent/detail/recovery.hpp>
#include <liftoff/agent/detail/registration.hpp>
#include <liftoff/agent/detail/shared.hpp>
#include <liftoff/core/closest_match.hpp>
#include <liftoff/core/macros.hpp>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <mutex>
#include <thread>

namespace liftoff::agent {

// ---- defaults ------------------------------------------------------------------------

LIFTOFF_DECL std::filesystem::path default_state_dir() {
  return detail::user_dir("XDG_STATE_HOME", ".local/state") / "liftoff" / "agents";
}

LIFTOFF_DECL std::filesystem::path default_work_dir(std::string_view name) {
  return detail::user_dir("XDG_CACHE_HOME", ".cache") / "liftoff" / "agents" / std::string(name);
}

LIFTOFF_DECL std::string default_agent_name() { return detail::host_name() + "-" + std::to_string(::getpid()); }

// ---- config ----------------------------------------------------------------------------

LIFTOFF_DECL result<agent_config> parse_agent_config(boost::json::value const& v, std::string_view origin) {
  std::string const where(origin);
  auto const* o = v.if_object();
  if (!o) return diagnostic(error::invalid_spec, where + ": expected an object, got " + std::string(json_kind_name(v)));
  auto bad = [&](std::string const& field, std::string_view expected, boost::json::value const& got) {
    return diagnostic(error::invalid_spec, where + ": field '" + field + "': expected " + std::string(expected) +
                                               ", got " + std::string(json_kind_name(got)));
  };
  agent_config c;
  for (auto const& kv : *o) {
    std::string_view key = kv.key();
    auto const& val = kv.value();
    if (key == "queues") {
      if (auto const* s = val.if_string()) {
        c.queues.emplace_back(*s);
      } else if (auto const* a = val.if_array()) {
        for (std::size_t i = 0; i < a->size(); ++i) {
          auto const* q = (*a)[i].if_string();
          if (!q) return bad("queues[" + std::to_string(i) + "]", "a queue name", (*a)[i]);
          c.queues.emplace_back(*q);
        }
      } else {
        return bad("queues", "a list of queue names", val);
      }
      for (auto const& q : c.queues)
        if (q.empty()) return diagnostic(error::invalid_spec, where + ": field 'queues': a queue name is empty");
    } else if (key == "max_jobs") {
      if (!val.is_int64() && !val.is_uint64()) return bad("max_jobs", "an integer of at least 1", val);
      auto n = val.is_int64() ? val.as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(val.as_uint64(), 1u << 30));
      if (n < 1 || n > (1 << 20))
        return diagnostic(error::invalid_spec,
                          where + ": field 'max_jobs': expected an integer of at least 1, got " + std::to_string(n));
      c.max_jobs = static_cast<int>(n);
    } else if (key == "name") {
      auto const* s = val.if_string();
      if (!s || s->empty()) return bad("name", "a non-empty string", val);
      c.name = std::string(*s);
    } else if (key == "resource_args") {
      auto const* ra = val.if_object();
      if (!ra) return bad("resource_args", "an object keyed by resource name", val);
      for (auto const& r : *ra)
        if (!r.value().is_object())
          return bad("resource_args." + std::string(r.key()), "an object of arguments", r.value());
      c.resource_args = *ra;
    } else if (key == "work_dir") {
      auto const* s = val.if_string();
      if (!s || s->empty()) return bad("work_dir", "a directory path", val);
      c.work_dir = std::string(*s);
    } else if (key == "grace_period") {
      if (!val.is_number()) return bad("grace_period", "a number of seconds", val);
      double const seconds = val.to_number<double>();
      if (!(seconds >= 0) || seconds > 86400)
        return diagnostic(error::invalid_spec, where + ": field 'grace_period': expected seconds between 0 and 86400");
      c.grace_period = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
    } else {
      static constexpr std::string_view known[] = {"queues", "max_jobs", "name", "resource_args", "work_dir",
                                                   "grace_period"};
      std::string msg = where + ": unknown field '" + std::string(key) + "'";
      if (auto m = closest_match(key, {std::begin(known), std::end(known)}); !m.empty())
        msg += " (did you mean '" + m + "'?)";
      msg += "; allowed: queues, max_jobs, name, resource_args, work_dir, grace_period";
      return diagnostic(error::unknown_field, std::move(msg));
    }
  }
  return c;
}

// ---- specs ------------------------------------------------------------------------------

LIFTOFF_DECL result<launch_spec> item_launch_spec(server::item_record const& item,
                                            boost::json::object const& resource_defaults) {
  auto spec = parse_launch_spec(item.run_spec);
  if (!spec) {
    auto d = std::move(spec).error();
    return diagnostic(d.code, "the item's run spec: " + d.what(), failure_stage::agent);
  }
  if (!item.run_id.empty()) spec->run_id = item.run_id;
  if (spec->queue.empty()) spec->queue = item.queue;
  if (!spec->resource.empty())
    if (auto const* defaults = resource_defaults.if_contains(spec->resource); defaults && defaults->is_object()) {
      auto& slot = spec->resource_args[spec->resource];
      if (slot.is_null()) slot = boost::json::object();
      if (auto* own = slot.if_object())
        for (auto const& kv : defaults->as_object())
          if (!own->contains(kv.key())) own->emplace(kv.key(), kv.value());
    }
  return spec;
}

LIFTOFF_DECL void expand_agent_macros(launch_spec& spec,
                                      std::function<std::optional<std::string>(std::string_view)> lookup_env) {
  // No image yet: `${image_uri}` stays as written, for the launcher to fill in once it is built.
  substitute_macros(spec.resource_args, run_macro_values(spec, std::nullopt, std::move(lookup_env)));
}

// ---- agent --------------------------------------------------------------------------------

LIFTOFF_DECL agent::agent(agent_options options) : shared_(std::make_shared<detail::agent_shared>(std::move(options))) {}

LIFTOFF_DECL agent::~agent() = default;

LIFTOFF_DECL std::optional<std::int64_t> agent::id() const {
  std::lock_guard lock(shared_->m);
  return shared_->id;
}

LIFTOFF_DECL std::size_t agent::active_runs() const {
  std::lock_guard lock(shared_->m);
  return shared_->runs.size();
}

LIFTOFF_DECL void agent::request_stop(stop_mode mode) {
  std::string reason = mode == stop_mode::drain ? "the agent is stopping" : "the agent was stopped";
  shared_->stop(mode, std::move(reason));
}

LIFTOFF_DECL result<void> agent::run() {
  auto sh = shared_;
  // What waiting cannot fix fails at once.
  if (auto ok = detail::complete_options(sh->opts); !ok) return ok.error();
  auto c = sh->make_client();
  if (!c) return c.error();
  auto heartbeat_client = sh->make_client();
  if (!heartbeat_client) return heartbeat_client.error();
  auto lease_client = sh->make_client(sh->opts.lease_wait);
  if (!lease_client) return lease_client.error();

  // Who this agent was: resumed on the same server under the same name.
  auto reg = detail::register_agent(*sh, *c);
  if (!reg) return reg.error();
  if (!*reg) return {};  // stopped before the server answered
  auto const agent_id = (*reg)->me.id;

  // The runs it held before a restart are its own still: found again, or reported lost.
  if ((*reg)->resumed)
    for (auto& slot : detail::runs_held_before_restart(*sh, *c, agent_id)) {
      std::lock_guard lock(sh->m);
      detail::start_worker(sh, std::move(slot));
    }

  std::thread heartbeat(detail::heartbeat_loop, sh, std::move(*heartbeat_client));
  // A lease may wait on the server for long after a stop: the thread is left to finish on its own.
  std::thread(detail::lease_loop, sh, std::move(*lease_client)).detach();

  detail::dispatch(sh);  // until stopped, with every run ended and reported

  sh->end_heartbeat();
  heartbeat.join();
  detail::report_stopped(*sh, *c, agent_id);
  sh->emit("agent " + std::to_string(agent_id) + " stopped");
  sh->close_events();
  std::lock_guard lock(sh->m);
  if (sh->fatal) return *sh->fatal;
  return {};
}

}  // namespace liftoff::agent

#endif
