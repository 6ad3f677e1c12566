#ifndef LIFTOFF_TESTS_SUPPORT_DOCKER_SUPPORT_HPP
#define LIFTOFF_TESTS_SUPPORT_DOCKER_SUPPORT_HPP

// What the tests against the real Docker engine share.

#include <liftoff/docker/engine.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <optional>

namespace liftoff::test {

/// The base image .ci/start-docker imports from busybox-static (no registry is reachable).
inline constexpr char const* docker_base_image = "liftoff-test/busybox:latest";

/// The engine (DOCKER_HOST, else the default socket), or nullopt after saying why the test is skipped.
inline std::optional<docker::engine> engine_or_skip() {
  auto e = docker::engine::connect();
  if (!e) {
    WARN("skipped: no Docker engine answers (start one with .ci/start-docker): " << e.error().message);
    return std::nullopt;
  }
  auto img = e->inspect_image(docker_base_image);
  if (!img || !*img) {
    WARN("skipped: the image " << docker_base_image << " is missing (run .ci/start-docker)");
    return std::nullopt;
  }
  return std::move(*e);
}

/// Runs the docker CLI with `args` against the engine the tests use.
inline command_result docker_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "docker");
  return run_command(args);
}

/// For tests that drive the docker CLI: false, after saying why, when no engine or no test image is there.
inline bool docker_cli_ready() {
  auto v = docker_cli({"version", "--format", "{{.Server.APIVersion}}"});
  if (v.exit_code != 0) {
    WARN("skipped: no Docker engine answers (start one with .ci/start-docker): " << v.err);
    return false;
  }
  if (docker_cli({"image", "inspect", docker_base_image}).exit_code != 0) {
    WARN("skipped: the image " << docker_base_image << " is missing (run .ci/start-docker)");
    return false;
  }
  return true;
}

}  // namespace liftoff::test

#endif
