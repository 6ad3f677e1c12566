#include <liftoff/source/image.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;

TEST_CASE("image_source models the source concept", "[local][image]") {
  STATIC_REQUIRE(source<image_source>);
  STATIC_REQUIRE(image_source::kind == source_kind::image);
  STATIC_REQUIRE(image_source::produces == artifact_kind::registry_image);
}

TEST_CASE("image_source yields the spec's image", "[local][image]") {
  launch_spec spec;
  spec.source = image_ref{"registry.example.com/team/train:1.2"};
  auto a = image_source{}.fetch(spec, {});
  REQUIRE(a.has_value());
  CHECK(a->kind == artifact_kind::registry_image);
  CHECK(a->image == "registry.example.com/team/train:1.2");
  CHECK(a->directory.empty());

  std::vector<boost::json::object> actions;
  launch_options o;
  o.on_dry_run = [&](boost::json::object const& x) { actions.push_back(x); };
  REQUIRE((image_source{}.fetch(spec, o)).has_value());
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].at("image") == "registry.example.com/team/train:1.2");
}

TEST_CASE("image_source requires an image", "[local][image]") {
  launch_spec spec;
  spec.source = code_dir{"."};
  auto v = image_source{}.validate(spec);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().code == error::invalid_spec);
  CHECK(v.error().message.find("--docker-image") != std::string::npos);
  CHECK_FALSE((image_source{}.fetch(spec, {})).has_value());
  spec.source = image_ref{""};
  CHECK_FALSE((image_source{}.validate(spec)).has_value());
}
