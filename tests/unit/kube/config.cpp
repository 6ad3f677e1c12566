#include <liftoff/kube/config.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/detail/base64.hpp>

#include "support/env_guard.hpp"
#include "support/test_support.hpp"

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <thread>

using liftoff::error;
using liftoff::kube::connection_config;
using liftoff::kube::credentials;
using liftoff::kube::load_config;
using liftoff::kube::load_options;
using liftoff::test::env_guard;
using liftoff::test::temp_dir;
using liftoff::test::write_file;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string b64(std::string const& s) { return liftoff::detail::base64_encode(s); }

load_options files(std::vector<std::filesystem::path> f, std::string context = {}) {
  load_options o;
  o.files = std::move(f);
  o.context = std::move(context);
  return o;
}

std::string const one_cluster = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: )" + b64("CA PEM TEXT") + R"(
    tls-server-name: kubernetes.default.svc
users:
- name: alice
  user:
    token: abc.def.ghi
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: alice
    namespace: team-a
- name: other
  context:
    cluster: dev-cluster
    user: alice
)";

/// RFC 3339 for now + `d`.
std::string rfc3339_in(std::chrono::seconds d) {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + d);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int count_lines(std::filesystem::path const& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return 0;
  auto text = liftoff::test::read_file(p);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

/** A plugin that counts its runs, records its KUBERNETES_EXEC_INFO and prints
    the ExecCredential in $CRED_FILE with TOKEN replaced by "tok-<run number>". */
struct plugin_fixture {
  temp_dir dir{"liftoff-kube-exec"};
  std::filesystem::path counter = dir / "runs";
  std::filesystem::path info = dir / "exec-info.json";
  std::filesystem::path cred = dir / "cred.json";

  plugin_fixture() {
    write_file(dir / "bin" / "plugin.sh", R"(#!/bin/sh
echo run >> "$COUNTER"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"
n=$(wc -l < "$COUNTER" | tr -d ' ')
if [ -n "$FAIL_WITH" ]; then
  sed "s/TOKEN/secret-tok-$n/" "$CRED_FILE"
  echo "some progress" >&2
  echo "$FAIL_WITH" >&2
  exit 3
fi
if [ -n "$SLOW" ]; then sleep "$SLOW"; fi
sed "s/TOKEN/tok-$n/" "$CRED_FILE"
)");
    ::chmod((dir / "bin" / "plugin.sh").c_str(), 0755);
  }

  void credential(std::string const& expiry, std::string const& api_version = "client.authentication.k8s.io/v1") {
    std::string status = R"("token":"TOKEN")";
    if (!expiry.empty()) status += R"(,"expirationTimestamp":")" + expiry + "\"";
    write_file(cred, R"({"apiVersion":")" + api_version + R"(","kind":"ExecCredential","status":{)" + status + "}}");
  }

  /// A kubeconfig in `dir` whose user runs the plugin by a path relative to the kubeconfig.
  std::filesystem::path kubeconfig(std::string const& extra_env = {}, std::string const& extra_exec = {}) {
    std::string text = R"(current-context: dev
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
users:
- name: alice
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin.sh
      args: [get-token, --cluster, dev]
      installHint: install it with `apt-get install plugin`
      interactiveMode: Never
)" + extra_exec + R"(      env:
      - name: COUNTER
        value: )" + counter.string() + R"(
      - name: INFO_FILE
        value: )" + info.string() + R"(
      - name: CRED_FILE
        value: )" + cred.string() + "\n" + extra_env + R"(
contexts:
- name: dev
  context: {cluster: c, user: alice}
)";
    write_file(dir / "config", text);
    return dir / "config";
  }

  credentials load(std::string const& extra_env = {}, std::string const& extra_exec = {}) {
    auto c = load_config(files({kubeconfig(extra_env, extra_exec)}));
    REQUIRE(c.has_value());
    return credentials(std::move(*c));
  }
};

}  // namespace

