#include <liftoff/core/launcher.hpp>

#include <liftoff/docker/builder.hpp>
#include <liftoff/sagemaker/ecr_push.hpp>
#include <liftoff/docker/registry_push.hpp>

#include <catch2/catch.hpp>

#include "unit/core/fake_policies.hpp"

// The launcher's skip-build hook: a builder that can plan its output and a
// transport that can find it at its destination let an unchanged job skip
// both the build and the delivery.

namespace {

using liftoff::artifact;
using liftoff::artifact_kind;

/// A builder that says what it would build (`planned`) and records its calls.
struct planning_builder {
  static constexpr liftoff::hook_set hooks = liftoff::hook::plan;
  static constexpr bool accepts(artifact_kind k) { return k == artifact_kind::directory; }
  static constexpr artifact_kind output(artifact_kind) { return artifact_kind::local_image; }
  std::shared_ptr<fake::journal> j = std::make_shared<fake::journal>();
  bool plan_fails = false;

  liftoff::result<std::optional<artifact>> planned(artifact const& in, liftoff::launch_spec const&) const {
    j->calls.push_back("planned");
    if (plan_fails) return std::optional<artifact>();
    return std::optional<artifact>(artifact{artifact_kind::local_image, {}, "liftoff/job:0123", in.digest});
  }
  liftoff::result<artifact> build(artifact const& in, liftoff::launch_spec const&, liftoff::launch_options const&) {
    j->calls.push_back("build");
    return artifact{artifact_kind::local_image, {}, "liftoff/job:0123", in.digest};
  }
};

/// What the finding transport answers to `find`.
enum class lookup { found, absent, fails };

/// A transport that can look its destination up (`find`) and records its calls.
struct finding_transport {
  static constexpr liftoff::hook_set hooks = liftoff::hook::find;
  static constexpr bool accepts(artifact_kind k) { return k != artifact_kind::directory; }
  static constexpr artifact_kind output(artifact_kind) { return artifact_kind::registry_image; }
  std::shared_ptr<fake::journal> j = std::make_shared<fake::journal>();
  lookup answer = lookup::found;
  /// The planned image and digest `find` was asked about.
  std::shared_ptr<std::string> looked_up = std::make_shared<std::string>();

  liftoff::result<std::optional<artifact>> find(artifact const& planned, liftoff::launch_spec const&,
                                                liftoff::launch_options const&) const {
    j->calls.push_back("find");
    *looked_up = planned.image + " " + planned.digest;
    switch (answer) {
      case lookup::found:
        return std::optional<artifact>(
            artifact{artifact_kind::registry_image, {}, "registry.test/job@sha256:feed", planned.digest});
      case lookup::absent: return std::optional<artifact>();
      case lookup::fails: break;
    }
    return liftoff::diagnostic(liftoff::error::unauthorized, "ECR DescribeImages: the credentials were refused");
  }
  liftoff::result<artifact> deliver(artifact const& in, liftoff::launch_spec const&,
                                    liftoff::launch_options const& o) {
    j->calls.push_back("deliver");
    if (o.dry_run()) return artifact{artifact_kind::registry_image, {}, "registry.test/job:dry", in.digest};
    return artifact{artifact_kind::registry_image, {}, "registry.test/job@sha256:pushed", in.digest};
  }
};

/// A cluster target that remembers which image it was asked to run.
struct recording_target : fake::cluster_target {
  std::shared_ptr<std::string> ran = std::make_shared<std::string>();
  liftoff::result<run_type> start(artifact const& in, liftoff::launch_spec const& spec,
                                  liftoff::launch_options const& o) {
    *ran = in.image;
    return fake::cluster_target::start(in, spec, o);
  }
};

using skipping_launcher = liftoff::launcher<fake::code_source, planning_builder, finding_transport, recording_target>;

liftoff::launch_spec code_spec() {
  liftoff::launch_spec s;
  s.source = liftoff::code_dir{"/job"};
  s.project = "mnist";
  s.resource_args["fake"] = boost::json::object{{"img", "${image_uri}"}};
  return s;
}

std::vector<std::string> const builds_and_delivers{"planned", "build"};

}  // namespace

