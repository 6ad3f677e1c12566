#include <liftoff/net/tls.hpp>

#include <liftoff/net/client.hpp>

#include "support/net_test_certs.hpp"
#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

using liftoff::net::client;
using liftoff::net::client_options;
using liftoff::net::request;
using liftoff::net::tls_options;
using liftoff::test::net_exchange;
using liftoff::test::net_test_server;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

void hello(net_exchange& ex) { ex.respond(200, "hello " + ex.request().client_cert_subject); }

liftoff::result<liftoff::net::response> get(std::string const& url, tls_options tls) {
  client_options opts;
  opts.tls = std::move(tls);
  opts.max_attempts = 1;
  request r;
  r.target = "/api";
  return client::create(url, std::move(opts)).value().send(std::move(r));
}

// Certificates are slow-ish to make; share them across the tests of this file.
liftoff::test::test_ca const& ca() {
  static liftoff::test::test_ca instance;
  return instance;
}

}  // namespace

TEST_CASE("https with a CA given as data or as a file", "[net]") {
  auto cert = ca().issue_server({"localhost"}, {"127.0.0.1"});
  auto server = net_test_server::tls(hello, {cert.cert, cert.key, {}});

  tls_options with_data;
  with_data.ca_data = ca().cert_pem();
  auto got = get(server->url(), with_data);
  REQUIRE(got.has_value());
  CHECK(got->status == 200);
  CHECK(got->body == "hello ");

  liftoff::test::temp_dir dir("liftoff-net-tls");
  liftoff::test::write_file(dir / "ca.pem", ca().cert_pem());
  tls_options with_file;
  with_file.ca_file = (dir / "ca.pem").string();
  REQUIRE(get(server->url(), with_file).has_value());

  // Host name verification with an explicit server name (sent as SNI too).
  auto named = ca().issue_server({"kubernetes.default.svc"}, {});
  auto named_server = net_test_server::tls(hello, {named.cert, named.key, {}});
  tls_options by_name;
  by_name.ca_data = ca().cert_pem();
  by_name.server_name = "kubernetes.default.svc";
  CHECK(get(named_server->url(), by_name).has_value());
  by_name.server_name = "other.example";
  CHECK_FALSE(get(named_server->url(), by_name).has_value());
}

TEST_CASE("mutual TLS with a client certificate from data or files", "[net]") {
  auto cert = ca().issue_server({"localhost"}, {"127.0.0.1"});
  auto client_cert = ca().issue_client("build-agent");
  auto server = net_test_server::tls(hello, {cert.cert, cert.key, ca().cert_pem()});

  tls_options without;
  without.ca_data = ca().cert_pem();
  auto refused = get(server->url(), without);
  REQUIRE_FALSE(refused.has_value());
  CHECK(contains(refused.error().message, "GET " + server->url() + "/api: "));
  CHECK(contains(refused.error().message, "client certificate"));

  tls_options with_data = without;
  with_data.client_cert_data = client_cert.cert;
  with_data.client_key_data = client_cert.key;
  auto got = get(server->url(), with_data);
  REQUIRE(got.has_value());
  CHECK(contains(got->body, "CN=build-agent"));

  liftoff::test::temp_dir dir("liftoff-net-mtls");
  liftoff::test::write_file(dir / "client.pem", client_cert.cert);
  liftoff::test::write_file(dir / "client-key.pem", client_cert.key);
  tls_options with_files = without;
  with_files.client_cert_file = (dir / "client.pem").string();
  with_files.client_key_file = (dir / "client-key.pem").string();
  auto from_files = get(server->url(), with_files);
  REQUIRE(from_files.has_value());
  CHECK(contains(from_files->body, "CN=build-agent"));

  tls_options half = without;
  half.client_cert_data = client_cert.cert;
  auto no_key = get(server->url(), half);
  REQUIRE_FALSE(no_key.has_value());
  CHECK(contains(no_key.error().message, "a client certificate needs its private key"));
}

TEST_CASE("an untrusted or mismatched certificate fails verification; insecure mode accepts it", "[net]") {
  auto self_signed = liftoff::test::make_self_signed_server_cert({"localhost"}, {"127.0.0.1"});
  auto server = net_test_server::tls(hello, {self_signed.cert, self_signed.key, {}});

  tls_options trusting_ca;
  trusting_ca.ca_data = ca().cert_pem();
  auto untrusted = get(server->url(), trusting_ca);
  REQUIRE_FALSE(untrusted.has_value());
  CHECK(untrusted.error().message == "GET " + server->url() + "/api: TLS certificate verification failed: self-signed certificate");

  tls_options insecure = trusting_ca;
  insecure.insecure_skip_verify = true;
  auto accepted = get(server->url(), insecure);
  REQUIRE(accepted.has_value());
  CHECK(accepted->status == 200);

  // Signed by the trusted CA, but for another host.
  auto other = ca().issue_server({"other.example"}, {"10.9.9.9"});
  auto other_server = net_test_server::tls(hello, {other.cert, other.key, {}});
  auto mismatch = get(other_server->url(), trusting_ca);
  REQUIRE_FALSE(mismatch.has_value());
  CHECK(mismatch.error().message ==
        "GET " + other_server->url() + "/api: TLS certificate verification failed: the certificate is not valid for '127.0.0.1'");
  CHECK(get(other_server->url(), insecure).has_value());
}

TEST_CASE("unusable TLS material is reported without echoing it", "[net]") {
  tls_options bad;
  bad.ca_data = "-----BEGIN CERTIFICATE-----\nnot-a-certificate-SECRETISH\n-----END CERTIFICATE-----\n";
  auto got = get("https://127.0.0.1:1", bad);
  REQUIRE_FALSE(got.has_value());
  CHECK(contains(got.error().message, "cannot load the certificate-authority data"));
  CHECK_FALSE(contains(got.error().message, "SECRETISH"));

  tls_options missing;
  missing.ca_file = "/nonexistent/ca.pem";
  auto no_file = get("https://127.0.0.1:1", missing);
  REQUIRE_FALSE(no_file.has_value());
  CHECK(contains(no_file.error().message, "cannot load the CA file /nonexistent/ca.pem"));
}
