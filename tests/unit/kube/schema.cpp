#include <liftoff/kube/schema.hpp>

#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using liftoff::kube::schema;
using liftoff::kube::schema_problem;

namespace {

/// The full 1.36 document or the Job/Pod subset, each loaded once per process (the full one is 4 MB).
schema const& spec_schema(char const* file) {
  static auto const full = schema::load(liftoff::test::specs_dir() / "k8s" / "swagger.json");
  static auto const subset = schema::load(liftoff::test::specs_dir() / "k8s" / "batch-v1-job-core-v1-pod-subset.json");
  auto const& s = std::string_view(file) == "swagger.json" ? full : subset;
  if (!s) FAIL(s.error());
  return *s;
}

constexpr char const* spec_files[] = {"swagger.json", "batch-v1-job-core-v1-pod-subset.json"};

bool spec_present(char const* file) {
  auto const path = liftoff::test::specs_dir() / "k8s" / file;
  if (fs::exists(path)) return true;
  WARN("skipped: the Kubernetes OpenAPI document " << path.string() << " is not present");
  return false;
}

/// A Job as the Kubernetes target writes one: env, resources, volumes, security contexts.
boost::json::value realistic_job() {
  return boost::json::parse(R"({
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
      "name": "train-7f3a",
      "namespace": "ml",
      "creationTimestamp": null,
      "labels": {"app.kubernetes.io/managed-by": "liftoff", "liftoff.dev/run-id": "7f3a"},
      "annotations": {"liftoff.dev/queue": "gpu"}
    },
    "spec": {
      "backoffLimit": 0,
      "ttlSecondsAfterFinished": 3600,
      "activeDeadlineSeconds": null,
      "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]},
      "template": {
        "metadata": {"labels": {"liftoff.dev/run-id": "7f3a"}},
        "spec": {
          "restartPolicy": "Never",
          "serviceAccountName": "trainer",
          "nodeSelector": {"nvidia.com/gpu.present": "true"},
          "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
          "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "fsGroup": 1000,
                              "seccompProfile": {"type": "RuntimeDefault"}},
          "imagePullSecrets": [{"name": "registry"}],
          "containers": [{
            "name": "main",
            "image": "registry.example.com/ml/train:3c1d",
            "imagePullPolicy": "IfNotPresent",
            "command": ["python", "train.py"],
            "args": ["--epochs", "3"],
            "workingDir": "/app",
            "env": [
              {"name": "LIFTOFF_RUN_ID", "value": "7f3a"},
              {"name": "LIFTOFF_CONFIG", "value": "{\"lr\": 0.1}"},
              {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "tokens", "key": "api"}}},
              {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
            ],
            "ports": [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
            "resources": {
              "limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": 1},
              "requests": {"cpu": 0.5, "memory": "4096Mi", "ephemeral-storage": "10G"}
            },
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 30},
            "readinessProbe": {"tcpSocket": {"port": 9090}},
            "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}, {"name": "shm", "mountPath": "/dev/shm"}],
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "capabilities": {"drop": ["ALL"]}}
          }],
          "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}
          ]
        }
      }
    }
  })");
}

boost::json::value realistic_pod() {
  return boost::json::parse(R"({
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "train-7f3a-x2k9p", "namespace": "ml", "labels": {"job-name": "train-7f3a"},
                 "creationTimestamp": "2025-03-01T10:00:00Z",
                 "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "train-7f3a",
                                      "uid": "0b4c3a52-5e8c-4e1a-9a57-0f6b4a0c8d11", "controller": true}]},
    "spec": {
      "restartPolicy": "Never",
      "securityContext": {"runAsUser": 1000},
      "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "echo hi"],
                      "env": [{"name": "A", "value": "1"}],
                      "resources": {"limits": {"cpu": 1, "memory": "64Mi"}, "requests": {"cpu": "100m"}}}],
      "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "100Mi"}}]
    },
    "status": {"phase": "Succeeded", "startTime": "2025-03-01T10:00:01.123456Z",
               "containerStatuses": [{"name": "main", "image": "busybox:1.36", "imageID": "", "ready": false,
                                      "restartCount": 0,
                                      "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                               "finishedAt": "2025-03-01T10:00:02+00:00"}}}]}
  })");
}

/// Finds the problem at `path`, failing the test if there is none.
schema_problem const& problem_at(std::vector<schema_problem> const& problems, std::string const& path) {
  for (auto const& p : problems)
    if (p.path == path) return p;
  std::string all;
  for (auto const& p : problems) all += "\n  " + p.path + ": " + p.message;
  FAIL("no problem at " << path << "; the problems are:" << all);
  static schema_problem const none;  // not reached: FAIL throws
  return none;
}

