#ifndef LIFTOFF_TESTS_UNIT_TARGET_KUBE_CLUSTER_HPP
#define LIFTOFF_TESTS_UNIT_TARGET_KUBE_CLUSTER_HPP

// What the Kubernetes target's tests share: a local API server with a
// kubeconfig for it, a target configured for it, an image and a spec.

#include <liftoff/kube/target.hpp>

#include "support/kube_test_server.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <string>
#include <vector>

/// Skips a test, saying why, when the Kubernetes OpenAPI document is not there.
#define SKIP_WITHOUT_SPECS()                                           \
  if (!liftoff::test::kube_test_server::available()) {                 \
    WARN("skipped: " << liftoff::test::kube_test_server::why_not());   \
    return;                                                            \
  }

namespace liftoff::test::kube_cluster {

inline constexpr char const* digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The server, a kubeconfig naming it, and a target that uses that kubeconfig.
struct cluster {
  explicit cluster(kube_test_server::options o = {}) : server(std::move(o)) {
    server.write_kubeconfig(kubeconfig);
    target = fresh_target();
  }
  /// A target with the same settings and nothing shared with `target` (as a restarted agent makes it).
  kubernetes_target fresh_target() const {
    using namespace std::chrono_literals;
    kubernetes_target t;
    t.connection.files = {kubeconfig};
    t.agent = "agent-7";
    t.image_pull_grace = 1s;
    t.client.request_timeout = 10s;
    return t;
  }
  temp_dir dir{"liftoff-kube"};
  std::filesystem::path kubeconfig = dir / "config";
  kube_test_server server;
  kubernetes_target target;
};

inline std::string image_ref_text() { return std::string("127.0.0.1:5000/train@sha256:") + digest; }

inline artifact image(std::string ref = image_ref_text()) {
  return artifact{artifact_kind::registry_image, {}, std::move(ref), "sha256:feed", nullptr};
}

inline launch_spec spec(boost::json::value kube_args = nullptr) {
  launch_spec s;
  s.source = image_ref{image_ref_text()};
  s.entry_point = {"python", "train.py"};
  s.resource = "kubernetes";
  s.run_id = make_run_id();
  s.job_name = "train";
  if (!kube_args.is_null()) s.resource_args["kubernetes"] = std::move(kube_args);
  return s;
}

inline bool has_line(std::vector<log_line> const& lines, std::string const& text) {
  for (auto const& l : lines)
    if (l.text.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace liftoff::test::kube_cluster

#endif
