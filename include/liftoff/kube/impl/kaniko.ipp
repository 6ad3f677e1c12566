#ifndef LIFTOFF_KUBE_IMPL_KANIKO_IPP
#define LIFTOFF_KUBE_IMPL_KANIKO_IPP

#include <liftoff/kube/kaniko.hpp>
#include <liftoff/core/parse.hpp>
// The cached API connections and pull secrets it shares with kubernetes_target.
#include <liftoff/kube/impl/target.ipp>

#include <liftoff/detail/sha256.hpp>
#include <liftoff/docker/reference.hpp>
#include <liftoff/kube/manifest.hpp>
#include <liftoff/kube/target.hpp>
#include <liftoff/docker/registry_push.hpp>

#include <boost/json/serialize.hpp>

#include <fstream>
#include <random>

namespace liftoff {

namespace detail {

/// `resource_args.kubernetes.kaniko`, read.
struct kaniko_settings {
  std::string context;      ///< a ready context URL (s3://, gs://, https://…); empty: upload to the liftoff server
  std::string cache_repo;
  bool cache = false;
  std::vector<std::string> flags;
  std::string image;        ///< the executor image
};

LIFTOFF_DECL result<kaniko_settings> parse_kaniko_settings(boost::json::object const& o) {
  kaniko_settings k;
  auto field = [](std::string_view name) { return "resource_args.kubernetes.kaniko." + std::string(name); };
  for (auto const& [key, v] : o) {
    if (key == "context" || key == "cache_repo" || key == "image") {
      if (!v.is_string()) return diagnostic(error::invalid_spec, field(key) + ": expected a string");
      (key == "context" ? k.context : key == "image" ? k.image : k.cache_repo) = v.get_string();
    } else if (key == "cache") {
      if (!v.is_bool()) return diagnostic(error::invalid_spec, field(key) + ": expected true or false");
      k.cache = v.get_bool();
    } else if (key == "flags") {
      if (!v.is_array()) return diagnostic(error::invalid_spec, field(key) + ": expected an array of strings");
      for (auto const& f : v.get_array()) {
        if (!f.is_string() || !f.get_string().starts_with("--"))
          return diagnostic(error::invalid_spec, field(key) + ": expected flags such as \"--snapshot-mode=redo\"");
        k.flags.emplace_back(f.get_string());
      }
    } else {
      return diagnostic(error::unknown_field, field(key) + ": unknown; expected context, cache_repo, cache, flags "
                                                           "or image");
    }
  }
  if (!k.cache_repo.empty()) k.cache = true;
  return k;
}

/** Whether the registry already has `reference` ("host/path:tag"): a HEAD of
    its manifest through the Registry v2 API. nullopt when the registry wants
    credentials this check does not have, or cannot be asked. */
LIFTOFF_DECL std::optional<std::string> registry_manifest_digest(std::string const& reference,
                                                           net::client_options const& base) {
  auto ref = docker::parse_image_reference(reference);
  if (!ref || ref->tag.empty()) return std::nullopt;
  bool const local = ref->domain.starts_with("127.") || ref->domain.starts_with("localhost");
  auto c = net::client::create((local ? "http://" : "https://") + ref->domain, base);
  if (!c) return std::nullopt;
  net::request req;
  req.method = boost::beast::http::verb::head;
  req.target = "/v2/" + ref->path + "/manifests/" + ref->tag;
  req.headers.set(boost::beast::http::field::accept,
                  "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.docker.distribution.manifest.list.v2+json");
  req.check_status = false;
  auto r = c->send(std::move(req));
  if (!r || r->status != 200) return std::nullopt;
  auto it = r->headers.find("Docker-Content-Digest");
  return it == r->headers.end() ? std::string() : std::string(it->value());
}

/// Writes the build context's tar to `file`, returning "sha256:<hex>" of its bytes.
LIFTOFF_DECL result<std::string> write_context_tar(docker::build_context const& ctx, std::filesystem::path const& file) {
  auto failure = std::make_shared<diagnostic>();
  auto reader = ctx.reader(failure);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) return diagnostic(error::file_unreadable, file.string() + ": cannot write the build context");
  detail::sha256 h;
  std::vector<char> buf(1 << 16);
  for (;;) {
    error_code ec;
    auto n = reader(std::span<char>(buf), ec);
    if (ec) return failure->code ? *failure : diagnostic(ec, "reading the build context");
    if (n == 0) break;
    h.update(std::string_view(buf.data(), n));
    out.write(buf.data(), static_cast<std::streamsize>(n));
  }
  out.close();
  if (!out) return diagnostic(error::file_unreadable, file.string() + ": cannot write the build context");
  return "sha256:" + h.hex();
}

}  // namespace detail

