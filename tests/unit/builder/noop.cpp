#include <liftoff/builder/noop.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;

TEST_CASE("noop_builder models the builder concept and passes everything through", "[local][noop]") {
  STATIC_REQUIRE(builder<noop_builder>);
  STATIC_REQUIRE(noop_builder::accepts(artifact_kind::directory));
  STATIC_REQUIRE(noop_builder::accepts(artifact_kind::registry_image));
  STATIC_REQUIRE(noop_builder::output(artifact_kind::local_image) == artifact_kind::local_image);
  STATIC_REQUIRE(noop_builder::output(artifact_kind::directory) == artifact_kind::directory);

  artifact in;
  in.kind = artifact_kind::directory;
  in.directory = "/code";
  in.digest = "sha256:abc";
  in.lifetime = std::make_shared<int>(1);
  auto out = noop_builder{}.build(in, {}, {});
  REQUIRE(out.has_value());
  CHECK(out->directory == in.directory);
  CHECK(out->digest == in.digest);
  CHECK(out->lifetime == in.lifetime);
}
