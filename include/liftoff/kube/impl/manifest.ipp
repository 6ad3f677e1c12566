#ifndef LIFTOFF_KUBE_IMPL_MANIFEST_IPP
#define LIFTOFF_KUBE_IMPL_MANIFEST_IPP

#include <liftoff/kube/manifest.hpp>

#include <liftoff/core/run_environment.hpp>
#include <liftoff/detail/base64.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace liftoff::kube {

namespace detail {

LIFTOFF_DECL boost::json::object& object_at(boost::json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object()) v = boost::json::object();
  return v.get_object();
}

LIFTOFF_DECL boost::json::array& array_at(boost::json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_array()) v = boost::json::array();
  return v.get_array();
}

/// A pod template inside a manifest: its path, the template and its pod spec.
struct pod_template_ref {
  std::string path;  ///< of the pod spec: "spec.template.spec"
  boost::json::object* tmpl = nullptr;
  boost::json::object* spec = nullptr;
};

LIFTOFF_DECL void find_pod_specs(boost::json::value& v, std::string const& path, std::vector<pod_template_ref>& out) {
  if (v.is_object()) {
    auto& o = v.get_object();
    for (auto& [key, child] : o) {
      std::string child_path = path.empty() ? std::string(key) : path + "." + std::string(key);
      if (key == "template" && child.is_object()) {
        auto* spec = child.get_object().if_contains("spec");
        if (spec && spec->is_object() && spec->get_object().contains("containers")) {
          out.push_back({child_path + ".spec", &child.get_object(), &spec->get_object()});
          continue;
        }
      }
      find_pod_specs(child, child_path, out);
    }
  } else if (v.is_array()) {
    auto& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) find_pod_specs(a[i], path + "[" + std::to_string(i) + "]", out);
  }
}

LIFTOFF_DECL bool is_true(boost::json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

LIFTOFF_DECL std::optional<diagnostic> expect_string(boost::json::object const& o, std::string_view key,
                                               std::string& out) {
  auto const* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string())
    return diagnostic(error::invalid_spec, "resource_args.kubernetes." + std::string(key) + ": expected a string");
  out = v->get_string();
  return std::nullopt;
}

LIFTOFF_DECL std::optional<diagnostic> expect_int(boost::json::object const& o, std::string_view key,
                                            std::optional<std::int64_t>& out) {
  auto const* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64() && v->get_int64() >= 0) out = v->get_int64();
  else if (v->is_uint64()) out = static_cast<std::int64_t>(v->get_uint64());
  else
    return diagnostic(error::invalid_spec,
                      "resource_args.kubernetes." + std::string(key) + ": expected a non-negative integer");
  return std::nullopt;
}

}  // namespace detail

namespace detail {
LIFTOFF_DECL std::vector<pod_template_ref> find_pod_templates(boost::json::object& manifest) {
  std::vector<pod_template_ref> out;
  for (auto& [key, child] : manifest)
    if (key != "metadata" && key != "status") find_pod_specs(child, std::string(key), out);
  return out;
}
}  // namespace detail

LIFTOFF_DECL std::vector<std::pair<std::string, boost::json::object*>> find_pod_specs(boost::json::object& manifest) {
  std::vector<std::pair<std::string, boost::json::object*>> out;
  for (auto& t : detail::find_pod_templates(manifest)) out.emplace_back(t.path, t.spec);
  return out;
}

LIFTOFF_DECL std::string dns_label(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '-') out += '-';
    if (out.size() >= max) break;
  }
  while (!out.empty() && (out.back() == '-' || !std::isalnum(static_cast<unsigned char>(out.front())))) {
    if (out.back() == '-') out.pop_back();
    else out.erase(out.begin());
  }
  return out.empty() ? "job" : out;
}