std::string describe_problems(std::vector<schema_problem> const& problems) {
  std::string all;
  for (auto const& p : problems) all += "\n  " + p.path + ": " + p.message;
  return all;
}

/// A small document exercising what the Kubernetes one does not (enum, allOf, preserve-unknown).
schema synthetic() {
  auto s = schema::parse(boost::json::parse(R"({
    "swagger": "2.0",
    "definitions": {
      "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
      "example.Meta": {"type": "object", "properties": {"name": {"type": "string"}}},
      "example.Extra": {"type": "object", "properties": {"extra": {"type": "boolean"}}},
      "example.Anything": {"description": "no type: any JSON"},
      "example.Widget": {
        "type": "object",
        "required": ["size"],
        "x-kubernetes-group-version-kind": [{"group": "example.dev", "version": "v1", "kind": "Widget"},
                                             {"group": "", "version": "v1", "kind": "Widget"}],
        "properties": {
          "apiVersion": {"type": "string"},
          "kind": {"type": "string"},
          "metadata": {"allOf": [{"$ref": "#/definitions/example.Meta"}], "description": "one ref in allOf"},
          "both": {"allOf": [{"$ref": "#/definitions/example.Meta"}, {"$ref": "#/definitions/example.Extra"}]},
          "color": {"type": "string", "enum": ["red", "green"]},
          "size": {"type": "integer", "format": "int32"},
          "big": {"type": "integer", "format": "int64"},
          "ratio": {"type": "number"},
          "port": {"type": "string", "format": "int-or-string"},
          "port2": {"x-kubernetes-int-or-string": true},
          "when": {"type": "string", "format": "date-time"},
          "amount": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
          "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                   "properties": {"known": {"type": "integer"}}},
          "open": {"type": "object", "additionalProperties": true, "properties": {"a": {"type": "string"}}},
          "raw": {"$ref": "#/definitions/example.Anything"},
          "bag": {"type": "object"},
          "tags": {"type": "array", "items": {"type": "string"}},
          "counts": {"type": "object", "additionalProperties": {"type": "integer"}}
        }
      }
    }
  })"));
  REQUIRE(s.has_value());
  return *s;
}

boost::json::value widget(char const* extra_fields) {
  return boost::json::parse(std::string(R"({"apiVersion": "example.dev/v1", "kind": "Widget", "size": 3)") +
                            extra_fields + "}");
}

}  // namespace

TEST_CASE("realistic Job and Pod manifests are valid against the Kubernetes OpenAPI documents", "[kube-schema]") {
  for (auto const* file : spec_files) {
    if (!spec_present(file)) return;
    INFO(file);
    auto const& s = spec_schema(file);
    auto const job = s.validate(realistic_job());
    INFO(describe_problems(job));
    CHECK(job.empty());
    auto const pod = s.validate(realistic_pod());
    INFO(describe_problems(pod));
    CHECK(pod.empty());
    CHECK(s.definition_for("batch/v1", "Job") == "io.k8s.api.batch.v1.Job");
    CHECK(s.definition_for("v1", "Pod") == "io.k8s.api.core.v1.Pod");
    CHECK_FALSE(s.definition_for("batch/v1", "Pod").has_value());
    CHECK_FALSE(s.definition_for("v1", "Job").has_value());
  }
}

TEST_CASE("unknown fields are reported with their path and the closest declared name", "[kube-schema]") {
  for (auto const* file : spec_files) {
    if (!spec_present(file)) return;
    INFO(file);
    auto const& s = spec_schema(file);
    auto job = realistic_job();
    job.as_object()["spce"] = boost::json::object{};
    auto& container = job.at_pointer("/spec/template/spec/containers/0").as_object();
    container["imagePullPolcy"] = "Always";
    container["WorkingDir"] = "/x";
    container["zzzzzzzz"] = 1;
    job.at_pointer("/spec/template/spec/volumes/1/emptyDir").as_object()["medum"] = "Memory";

    auto const problems = s.validate(job);
    INFO(describe_problems(problems));
    CHECK(problems.size() == 5);
    CHECK(problem_at(problems, "spce").message == "unknown field \"spce\" (did you mean spec?)");
    CHECK(problem_at(problems, "spec.template.spec.containers[0].imagePullPolcy").message ==
          "unknown field \"imagePullPolcy\" (did you mean imagePullPolicy?)");
    CHECK(problem_at(problems, "spec.template.spec.containers[0].WorkingDir").message ==
          "unknown field \"WorkingDir\" (did you mean workingDir?)");
    CHECK(problem_at(problems, "spec.template.spec.containers[0].zzzzzzzz").message == "unknown field \"zzzzzzzz\"");
    CHECK(problem_at(problems, "spec.template.spec.volumes[1].emptyDir.medum").message ==
          "unknown field \"medum\" (did you mean medium?)");
  }
}