TEST_CASE("a kubeconfig gives the context's server, CA, token and namespace", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "config", one_cluster);
  auto c = load_config(files({dir / "config"}));
  REQUIRE(c.has_value());
  CHECK(c->server == "https://10.0.0.1:6443");
  CHECK(c->context == "dev");
  CHECK(c->cluster_name == "dev-cluster");
  CHECK(c->user_name == "alice");
  CHECK(c->namespace_name == "team-a");
  CHECK(c->origin == (dir / "config").string());
  CHECK(c->tls.ca_data == "CA PEM TEXT");
  CHECK(c->tls.server_name == "kubernetes.default.svc");
  CHECK_FALSE(c->tls.insecure_skip_verify);
  CHECK(c->token == "abc.def.ghi");
  CHECK_FALSE(c->exec.has_value());
  CHECK(c->identity() == "user `alice` of context `dev` (" + (dir / "config").string() + ")");
  CHECK_FALSE(contains(c->identity(), "abc.def.ghi"));

  // Another context by name; without a namespace it is "default".
  auto other = load_config(files({dir / "config"}, "other"));
  REQUIRE(other.has_value());
  CHECK(other->context == "other");
  CHECK(other->namespace_name == "default");

  credentials creds(*c);
  CHECK(creds.token().value() == "abc.def.ghi");
  CHECK(creds.exec_runs() == 0);
}

TEST_CASE("an unknown context is an error listing the contexts there are", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "config", one_cluster);
  auto c = load_config(files({dir / "config"}, "prod"));
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().code == error::not_found);
  CHECK(c.error().message ==
        "context `prod` is not in " + (dir / "config").string() + "; there are `dev`, `other`");
}

TEST_CASE("KUBECONFIG merges files: the first to define a name or current-context wins", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "a.yaml", R"(clusters:
- name: shared
  cluster: {server: "https://a.example:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: token-from-a}
contexts:
- name: ctx-a
  context: {cluster: shared, user: u}
)");
  write_file(dir / "b.yaml", R"(current-context: ctx-b
clusters:
- name: shared
  cluster: {server: "https://b.example:6443"}
- name: only-b
  cluster: {server: "https://only-b.example"}
users:
- name: u
  user: {token: token-from-b}
contexts:
- name: ctx-b
  context: {cluster: shared, user: u, namespace: from-b}
- name: ctx-a
  context: {cluster: only-b, user: u}
)");
  std::string const list = (dir / "a.yaml").string() + ":" + (dir / "missing.yaml").string() + "::" +
                           (dir / "b.yaml").string();
  env_guard kubeconfig("KUBECONFIG", list.c_str());

  // current-context comes from b (a sets none); its cluster and user entries from a.
  auto c = load_config();
  REQUIRE(c.has_value());
  CHECK(c->context == "ctx-b");
  CHECK(c->origin == (dir / "b.yaml").string());
  CHECK(c->server == "https://a.example:6443");
  CHECK(c->tls.insecure_skip_verify);
  CHECK(c->token == "token-from-a");
  CHECK(c->namespace_name == "from-b");

  // ctx-a is defined by both: a's definition wins.
  load_options o;
  o.context = "ctx-a";
  auto a = load_config(o);
  REQUIRE(a.has_value());
  CHECK(a->cluster_name == "shared");
  CHECK(a->origin == (dir / "a.yaml").string());

  // When both set current-context, the first file's wins.
  write_file(dir / "a.yaml", liftoff::test::read_file(dir / "a.yaml") + "current-context: ctx-a\n");
  auto first = load_config();
  REQUIRE(first.has_value());
  CHECK(first->context == "ctx-a");

  // An unknown context lists the contexts of every file, once.
  o.context = "nope";
  auto unknown = load_config(o);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(contains(unknown.error().message, "there are `ctx-a`, `ctx-b`"));
  CHECK(contains(unknown.error().message, (dir / "a.yaml").string() + ", " + (dir / "b.yaml").string()));
}