LIFTOFF_DECL result<kubernetes_args> parse_kubernetes_args(boost::json::object const& args) {
  static std::set<std::string, std::less<>> const own = {"context", "namespace", "container", "plural", "registry",
                                                         "image_pull_grace_seconds", "ttl_seconds_after_finished",
                                                         "manifest", "kaniko"};
  kubernetes_args out;
  if (auto d = detail::expect_string(args, "context", out.context)) return *d;
  if (auto d = detail::expect_string(args, "namespace", out.namespace_name)) return *d;
  if (auto d = detail::expect_string(args, "container", out.container)) return *d;
  if (auto d = detail::expect_string(args, "plural", out.plural)) return *d;
  if (auto d = detail::expect_string(args, "registry", out.registry)) return *d;
  std::optional<std::int64_t> grace;
  if (auto d = detail::expect_int(args, "image_pull_grace_seconds", grace)) return *d;
  if (grace) out.image_pull_grace = std::chrono::seconds(*grace);
  if (auto d = detail::expect_int(args, "ttl_seconds_after_finished", out.ttl_seconds_after_finished)) return *d;
  if (auto const* k = args.if_contains("kaniko"); k && !k->is_null()) {
    if (!k->is_object())
      return diagnostic(error::invalid_spec, "resource_args.kubernetes.kaniko: expected an object (context, "
                                             "cache_repo, cache, flags, image)");
    out.kaniko = k->get_object();
  }
  if (auto const* m = args.if_contains("manifest")) {
    if (!m->is_object())
      return diagnostic(error::invalid_spec, "resource_args.kubernetes.manifest: expected an object (a Job or a "
                                             "custom resource)");
    out.manifest = m->get_object();
  }
  for (auto const& [key, value] : args) {
    if (own.contains(key)) continue;
    if (out.manifest.contains(key))
      return diagnostic(error::invalid_spec, "resource_args.kubernetes." + std::string(key) +
                                                 ": given both beside `manifest` and inside it; keep one");
    out.manifest[key] = value;
  }
  return out;
}

LIFTOFF_DECL result<void> check_secure(boost::json::object& pod_spec, std::string const& path) {
  auto refuse = [&](std::string const& field, std::string const& what) {
    return diagnostic(error::invalid_spec, path + "." + field + ": " + what +
                                               " is not allowed in secure mode (an agent option: "
                                               "--no-secure-mode turns it off for trusted queues)");
  };
  for (char const* host : {"hostNetwork", "hostPID", "hostIPC"})
    if (detail::is_true(pod_spec, host)) return refuse(host, std::string("`") + host + ": true`");
  if (auto* vols = pod_spec.if_contains("volumes"); vols && vols->is_array())
    for (std::size_t i = 0; i < vols->get_array().size(); ++i) {
      auto const& vol = vols->get_array()[i];
      if (vol.is_object() && vol.get_object().contains("hostPath"))
        return refuse("volumes[" + std::to_string(i) + "].hostPath", "a hostPath volume");
    }
  for (char const* list : {"initContainers", "containers", "ephemeralContainers"}) {
    auto* cs = pod_spec.if_contains(list);
    if (!cs || !cs->is_array()) continue;
    auto& arr = cs->get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (!arr[i].is_object()) continue;
      auto& c = arr[i].get_object();
      std::string at = std::string(list) + "[" + std::to_string(i) + "]";
      if (auto* ports = c.if_contains("ports"); ports && ports->is_array())
        for (std::size_t p = 0; p < ports->get_array().size(); ++p) {
          auto const& port = ports->get_array()[p];
          if (port.is_object() && port.get_object().contains("hostPort"))
            return refuse(at + ".ports[" + std::to_string(p) + "].hostPort", "a host port");
        }
      auto& sc = detail::object_at(c, "securityContext");
      if (detail::is_true(sc, "privileged")) return refuse(at + ".securityContext.privileged", "a privileged container");
      if (detail::is_true(sc, "allowPrivilegeEscalation"))
        return refuse(at + ".securityContext.allowPrivilegeEscalation", "privilege escalation");
      if (auto* caps = sc.if_contains("capabilities"); caps && caps->is_object())
        if (auto* add = caps->get_object().if_contains("add"); add && add->is_array() && !add->get_array().empty())
          return refuse(at + ".securityContext.capabilities.add", "adding capabilities");
      sc["allowPrivilegeEscalation"] = false;
    }
  }
  return {};
}