TEST_CASE("wrong types say what was expected and what was given", "[kube-schema]") {
  for (auto const* file : spec_files) {
    if (!spec_present(file)) return;
    INFO(file);
    auto const& s = spec_schema(file);
    auto job = realistic_job();
    job.at_pointer("/spec").as_object()["backoffLimit"] = "x";
    job.at_pointer("/spec").as_object()["suspend"] = "false";
    job.at_pointer("/metadata/labels").as_object()["team"] = 7;
    job.at_pointer("/spec/template/spec/containers/0").as_object()["command"] = "python train.py";
    job.at_pointer("/spec/template/spec/containers/0").as_object()["args"] = boost::json::array{"--lr", 0.1};
    job.at_pointer("/spec/template/spec").as_object()["volumes"] = boost::json::object{};
    job.at_pointer("/spec").as_object()["parallelism"] = 1.5;
    job.at_pointer("/spec").as_object()["completions"] = std::int64_t{1} << 40;  // beyond int32

    auto const problems = s.validate(job);
    INFO(describe_problems(problems));
    CHECK(problems.size() == 8);
    CHECK(problem_at(problems, "spec.backoffLimit").message == "expected integer, got string \"x\"");
    CHECK(problem_at(problems, "spec.suspend").message == "expected boolean, got string \"false\"");
    CHECK(problem_at(problems, "metadata.labels[team]").message == "expected string, got integer 7");
    CHECK(problem_at(problems, "spec.template.spec.containers[0].command").message ==
          "expected array, got string \"python train.py\"");
    CHECK(problem_at(problems, "spec.template.spec.containers[0].args[1]").message ==
          "expected string, got number 0.1");
    CHECK(problem_at(problems, "spec.template.spec.volumes").message == "expected array, got object");
    CHECK(problem_at(problems, "spec.parallelism").message == "expected integer, got number 1.5");
    CHECK(problem_at(problems, "spec.completions").message ==
          "expected a 32-bit integer, got integer 1099511627776, out of range");
  }
}

TEST_CASE("long values in messages are truncated", "[kube-schema]") {
  if (!spec_present("swagger.json")) return;
  auto const& s = spec_schema("swagger.json");
  auto job = realistic_job();
  job.at_pointer("/spec").as_object()["backoffLimit"] = std::string(500, 'a');
  auto const problems = s.validate(job);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "expected integer, got string \"" + std::string(40, 'a') + "...\"");
}

TEST_CASE("missing required fields are reported at their path", "[kube-schema]") {
  for (auto const* file : spec_files) {
    if (!spec_present(file)) return;
    INFO(file);
    auto const& s = spec_schema(file);

    auto job = realistic_job();
    job.at_pointer("/spec/template/spec/containers/0").as_object().erase("name");
    auto problems = s.validate(job);
    INFO(describe_problems(problems));
    CHECK(problem_at(problems, "spec.template.spec.containers[0].name").message == "required field missing");

    job = realistic_job();
    job.at_pointer("/spec/template/spec").as_object().erase("containers");
    job.at_pointer("/spec/template/spec/volumes/0").as_object()["name"] = nullptr;
    problems = s.validate(job);
    INFO(describe_problems(problems));
    CHECK(problems.size() == 2);
    CHECK(problem_at(problems, "spec.template.spec.containers").message == "required field missing");
    CHECK(problem_at(problems, "spec.template.spec.volumes[0].name").message == "required field is null");

    job = realistic_job();
    job.as_object().erase("spec");
    job.as_object()["spec"] = boost::json::object{};
    problems = s.validate(job);
    INFO(describe_problems(problems));
    CHECK(problems.size() == 1);
    CHECK(problem_at(problems, "spec.template").message == "required field missing");
  }
}