TEST_CASE("a context naming a missing cluster or user is an error naming both", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "config", R"(current-context: dev
clusters:
- name: real
  cluster: {server: "https://x:6443"}
- name: no-server
  cluster: {insecure-skip-tls-verify: true}
users:
- name: alice
  user: {token: t}
contexts:
- name: dev
  context: {cluster: ghost, user: alice}
- name: nouser
  context: {cluster: real, user: bob}
- name: noserver
  context: {cluster: no-server, user: alice}
)");
  auto c = load_config(files({dir / "config"}));
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().code == error::invalid_spec);
  CHECK(contains(c.error().message, "context `dev`"));
  CHECK(contains(c.error().message, "cluster `ghost`"));
  CHECK(contains(c.error().message, "there are `real`, `no-server`"));

  auto u = load_config(files({dir / "config"}, "nouser"));
  REQUIRE_FALSE(u.has_value());
  CHECK(u.error().code == error::invalid_spec);
  CHECK(contains(u.error().message, "context `nouser`"));
  CHECK(contains(u.error().message, "user `bob`"));

  auto s = load_config(files({dir / "config"}, "noserver"));
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().code == error::invalid_spec);
  CHECK(contains(s.error().message, "clusters[no-server].server"));
}

TEST_CASE("malformed YAML is reported with file, line and column", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "config", "clusters:\n- name: a\n  cluster: {server: [unclosed\nusers: []\n");
  auto c = load_config(files({dir / "config"}));
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().code == error::parse_error);
  CHECK(contains(c.error().message, (dir / "config").string() + ":4:"));
  CHECK(contains(c.error().message, "invalid YAML"));

  write_file(dir / "list", "- just\n- a list\n");
  auto l = load_config(files({dir / "list"}));
  REQUIRE_FALSE(l.has_value());
  CHECK(l.error().code == error::parse_error);
  CHECK(contains(l.error().message, (dir / "list").string() + ":1:1: expected a kubeconfig"));

  write_file(dir / "bad-clusters", "clusters: {a: b}\n");
  auto b = load_config(files({dir / "bad-clusters"}));
  REQUIRE_FALSE(b.has_value());
  CHECK(contains(b.error().message, "`clusters` must be a list"));
}

TEST_CASE("no kubeconfig and no cluster: the error says where it looked", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  env_guard kubeconfig("KUBECONFIG", nullptr);
  env_guard home("HOME", dir.path().c_str());
  env_guard host("KUBERNETES_SERVICE_HOST", nullptr);
  load_options o;
  o.service_account_dir = dir / "sa";
  auto c = load_config(o);
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().code == error::file_not_found);
  CHECK(contains(c.error().message, "KUBECONFIG (not set)"));
  CHECK(contains(c.error().message, (dir / ".kube" / "config").string()));
  CHECK(contains(c.error().message, (dir / "sa" / "token").string() + " does not exist"));

  // KUBECONFIG naming only missing files says so.
  auto missing = (dir / "nope.yaml").string();
  env_guard set("KUBECONFIG", missing.c_str());
  auto k = load_config(o);
  REQUIRE_FALSE(k.has_value());
  CHECK(contains(k.error().message, "KUBECONFIG (" + missing + ")"));

  // An explicitly given file that is missing is named.
  auto f = load_config(files({dir / "absent"}));
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error().code == error::file_not_found);
  CHECK(contains(f.error().message, (dir / "absent").string()));
}

TEST_CASE("the home directory's .kube/config is read when KUBECONFIG is not set", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / ".kube" / "config", one_cluster);
  env_guard kubeconfig("KUBECONFIG", nullptr);
  env_guard home("HOME", dir.path().c_str());
  auto c = load_config();
  REQUIRE(c.has_value());
  CHECK(c->origin == (dir / ".kube" / "config").string());
}

