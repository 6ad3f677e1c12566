#include <liftoff/core/macros.hpp>

#include <liftoff/core/spec.hpp>

#include "support/env_guard.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>

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

TEST_CASE("${image_uri} stays as written until an image is known", "[core]") {
  auto v = values();
  v.image_uri.reset();
  CHECK(liftoff::substitute_macros("${image_uri} for ${run_id}", v) == "${image_uri} for ab12cd34");
  v.image_uri = "";
  CHECK(liftoff::substitute_macros("[${image_uri}]", v) == "[]");
}

TEST_CASE("run_macro_values takes the built-in values from the spec", "[core]") {
  liftoff::launch_spec spec;
  spec.run_id = "r1";
  spec.project = "mnist";
  spec.name = "first";
  spec.author = "ada";
  auto lookup = [](std::string_view n) -> std::optional<std::string> {
    if (n == "DATA") return std::string("/data");
    return std::nullopt;
  };
  auto before = liftoff::run_macro_values(spec, std::nullopt, lookup);
  CHECK(liftoff::substitute_macros("${project_name}/${run_name}/${run_id}/${author}/${DATA}/${image_uri}", before) ==
        "mnist/first/r1/ada//data/${image_uri}");
  auto built = liftoff::run_macro_values(spec, "registry/x:1");
  CHECK(liftoff::substitute_macros("${image_uri}", built) == "registry/x:1");
}

TEST_CASE("without a lookup, other macros come from the process environment", "[core]") {
  ::setenv("LIFTOFF_MACROS_TEST_VALUE", "from-env", 1);
  ::unsetenv("LIFTOFF_MACROS_TEST_UNSET");
  CHECK(liftoff::environment_macro("LIFTOFF_MACROS_TEST_VALUE") == std::optional<std::string>("from-env"));
  CHECK_FALSE(liftoff::environment_macro("LIFTOFF_MACROS_TEST_UNSET"));
  CHECK_FALSE(liftoff::environment_macro(""));
  liftoff::macro_values v;  // no lookup_env
  CHECK(liftoff::substitute_macros("${LIFTOFF_MACROS_TEST_VALUE} ${LIFTOFF_MACROS_TEST_UNSET}", v) ==
        "from-env ${LIFTOFF_MACROS_TEST_UNSET}");
  ::unsetenv("LIFTOFF_MACROS_TEST_VALUE");
}

TEST_CASE("the process's LIFTOFF_API_TOKEN and cloud keys are never a macro's value", "[core]") {
  liftoff::test::env_guard token("LIFTOFF_API_TOKEN", "lft_agent_secret");
  liftoff::test::env_guard key("AWS_SECRET_ACCESS_KEY", "aws_secret");
  liftoff::test::env_guard other("LIFTOFF_TEST_MACRO", "visible");
  CHECK_FALSE(liftoff::environment_macro("LIFTOFF_API_TOKEN"));
  CHECK_FALSE(liftoff::environment_macro("AWS_SECRET_ACCESS_KEY"));
  CHECK(liftoff::environment_macro("LIFTOFF_TEST_MACRO") == "visible");
  liftoff::macro_values v;  // no lookup_env
  CHECK(liftoff::substitute_macros("token=${LIFTOFF_API_TOKEN}", v) == "token=${LIFTOFF_API_TOKEN}");
}
