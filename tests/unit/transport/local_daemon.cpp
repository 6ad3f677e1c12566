#include <liftoff/transport/local_daemon.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;

TEST_CASE("local_daemon models the transport concept and leaves artifacts where they are", "[local][local_daemon]") {
  STATIC_REQUIRE(transport<local_daemon>);
  STATIC_REQUIRE(local_daemon::accepts(artifact_kind::local_image));
  STATIC_REQUIRE(local_daemon::accepts(artifact_kind::directory));
  STATIC_REQUIRE(local_daemon::output(artifact_kind::local_image) == artifact_kind::local_image);
  STATIC_REQUIRE(local_daemon::output(artifact_kind::directory) == artifact_kind::directory);

  artifact in;
  in.kind = artifact_kind::local_image;
  in.image = "liftoff/job:sha256-abc";
  auto out = local_daemon{}.deliver(in, {}, {});
  REQUIRE(out.has_value());
  CHECK(out->kind == artifact_kind::local_image);
  CHECK(out->image == in.image);
}