TEST_CASE("certificate fields: *-data decoded, files relative to their kubeconfig, unreadable ones named",
          "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "conf" / "ca.pem", "CA");
  write_file(dir / "certs" / "alice.pem", "CERT");
  write_file(dir / "certs" / "alice-key.pem", "KEY");
  write_file(dir / "conf" / "token", "file-token\n");
  write_file(dir / "conf" / "config", R"(current-context: files
clusters:
- name: by-file
  cluster: {server: "https://h:1", certificate-authority: ca.pem}
- name: by-data
  cluster:
    server: https://h:2
    certificate-authority-data: )" + b64("CA DATA") + R"(
- name: bad-data
  cluster: {server: "https://h:3", certificate-authority-data: "not base64!"}
users:
- name: files
  user: {client-certificate: ../certs/alice.pem, client-key: ../certs/alice-key.pem}
- name: data
  user:
    client-certificate-data: )" + b64("CERT DATA") + R"(
    client-key-data: )" + b64("KEY DATA") + R"(
- name: lost-key
  user: {client-certificate: ../certs/alice.pem, client-key: ../certs/missing-key.pem}
- name: half
  user: {client-certificate: ../certs/alice.pem}
- name: token-file
  user: {tokenFile: token}
- name: two-ways
  user: {token: t, username: u, password: p}
- name: legacy
  user: {auth-provider: {name: gcp}}
contexts:
- {name: files, context: {cluster: by-file, user: files}}
- {name: data, context: {cluster: by-data, user: data}}
- {name: bad-data, context: {cluster: bad-data, user: data}}
- {name: lost-key, context: {cluster: by-file, user: lost-key}}
- {name: half, context: {cluster: by-file, user: half}}
- {name: token-file, context: {cluster: by-file, user: token-file}}
- {name: two-ways, context: {cluster: by-file, user: two-ways}}
- {name: legacy, context: {cluster: by-file, user: legacy}}
)");
  auto const config = dir / "conf" / "config";

  auto f = load_config(files({config}, "files"));
  REQUIRE(f.has_value());
  CHECK(std::filesystem::path(f->tls.ca_file) == dir / "conf" / "ca.pem");
  CHECK(std::filesystem::path(f->tls.client_cert_file) == dir / "certs" / "alice.pem");
  CHECK(std::filesystem::path(f->tls.client_key_file) == dir / "certs" / "alice-key.pem");
  CHECK(f->tls.ca_data.empty());

  auto d = load_config(files({config}, "data"));
  REQUIRE(d.has_value());
  CHECK(d->tls.ca_data == "CA DATA");
  CHECK(d->tls.client_cert_data == "CERT DATA");
  CHECK(d->tls.client_key_data == "KEY DATA");
  CHECK(d->tls.ca_file.empty());

  auto bad = load_config(files({config}, "bad-data"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == error::invalid_spec);
  CHECK(contains(bad.error().message, "clusters[bad-data].certificate-authority-data"));

  auto lost = load_config(files({config}, "lost-key"));
  REQUIRE_FALSE(lost.has_value());
  CHECK(lost.error().code == error::file_not_found);
  CHECK(contains(lost.error().message, "users[lost-key].client-key"));
  CHECK(contains(lost.error().message, "missing-key.pem does not exist"));

  auto half = load_config(files({config}, "half"));
  REQUIRE_FALSE(half.has_value());
  CHECK(contains(half.error().message, "users[half].client-certificate"));
  CHECK(contains(half.error().message, "needs `client-key`"));

  auto t = load_config(files({config}, "token-file"));
  REQUIRE(t.has_value());
  CHECK(t->token_file == dir / "conf" / "token");
  CHECK(credentials(*t).token().value() == "file-token");

  auto two = load_config(files({config}, "two-ways"));
  REQUIRE_FALSE(two.has_value());
  CHECK(contains(two.error().message, "more than one authentication method"));
  CHECK_FALSE(contains(two.error().message, ": t"));

  auto legacy = load_config(files({config}, "legacy"));
  REQUIRE_FALSE(legacy.has_value());
  CHECK(legacy.error().code == error::unsupported);
  CHECK(contains(legacy.error().message, "`gcp`"));
}

TEST_CASE("a token file is re-read when it changes", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "token", "first-token\n");
  connection_config c;
  c.server = "https://h:1";
  c.user_name = "bot";
  c.context = "ctx";
  c.origin = "test";
  c.token_file = dir / "token";
  credentials creds(c);
  CHECK(creds.token().value() == "first-token");

  write_file(dir / "token", "second-token\n");
  // Rotation must be seen even when the clock's granularity would hide it.
  std::filesystem::last_write_time(dir / "token", std::filesystem::last_write_time(dir / "token") +
                                                      std::chrono::seconds(2));
  CHECK(creds.token().value() == "second-token");
  CHECK(creds.token().value() == "second-token");

  std::filesystem::remove(dir / "token");
  auto gone = creds.token();
  REQUIRE_FALSE(gone.has_value());
  CHECK(gone.error().code == error::file_not_found);
  CHECK(contains(gone.error().message, "users[bot].tokenFile"));
  CHECK(contains(gone.error().message, (dir / "token").string()));
  CHECK_FALSE(contains(gone.error().message, "second-token"));
}