TEST_CASE("an artifact the transport finds at its destination is neither built nor delivered",
          "[core][launcher][launcher-skip]") {
  skipping_launcher l;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE(r.has_value());
  CHECK(l.builder_policy().j->calls == std::vector<std::string>{"planned"});
  CHECK(l.transport_policy().j->calls == std::vector<std::string>{"find"});
  // find() was asked about what the builder planned, from the fetched code's digest.
  CHECK(*l.transport_policy().looked_up == "liftoff/job:0123 sha256:00");
  CHECK(*l.target_policy().ran == "registry.test/job@sha256:feed");
  // The found image is what ${image_uri} names.
  CHECK(l.target_policy().j->started_with.args_for("fake").at("img").as_string() == "registry.test/job@sha256:feed");
}

TEST_CASE("an artifact the transport does not find is built and delivered", "[core][launcher][launcher-skip]") {
  skipping_launcher l;
  l.transport_policy().answer = lookup::absent;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE(r.has_value());
  CHECK(l.builder_policy().j->calls == builds_and_delivers);
  CHECK(l.transport_policy().j->calls == std::vector<std::string>{"find", "deliver"});
  CHECK(*l.target_policy().ran == "registry.test/job@sha256:pushed");
}

TEST_CASE("a failed lookup builds and delivers instead of failing the launch", "[core][launcher][launcher-skip]") {
  skipping_launcher l;
  l.transport_policy().answer = lookup::fails;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE(r.has_value());
  CHECK(l.builder_policy().j->calls == builds_and_delivers);
  CHECK(l.transport_policy().j->calls == std::vector<std::string>{"find", "deliver"});
  CHECK(*l.target_policy().ran == "registry.test/job@sha256:pushed");
}

TEST_CASE("a plan that fails leaves the build to report why, without a lookup", "[core][launcher][launcher-skip]") {
  skipping_launcher l;
  l.builder_policy().plan_fails = true;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE(r.has_value());
  CHECK(l.builder_policy().j->calls == builds_and_delivers);
  CHECK(l.transport_policy().j->calls == std::vector<std::string>{"deliver"});
}

TEST_CASE("a dry run makes no lookup and shows the build and delivery", "[core][launcher][launcher-skip]") {
  skipping_launcher l;
  liftoff::launch_options o;
  std::vector<boost::json::object> emitted;
  o.on_dry_run = [&](boost::json::object const& a) { emitted.push_back(a); };
  auto r = l.try_launch(code_spec(), o);
  REQUIRE(r.has_value());
  CHECK(l.builder_policy().j->calls == std::vector<std::string>{"build"});
  CHECK(l.transport_policy().j->calls == std::vector<std::string>{"deliver"});
  CHECK(*l.target_policy().ran == "registry.test/job:dry");
}

TEST_CASE("a failing build after an unsuccessful lookup keeps its stage", "[core][launcher][launcher-skip]") {
  using failing_launcher = liftoff::launcher<fake::code_source, fake::image_builder, finding_transport, recording_target>;
  failing_launcher l;
  l.builder_policy().fail = true;
  auto r = l.try_launch(code_spec(), {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().stage == liftoff::failure_stage::build);
  // fake::image_builder cannot plan, so no lookup is made at all.
  CHECK(l.transport_policy().j->calls.empty());
  CHECK(l.target_policy().ran->empty());
}

TEST_CASE("the skip-build hook's concepts", "[core][launcher][launcher-skip]") {
  STATIC_REQUIRE(liftoff::has_plan<planning_builder>);
  STATIC_REQUIRE(liftoff::has_find<finding_transport>);
  STATIC_REQUIRE(liftoff::declares_hook<planning_builder>(liftoff::hook::plan));
  STATIC_REQUIRE(liftoff::declares_hook<finding_transport>(liftoff::hook::find));
  STATIC_REQUIRE(liftoff::declares_hook<liftoff::docker_builder>(liftoff::hook::plan));
  STATIC_REQUIRE(liftoff::declares_hook<liftoff::ecr_push>(liftoff::hook::find));
  STATIC_REQUIRE_FALSE(liftoff::has_plan<fake::image_builder>);
  STATIC_REQUIRE_FALSE(liftoff::declares_hook<fake::image_builder>(liftoff::hook::plan));
  STATIC_REQUIRE_FALSE(liftoff::has_find<fake::push_transport>);
  STATIC_REQUIRE_FALSE(liftoff::declares_hook<liftoff::registry_push>(liftoff::hook::find));
}
