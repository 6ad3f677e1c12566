#ifndef LIFTOFF_KUBE_KANIKO_HPP
#define LIFTOFF_KUBE_KANIKO_HPP

/** `kaniko_builder`: builds a job's image inside the Kubernetes cluster with
    a Kaniko Job, so neither the machine that launches nor the agent needs a
    Docker engine. */

#include <liftoff/detail/config.hpp>
#include <liftoff/docker/builder.hpp>
#include <liftoff/client/client.hpp>
#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/kube/api.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace liftoff {

/** Builder policy: a directory in, a `registry_image` out (pinned by the
    digest Kaniko pushed).

    1. The Dockerfile is chosen as `docker_builder` chooses it (the context's
       own, or a generated one), and the image is tagged with the same content
       digest: `<registry>/<name>:<32 hex>`, where the registry is
       `resource_args.kubernetes.registry` or `LIFTOFF_REGISTRY`.
    2. When the registry already has that tag (its `/v2/` API answers 200 to a
       HEAD of the manifest), nothing is built.
    3. The build context (a tar, with a generated Dockerfile inside) reaches
       the Kaniko pod from the liftoff server's artifact store: it is uploaded
       once (content-addressed), and an init container fetches and unpacks it
       into an `emptyDir` with the API token from a Secret. A context already
       in object storage is used directly instead:
       `resource_args.kubernetes.kaniko.context` = "s3://bucket/ctx.tar.gz".
    4. The Kaniko Job (`--context`, `--dockerfile`, `--destination`,
       `--digest-file=/dev/termination-log`, `--cache` with `cache_repo`, and
       `flags` from `resource_args.kubernetes.kaniko`) is followed like a run:
       its logs stream through `options.on_log`, prefixed by pod and container.
       Registry credentials from the Docker config are mounted as Kaniko's
       `/kaniko/.docker/config.json`.
    5. A failed build is a diagnostic with stage `build` and the reason
       (the exit code, an image that cannot be pulled). */
struct kaniko_builder {
  /// The optional hooks it offers (liftoff::hook).
  static constexpr hook_set hooks = hook::validate;
  kube::load_options connection;   ///< the cluster (the context may come from resource_args.kubernetes.context)
  std::string agent;               ///< the `liftoff.io/agent` label
  /// The liftoff server holding build contexts; nullopt: `client::load_credentials()`.
  std::optional<client::credentials> server;
  std::string executor_image = "gcr.io/kaniko-project/executor:v1.23.2";
  std::string fetch_image = "busybox:1.36";
  std::chrono::milliseconds image_pull_grace{std::chrono::minutes(2)};
  net::client_options client;
  /// How the Dockerfile is chosen and the image tagged (no engine is contacted).
  docker_builder planner;

  static constexpr bool accepts(artifact_kind k) noexcept { return k == artifact_kind::directory; }
  static constexpr artifact_kind output(artifact_kind) noexcept { return artifact_kind::registry_image; }

  /// Checks the build fields and `resource_args.kubernetes.kaniko`.
  result<void> validate(launch_spec const& spec) const;

  result<artifact> build(artifact const& in, launch_spec const& spec, launch_options const& options) const;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/kube/impl/kaniko.ipp>
#endif

#endif