TEST_CASE("in-cluster configuration from the service-account directory", "[kube-config]") {
  temp_dir dir("liftoff-kube-config");
  write_file(dir / "sa" / "token", "sa-token\n");
  write_file(dir / "sa" / "ca.crt", "CA");
  write_file(dir / "sa" / "namespace", "ml-jobs\n");
  env_guard host("KUBERNETES_SERVICE_HOST", "fd00::1");
  env_guard port("KUBERNETES_SERVICE_PORT", "443");

  auto c = liftoff::kube::in_cluster_config(dir / "sa");
  REQUIRE(c.has_value());
  CHECK(c->server == "https://[fd00::1]:443");
  CHECK(c->namespace_name == "ml-jobs");
  CHECK(c->tls.ca_file == (dir / "sa" / "ca.crt").string());
  CHECK(c->token_file == dir / "sa" / "token");
  CHECK(c->token.empty());
  CHECK(c->user_name == "serviceaccount");
  CHECK(c->origin == "in-cluster service account");
  CHECK(credentials(*c).token().value() == "sa-token");

  {
    env_guard v4("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    CHECK(liftoff::kube::in_cluster_config(dir / "sa").value().server == "https://10.96.0.1:443");
  }

  // load_config falls back to it when there is no kubeconfig and no context was asked for.
  env_guard kubeconfig("KUBECONFIG", nullptr);
  env_guard home("HOME", dir.path().c_str());
  load_options o;
  o.service_account_dir = dir / "sa";
  auto loaded = load_config(o);
  REQUIRE(loaded.has_value());
  CHECK(loaded->origin == "in-cluster service account");

  o.context = "dev";
  auto with_context = load_config(o);
  REQUIRE_FALSE(with_context.has_value());
  CHECK(contains(with_context.error().message, "for context `dev`"));

  o.context.clear();
  o.allow_in_cluster = false;
  CHECK_FALSE(load_config(o).has_value());

  // Without the environment it is not a cluster.
  env_guard no_host("KUBERNETES_SERVICE_HOST", nullptr);
  auto outside = liftoff::kube::in_cluster_config(dir / "sa");
  REQUIRE_FALSE(outside.has_value());
  CHECK(contains(outside.error().message, "KUBERNETES_SERVICE_HOST"));
}

TEST_CASE("an exec plugin's token is cached until it expires or is invalidated", "[kube-config]") {
  plugin_fixture p;
  p.credential(rfc3339_in(std::chrono::hours(1)));
  auto creds = p.load();
  REQUIRE(creds.config().exec.has_value());
  CHECK(creds.config().exec->command == (p.dir / "bin" / "plugin.sh").string());
  CHECK(creds.exec_runs() == 0);  // nothing runs until a token is asked for

  for (int i = 0; i < 5; ++i) CHECK(creds.token().value() == "tok-1");
  CHECK(creds.exec_runs() == 1);
  CHECK(count_lines(p.counter) == 1);

  // Copies share the cache.
  credentials copy = creds;
  CHECK(copy.token().value() == "tok-1");
  CHECK(copy.exec_runs() == 1);

  creds.invalidate();
  CHECK(creds.token().value() == "tok-2");
  CHECK(creds.token().value() == "tok-2");
  CHECK(creds.exec_runs() == 2);
  CHECK(count_lines(p.counter) == 2);
}

TEST_CASE("an exec token expiring within a minute, or already expired, is fetched again", "[kube-config]") {
  plugin_fixture p;
  SECTION("expires in 30 s: inside the minute of margin") { p.credential(rfc3339_in(std::chrono::seconds(30))); }
  SECTION("expired an hour ago, with fractional seconds and an offset") {
    auto past = rfc3339_in(-std::chrono::hours(1));
    p.credential(past.substr(0, past.size() - 1) + ".123456+00:00");
  }
  auto creds = p.load();
  CHECK(creds.token().value() == "tok-1");
  CHECK(creds.token().value() == "tok-2");
  CHECK(creds.token().value() == "tok-3");
  CHECK(creds.exec_runs() == 3);
}

TEST_CASE("an exec token without expiry is kept for the process's life", "[kube-config]") {
  plugin_fixture p;
  p.credential("");
  auto creds = p.load();
  CHECK(creds.token().value() == "tok-1");
  CHECK(creds.token().value() == "tok-1");
  CHECK(creds.exec_runs() == 1);
}

TEST_CASE("the exec plugin gets its args, its env and KUBERNETES_EXEC_INFO", "[kube-config]") {
  plugin_fixture p;
  p.credential("");
  auto creds = p.load("", "      provideClusterInfo: true\n");
  REQUIRE(creds.token().has_value());
  // COUNTER, INFO_FILE and CRED_FILE came from the kubeconfig's env: the plugin used them.
  CHECK(count_lines(p.counter) == 1);
  auto info = boost::json::parse(liftoff::test::read_file(p.info));
  CHECK(info.at("apiVersion") == "client.authentication.k8s.io/v1");
  CHECK(info.at("kind") == "ExecCredential");
  CHECK(info.at("spec").at("interactive") == false);
  CHECK(info.at("spec").at("cluster").at("server") == "https://127.0.0.1:6443");
  CHECK(info.at("spec").at("cluster").at("insecure-skip-tls-verify") == true);

  // Without provideClusterInfo there is no cluster.
  plugin_fixture q;
  q.credential("");
  auto plain = q.load();
  REQUIRE(plain.token().has_value());
  auto plain_info = boost::json::parse(liftoff::test::read_file(q.info));
  CHECK(plain_info.at("spec").as_object().if_contains("cluster") == nullptr);
}

TEST_CASE("two threads asking at once run the exec plugin once", "[kube-config]") {
  plugin_fixture p;
  p.credential(rfc3339_in(std::chrono::hours(1)));
  // The plugin takes a while, so the second thread asks while the first one's plugin runs.
  auto creds = p.load("      - name: SLOW\n        value: \"0.3\"\n");
  std::string a, b;
  std::thread t1([&] { a = creds.token().value(); });
  std::thread t2([&] { b = creds.token().value(); });
  t1.join();
  t2.join();
  CHECK(a == "tok-1");
  CHECK(b == "tok-1");
  CHECK(creds.exec_runs() == 1);
  CHECK(count_lines(p.counter) == 1);
}

TEST_CASE("a failing exec plugin names its command and stderr, never the token", "[kube-config]") {
  plugin_fixture p;
  p.credential("");
  auto creds = p.load("      - name: FAIL_WITH\n        value: \"error: you must log in again\"\n");
  auto t = creds.token();
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().code == error::unauthorized);
  CHECK(contains(t.error().message, "exec plugin `" + (p.dir / "bin" / "plugin.sh").string() + "`"));
  CHECK(contains(t.error().message, "user `alice` of context `dev`"));
  CHECK(contains(t.error().message, "exited with code 3: error: you must log in again"));
  CHECK_FALSE(contains(t.error().message, "secret-tok"));
  // A failure is not cached: the next call tries again.
  CHECK_FALSE(creds.token().has_value());
  CHECK(creds.exec_runs() == 2);
}

