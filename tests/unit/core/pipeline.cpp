#include <liftoff/core/pipeline.hpp>

#include <catch2/catch.hpp>

TEST_CASE("launch options are a dry run exactly when on_dry_run is set", "[core]") {
  liftoff::launch_options o;
  CHECK_FALSE(o.dry_run());
  o.emit({{"action", "ignored"}});  // no sink: nothing happens
  o.log(liftoff::log_stream::system, "ignored");
  std::vector<std::string> actions;
  o.on_dry_run = [&](boost::json::object const& a) { actions.emplace_back(a.at("action").as_string()); };
  CHECK(o.dry_run());
  o.emit({{"action", "exec"}});
  CHECK(actions == std::vector<std::string>{"exec"});
}

TEST_CASE("an artifact keeps its lifetime holder alive", "[core]") {
  auto holder = std::make_shared<int>(7);
  std::weak_ptr<int> watch = holder;
  {
    liftoff::artifact a{liftoff::artifact_kind::directory, "/tmp/x", "", "", holder};
    holder.reset();
    CHECK_FALSE(watch.expired());
  }
  CHECK(watch.expired());
  CHECK(liftoff::to_string(liftoff::artifact_kind::registry_image) == "registry image");
}
