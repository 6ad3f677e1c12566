#ifndef LIFTOFF_TESTS_UNIT_CORE_FAKE_POLICIES_HPP
#define LIFTOFF_TESTS_UNIT_CORE_FAKE_POLICIES_HPP

// Minimal in-memory policies that record what the pipeline asks of them.

#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>
#include <liftoff/core/run_status.hpp>

#include <memory>
#include <string>
#include <vector>

namespace fake {

struct journal {
  std::vector<std::string> calls;
  liftoff::launch_spec started_with;
};

struct run {
  std::string run_id;
  liftoff::run_status st{liftoff::run_state::running};
  std::string id() const { return run_id; }
  liftoff::run_status status() { return st; }
  liftoff::run_status wait() {
    if (!st.terminal()) st = {liftoff::run_state::finished, 0};
    return st;
  }
  void cancel(std::chrono::milliseconds) { st = {liftoff::run_state::stopped}; }
  std::vector<liftoff::log_line> logs() const { return {{liftoff::log_stream::out, "hello"}}; }
};

struct code_source {
  static constexpr liftoff::source_kind kind = liftoff::source_kind::code;
  static constexpr liftoff::artifact_kind produces = liftoff::artifact_kind::directory;
  std::shared_ptr<journal> j = std::make_shared<journal>();
  bool fail = false;
  liftoff::result<liftoff::artifact> fetch(liftoff::launch_spec const&, liftoff::launch_options const&) {
    j->calls.push_back("fetch");
    if (fail) return liftoff::diagnostic(liftoff::error::file_not_found, "code: /nope: no such directory");
    return liftoff::artifact{liftoff::artifact_kind::directory, "/job", "", "sha256:00"};
  }
};

struct image_source {
  static constexpr liftoff::source_kind kind = liftoff::source_kind::image;
  static constexpr liftoff::artifact_kind produces = liftoff::artifact_kind::registry_image;
  liftoff::result<liftoff::artifact> fetch(liftoff::launch_spec const& s, liftoff::launch_options const&) {
    return liftoff::artifact{liftoff::artifact_kind::registry_image, {}, std::get<liftoff::image_ref>(s.source).image};
  }
};

/// Builds an image from a directory.
struct image_builder {
  static constexpr bool accepts(liftoff::artifact_kind k) { return k == liftoff::artifact_kind::directory; }
  static constexpr liftoff::artifact_kind output(liftoff::artifact_kind) { return liftoff::artifact_kind::local_image; }
  std::shared_ptr<journal> j = std::make_shared<journal>();
  bool fail = false;
  liftoff::result<liftoff::artifact> build(liftoff::artifact const& in, liftoff::launch_spec const&,
                                           liftoff::launch_options const&) {
    j->calls.push_back("build");
    if (fail) return liftoff::diagnostic(liftoff::error::build_failed, "step 2/3: exit code 1");
    return liftoff::artifact{liftoff::artifact_kind::local_image, {}, "local/img:" + in.digest.substr(7)};
  }
};

struct pass_builder {
  static constexpr bool accepts(liftoff::artifact_kind) { return true; }
  static constexpr liftoff::artifact_kind output(liftoff::artifact_kind k) { return k; }
  liftoff::result<liftoff::artifact> build(liftoff::artifact const& in, liftoff::launch_spec const&,
                                           liftoff::launch_options const&) { return in; }
};

struct pass_transport {
  static constexpr bool accepts(liftoff::artifact_kind) { return true; }
  static constexpr liftoff::artifact_kind output(liftoff::artifact_kind k) { return k; }
  liftoff::result<liftoff::artifact> deliver(liftoff::artifact const& in, liftoff::launch_spec const&,
                                             liftoff::launch_options const&) { return in; }
};

/// Pushes a local image to a registry.
struct push_transport {
  static constexpr bool accepts(liftoff::artifact_kind k) { return k != liftoff::artifact_kind::directory; }
  static constexpr liftoff::artifact_kind output(liftoff::artifact_kind) { return liftoff::artifact_kind::registry_image; }
  liftoff::result<liftoff::artifact> deliver(liftoff::artifact const& in, liftoff::launch_spec const&,
                                             liftoff::launch_options const&) {
    return liftoff::artifact{liftoff::artifact_kind::registry_image, {}, "registry.test/" + in.image};
  }
};

template <liftoff::artifact_kind... Kinds>
struct target {
  using run_type = fake::run;
  static constexpr liftoff::hook_set hooks = liftoff::hook::validate;
  static constexpr bool accepts(liftoff::artifact_kind k) { return ((k == Kinds) || ...); }
  std::shared_ptr<journal> j = std::make_shared<journal>();
  bool reject_args = false;
  liftoff::result<void> validate(liftoff::launch_spec const&) const {
    if (reject_args) return liftoff::diagnostic(liftoff::error::invalid_spec, "resource_args.fake.x: expected a string, got array");
    return {};
  }
  liftoff::result<run_type> start(liftoff::artifact const&, liftoff::launch_spec const& spec,
                                  liftoff::launch_options const& o) {
    j->calls.push_back("start");
    j->started_with = spec;
    o.report({liftoff::run_state::running});
    return run{spec.run_id};
  }
};

using directory_target = target<liftoff::artifact_kind::directory>;
using image_target = target<liftoff::artifact_kind::local_image, liftoff::artifact_kind::registry_image>;
using cluster_target = target<liftoff::artifact_kind::registry_image>;

}  // namespace fake

#endif