TEST_CASE("int-or-string fields and quantities take either form", "[kube-schema]") {
  if (!spec_present("swagger.json")) return;
  auto const& s = spec_schema("swagger.json");
  auto with = [&](char const* pointer, boost::json::value v) {
    auto job = realistic_job();
    job.at_pointer(pointer) = std::move(v);
    return s.validate(job);
  };
  auto const port = "/spec/template/spec/containers/0/livenessProbe/httpGet/port";
  CHECK(with(port, 8080).empty());
  CHECK(with(port, "metrics").empty());
  auto problems = with(port, true);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "spec.template.spec.containers[0].livenessProbe.httpGet.port");
  CHECK(problems[0].message == "expected integer or string, got boolean true");
  CHECK(with(port, 1.5).size() == 1);

  auto const cpu = "/spec/template/spec/containers/0/resources/limits/cpu";
  for (auto const& ok : {boost::json::value("250m"), boost::json::value(2), boost::json::value(0.25),
                         boost::json::value("1.5"), boost::json::value("1e3"), boost::json::value("+1Ki"),
                         boost::json::value("2E"), boost::json::value(".5")}) {
    INFO(boost::json::serialize(ok));
    CHECK(with(cpu, ok).empty());
  }
  for (auto const& bad : {boost::json::value("2 Gi"), boost::json::value("1GB"), boost::json::value(""),
                          boost::json::value("m"), boost::json::value("1e"), boost::json::value(true)}) {
    INFO(boost::json::serialize(bad));
    problems = with(cpu, bad);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "spec.template.spec.containers[0].resources.limits[cpu]");
  }
  CHECK(with(cpu, "1GB")[0].message == "expected a quantity such as \"500m\", \"2Gi\" or \"1.5\", got string \"1GB\"");
}

TEST_CASE("date-time fields take RFC 3339 times", "[kube-schema]") {
  if (!spec_present("swagger.json")) return;
  auto const& s = spec_schema("swagger.json");
  auto pod = realistic_pod();
  pod.at_pointer("/metadata/creationTimestamp") = "yesterday";
  pod.at_pointer("/status/startTime") = "2025-03-01 10:00:01Z";
  auto const problems = s.validate(pod);
  INFO(describe_problems(problems));
  CHECK(problems.size() == 2);
  CHECK(problem_at(problems, "metadata.creationTimestamp").message ==
        "expected an RFC 3339 date-time such as \"2024-05-01T12:00:00Z\", got string \"yesterday\"");
  problem_at(problems, "status.startTime");
}

TEST_CASE("an object whose kind the document does not know gives one problem at kind", "[kube-schema]") {
  for (auto const* file : spec_files) {
    if (!spec_present(file)) return;
    INFO(file);
    auto const& s = spec_schema(file);
    auto job = realistic_job();
    job.as_object()["kind"] = "Jbo";
    auto problems = s.validate(job);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "kind");
    CHECK(problems[0].message == "unknown kind \"Jbo\" in apiVersion \"batch/v1\" (did you mean Job?)");

    job.as_object()["kind"] = "Job";
    job.as_object()["apiVersion"] = "batch/v2";
    problems = s.validate(job);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path == "kind");
    CHECK(problems[0].message == "kind Job is not in apiVersion \"batch/v2\"; the document has it in batch/v1");

    job.as_object().erase("apiVersion");
    job.as_object()["kind"] = 3;
    problems = s.validate(job);
    REQUIRE(problems.size() == 2);
    CHECK(problem_at(problems, "apiVersion").message == "required field missing");
    CHECK(problem_at(problems, "kind").message == "expected string, got integer 3");

    problems = s.validate(boost::json::parse("[1]"));
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].path.empty());
    CHECK(problems[0].message == "expected a Kubernetes object (a JSON object with apiVersion and kind), got array");
  }
}

TEST_CASE("the full document knows kinds beyond Job and Pod", "[kube-schema]") {
  if (!spec_present("swagger.json")) return;
  auto const& s = spec_schema("swagger.json");
  CHECK(s.definition_for("apps/v1", "Deployment") == "io.k8s.api.apps.v1.Deployment");
  CHECK(s.definition_for("v1", "Secret") == "io.k8s.api.core.v1.Secret");
  auto const secret = boost::json::parse(R"({"apiVersion": "v1", "kind": "Secret",
      "type": "kubernetes.io/dockerconfigjson", "metadata": {"name": "registry"}, "data": {".dockerconfigjson": "e30="}})");
  CHECK(s.validate(secret).empty());
  // A CustomResourceDefinition's schema holds arbitrary JSON (JSON definitions have no type).
  auto const crd = boost::json::parse(R"({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "metadata": {"name": "widgets.example.dev"},
      "spec": {"group": "example.dev", "scope": "Namespaced",
               "names": {"plural": "widgets", "kind": "Widget"},
               "versions": [{"name": "v1", "served": true, "storage": true,
                             "schema": {"openAPIV3Schema": {"type": "object", "default": {"a": [1, "x", null]},
                                                            "x-kubernetes-preserve-unknown-fields": true}}}]}})");
  auto const problems = s.validate(crd);
  INFO(describe_problems(problems));
  CHECK(problems.empty());
}

