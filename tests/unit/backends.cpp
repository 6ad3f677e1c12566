#include <liftoff/backends.hpp>

#include <catch2/catch.hpp>

#include <set>

using namespace liftoff;

TEST_CASE("the library lists each backend once, by its resource", "[backends]") {
  CHECK(backend_names() == std::vector<std::string>{"local-process", "local-container", "kubernetes", "sagemaker"});
  for (auto const* b : backends()) {
    INFO(b->resource);
    CHECK(find_backend(b->resource) == b);
    CHECK_FALSE(b->summary.empty());
    CHECK(b->add_launchers);
    CHECK(b->reattach);
  }
  CHECK(find_backend("local-proces") == nullptr);
}

TEST_CASE("every backend registers launchers for its own resource only", "[backends]") {
  for (auto const* b : backends()) {
    INFO(b->resource);
    launcher_registry reg;
    b->add_launchers(reg, {});
    CHECK(reg.resources() == std::vector<std::string>{b->resource});
    CHECK_FALSE(reg.sources_for(b->resource).empty());
  }
}

TEST_CASE("make_registry has every backend and their defaults", "[backends]") {
  auto reg = make_registry();
  auto names = backend_names();
  std::sort(names.begin(), names.end());
  CHECK(reg.resources() == names);
  launch_spec s;
  for (auto src : {job_source(image_ref{"busybox"}), job_source(code_dir{"."}), job_source(git_ref{"https://x/r.git"})}) {
    s.source = src;
    CHECK(reg.resource_for(s) == "local-container");
  }
  CHECK(reg.sources_for("local-process") == std::vector<source_kind>{source_kind::code, source_kind::git});
  CHECK(reg.sources_for("kubernetes").size() == 3);
  CHECK(reg.sources_for("sagemaker").size() == 3);
}

TEST_CASE("backend options are unique and say where their value goes", "[backends]") {
  std::set<std::string> flags;
  for (auto const* b : backends())
    for (auto const& o : b->options) {
      INFO(o.flag);
      CHECK(flags.insert(o.flag).second);
      CHECK(o.flag.rfind("--", 0) == 0);
      CHECK(o.resource_arg.empty() != o.setting.empty());  // exactly one destination
      CHECK_FALSE(o.help.empty());
      if (!o.choices.empty() && !o.default_value.empty())
        CHECK(std::find(o.choices.begin(), o.choices.end(), o.default_value) != o.choices.end());
    }
  CHECK(flags.count("--kube-context") == 1);
  CHECK(flags.count("--builder") == 1);
}

TEST_CASE("backend settings give a setting's value, else the fallback", "[backends]") {
  backend_settings settings;
  CHECK(settings.value("builder", "docker") == "docker");
  settings.values["builder"] = "kaniko";
  CHECK(settings.value("builder", "docker") == "kaniko");
  CHECK(settings.value("other").empty());
}

TEST_CASE("make_reattach hands a run to its resource's backend", "[backends]") {
  auto reattach = make_reattach();
  reattach_request r;
  r.run_id = "abc12345";
  r.resource = "no-such-resource";
  auto found = reattach(r);
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().code == error::unsupported);
  CHECK(found.error().message == "runs on no-such-resource cannot be found again by this agent");
}

TEST_CASE("make_reattach asks the backends about a run with no resource, and local-process answers", "[backends]") {
  auto reattach = make_reattach();
  reattach_request r;
  r.run_id = "zz" + make_run_id().substr(2);  // no process carries it
  // Its spec could not be read: local-process answers (the others say the run is not theirs).
  auto found = reattach(r);
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().code == error::gone);
  CHECK(found.error().message ==
        "the agent restarted and the run's process was not found: it ended with the previous agent");
}