LIFTOFF_DECL result<prepared_run> prepare_run(launch_spec const& spec, launch_options const& options,
                                        prepare_settings const& settings) {
  auto args = parse_kubernetes_args(spec.args_for("kubernetes"));
  if (!args) return args.error();
  prepared_run out;
  auto& m = out.workload;
  m = std::move(args->manifest);
  if (!m.contains("apiVersion") && !m.contains("kind")) {
    m["apiVersion"] = "batch/v1";
    m["kind"] = "Job";
  }
  auto const* api_version = m.if_contains("apiVersion");
  auto const* kind = m.if_contains("kind");
  if (!api_version || !api_version->is_string() || !kind || !kind->is_string())
    return diagnostic(error::invalid_spec,
                      "resource_args.kubernetes: the manifest needs both `apiVersion` and `kind` as strings");
  out.kind = kind_of(api_version->get_string(), kind->get_string(), args->plural);
  bool const is_job = out.kind.api_version == "batch/v1" && out.kind.kind == "Job";
  if (is_job && !m.contains("spec")) m["spec"] = boost::json::object();
  if (is_job) {
    auto& job_spec = detail::object_at(m, "spec");
    auto& tmpl = detail::object_at(job_spec, "template");
    auto& pod_spec = detail::object_at(tmpl, "spec");
    auto& containers = detail::array_at(pod_spec, "containers");
    if (containers.empty()) containers.push_back(boost::json::object{{"name", "main"}});
  }

  auto& meta = detail::object_at(m, "metadata");
  std::string ns;
  if (auto const* v = meta.if_contains("namespace"); v && v->is_string()) ns = v->get_string();
  if (ns.empty()) ns = args->namespace_name;
  if (ns.empty()) ns = settings.context_namespace;
  if (ns.empty()) ns = "default";
  meta["namespace"] = ns;
  out.namespace_name = ns;
  std::string const base = dns_label(spec.job_name.empty() ? spec.name : spec.job_name, 40);
  if (!meta.contains("name") && !meta.contains("generateName")) meta["generateName"] = base + "-";
  auto add_labels = [&](boost::json::object& md) {
    auto& labels = detail::object_at(md, "labels");
    labels[run_id_label] = spec.run_id;
    if (!settings.agent.empty()) labels[agent_label] = dns_label(settings.agent, 63);
  };
  add_labels(meta);
  if (is_job) {
    auto& job_spec = detail::object_at(m, "spec");
    if (!job_spec.contains("backoffLimit")) job_spec["backoffLimit"] = 0;
    if (!job_spec.contains("ttlSecondsAfterFinished"))
      job_spec["ttlSecondsAfterFinished"] = args->ttl_seconds_after_finished.value_or(settings.default_ttl_seconds);
  }

  // The Secrets: one for secret environment variables, one for pulling the image.
  std::string const secret_base = "liftoff-" + dns_label(spec.run_id, 40);
  auto env = run_environment(spec, options);
  std::vector<std::pair<std::string, std::string>> plain, secret;
  for (auto& [k, v] : env) {
    bool is_secret = std::find(settings.secret_names.begin(), settings.secret_names.end(), k) !=
                     settings.secret_names.end();
    (is_secret ? secret : plain).emplace_back(k, v);
  }
  auto secret_object = [&](std::string name, std::string type, boost::json::object data) {
    boost::json::object labels{{run_id_label, spec.run_id}};
    if (!settings.agent.empty()) labels[agent_label] = dns_label(settings.agent, 63);
    return boost::json::object{{"apiVersion", "v1"},
                               {"kind", "Secret"},
                               {"metadata", {{"name", std::move(name)}, {"namespace", ns}, {"labels", labels}}},
                               {"type", std::move(type)},
                               {"data", std::move(data)}};
  };
  std::string const env_secret = secret_base + "-env";
  std::string const pull_secret = secret_base + "-pull";
  if (!secret.empty()) {
    boost::json::object data;
    for (auto& [k, v] : secret) data[k] = liftoff::detail::base64_encode(v);
    out.secrets.push_back(secret_object(env_secret, "Opaque", std::move(data)));
  }
  if (!settings.pull_config_json.empty())
    out.secrets.push_back(secret_object(
        pull_secret, "kubernetes.io/dockerconfigjson",
        {{".dockerconfigjson", liftoff::detail::base64_encode(settings.pull_config_json)}}));

  auto pod_specs = detail::find_pod_templates(m);
  if (pod_specs.empty())
    return diagnostic(error::invalid_spec, "resource_args.kubernetes: the " + out.kind.kind +
                                               " has no pod template (no `template.spec.containers` anywhere in "
                                               "`spec`), so there is nothing to run the image in");
  auto const command = spec.command();
  bool const has_entry = spec.overrides.entry_point.has_value() || !spec.entry_point.empty();
  for (auto& ref : pod_specs) {
    std::string const& path = ref.path;
    boost::json::object* pod = ref.spec;
    out.pod_spec_paths.push_back(path);
    auto& containers = detail::array_at(*pod, "containers");
    boost::json::object* chosen = nullptr;
    for (std::size_t i = 0; i < containers.size(); ++i) {
      if (!containers[i].is_object()) continue;
      auto const* name = containers[i].get_object().if_contains("name");
      bool match = args->container.empty() ? chosen == nullptr
                                            : (name && name->is_string() && name->get_string() == args->container);
      if (match) {
        chosen = &containers[i].get_object();
        if (args->container.empty()) break;
      }
    }
    if (!chosen)
      return diagnostic(error::invalid_spec,
                        path + ".containers: " +
                            (args->container.empty() ? std::string("no container to run the image in")
                                                     : "no container named `" + args->container +
                                                           "` (resource_args.kubernetes.container)"));
    auto& c = *chosen;
    if (!c.contains("name")) c["name"] = "main";
    c["image"] = settings.image;
    if (has_entry) {
      c["command"] = boost::json::value_from(command);
      c.erase("args");
    } else if (!spec.overrides.args.empty()) {
      c["args"] = boost::json::value_from(spec.overrides.args);
    }
    auto& env_list = detail::array_at(c, "env");
    std::set<std::string, std::less<>> user_set;
    for (auto const& e : env_list)
      if (e.is_object())
        if (auto const* n = e.get_object().if_contains("name"); n && n->is_string()) user_set.insert(std::string(n->get_string()));
    for (auto& [k, v] : plain)
      if (!user_set.contains(k)) env_list.push_back({{"name", k}, {"value", v}});
    for (auto& [k, v] : secret)
      if (!user_set.contains(k))
        env_list.push_back({{"name", k}, {"valueFrom", {{"secretKeyRef", {{"name", env_secret}, {"key", k}}}}}});
    if (!settings.pull_config_json.empty()) {
      auto& pulls = detail::array_at(*pod, "imagePullSecrets");
      pulls.push_back(boost::json::object{{"name", pull_secret}});
    }
    if (!pod->contains("restartPolicy")) (*pod)["restartPolicy"] = "Never";
    if (settings.secure_mode)
      if (auto r = check_secure(*pod, path); !r) return r.error();
    // The pod template's labels let the target find its pods.
    add_labels(detail::object_at(*ref.tmpl, "metadata"));
  }
  return out;
}

}  // namespace liftoff::kube

#endif