TEST_CASE("the document has no enums, so enums are checked against a small document", "[kube-schema]") {
  auto const s = synthetic();
  CHECK(s.validate(widget(R"(, "color": "red")")).empty());
  auto const problems = s.validate(widget(R"(, "color": "blue")"));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "color");
  CHECK(problems[0].message == "unsupported value string \"blue\": expected one of \"red\", \"green\"");
}

TEST_CASE("allOf, preserve-unknown-fields, additionalProperties and untyped definitions", "[kube-schema]") {
  auto const s = synthetic();
  CHECK(s.definition_for("example.dev/v1", "Widget") == "example.Widget");
  CHECK(s.definition_for("v1", "Widget") == "example.Widget");

  CHECK(s.validate(widget(R"(, "metadata": {"name": "w"}, "both": {"name": "w", "extra": true},
      "free": {"known": 1, "anything": {"deep": [1, 2]}}, "open": {"a": "x", "b": 2},
      "raw": {"x": [true, null]}, "bag": {"k": {"v": 1}}, "tags": ["a", null], "counts": {"a": 1, "b": null},
      "port": 80, "port2": "http", "big": 9007199254740993, "ratio": 1, "amount": 2.5,
      "when": "2024-05-01T12:00:00.5-07:00")"))
            .empty());
  CHECK(s.validate(widget(R"(, "raw": "just a string")")).empty());

  auto problems = s.validate(widget(R"(, "metadata": {"nmae": "w"}, "both": {"name": 1, "extr": true},
      "free": {"known": "one"}, "open": {"a": 1}, "counts": {"a": "x"}, "tags": [1], "port2": [],
      "big": 18446744073709551615)"));
  INFO(describe_problems(problems));
  CHECK(problems.size() == 9);
  CHECK(problem_at(problems, "metadata.nmae").message == "unknown field \"nmae\" (did you mean name?)");
  CHECK(problem_at(problems, "both.name").message == "expected string, got integer 1");
  CHECK(problem_at(problems, "both.extr").message == "unknown field \"extr\" (did you mean extra?)");
  CHECK(problem_at(problems, "free.known").message == "expected integer, got string \"one\"");
  CHECK(problem_at(problems, "open.a").message == "expected string, got integer 1");
  CHECK(problem_at(problems, "counts[a]").message == "expected integer, got string \"x\"");
  CHECK(problem_at(problems, "tags[0]").message == "expected string, got integer 1");
  CHECK(problem_at(problems, "port2").message == "expected integer or string, got array");
  CHECK(problem_at(problems, "big").message ==
        "expected a 64-bit integer, got integer 18446744073709551615, out of range");

  problems = s.validate(boost::json::parse(R"({"apiVersion": "example.dev/v1", "kind": "Widget"})"));
  REQUIRE(problems.size() == 1);
  CHECK(problem_at(problems, "size").message == "required field missing");
}

TEST_CASE("validate against a named definition", "[kube-schema]") {
  auto const s = synthetic();
  CHECK(s.validate(boost::json::parse(R"({"name": "x"})"), "example.Meta").empty());
  auto problems = s.validate(boost::json::parse(R"({"name": 2})"), "example.Meta");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].path == "name");
  problems = s.validate(boost::json::parse("{}"), "example.Nope");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "the OpenAPI document has no definition \"example.Nope\"");
}

TEST_CASE("copies of a schema share the document and outlive the original", "[kube-schema]") {
  std::optional<schema> copy;
  {
    auto const original = synthetic();
    copy = original;
  }
  CHECK(copy->validate(widget("")).empty());
  CHECK(copy->validate(widget(R"(, "size": "3")")).size() == 1);
}

