// Filling in a run's manifest: image, command, environment, labels, namespace,
// defaults, Secrets, custom resources and the secure-mode rules.

#include <liftoff/kube/manifest.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;
namespace json = boost::json;

namespace {

launch_spec spec_with(json::value kube_args) {
  launch_spec s;
  s.source = image_ref{"example/train:1"};
  s.entry_point = {"python", "train.py"};
  s.resource = "kubernetes";
  s.run_id = "abc123xy";
  s.job_name = "Train Model";
  s.project = "proj";
  if (!kube_args.is_null()) s.resource_args["kubernetes"] = std::move(kube_args);
  return s;
}

kube::prepare_settings settings() {
  kube::prepare_settings s;
  s.image = "127.0.0.1:5000/train@sha256:0123";
  s.agent = "agent-1";
  s.context_namespace = "team";
  return s;
}

json::object const& at(json::object const& o, std::initializer_list<char const*> path) {
  json::object const* cur = &o;
  for (auto const* k : path) cur = &cur->at(k).as_object();
  return *cur;
}

json::object const& container0(json::object const& job) {
  return at(job, {"spec", "template", "spec"}).at("containers").as_array()[0].as_object();
}

std::string env_value(json::object const& c, std::string const& name) {
  for (auto const& e : c.at("env").as_array())
    if (e.at("name").as_string() == name)
      return e.as_object().contains("value") ? std::string(e.at("value").as_string()) : "<from>";
  return "<absent>";
}

}  // namespace

TEST_CASE("an empty manifest becomes a Job with the image, command, environment and defaults", "[kube-manifest]") {
  launch_options o;
  auto p = kube::prepare_run(spec_with(nullptr), o, settings());
  REQUIRE(p.has_value());
  auto const& job = p->workload;
  CHECK(job.at("apiVersion") == "batch/v1");
  CHECK(job.at("kind") == "Job");
  CHECK(p->namespace_name == "team");  // the context's namespace
  auto const& md = at(job, {"metadata"});
  CHECK(md.at("generateName") == "train-model-");
  CHECK(md.at("namespace") == "team");
  CHECK(md.at("labels").at("liftoff.io/run-id") == "abc123xy");
  CHECK(md.at("labels").at("liftoff.io/agent") == "agent-1");
  CHECK(at(job, {"spec"}).at("backoffLimit") == 0);
  CHECK(at(job, {"spec"}).at("ttlSecondsAfterFinished") == 3600);
  CHECK(at(job, {"spec", "template", "spec"}).at("restartPolicy") == "Never");
  CHECK(at(job, {"spec", "template", "metadata", "labels"}).at("liftoff.io/run-id") == "abc123xy");
  auto const& c = container0(job);
  CHECK(c.at("image") == "127.0.0.1:5000/train@sha256:0123");
  CHECK(c.at("command") == json::parse(R"(["python","train.py"])"));
  CHECK(env_value(c, "LIFTOFF_RUN_ID") == "abc123xy");
  CHECK(env_value(c, "LIFTOFF_PROJECT") == "proj");
  CHECK(p->secrets.empty());
}

TEST_CASE("everything the user set in the manifest is kept", "[kube-manifest]") {
  auto manifest = json::parse(R"({
    "metadata": {"name": "fixed", "namespace": "ml", "labels": {"team": "vision"}},
    "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 60,
      "template": {"spec": {"restartPolicy": "OnFailure", "containers": [
        {"name": "trainer", "env": [{"name": "LIFTOFF_PROJECT", "value": "mine"}],
         "resources": {"limits": {"memory": "1Gi", "nvidia.com/gpu": 1}}}]}}}})");
  launch_options o;
  o.environment["EXTRA"] = "1";
  auto p = kube::prepare_run(spec_with(manifest), o, settings());
  REQUIRE(p.has_value());
  auto const& job = p->workload;
  CHECK(p->namespace_name == "ml");
  CHECK(at(job, {"metadata"}).at("name") == "fixed");
  CHECK_FALSE(at(job, {"metadata"}).contains("generateName"));
  CHECK(at(job, {"metadata", "labels"}).at("team") == "vision");
  CHECK(at(job, {"spec"}).at("backoffLimit") == 3);
  CHECK(at(job, {"spec"}).at("ttlSecondsAfterFinished") == 60);
  CHECK(at(job, {"spec", "template", "spec"}).at("restartPolicy") == "OnFailure");
  auto const& c = container0(job);
  CHECK(c.at("name") == "trainer");
  CHECK(env_value(c, "LIFTOFF_PROJECT") == "mine");
  CHECK(env_value(c, "EXTRA") == "1");
  CHECK(at(c, {"resources", "limits"}).at("memory") == "1Gi");
}

