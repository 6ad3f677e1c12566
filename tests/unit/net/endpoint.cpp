#include <liftoff/net/endpoint.hpp>

#include <catch2/catch.hpp>

using liftoff::net::parse_endpoint;
using liftoff::net::transport_kind;

TEST_CASE("parse_endpoint reads unix, http, https and tcp endpoints", "[net]") {
  auto docker = parse_endpoint("unix:///var/run/docker.sock");
  REQUIRE(docker.has_value());
  CHECK(docker->kind == transport_kind::unix_socket);
  CHECK(docker->socket_path == "/var/run/docker.sock");
  CHECK(docker->to_string() == "unix:///var/run/docker.sock");
  CHECK(docker->host_header() == "localhost");

  auto local = parse_endpoint("http://127.0.0.1:2375");
  REQUIRE(local.has_value());
  CHECK(local->kind == transport_kind::tcp);
  CHECK(local->host == "127.0.0.1");
  CHECK(local->host_is_ip);
  CHECK(local->port == 2375);
  CHECK(local->host_header() == "127.0.0.1:2375");

  auto k8s = parse_endpoint("https://10.0.0.1:6443");
  REQUIRE(k8s.has_value());
  CHECK(k8s->kind == transport_kind::tls);
  CHECK(k8s->port == 6443);

  auto docker_host = parse_endpoint("tcp://docker.internal:2376");
  REQUIRE(docker_host.has_value());
  CHECK(docker_host->kind == transport_kind::tcp);
  CHECK(docker_host->host == "docker.internal");
  CHECK_FALSE(docker_host->host_is_ip);
  CHECK(docker_host->to_string() == "http://docker.internal:2376");
}

TEST_CASE("parse_endpoint fills default ports, IPv6 literals and base paths", "[net]") {
  auto https = parse_endpoint("https://api.example.com/k8s/clusters/c-1/");
  REQUIRE(https.has_value());
  CHECK(https->port == 443);
  CHECK(https->base_path == "/k8s/clusters/c-1");
  CHECK(https->host_header() == "api.example.com");

  auto http = parse_endpoint("http://example.com");
  REQUIRE(http.has_value());
  CHECK(http->port == 80);
  CHECK(http->base_path.empty());

  auto v6 = parse_endpoint("http://[::1]:8080");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->host_is_ip);
  CHECK(v6->host_header() == "[::1]:8080");
}

TEST_CASE("parse_endpoint refuses what it cannot use, with a reason", "[net]") {
  auto ftp = parse_endpoint("ftp://example.com");
  REQUIRE_FALSE(ftp.has_value());
  CHECK(ftp.error().code == liftoff::error::invalid_spec);
  CHECK(ftp.error().message.find("unsupported scheme 'ftp'") != std::string::npos);

  auto no_port = parse_endpoint("tcp://example.com");
  REQUIRE_FALSE(no_port.has_value());
  CHECK(no_port.error().message.find("need a port") != std::string::npos);

  auto relative = parse_endpoint("unix://relative.sock");
  REQUIRE_FALSE(relative.has_value());

  CHECK_FALSE(parse_endpoint("not a url").has_value());
  CHECK_FALSE(parse_endpoint("http://").has_value());
  CHECK_FALSE(parse_endpoint("http://host:0").has_value());

  auto creds = parse_endpoint("https://admin:hunter22@example.com");
  REQUIRE_FALSE(creds.has_value());
  CHECK(creds.error().message.find("hunter22") == std::string::npos);
  CHECK(creds.error().message.find("credentials") != std::string::npos);
}
