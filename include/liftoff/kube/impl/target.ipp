#ifndef LIFTOFF_KUBE_IMPL_TARGET_IPP
#define LIFTOFF_KUBE_IMPL_TARGET_IPP

#include <liftoff/kube/target.hpp>
#include <liftoff/core/parse.hpp>
#include <liftoff/docker/reference.hpp>
#include <liftoff/kube/impl/watch_hub.ipp>

#include <liftoff/docker/auth.hpp>
#include <liftoff/detail/base64.hpp>
#include <liftoff/kube/schema.hpp>
#include <liftoff/kube/status.hpp>
#include <liftoff/kube/watch_hub.hpp>
#include <liftoff/detail/run_record.hpp>

#include <boost/json/serialize.hpp>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

namespace liftoff {

namespace detail {

/// What a Kubernetes run's handle, its watches and its log readers share.
struct kube_run_state : run_record, kube::watch_subscriber, std::enable_shared_from_this<kube_run_state> {
  std::optional<kube::api> api;
  kube::resource_kind kind;
  std::string ns;
  std::string name;
  std::vector<std::string> secrets;
  bool prefix_logs = false;
  std::shared_ptr<kube::watch_hub> hub;

  std::mutex tm;  ///< guards everything below
  std::optional<kube::run_tracker> tracker;
  bool reported_running = false;
  bool finishing = false;
  bool cancel_requested = false;
  std::size_t skip_lines = 0;  ///< output lines still to keep without passing to on_log (an attached run)
  std::vector<std::thread> log_threads;
  std::vector<std::shared_ptr<net::response_stream>> log_streams;
  std::thread finisher;

  ~kube_run_state() override {
    for (auto& t : log_threads)
      if (t.joinable()) t.detach();
    if (finisher.joinable()) finisher.detach();
  }

  void on_object(bool is_pod, boost::json::object const& object, bool deleted) override {
    std::unique_lock lock(tm);
    if (!tracker || finishing || !ours(is_pod, object)) return;
    if (is_pod) tracker->on_pod(object, deleted);
    else tracker->on_workload(object, deleted);
    after_change(lock);
  }

  void on_tick() override {
    std::unique_lock lock(tm);
    if (!tracker || finishing) return;
    tracker->tick();
    after_change(lock);
  }

  /** Whether an object carrying this run's id belongs to this run's workload:
      a preempted run is launched again under the same id while its old Job
      (and that Job's pods) may still exist. Called with `tm` held. */
  bool ours(bool is_pod, boost::json::object const& object) const {
    if (name.empty()) return true;
    if (!is_pod) return kube::detail::meta_field(object, "name") == name;
    if (kind.kind != "Job" || kind.api_version != "batch/v1") return true;
    auto owner = kube::detail::label_of(object, "batch.kubernetes.io/job-name");
    if (owner.empty()) owner = kube::detail::label_of(object, "job-name");
    return owner.empty() || owner == name;
  }

  /// Acts on what the tracker decided; called with `tm` held.
  void after_change(std::unique_lock<std::mutex>& lock) {
    auto warnings = tracker->take_warnings();
    auto targets = tracker->take_log_targets();
    for (auto const& t : targets) start_log_reader(t);
    bool report_running = false;
    if (!reported_running && tracker->status().state == run_state::running) {
      reported_running = report_running = true;
    }
    bool finish = tracker->terminal() && !finishing;
    if (finish) finishing = true;
    lock.unlock();
    for (auto& w : warnings) add_line(log_line{log_stream::system, "warning: " + w});
    if (report_running) {
      {
        std::lock_guard slock(m);
        if (!status.terminal()) status = run_status(run_state::running);
      }
      if (on_status) try {
          on_status(run_status(run_state::running));
        } catch (...) {
        }
    }
    if (finish) {
      std::lock_guard relock(tm);
      finisher = std::thread([self = shared_from_this()] { self->finish(); });
    }
  }