TEST_CASE("exec plugin output is checked: apiVersion, kind, status", "[kube-config]") {
  plugin_fixture p;
  SECTION("another apiVersion than configured") {
    p.credential("", "client.authentication.k8s.io/v1beta1");
    auto t = p.load().token();
    REQUIRE_FALSE(t.has_value());
    CHECK(contains(t.error().message,
                   "is configured for apiVersion `client.authentication.k8s.io/v1` but returned "
                   "`client.authentication.k8s.io/v1beta1`"));
  }
  SECTION("not JSON") {
    write_file(p.cred, "TOKEN is not json");
    auto t = p.load().token();
    REQUIRE_FALSE(t.has_value());
    CHECK(contains(t.error().message, "did not print an ExecCredential"));
    CHECK_FALSE(contains(t.error().message, "tok-1"));
  }
  SECTION("no token and no certificate") {
    write_file(p.cred, R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})");
    auto t = p.load().token();
    REQUIRE_FALSE(t.has_value());
    CHECK(contains(t.error().message, "neither status.token"));
  }
  SECTION("a bad expirationTimestamp") {
    p.credential("tomorrow");
    auto t = p.load().token();
    REQUIRE_FALSE(t.has_value());
    CHECK(contains(t.error().message, "expirationTimestamp"));
  }
}