TEST_CASE("the namespace comes from the manifest, then resource_args, then the context", "[kube-manifest]") {
  launch_options o;
  auto p = kube::prepare_run(spec_with(json::parse(R"({"namespace": "from-args"})")), o, settings());
  REQUIRE(p.has_value());
  CHECK(p->namespace_name == "from-args");
  auto s = settings();
  s.context_namespace.clear();
  auto q = kube::prepare_run(spec_with(nullptr), o, s);
  REQUIRE(q.has_value());
  CHECK(q->namespace_name == "default");
}

TEST_CASE("override args replace the container's args; without an entry point the command is kept",
          "[kube-manifest]") {
  auto spec = spec_with(json::parse(R"({"spec": {"template": {"spec": {"containers": [
      {"name": "c", "command": ["/bin/run"], "args": ["--old"]}]}}}})"));
  spec.entry_point.clear();
  spec.overrides.args = {"--epochs", "3"};
  launch_options o;
  auto p = kube::prepare_run(spec, o, settings());
  REQUIRE(p.has_value());
  auto const& c = container0(p->workload);
  CHECK(c.at("command") == json::parse(R"(["/bin/run"])"));
  CHECK(c.at("args") == json::parse(R"(["--epochs","3"])"));
}

TEST_CASE("the API token goes into a Secret referenced by secretKeyRef, never inline", "[kube-manifest]") {
  launch_options o;
  o.environment["LIFTOFF_API_TOKEN"] = "tok-very-secret";
  auto s = settings();
  s.pull_config_json = R"({"auths":{"127.0.0.1:5000":{"auth":"dTpw"}}})";
  auto p = kube::prepare_run(spec_with(nullptr), o, s);
  REQUIRE(p.has_value());
  CHECK(json::serialize(p->workload).find("tok-very-secret") == std::string::npos);
  REQUIRE(p->secrets.size() == 2);
  auto const& env_secret = p->secrets[0];
  CHECK(env_secret.at("metadata").at("name") == "liftoff-abc123xy-env");
  CHECK(env_secret.at("type") == "Opaque");
  CHECK(env_secret.at("data").at("LIFTOFF_API_TOKEN") == "dG9rLXZlcnktc2VjcmV0");  // base64
  CHECK(p->secrets[1].at("type") == "kubernetes.io/dockerconfigjson");
  auto const& c = container0(p->workload);
  bool referenced = false;
  for (auto const& e : c.at("env").as_array())
    if (e.at("name") == "LIFTOFF_API_TOKEN") {
      CHECK(e.at("valueFrom").at("secretKeyRef").at("name") == "liftoff-abc123xy-env");
      referenced = true;
    }
  CHECK(referenced);
  CHECK(at(p->workload, {"spec", "template", "spec"}).at("imagePullSecrets") ==
        json::parse(R"([{"name":"liftoff-abc123xy-pull"}])"));
}