TEST_CASE("parse refuses what is not an OpenAPI 2.0 document, naming what is wrong", "[kube-schema]") {
  auto fails_with = [](char const* json) {
    auto s = schema::parse(boost::json::parse(json));
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == liftoff::error::parse_error);
    return s.error().message;
  };
  CHECK(fails_with("[]") ==
        "OpenAPI document: expected a JSON object with \"swagger\": \"2.0\" and \"definitions\", got array");
  CHECK(fails_with(R"({"kind": "Job"})").find("no \"swagger\" field") != std::string::npos);
  CHECK(fails_with(R"({"openapi": "3.0.0", "components": {}})") ==
        "OpenAPI document: this is OpenAPI \"3.0.0\"; expected OpenAPI 2.0 (the API server's /openapi/v2, or "
        "swagger.json)");
  CHECK(fails_with(R"({"swagger": "1.2", "definitions": {}})") ==
        "OpenAPI document: swagger: expected \"2.0\", got string \"1.2\"");
  CHECK(fails_with(R"({"swagger": "2.0"})") ==
        "OpenAPI document: definitions: expected an object of schemas, got nothing");
  CHECK(fails_with(R"({"swagger": "2.0", "definitions": {"a.B": {"properties": {"x": {"type": 5}}}}})") ==
        "OpenAPI document: definitions.a.B.properties.x.type: expected a string, got integer 5");
  CHECK(fails_with(R"({"swagger": "2.0", "definitions": {"a.B": {"items": {"$ref": "#/definitions/a.C"}}}})") ==
        "OpenAPI document: definitions.a.B.items.$ref: \"#/definitions/a.C\" names no definition in the document");
  CHECK(fails_with(R"({"swagger": "2.0", "definitions": {"a.B": {"type": "file"}}})").find("a.B.type") !=
        std::string::npos);
  CHECK(fails_with(R"({"swagger": "2.0",
                       "definitions": {"a.B": {"x-kubernetes-group-version-kind": [{"kind": "B"}]}}})")
            .find("a.B.x-kubernetes-group-version-kind") != std::string::npos);
}

TEST_CASE("load names the file it could not use", "[kube-schema]") {
  liftoff::test::temp_dir dir("liftoff-kube-schema");
  auto missing = schema::load(dir / "nope.json");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == liftoff::error::file_not_found);
  CHECK(missing.error().message.find((dir / "nope.json").string()) != std::string::npos);

  liftoff::test::write_file(dir / "bad.json", "{\"swagger\": \"2.0\", ");
  auto bad = schema::load(dir / "bad.json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::parse_error);
  CHECK(bad.error().message.find((dir / "bad.json").string() + ": not valid JSON") == 0);

  liftoff::test::write_file(dir / "v3.json", R"({"openapi": "3.0.0"})");
  auto v3 = schema::load(dir / "v3.json");
  REQUIRE_FALSE(v3.has_value());
  CHECK(v3.error().message.find((dir / "v3.json").string() + ": OpenAPI document: this is OpenAPI") == 0);

  liftoff::test::write_file(dir / "ok.json", R"({"swagger": "2.0", "definitions": {}})");
  auto ok = schema::load(dir / "ok.json");
  REQUIRE(ok.has_value());
  CHECK(ok->validate(realistic_job()).size() == 1);  // knows no kinds
}

TEST_CASE("to_diagnostic joins the first ten problems and counts the rest", "[kube-schema]") {
  std::vector<schema_problem> problems;
  for (int i = 0; i < 13; ++i) problems.push_back({"spec.f" + std::to_string(i), "required field missing"});
  problems.push_back({"", "expected a Kubernetes object"});
  auto const d = schema::to_diagnostic(problems, R"(Job "ml/train")");
  CHECK(d.code == liftoff::error::invalid_spec);
  CHECK(d.message.starts_with(
      "Job \"ml/train\" is not valid: spec.f0: required field missing; spec.f1: required field missing; "));
  CHECK(d.message.find("spec.f9: required field missing; and 4 more problems") != std::string::npos);
  CHECK(d.message.find("spec.f10") == std::string::npos);

  auto const one = schema::to_diagnostic({{"", "expected a Kubernetes object"}}, "object");
  CHECK(one.message == "object is not valid: expected a Kubernetes object");
}

TEST_CASE("describe names an object by kind, namespace and name", "[kube-schema]") {
  CHECK(schema::describe(realistic_job()) == R"(Job "ml/train-7f3a")");
  CHECK(schema::describe(boost::json::parse(R"({"kind": "Pod", "metadata": {"generateName": "train-"}})")) ==
        R"(Pod "train-")");
  CHECK(schema::describe(boost::json::parse(R"({"kind": "Pod"})")) == "Pod");
  CHECK(schema::describe(boost::json::parse("[]")) == "object");
}