TEST_CASE("an exec plugin that is not installed shows its install hint", "[kube-config]") {
  temp_dir dir("liftoff-kube-exec");
  write_file(dir / "config", R"(current-context: dev
clusters: [{name: c, cluster: {server: "https://h:1"}}]
users:
- name: alice
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: liftoff-no-such-auth-plugin
      installHint: "Install it: apt-get install liftoff-auth"
contexts: [{name: dev, context: {cluster: c, user: alice}}]
)");
  auto c = load_config(files({dir / "config"}));
  REQUIRE(c.has_value());
  credentials creds(*c);
  auto t = creds.token();
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().code == error::unauthorized);
  CHECK(contains(t.error().message, "`liftoff-no-such-auth-plugin` is not found on PATH"));
  CHECK(contains(t.error().message, "Install it: apt-get install liftoff-auth"));

  // Unsupported or missing apiVersion is caught when loading.
  write_file(dir / "config2", R"(current-context: dev
clusters: [{name: c, cluster: {server: "https://h:1"}}]
users: [{name: alice, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}}]
contexts: [{name: dev, context: {cluster: c, user: alice}}]
)");
  auto old = load_config(files({dir / "config2"}));
  REQUIRE_FALSE(old.has_value());
  CHECK(contains(old.error().message, "users[alice].exec.apiVersion"));
}

TEST_CASE("client options sign requests with the bearer token or basic auth", "[kube-config]") {
  connection_config c;
  c.server = "https://h:1";
  c.token = "tok-abc";
  c.tls.ca_data = "CA";
  credentials creds(c);
  auto opts = liftoff::kube::client_options_for(creds);
  REQUIRE(opts.has_value());
  CHECK(opts->tls.ca_data == "CA");
  liftoff::net::request r;
  REQUIRE(opts->signer(r).has_value());
  CHECK(r.headers[boost::beast::http::field::authorization] == "Bearer tok-abc");

  connection_config basic;
  basic.server = "https://h:1";
  basic.username = "admin";
  basic.password = "pw";
  credentials basic_creds(basic);
  auto bo = liftoff::kube::client_options_for(basic_creds);
  REQUIRE(bo.has_value());
  liftoff::net::request br;
  REQUIRE(bo->signer(br).has_value());
  CHECK(br.headers[boost::beast::http::field::authorization] == "Basic " + b64("admin:pw"));

  connection_config none;
  none.server = "https://h:1";
  credentials none_creds(none);
  auto no = liftoff::kube::client_options_for(none_creds);
  liftoff::net::request nr;
  REQUIRE(no->signer(nr).has_value());
  CHECK(nr.headers.find(boost::beast::http::field::authorization) == nr.headers.end());
}