TEST_CASE("a custom resource's pod templates are all filled in", "[kube-manifest]") {
  auto manifest = json::parse(R"({"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
    "spec": {"pytorchReplicaSpecs": {
      "Master": {"replicas": 1, "template": {"spec": {"containers": [{"name": "pytorch"}]}}},
      "Worker": {"replicas": 2, "template": {"spec": {"containers": [{"name": "pytorch"}]}}}}}})");
  launch_options o;
  auto p = kube::prepare_run(spec_with(manifest), o, settings());
  REQUIRE(p.has_value());
  CHECK(p->kind.plural == "pytorchjobs");
  CHECK(p->kind.collection_path("ml") == "/apis/kubeflow.org/v1/namespaces/ml/pytorchjobs");
  REQUIRE(p->pod_spec_paths.size() == 2);
  for (auto const* replica : {"Master", "Worker"}) {
    auto const& tmpl = at(p->workload, {"spec", "pytorchReplicaSpecs", replica, "template"});
    CHECK(tmpl.at("metadata").at("labels").at("liftoff.io/run-id") == "abc123xy");
    CHECK(tmpl.at("spec").at("containers").as_array()[0].at("image") == "127.0.0.1:5000/train@sha256:0123");
  }
  CHECK_FALSE(at(p->workload, {"spec"}).contains("backoffLimit"));  // Job defaults only for Jobs
}

TEST_CASE("a manifest without a pod template, or naming a missing container, is refused", "[kube-manifest]") {
  launch_options o;
  auto p = kube::prepare_run(spec_with(json::parse(R"({"apiVersion": "x.io/v1", "kind": "Thing", "spec": {}})")), o,
                             settings());
  REQUIRE_FALSE(p.has_value());
  CHECK_THAT(p.error().what(), Catch::Contains("no pod template"));
  auto q = kube::prepare_run(spec_with(json::parse(R"({"container": "nope"})")), o, settings());
  REQUIRE_FALSE(q.has_value());
  CHECK_THAT(q.error().what(), Catch::Contains("no container named `nope`"));
  auto r = kube::prepare_run(spec_with(json::parse(R"({"namespace": 3})")), o, settings());
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().what(), Catch::Contains("resource_args.kubernetes.namespace: expected a string"));
}

TEST_CASE("secure mode refuses host access and privilege, naming the field path", "[kube-manifest]") {
  struct bad {
    char const* pod_spec;
    char const* path;
  };
  bad const cases[] = {
      {R"({"hostNetwork": true, "containers": [{"name": "c"}]})", "spec.template.spec.hostNetwork"},
      {R"({"hostPID": true, "containers": [{"name": "c"}]})", "spec.template.spec.hostPID"},
      {R"({"hostIPC": true, "containers": [{"name": "c"}]})", "spec.template.spec.hostIPC"},
      {R"({"volumes": [{"name": "v", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/"}}],
           "containers": [{"name": "c"}]})",
       "spec.template.spec.volumes[1].hostPath"},
      {R"({"containers": [{"name": "c", "securityContext": {"privileged": true}}]})",
       "spec.template.spec.containers[0].securityContext.privileged"},
      {R"({"containers": [{"name": "c", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]})",
       "spec.template.spec.containers[0].securityContext.capabilities.add"},
      {R"({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 80}]}]})",
       "spec.template.spec.containers[0].ports[0].hostPort"},
      {R"({"initContainers": [{"name": "i", "securityContext": {"allowPrivilegeEscalation": true}}],
           "containers": [{"name": "c"}]})",
       "spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation"},
  };
  launch_options o;
  for (auto const& b : cases) {
    json::object manifest{{"spec", {{"template", {{"spec", json::parse(b.pod_spec)}}}}}};
    auto p = kube::prepare_run(spec_with(manifest), o, settings());
    INFO(b.path);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().code == error::invalid_spec);
    CHECK_THAT(p.error().what(), Catch::Contains(b.path) && Catch::Contains("secure mode"));
    auto trusted = settings();
    trusted.secure_mode = false;
    CHECK(kube::prepare_run(spec_with(manifest), o, trusted).has_value());
  }
  auto p = kube::prepare_run(spec_with(nullptr), o, settings());
  REQUIRE(p.has_value());
  CHECK(container0(p->workload).at("securityContext").at("allowPrivilegeEscalation") == false);
}
