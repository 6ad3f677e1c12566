#ifndef LIFTOFF_KUBE_MANIFEST_HPP
#define LIFTOFF_KUBE_MANIFEST_HPP

/** From a launch to the objects sent to a cluster: the queue's manifest (a
    `batch/v1` Job or any custom resource with pod templates), filled in with
    the run's image, command, environment and labels, checked against the
    secure-mode rules, and the Secrets the run needs. Pure functions: nothing
    here talks to a cluster. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/kube/api.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace liftoff::kube {

/// Labels liftoff puts on every object it creates, and selects its pods by.
inline constexpr char const* run_id_label = "liftoff.io/run-id";
inline constexpr char const* agent_label = "liftoff.io/agent";

/** The keys of `resource_args.kubernetes` that configure liftoff rather than
    being part of the manifest. Every other key is the manifest itself
    (`apiVersion`, `kind`, `metadata`, `spec`), as W&B Launch reads it; a
    `manifest` key holding the object is accepted too. */
struct kubernetes_args {
  boost::json::object manifest;       ///< the object to fill in (an empty Job when none is given)
  std::string context;                ///< `context`: the kubeconfig context
  std::string namespace_name;         ///< `namespace`
  std::string container;              ///< `container`: the container to fill in (default: the first)
  std::string plural;                 ///< `plural`: a custom resource's URL name
  std::string registry;               ///< `registry`: read by registry_push
  std::optional<std::chrono::seconds> image_pull_grace;  ///< `image_pull_grace_seconds`
  std::optional<std::int64_t> ttl_seconds_after_finished;  ///< `ttl_seconds_after_finished`
  boost::json::object kaniko;         ///< `kaniko`: settings of in-cluster builds (see kaniko_builder)
};

/** Reads `resource_args.kubernetes`. Errors name the field
    (`resource_args.kubernetes.namespace: expected a string`). */
result<kubernetes_args> parse_kubernetes_args(boost::json::object const& args);

/// What the target creates for one run, in order: Secrets, then the workload.
struct prepared_run {
  resource_kind kind;               ///< the workload's kind (Job or the custom resource)
  std::string namespace_name;
  boost::json::object workload;     ///< the filled-in manifest
  std::vector<boost::json::object> secrets;  ///< v1 Secrets to create first (environment, image pull)
  std::vector<std::string> pod_spec_paths;   ///< where the pod specs are ("spec.template.spec", …)
};

/// The inputs to `prepare_run` beyond the launch.
struct prepare_settings {
  std::string image;                 ///< the image to run (a registry reference)
  std::string agent;                 ///< `liftoff.io/agent` value; empty: no label
  std::string context_namespace;     ///< the kubeconfig context's namespace
  bool secure_mode = true;           ///< refuse host access and privilege (see `check_secure`)
  /// Environment variables whose values are secrets: they go into a Secret, referenced by secretKeyRef.
  std::vector<std::string> secret_names = {"LIFTOFF_API_TOKEN"};
  /** Registry credentials for pulling `image` as a `.dockerconfigjson`
      document ({"auths":{…}}); empty: no pull secret. */
  std::string pull_config_json;
  std::int64_t default_ttl_seconds = 3600;
};

/** Fills in the manifest:
    - every pod template found (`…template.spec` objects with `containers`,
      as in a Job, a PyTorchJob's replica specs, a JobSet's replicated jobs, a
      Volcano job's tasks) gets on its chosen container (`container`, else
      the first) the image, the command (the entry point replaces `command`,
      override args become `args`; without either, the manifest's are kept)
      and the `LIFTOFF_*` environment (variables the manifest sets are kept);
      secrets by `secretKeyRef`; `imagePullSecrets` for the pull secret;
      `restartPolicy: Never` when absent; the run-id (and agent) labels on its
      metadata;
    - the workload gets the labels, `generateName` ("<job>-") when it has no
      name, its namespace (the manifest's, then `namespace`, then the
      context's, then "default"), and for a Job `backoffLimit: 0` and
      `ttlSecondsAfterFinished` when absent.
    Fails with error::invalid_spec naming the path when the manifest has no
    pod template, the named container does not exist, or secure mode refuses
    something. */
result<prepared_run> prepare_run(launch_spec const& spec, launch_options const& options,
                                 prepare_settings const& settings);

/** The secure-mode rules for one pod spec at `path`: no `hostPath` volumes,
    `hostNetwork`, `hostPID`, `hostIPC`, host ports, `privileged`, added
    capabilities or `allowPrivilegeEscalation: true`; sets
    `allowPrivilegeEscalation: false` on every container. The error names the
    field path ("spec.template.spec.containers[0].securityContext.privileged"). */
result<void> check_secure(boost::json::object& pod_spec, std::string const& path);

/// The pod specs inside a manifest, with their paths.
std::vector<std::pair<std::string, boost::json::object*>> find_pod_specs(boost::json::object& manifest);

/// A DNS-1123 label from `text` (lower case, [a-z0-9-], at most `max` characters), "job" when nothing is left.
std::string dns_label(std::string_view text, std::size_t max = 40);

}  // namespace liftoff::kube

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/manifest.ipp>
#endif

#endif