LIFTOFF_DECL result<void> kaniko_builder::validate(launch_spec const& spec) const {
  if (auto r = planner.validate(spec); !r) return r;
  auto args = kube::parse_kubernetes_args(spec.args_for("kubernetes"));
  if (!args) return args.error();
  if (auto k = detail::parse_kaniko_settings(args->kaniko); !k) return k.error();
  return {};
}

LIFTOFF_DECL result<artifact> kaniko_builder::build(artifact const& in, launch_spec const& spec,
                                              launch_options const& options) const {
  auto fail = [](diagnostic d) { return detail::at_stage(std::move(d), failure_stage::build); };
  auto args = kube::parse_kubernetes_args(spec.args_for("kubernetes"));
  if (!args) return fail(args.error());
  auto kaniko = detail::parse_kaniko_settings(args->kaniko);
  if (!kaniko) return fail(kaniko.error());
  auto plan = planner.plan(in, spec);
  if (!plan) return fail(plan.error());
  // Kaniko reads Dockerfiles itself, without BuildKit's newer flags.
  if (auto f = buildkit_feature(plan->dockerfile_text); f && f->find(" --link") != std::string::npos)
    return fail(diagnostic(error::unsupported, "kaniko cannot build " + plan->dockerfile_path + ": " + *f +
                                                   " is BuildKit's, and kaniko does not parse it; remove --link "
                                                   "(the build is the same without it) or build with local-container"));
  auto repo = registry_push{}.resolve_repository(spec);
  if (!repo) return fail(repo.error());
  auto local = docker::parse_image_reference(plan->image);
  if (!local) return fail(diagnostic(error::invalid_spec, "kaniko_builder: cannot name the image " + plan->image));
  auto slash = local->path.rfind('/');
  std::string const name = repo->first + "/" + local->path.substr(slash == std::string::npos ? 0 : slash + 1);
  std::string const destination = name + ":" + local->tag;
  artifact out{artifact_kind::registry_image, {}, destination, plan->content_digest, in.lifetime};

  if (options.dry_run()) {
    options.emit({{"stage", "build"}, {"action", "dockerfile"}, {"path", plan->dockerfile_path},
                  {"image", destination}, {"text", plan->dockerfile_text}});
  } else if (auto have = detail::registry_manifest_digest(destination, client)) {
    options.log(log_stream::system, "image " + destination + " is already in the registry; no build needed");
    if (!have->empty()) out.image = name + "@" + *have;
    return out;
  }

  std::string const build_id = spec.run_id + "-build";
  std::string const secret_base = "liftoff-" + kube::dns_label(build_id, 50);
  std::string context_arg = kaniko->context.empty() ? "dir:///workspace" : kaniko->context;
  std::string context_url;
  std::optional<client::credentials> creds = server;
  std::vector<boost::json::object> secrets;
  auto labels = [&] {
    boost::json::object l{{kube::run_id_label, build_id}};
    if (!agent.empty()) l[kube::agent_label] = kube::dns_label(agent, 63);
    return l;
  };

  std::optional<kube::api> a;
  std::string context_namespace;
  {
    auto lo = connection;
    if (!args->context.empty()) lo.context = args->context;
    if (options.dry_run()) {
      if (auto cfg = kube::load_config(lo)) context_namespace = cfg->namespace_name;
    } else {
      auto connected = detail::cached_api(lo, client);
      if (!connected) return fail(connected.error());
      a = std::move(*connected);
      context_namespace = a->config().namespace_name;
    }
  }
  // The run's namespace, found as kube::prepare_run finds it: the manifest's, `namespace`, the context's.
  std::string ns;
  if (auto const* md = args->manifest.if_contains("metadata"); md && md->is_object())
    if (auto const* v = md->get_object().if_contains("namespace"); v && v->is_string()) ns = v->get_string();
  if (ns.empty()) ns = args->namespace_name;
  if (ns.empty()) ns = context_namespace;
  if (ns.empty()) ns = "default";

  if (kaniko->context.empty()) {
    if (!creds) {
      auto loaded = client::load_credentials();
      if (!loaded)
        return fail(diagnostic(loaded.error().code, "kaniko_builder keeps build contexts on the liftoff server: " +
                                                        loaded.error().message));
      creds = std::move(*loaded);
    }
    std::string digest = "sha256:<context>";
    if (!options.dry_run()) {
      auto dir = options.work_dir.empty() ? std::filesystem::temp_directory_path() : options.work_dir;
      auto file = dir / ("liftoff-context-" + spec.run_id + ".tar");
      auto written = detail::write_context_tar(plan->build_context, file);
      if (!written) return fail(written.error());
      digest = *written;
      auto c = client::api_client::create(*creds);
      if (!c) return fail(c.error());
      auto sent = c->upload_artifact(digest, file);
      std::error_code ignored;
      std::filesystem::remove(file, ignored);
      if (!sent) return fail(sent.error());
      options.log(log_stream::system, *sent ? "uploaded the build context " + digest
                                            : "the server has the build context " + digest + " already");
    }
    context_url = creds->server + "/api/v1/artifacts/" + digest.substr(7);
    boost::json::object data{{"LIFTOFF_API_TOKEN", liftoff::detail::base64_encode(creds->token)}};
    secrets.push_back({{"apiVersion", "v1"}, {"kind", "Secret"},
                       {"metadata", {{"name", secret_base + "-env"}, {"namespace", ns}, {"labels", labels()}}},
                       {"type", "Opaque"}, {"data", std::move(data)}});
  }
  auto push_config = detail::pull_config_for(destination);
  if (!push_config) return fail(push_config.error());
  if (!push_config->empty())
    secrets.push_back({{"apiVersion", "v1"}, {"kind", "Secret"},
                       {"metadata", {{"name", secret_base + "-push"}, {"namespace", ns}, {"labels", labels()}}},
                       {"type", "kubernetes.io/dockerconfigjson"},
                       {"data", {{".dockerconfigjson", liftoff::detail::base64_encode(*push_config)}}}});

  boost::json::array kaniko_args{"--context=" + context_arg, "--dockerfile=" + plan->dockerfile_path,
                                 "--destination=" + destination, "--digest-file=/dev/termination-log"};
  if (kaniko->cache) kaniko_args.push_back("--cache=true");
  if (!kaniko->cache_repo.empty()) kaniko_args.push_back(boost::json::string("--cache-repo=" + kaniko->cache_repo));
  for (auto const& f : kaniko->flags) kaniko_args.push_back(boost::json::string(f));
  boost::json::array volumes, mounts, init;
  if (kaniko->context.empty()) {
    volumes.push_back({{"name", "context"}, {"emptyDir", boost::json::object()}});
    mounts.push_back({{"name", "context"}, {"mountPath", "/workspace"}});
    init.push_back(
        {{"name", "fetch-context"},
         {"image", fetch_image},
         {"command",
          {"sh", "-c",
           "wget -q -O /tmp/context.tar --header \"Authorization: Bearer $LIFTOFF_API_TOKEN\" "
           "\"$LIFTOFF_CONTEXT_URL\" && tar -x -f /tmp/context.tar -C /workspace"}},
         {"env",
          {{{"name", "LIFTOFF_CONTEXT_URL"}, {"value", context_url}},
           {{"name", "LIFTOFF_API_TOKEN"},
            {"valueFrom", {{"secretKeyRef", {{"name", secret_base + "-env"}, {"key", "LIFTOFF_API_TOKEN"}}}}}}}},
         {"volumeMounts", {{{"name", "context"}, {"mountPath", "/workspace"}}}},
         {"securityContext", {{"allowPrivilegeEscalation", false}}}});
  }
  if (!push_config->empty()) {
    volumes.push_back({{"name", "docker-config"},
                       {"secret", {{"secretName", secret_base + "-push"},
                                   {"items", {{{"key", ".dockerconfigjson"}, {"path", "config.json"}}}}}}});
    mounts.push_back({{"name", "docker-config"}, {"mountPath", "/kaniko/.docker"}});
  }
  boost::json::object pod_spec{{"restartPolicy", "Never"},
                               {"containers",
                                {{{"name", "kaniko"},
                                  {"image", kaniko->image.empty() ? executor_image : kaniko->image},
                                  {"args", std::move(kaniko_args)},
                                  {"volumeMounts", std::move(mounts)}}}}};
  if (!init.empty()) pod_spec["initContainers"] = std::move(init);
  if (!volumes.empty()) pod_spec["volumes"] = std::move(volumes);
  kube::prepared_run p;
  p.kind = kube::kinds::job();
  p.namespace_name = ns;
  p.secrets = std::move(secrets);
  p.pod_spec_paths = {"spec.template.spec"};
  p.workload = {{"apiVersion", "batch/v1"},
                {"kind", "Job"},
                {"metadata", {{"generateName", "liftoff-build-" + kube::dns_label(local->path.substr(
                                                                      slash == std::string::npos ? 0 : slash + 1), 30) + "-"},
                              {"namespace", ns},
                              {"labels", labels()}}},
                {"spec", {{"backoffLimit", 0},
                          {"ttlSecondsAfterFinished", 600},
                          {"template", {{"metadata", {{"labels", labels()}}}, {"spec", std::move(pod_spec)}}}}}};

  if (options.dry_run()) {
    for (auto const& secret : p.secrets)
      options.emit({{"stage", "build"}, {"action", "kubernetes api"},
                    {"request", {{"method", "POST"},
                                 {"path", kube::kinds::secret().collection_path(ns) + "?fieldValidation=Strict"},
                                 {"body", detail::redact_secret(secret)}}}});
    options.emit({{"stage", "build"}, {"action", "kubernetes api"},
                  {"request", {{"method", "POST"}, {"path", p.kind.collection_path(ns) + "?fieldValidation=Strict"},
                               {"body", p.workload}}}});
    return out;
  }

  options.report(run_status(run_state::building));
  auto state = std::make_shared<detail::kube_run_state>();
  state->id = build_id;
  state->on_log = options.on_log;
  state->prefix_logs = true;
  state->lifetime = in.lifetime;
  launch_options quiet;  // the build's own states are not the run's
  quiet.on_log = options.on_log;
  auto submitted = detail::kube_submit(state, *a, p, image_pull_grace, quiet);
  if (!submitted) return fail(submitted.error());
  options.log(log_stream::system, "building " + destination + " with Kaniko in Job " + ns + "/" + state->name);
  auto final_status = state->wait_terminal();
  if (!final_status.succeeded()) {
    std::string tail;
    auto lines = state->kept_logs();
    for (std::size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i)
      tail += "\n  " + lines[i].text;
    return fail(diagnostic(error::build_failed, "the Kaniko build of " + destination + " in Job " + ns + "/" +
                                                    state->name + " failed: " + final_status.message +
                                                    (tail.empty() ? std::string() : "; its last lines:" + tail)));
  }
  // Kaniko wrote the pushed digest as its termination message.
  kube::list_options lo;
  lo.label_selector = std::string(kube::run_id_label) + "=" + build_id;
  if (auto pods = a->list(kube::kinds::pod(), ns, lo))
    if (auto const* items = pods->if_contains("items"); items && items->is_array())
      for (auto const& pod : items->get_array()) {
        auto const* st = pod.is_object() ? pod.get_object().if_contains("status") : nullptr;
        auto const* cs = st && st->is_object() ? st->get_object().if_contains("containerStatuses") : nullptr;
        if (!cs || !cs->is_array()) continue;
        for (auto const& c : cs->get_array()) {
          auto const* t = c.is_object() ? c.get_object().if_contains("state") : nullptr;
          t = t && t->is_object() ? t->get_object().if_contains("terminated") : nullptr;
          auto const* msg = t && t->is_object() ? t->get_object().if_contains("message") : nullptr;
          if (msg && msg->is_string() && msg->get_string().starts_with("sha256:"))
            out.image = name + "@" + std::string(msg->get_string().subview().substr(0, 71));
        }
      }
  return out;
}

}  // namespace liftoff

#endif
