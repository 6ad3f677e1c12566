#include <liftoff/core/macros.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

namespace {
liftoff::macro_values values() {
  liftoff::macro_values v;
  v.project_name = "mnist";
  v.run_id = "ab12cd34";
  v.run_name = "first";
  v.image_uri = "registry/x:sha256-1";
  v.author = "ada";
  v.lookup_env = [](std::string_view n) -> std::optional<std::string> {
    if (n == "HOME") return std::string("/home/ada");
    return std::nullopt;
  };
  return v;
}
}  // namespace

TEST_CASE("built-in macros are substituted", "[core]") {
  auto v = values();
  CHECK(liftoff::substitute_macros("${project_name}/${run_id}", v) == "mnist/ab12cd34");
  CHECK(liftoff::substitute_macros("${run_name} by ${author} on ${image_uri}", v) ==
        "first by ada on registry/x:sha256-1");
}

TEST_CASE("environment macros come from the lookup; unknown ones stay as written", "[core]") {
  auto v = values();
  CHECK(liftoff::substitute_macros("${HOME}/data", v) == "/home/ada/data");
  CHECK(liftoff::substitute_macros("${NOPE} and ${run_id}", v) == "${NOPE} and ab12cd34");
  CHECK(liftoff::substitute_macros("${unterminated", v) == "${unterminated");
  CHECK(liftoff::substitute_macros("$run_id ${}", v) == "$run_id ${}");
}

TEST_CASE("macros are substituted in every string of nested resource args, not in keys", "[core]") {
  auto doc = boost::json::parse(R"({"k8s": {"${run_id}": "x", "labels": ["${run_id}", 3, {"n": "${project_name}"}]}})");
  liftoff::substitute_macros(doc, values());
  CHECK(boost::json::serialize(doc) ==
        R"({"k8s":{"${run_id}":"x","labels":["ab12cd34",3,{"n":"mnist"}]}})");
}
