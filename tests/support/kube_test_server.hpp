#ifndef LIFTOFF_TESTS_SUPPORT_KUBE_TEST_SERVER_HPP
#define LIFTOFF_TESTS_SUPPORT_KUBE_TEST_SERVER_HPP

// A local HTTPS server standing in for a Kubernetes API server, following
// the official OpenAPI document in `specs_dir()/k8s/swagger.json`:
// - every request's method and path must match a path of the document (and
//   its query parameters be ones the operation declares), else 404/400 and
//   a recorded violation;
// - every object it receives is validated strictly against the document
//   (unknown fields rejected with 422, as `fieldValidation=Strict`);
// - it stores Namespaces, Jobs, Pods and Secrets, with a global
//   resourceVersion, generateName, uid, creationTimestamp;
// - a created Job gets a Pod (labels: the template's, plus `job-name`,
//   `batch.kubernetes.io/job-name`, `controller-uid`), which moves through
//   its phases on the test's script; the Job's status follows (active,
//   succeeded/failed, conditions Complete / Failed with reason and message);
// - watches (`?watch=true` on a list path) stream events after the given
//   resourceVersion, with label selectors (`k=v`, `k`, `k!=v`, `k in (a,b)`),
//   BOOKMARKs when asked, and an ERROR 410 Expired event for a
//   resourceVersion older than the kept history;
// - `pods/{name}/log` streams the lines the script writes, following until
//   the container ends when `follow=true`;
// - DELETE removes the object (and a Job's Pods), honouring propagationPolicy;
// - it requires the credentials the test configures (bearer tokens, a client
//   certificate signed by a CA) and answers 401 / 403 with a Status like the
//   real server's.
// Tests skip (saying why) when the spec document is absent: see `available()`.

#include "support/net_test_certs.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace liftoff::test {

/// One step of a Pod's life, applied in order after the previous step's delay.
struct pod_step {
  enum class action {
    schedule,       ///< PodScheduled=True, phase Pending, container waiting ContainerCreating
    unschedulable,  ///< PodScheduled=False reason Unschedulable, `message`
    waiting,        ///< container waiting with `reason` (ImagePullBackOff, ErrImagePull, CrashLoopBackOff, …) and `message`
    run,            ///< phase Running, container running, Ready
    log,            ///< appends `message` as a line of the container's output
    terminate,      ///< container terminated with `exit_code` and `reason` (Completed, Error, OOMKilled); phase Succeeded/Failed
    evict,          ///< condition DisruptionTarget=True (reason `reason`, default EvictionByEvictionAPI), phase Failed
    hold,           ///< nothing: waits `delay` (a pod that stays where it is)
  };
  action what = action::hold;
  std::chrono::milliseconds delay{0};  ///< waited before this step
  std::string reason;
  std::string message;
  int exit_code = 0;
};

using pod_script = std::vector<pod_step>;

/// Common scripts.
namespace scripts {
/// schedule, run, the lines, terminate with `exit_code`.
pod_script succeed(std::vector<std::string> lines = {"hello from the pod"}, int exit_code = 0);
pod_script fail(int exit_code, std::vector<std::string> lines = {});
pod_script image_pull_backoff(std::string image);
pod_script oom_killed();
pod_script evicted();
pod_script unschedulable_then_run(std::string message);
/// schedule and run, then nothing until deleted.
pod_script run_forever(std::vector<std::string> lines = {});
}  // namespace scripts

/// One request the server received.
struct kube_request {
  std::string method;
  std::string path;   ///< without the query
  std::string query;  ///< without '?'
  std::string body;
  std::string identity;  ///< "token:<name>", "cert:<CN>", or "" when anonymous
};

class kube_test_server {
public:
  struct options {
    /// Bearer tokens accepted, each with the user name it stands for.
    std::vector<std::pair<std::string, std::string>> tokens = {{"test-token", "alice"}};
    /// Users known but not allowed anything: requests from them get 403.
    std::vector<std::string> forbidden_users;
    /// When set, a client certificate from this CA is accepted (its CN is the user).
    std::optional<std::string> client_ca_pem;
    /// Namespaces that exist.
    std::vector<std::string> namespaces = {"default"};
    /// Events kept for watches; older resourceVersions get 410 Gone.
    std::size_t history = 10000;
  };

  /// True when the spec document exists; `why_not()` says where it looked.
  static bool available();
  static std::string why_not();

  explicit kube_test_server(options o);
  kube_test_server() : kube_test_server(options{}) {}
  ~kube_test_server();

  /// "https://127.0.0.1:PORT".
  std::string url() const;
  /// The CA that signed the server's certificate (for `certificate-authority-data`).
  std::string const& ca_pem() const;
  /// The test CA, for client certificates.
  test_ca const& ca() const;

  /** Writes a kubeconfig for this server to `file`: cluster `test`, context
      `test`, user `alice` with `test-token`, namespace `default`. `user_yaml`
      replaces the user's body (e.g. an exec block, a client certificate). */
  void write_kubeconfig(std::filesystem::path const& file, std::string const& user_yaml = {}) const;

  /** The script a created Job's Pod follows: called with the Job. The
      default is `scripts::succeed()`. */
  void set_script(std::function<pod_script(boost::json::object const& job)> f);

  /// Creates a namespace.
  void add_namespace(std::string const& name);

  /// Forgets the watch history up to now: watches from an older resourceVersion get 410.
  void compact();
  /// Closes every open watch and log stream (a dropped connection).
  void drop_streams();

  /// Every request so far, in order.
  std::vector<kube_request> requests() const;
  /// Requests that broke the spec (unknown path, query parameter or invalid object), each as a sentence.
  std::vector<std::string> violations() const;
  /// A stored object, or null.
  std::optional<boost::json::object> find(std::string const& plural, std::string const& ns,
                                          std::string const& name) const;
  /// All stored objects of a plural ("jobs", "pods", "secrets") in a namespace.
  std::vector<boost::json::object> objects(std::string const& plural, std::string const& ns) const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace liftoff::test

#endif
