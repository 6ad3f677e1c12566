#include <liftoff/docker/detail/json_message.hpp>

#include <catch2/catch.hpp>

#include <vector>

using liftoff::docker::detail::build_tracker;
using liftoff::docker::detail::parse_json_message;
using liftoff::docker::detail::pull_tracker;

namespace {

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("JSON messages are parsed field by field", "[docker]") {
  auto m = parse_json_message(
      R"({"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[=>  ] 1B/2B","id":"a1b2"})"
      "\r");
  REQUIRE(m.has_value());
  CHECK(m->status == "Downloading");
  CHECK(m->id == "a1b2");
  CHECK(m->progress == "[=>  ] 1B/2B");
  CHECK_FALSE(m->is_error());

  // errorDetail.message wins over error.
  auto e = parse_json_message(
      R"({"errorDetail":{"code":1,"message":"pull access denied for nope, repository does not exist"},"error":"short"})");
  REQUIRE(e.has_value());
  CHECK(e->is_error());
  CHECK(e->error == "pull access denied for nope, repository does not exist");
  auto only_error = parse_json_message(R"({"error":"manifest unknown"})");
  CHECK(only_error.value().error == "manifest unknown");

  auto aux = parse_json_message(R"({"aux":{"ID":"sha256:abc"}})");
  REQUIRE(aux.value().aux.has_value());

  CHECK(parse_json_message("").has_value());
  auto bad = parse_json_message("not json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::protocol_error);
  CHECK_FALSE(parse_json_message("[1,2]").has_value());
}

TEST_CASE("pull progress is a line per layer status change", "[docker]") {
  pull_tracker t;
  std::vector<std::string> lines;
  for (char const* raw : {
           R"({"status":"Pulling from library/busybox","id":"latest"})",
           R"({"status":"Pulling fs layer","id":"a1"})",
           R"({"status":"Downloading","progress":"[>   ] 1B/4B","id":"a1"})",
           R"({"status":"Downloading","progress":"[==> ] 3B/4B","id":"a1"})",
           R"({"status":"Download complete","id":"a1"})",
           R"({"status":"Pull complete","id":"a1"})",
           R"({"status":"Digest: sha256:abc"})",
           R"({"status":"Status: Downloaded newer image for busybox:latest"})",
       }) {
    if (auto l = t.line(parse_json_message(raw).value())) lines.push_back(*l);
  }
  CHECK(lines == std::vector<std::string>{
                     "latest: Pulling from library/busybox", "a1: Pulling fs layer", "a1: Downloading",
                     "a1: Download complete", "a1: Pull complete", "Digest: sha256:abc",
                     "Status: Downloaded newer image for busybox:latest"});
}

TEST_CASE("build output is reassembled into lines and the failing step is named", "[docker]") {
  build_tracker t;
  std::vector<std::string> lines;
  auto feed = [&](char const* raw) {
    for (auto& l : t.feed(parse_json_message(raw).value())) lines.push_back(l);
  };
  feed(R"({"stream":"Step 1/2 : FROM liftoff-test/busybox:latest"})");
  feed(R"({"stream":"\n"})");
  feed(R"({"stream":" ---\u003e 82d0aed03980\n"})");
  feed(R"({"stream":"Step 2/2 : RUN false\n ---\u003e Running in 5c1f\n"})");
  feed(R"({"errorDetail":{"code":1,"message":"The command '/bin/sh -c false' returned a non-zero code: 1"},"error":"x"})");
  CHECK_FALSE(t.finish().has_value());
  CHECK(lines == std::vector<std::string>{"Step 1/2 : FROM liftoff-test/busybox:latest", " ---> 82d0aed03980",
                                          "Step 2/2 : RUN false", " ---> Running in 5c1f"});
  CHECK(t.last_step() == "Step 2/2 : RUN false");
  auto d = t.failure();
  CHECK(d.code == liftoff::error::build_failed);
  CHECK(d.stage == liftoff::failure_stage::build);
  CHECK(contains(d.message, "at Step 2/2 : RUN false"));
  CHECK(contains(d.message, "returned a non-zero code: 1"));

  build_tracker ok;
  ok.feed(parse_json_message(R"({"aux":{"ID":"sha256:0123"}})").value());
  ok.feed(parse_json_message(R"({"stream":"Successfully built 0123\nSuccessfully tagged x:y"})").value());
  CHECK(ok.finish() == std::optional<std::string>("Successfully tagged x:y"));
  CHECK(ok.image_id() == "sha256:0123");
  CHECK(ok.error().empty());

  build_tracker legacy;  // no aux message: the id comes from the output
  legacy.feed(parse_json_message(R"({"stream":"Successfully built 4567\n"})").value());
  CHECK(legacy.image_id() == "4567");
}