  void start_log_reader(kube::log_target const& t) {
    log_threads.emplace_back([self = shared_from_this(), t] {
      auto s = self->api->pod_logs(self->ns, t.pod, t.container, true);
      if (!s) {
        self->add_line(log_line{log_stream::system, "cannot read the logs of pod " + t.pod + ": " + s.error().what()});
        return;
      }
      auto stream = std::make_shared<net::response_stream>(std::move(*s));
      {
        std::lock_guard lock(self->tm);
        self->log_streams.push_back(stream);
      }
      std::string const prefix = self->prefix_logs ? "[" + t.pod + "/" + t.container + "] " : "";
      for (;;) {
        auto line = stream->read_line();
        if (!line || !*line) break;
        log_line l{log_stream::out, prefix + **line};
        bool skip = false;
        {
          std::lock_guard lock(self->tm);
          if (self->skip_lines > 0) {
            --self->skip_lines;
            skip = true;
          }
        }
        if (!skip) {
          self->add_line(std::move(l));
          continue;
        }
        std::lock_guard lock(self->m);  // already delivered before: kept, not passed on again
        self->logs.push_back(std::move(l));
        while (self->logs.size() > self->max_lines) self->logs.pop_front();
      }
    });
  }

  /// Ends the run: explains a failure from the pods, waits for the logs, removes what it created.
  void finish() {
    run_status final_status;
    bool delete_workload = false;
    {
      std::lock_guard lock(tm);
      final_status = tracker->status();
      // A run the tracker failed on its own (an image that never pulls) still has its workload.
      delete_workload = tracker->gave_up() && !tracker->workload_deleted();
      if (cancel_requested && final_status.state != run_state::finished)
        final_status = run_status(run_state::stopped);
    }
    {
      // Pod and workload events race on separate streams: read the pods once more, for the reason of a
      // failure and for the output of containers whose start this run had not seen yet.
      kube::list_options lo;
      lo.label_selector = std::string(kube::run_id_label) + "=" + id;
      if (auto pods = api->list(kube::kinds::pod(), ns, lo))
        if (auto const* items = pods->if_contains("items"); items && items->is_array()) {
          std::lock_guard lock(tm);
          for (auto const& p : items->get_array())
            if (p.is_object()) tracker->on_pod(p.get_object(), false);
          for (auto const& t : tracker->take_log_targets()) start_log_reader(t);
          if (!cancel_requested && final_status.state != run_state::finished) final_status = tracker->status();
        }
    }
    if (delete_workload) (void)api->remove(kind, ns, name, "Background");
    // The log streams end when their containers do; give them a moment, then close them.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<std::thread> readers;
    {
      std::lock_guard lock(tm);
      readers.swap(log_threads);
    }
    for (auto& t : readers) {
      auto done = std::async(std::launch::async, [&t] { t.join(); });
      if (done.wait_until(deadline) == std::future_status::timeout) {
        std::lock_guard lock(tm);
        for (auto& s : log_streams) s->cancel();
        done.wait();
      }
    }
    for (auto const& secret : secrets) (void)api->remove(kube::kinds::secret(), ns, secret, "Background");
    if (hub) hub->unsubscribe(id);
    publish(final_status);
  }
};

LIFTOFF_DECL boost::json::object redact_secret(boost::json::object o) {
  if (auto* data = o.if_contains("data"); data && data->is_object())
    for (auto& [k, v] : data->get_object()) v = "<redacted>";
  return o;
}

/// The cluster's OpenAPI document, fetched once per server.
LIFTOFF_DECL result<std::shared_ptr<kube::schema const>> cluster_schema(kube::api const& a) {
  static std::mutex m;
  static std::map<std::string, std::shared_ptr<kube::schema const>> cache;
  std::string const key = a.config().server;
  {
    std::lock_guard lock(m);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto doc = a.openapi_v2();
  if (!doc) return doc.error();
  auto s = kube::schema::parse(*doc);
  if (!s) return s.error();
  auto shared = std::make_shared<kube::schema const>(std::move(*s));
  std::lock_guard lock(m);
  cache[key] = shared;
  return shared;
}

/** The API client for a kubeconfig and context, made once per process and
    shared by every run there (one connection pool, one TLS context, one
    exec-plugin token cache). A kubeconfig file that changed gives a new one. */
LIFTOFF_DECL result<kube::api> cached_api(kube::load_options const& lo, net::client_options const& base) {
  static std::mutex m;
  static std::map<std::string, kube::api> cache;
  std::string key = lo.context + "\n" + lo.service_account_dir.string() + "\n" +
                    (lo.allow_in_cluster ? "1" : "0") + "\n" + std::to_string(base.request_timeout.count()) + "\n" +
                    std::to_string(base.connect_timeout.count());
  std::vector<std::filesystem::path> files = lo.files.empty() ? kube::detail::find_kubeconfigs().existing : lo.files;
  for (auto const& f : files) {
    std::error_code ec;
    auto t = std::filesystem::last_write_time(f, ec);
    key += "\n" + f.string() + "@" + (ec ? std::string("-") : std::to_string(t.time_since_epoch().count()));
  }
  {
    std::lock_guard lock(m);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  auto connected = kube::api::connect(lo, base);
  if (!connected) return connected.error();
  std::lock_guard lock(m);
  return cache.emplace(key, std::move(*connected)).first->second;
}

/// The `.dockerconfigjson` for pulling `image`, when ~/.docker/config.json has credentials for its registry.
LIFTOFF_DECL result<std::string> pull_config_for(std::string const& image) {
  auto auth = docker::find_image_auth(image);
  if (!auth) return auth.error();
  if (!*auth) return std::string();
  auto const& a = **auth;
  auto ref = docker::parse_image_reference(image);
  std::string registry = ref ? ref->domain : a.server_address;
  boost::json::object entry;
  if (!a.username.empty()) {
    entry["username"] = a.username;
    entry["password"] = a.password;
    entry["auth"] = liftoff::detail::base64_encode(a.username + ":" + a.password);
  }
  if (!a.identity_token.empty()) entry["identitytoken"] = a.identity_token;
  return boost::json::serialize(boost::json::object{{"auths", {{registry, entry}}}});
}


/** Creates a prepared run's Secrets and workload, and follows it through the
    shared watches into `state` (whose id, callbacks and line limit are set).
    Used by `kubernetes_target` for runs and by `kaniko_builder` for builds. */
LIFTOFF_DECL result<void> kube_submit(std::shared_ptr<kube_run_state> const& state, kube::api const& a,
                                kube::prepared_run const& p, std::chrono::milliseconds image_pull_grace,
                                launch_options const& options) {
  state->api = a;
  state->kind = p.kind;
  state->ns = p.namespace_name;
  state->tracker.emplace(p.kind.kind == "Job" && p.kind.api_version == "batch/v1", image_pull_grace);
  // The watches start now; the run subscribes once it knows its workload's name (see `ours`), and the
  // hub then delivers what it saw of the run meanwhile.
  state->hub = kube::watch_hub::shared(a, p.namespace_name, p.kind);

  auto cleanup = [&] {
    state->hub->unsubscribe(state->id);
    for (auto const& name : state->secrets) (void)a.remove(kube::kinds::secret(), p.namespace_name, name, "Background");
  };
  for (auto const& secret : p.secrets) {
    auto created = a.create(kube::kinds::secret(), p.namespace_name, secret);
    if (!created) {
      cleanup();
      return created.error();
    }
    state->secrets.push_back(kube::detail::meta_field(*created, "name"));
  }
  auto created = a.create(p.kind, p.namespace_name, p.workload);
  if (!created) {
    cleanup();
    return created.error();
  }
  {
    std::lock_guard lock(state->tm);
    state->name = kube::detail::meta_field(*created, "name");
  }
  {
    std::lock_guard lock(state->m);
    state->status = run_status(run_state::starting);
  }
  options.report(run_status(run_state::starting));
  options.log(log_stream::system, "created " + p.kind.kind + " " + p.namespace_name + "/" + state->name);
  {
    // The created object itself: a fast workload may have finished before its watch event arrives.
    std::unique_lock lock(state->tm);
    state->tracker->on_workload(*created, false);
    state->after_change(lock);
  }
  bool ended;
  {
    std::lock_guard lock(state->tm);
    ended = state->finishing;  // only this thread could have fed the tracker so far
  }
  if (!ended) state->hub->subscribe(state->id, state);
  return {};
}

}  // namespace detail

LIFTOFF_DECL std::string kubernetes_target::run::id() const { return state_->id; }
LIFTOFF_DECL run_status kubernetes_target::run::status() const { return state_->current(); }
LIFTOFF_DECL run_status kubernetes_target::run::wait() { return state_->wait_terminal(); }
LIFTOFF_DECL std::vector<log_line> kubernetes_target::run::logs() const { return state_->kept_logs(); }
LIFTOFF_DECL std::string kubernetes_target::run::name() const { return state_->name; }
LIFTOFF_DECL std::string kubernetes_target::run::namespace_name() const { return state_->ns; }

LIFTOFF_DECL void kubernetes_target::run::cancel(std::chrono::milliseconds grace) {
  auto& s = *state_;
  if (!s.api || s.current().terminal()) return;
  {
    std::lock_guard lock(s.tm);
    if (s.finishing) {
      // Ending already: just wait below.
    } else {
      s.cancel_requested = true;
    }
  }
  boost::json::object options{{"kind", "DeleteOptions"},
                              {"apiVersion", "v1"},
                              {"propagationPolicy", "Foreground"},
                              {"gracePeriodSeconds", std::chrono::ceil<std::chrono::seconds>(grace).count()}};
  net::request req;
  req.method = boost::beast::http::verb::delete_;
  req.target = s.kind.object_path(s.ns, s.name);
  req.headers.set(boost::beast::http::field::content_type, "application/json");
  req.body = boost::json::serialize(options);
  req.check_status = false;
  auto sent = s.api->send(std::move(req));
  if (!sent || (sent->status >= 300 && sent->status != 404))
    s.add_line(log_line{log_stream::system, "cannot delete " + s.kind.kind + " " + s.name + ": " +
                                                (sent ? s.api->error_for(*sent).what() : sent.error().what())});
  std::unique_lock lock(s.m);
  bool ended = s.cv.wait_for(lock, grace + std::chrono::minutes(1), [&] { return s.status.terminal(); });
  lock.unlock();
  if (!ended) {
    {
      std::lock_guard tlock(s.tm);
      if (s.finishing) return;
      s.finishing = true;
    }
    for (auto const& secret : s.secrets) (void)s.api->remove(kube::kinds::secret(), s.ns, secret, "Background");
    if (s.hub) s.hub->unsubscribe(s.id);
    s.publish(run_status(run_state::stopped, std::nullopt, failure_stage::none,
                         "the cluster did not confirm the deletion within the grace period"));
  }
}

LIFTOFF_DECL result<void> kubernetes_target::validate(launch_spec const& spec) const {
  launch_options none;
  kube::prepare_settings settings;
  settings.image = "registry.invalid/validate:latest";
  settings.secure_mode = secure_mode;
  auto p = kube::prepare_run(spec, none, settings);
  if (!p) return p.error();
  return {};
}

LIFTOFF_DECL auto kubernetes_target::start(artifact const& in, launch_spec const& spec,
                                     launch_options const& options) const -> result<run> {
  if (!accepts(in.kind) || in.image.empty())
    return diagnostic(error::invalid_spec, "kubernetes runs an image from a registry, but got a " +
                                               std::string(to_string(in.kind)) +
                                               ": push it with the registry_push transport");
  auto args = kube::parse_kubernetes_args(spec.args_for("kubernetes"));
  if (!args) return args.error();

  auto state = std::make_shared<detail::kube_run_state>();
  state->id = spec.run_id;
  state->max_lines = max_log_lines;
  state->attach(options, in);

  kube::prepare_settings settings;
  settings.image = in.image;
  settings.agent = agent;
  settings.secure_mode = secure_mode;
  settings.secret_names = secret_names;

  std::optional<kube::api> a;
  if (!options.dry_run()) {
    auto lo = connection;
    if (!args->context.empty()) lo.context = args->context;
    auto connected = detail::cached_api(lo, client);
    if (!connected) return connected.error();
    a = std::move(*connected);
    settings.context_namespace = a->config().namespace_name;
    auto pull = detail::pull_config_for(in.image);
    if (!pull) return pull.error();
    settings.pull_config_json = std::move(*pull);
  } else {
    auto lo = connection;
    if (!args->context.empty()) lo.context = args->context;
    if (auto cfg = kube::load_config(lo)) settings.context_namespace = cfg->namespace_name;
  }
  auto prepared = kube::prepare_run(spec, options, settings);
  if (!prepared) return prepared.error();
  auto& p = *prepared;
  state->prefix_logs = p.pod_spec_paths.size() > 1 || p.kind.kind != "Job";

  if (options.dry_run()) {
    auto emit = [&](std::string method, std::string path, boost::json::value body) {
      boost::json::object req{{"method", std::move(method)}, {"path", std::move(path)}};
      if (!body.is_null()) req["body"] = std::move(body);
      options.emit({{"stage", "run"}, {"action", "kubernetes api"}, {"request", std::move(req)}});
    };
    for (auto const& secret : p.secrets)
      emit("POST", kube::kinds::secret().collection_path(p.namespace_name) + "?fieldValidation=Strict",
           detail::redact_secret(secret));
    emit("POST", p.kind.collection_path(p.namespace_name) + "?fieldValidation=Strict", p.workload);
    std::string selector = std::string(kube::run_id_label);
    emit("GET", p.kind.collection_path(p.namespace_name) + "?watch=true&labelSelector=" + selector, nullptr);
    emit("GET", kube::kinds::pod().collection_path(p.namespace_name) + "?watch=true&labelSelector=" + selector,
         nullptr);
    state->status = run_status(run_state::finished, 0);
    return run(state);
  }

  // Validate everything before creating anything, as kubectl --validate=strict does.
  if (validate_schema) {
    auto schema = detail::cluster_schema(*a);
    if (!schema) {
      // A cluster that does not serve its document is still usable; refused credentials or an unreachable
      // server are not, and would only fail again on the first write.
      auto const& code = schema.error().code;
      if (code != make_error_code(error::not_found) && code != make_error_code(error::http_status) &&
          code != make_error_code(error::parse_error) && code != make_error_code(error::protocol_error))
        return schema.error();
      options.log(log_stream::system, "not validating against the cluster's schema: " + schema.error().what());
    } else {
      for (auto const& secret : p.secrets)
        if (auto problems = (*schema)->validate(secret); !problems.empty())
          return kube::schema::to_diagnostic(problems, "Secret " + kube::detail::meta_field(secret, "name"));
      if ((*schema)->definition_for(p.kind.api_version, p.kind.kind)) {
        if (auto problems = (*schema)->validate(p.workload); !problems.empty())
          return kube::schema::to_diagnostic(problems, "the " + p.kind.kind + " for run " + spec.run_id);
      }
    }
  }

  auto grace = args->image_pull_grace ? std::chrono::milliseconds(*args->image_pull_grace) : image_pull_grace;
  auto submitted = detail::kube_submit(state, *a, p, grace, options);
  if (!submitted) return submitted.error();
  return run(state);
}

LIFTOFF_DECL auto kubernetes_target::attach(launch_spec const& spec, launch_options const& options,
                                      std::size_t skip_lines) const -> result<std::optional<run>> {
  if (spec.run_id.empty())
    return diagnostic(error::invalid_spec, "kubernetes_target::attach: the launch spec has no run id to look for");
  auto args = kube::parse_kubernetes_args(spec.args_for("kubernetes"));
  if (!args) return args.error();
  auto lo = connection;
  if (!args->context.empty()) lo.context = args->context;
  auto a = kube::api::connect(lo, client);
  if (!a) return a.error();

  // Where `start` put the workload, and of what kind: the manifest filled in as `start` fills it.
  kube::prepare_settings settings;
  settings.image = "registry.invalid/attach:latest";
  settings.agent = agent;
  settings.secure_mode = false;  // nothing is created: the rules were checked when the run started
  settings.secret_names = secret_names;
  settings.context_namespace = a->config().namespace_name;
  auto p = kube::prepare_run(spec, options, settings);
  if (!p) return p.error();

  kube::list_options by_run;
  by_run.label_selector = std::string(kube::run_id_label) + "=" + spec.run_id;
  auto listed = a->list(p->kind, p->namespace_name, by_run);
  if (!listed) {
    // The namespace or the custom resource's type is gone, and the run with it.
    if (listed.error().code == make_error_code(error::not_found)) return std::optional<run>();
    return listed.error();
  }
  boost::json::object const* workload = nullptr;
  std::string newest;
  if (auto const* items = listed->if_contains("items"); items && items->is_array())
    for (auto const& item : items->get_array()) {
      if (!item.is_object()) continue;
      // RFC 3339 times in UTC compare as strings.
      auto created = kube::detail::meta_field(item.get_object(), "creationTimestamp");
      if (!workload || created > newest) {
        workload = &item.get_object();
        newest = created;
      }
    }
  if (!workload) return std::optional<run>();

  auto state = std::make_shared<detail::kube_run_state>();
  state->id = spec.run_id;
  state->max_lines = max_log_lines;
  state->on_log = options.on_log;
  state->on_status = options.on_status;
  state->api = *a;
  state->kind = p->kind;
  state->ns = p->namespace_name;
  state->name = kube::detail::meta_field(*workload, "name");
  state->prefix_logs = p->pod_spec_paths.size() > 1 || p->kind.kind != "Job";
  state->skip_lines = skip_lines;
  state->status = run_status(run_state::starting);
  state->tracker.emplace(p->kind.kind == "Job" && p->kind.api_version == "batch/v1",
                         args->image_pull_grace ? std::chrono::milliseconds(*args->image_pull_grace)
                                                : image_pull_grace);
  std::string const secret_base = "liftoff-" + kube::dns_label(spec.run_id, 40);
  for (auto const& suffix : {"-env", "-pull"}) {
    auto secret = a->get(kube::kinds::secret(), p->namespace_name, secret_base + suffix);
    if (secret) state->secrets.push_back(secret_base + suffix);
    else if (secret.error().code != make_error_code(error::not_found)) return secret.error();
  }
  auto pods = a->list(kube::kinds::pod(), p->namespace_name, by_run);
  if (!pods) return pods.error();

  state->hub = kube::watch_hub::shared(*a, p->namespace_name, p->kind);
  bool ended;
  {
    // What the cluster holds now; the hub then delivers anything newer.
    std::unique_lock lock(state->tm);
    state->tracker->on_workload(*workload, false);
    if (auto const* items = pods->if_contains("items"); items && items->is_array())
      for (auto const& pod : items->get_array())
        if (pod.is_object() && state->ours(true, pod.get_object())) state->tracker->on_pod(pod.get_object(), false);
    state->after_change(lock);
  }
  {
    std::lock_guard lock(state->tm);
    ended = state->finishing;
  }
  if (!ended) state->hub->subscribe(state->id, state);
  options.log(log_stream::system, "found " + p->kind.kind + " " + state->ns + "/" + state->name + " of run " +
                                      spec.run_id + " again");
  return std::optional<run>(run(state));
}

}  // namespace liftoff

#endif
