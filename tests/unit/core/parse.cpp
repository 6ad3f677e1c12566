#include <liftoff/core/parse.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <catch2/catch.hpp>

#include "support/test_support.hpp"

#include <string>

using liftoff::parse_launch_spec;

namespace {

std::string spec_error(std::string_view json) {
  auto r = parse_launch_spec(boost::json::parse(json));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == liftoff::error::invalid_spec);
  return r.error().message;
}

std::string json_error(std::string_view text) {
  auto r = liftoff::parse_json(text, "spec.json");
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}

}  // namespace

TEST_CASE("parse_json refuses a key an object names twice, at any depth", "[core][parse]") {
  CHECK(json_error(R"({"agent": 1, "agent": 2})") ==
        "spec.json: duplicate key \"agent\" at line 1, column 20; each key may appear only once in an object");
  CHECK(json_error("{\"spec\": {\"resource_args\": {\"a\": 1,\n  \"a\": 2}}}") ==
        "spec.json: duplicate key \"a\" in spec.resource_args at line 2, column 5; each key may appear only once in "
        "an object");
  CHECK(json_error(R"({"items": [{"x": 1}, {"y": [0, {"z": 1, "z": 1}]}]})")
            .find("duplicate key \"z\" in items[1].y[1] at") != std::string::npos);
  CHECK(json_error(R"([{"app.kubernetes.io/name": {"k": 1, "k": 2}}])")
            .find("duplicate key \"k\" in [0][\"app.kubernetes.io/name\"] at") != std::string::npos);
  // The same key after an escape is the same key.
  CHECK(json_error(R"({"aA": 1, "a\u0041": 2})").find("duplicate key \"aA\"") != std::string::npos);
  // A key that is long or holds control characters is quoted short, on one line.
  auto long_key = std::string(5000, 'k');
  auto msg = json_error("{\"" + long_key + "\": 1, \"" + long_key + "\": 2}");
  CHECK(msg.find("\"" + std::string(64, 'k') + "\xe2\x80\xa6\" (5000 bytes)") != std::string::npos);
  CHECK(msg.size() < 300);
  CHECK(json_error(R"({"a\nb": 1, "a\nb": 2})").find(R"(duplicate key "a\nb")") != std::string::npos);

  auto r = liftoff::parse_json(R"({"agent": 1, "agent": 2})", "request body", liftoff::error::invalid_request);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == liftoff::error::invalid_request);
  CHECK(liftoff::parse_json(R"({"agent": 1, "agent": 2})", "x").error().code == liftoff::error::parse_error);
}

TEST_CASE("parse_json still reads equal keys in different objects, and reports bad JSON as before", "[core][parse]") {
  auto v = liftoff::parse_json(R"({"a": {"k": 1}, "b": {"k": 2}, "k": [{"k": 3}, {"k": 4}]} )", "x");
  REQUIRE(v.has_value());
  CHECK(boost::json::serialize(*v) == R"({"a":{"k":1},"b":{"k":2},"k":[{"k":3},{"k":4}]})");
  CHECK(liftoff::parse_json("[1, \"two\", 3.5, null, true]", "x").has_value());
  auto bad = liftoff::parse_json("{\"a\": 1} x", "x");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::parse_error);
  CHECK(bad.error().message.find("x:1:10: invalid JSON") == 0);
  CHECK(liftoff::parse_json("{\"a\": ", "x").error().message.find("x:1:7: invalid JSON") == 0);
}

TEST_CASE("YAML and config files refuse a duplicate key too", "[core][parse]") {
  auto y = liftoff::parse_yaml("project: p\noverrides:\n  args: [a]\n  args: [b]\n", "c.yaml");
  REQUIRE_FALSE(y.has_value());
  CHECK(y.error().code == liftoff::error::parse_error);
  CHECK(y.error().message ==
        "c.yaml: duplicate key \"args\" in overrides at line 4, column 3; each key may appear only once in an object");
  auto top = liftoff::parse_yaml("a: 1\nb: 2\na: 3\n", "c.yaml");
  REQUIRE_FALSE(top.has_value());
  CHECK(top.error().message.find("c.yaml: duplicate key \"a\" at line 3, column 1") == 0);
  CHECK(liftoff::parse_yaml("a: {k: 1}\nb: {k: 2}\n", "c.yaml").has_value());

  liftoff::test::temp_dir dir;
  liftoff::test::write_file(dir / "c.json", R"({"project": "p", "project": "q"})");
  auto j = liftoff::load_config((dir / "c.json").string());
  REQUIRE_FALSE(j.has_value());
  CHECK(j.error().message.find("duplicate key \"project\"") != std::string::npos);
  CHECK_FALSE(liftoff::load_config(R"({"a": 1, "a": 1})").has_value());
}

TEST_CASE("launch spec: no NUL where a string reaches exec, the environment or a path", "[core][parse]") {
  CHECK(spec_error(R"({"entry_point": ["python", "train\u0000.py"]})") ==
        "launch spec: field 'entry_point[1]': contains a NUL character at byte 5; an argument, an environment "
        "variable or a path would end there");
  CHECK(spec_error(R"({"entry_point": "python train\u0000.py"})").find("field 'entry_point[1]': contains a NUL") !=
        std::string::npos);
  CHECK(spec_error(R"({"overrides": {"args": ["--lr", "\u0000"]}})").find("field 'overrides.args[1]'") !=
        std::string::npos);
  CHECK(spec_error(R"({"overrides": {"entry_point": ["a\u0000"]}})").find("field 'overrides.entry_point[0]'") !=
        std::string::npos);
  CHECK(spec_error(R"({"image": "busybox\u0000"})").find("field 'image': contains a NUL") != std::string::npos);
  CHECK(spec_error(R"({"git": {"remote": "r", "version": "v\u0000"}})").find("field 'git.version'") != std::string::npos);
  CHECK(spec_error(R"({"code": "/job\u0000/x"})").find("field 'code': contains a NUL character at byte 4") !=
        std::string::npos);
  CHECK(spec_error(R"({"build_context": "a\u0000"})").find("field 'build_context'") != std::string::npos);
  CHECK(spec_error(R"({"dockerfile": "a\u0000"})").find("field 'dockerfile'") != std::string::npos);
  // Environment values and names, working directories: anything under resource_args.
  CHECK(spec_error(R"({"resource_args": {"local-process": {"env": {"A": "x\u0000y"}}}})") ==
        "launch spec: field 'resource_args.local-process.env.A': contains a NUL character at byte 1; an argument, "
        "an environment variable or a path would end there");
  CHECK(spec_error(R"({"resource_args": {"local-process": {"env": {"A\u0000B": "x"}}}})") ==
        "launch spec: field 'resource_args.local-process.env': the key \"A\\u0000B\" contains a NUL character at "
        "byte 1; an argument, an environment variable or a path would end there");
  CHECK(spec_error(R"({"resource_args": {"local-container": {"env": ["A=\u0000"]}}})")
            .find("field 'resource_args.local-container.env[0]'") != std::string::npos);
  CHECK(spec_error(R"({"resource_args": {"local-process": {"workdir": "sub\u0000"}}})")
            .find("field 'resource_args.local-process.workdir'") != std::string::npos);
  // The run config reaches the run as JSON text, where a NUL is written \u0000: it may hold one.
  CHECK(parse_launch_spec(boost::json::parse(R"({"overrides": {"run_config": {"s": "a\u0000b"}}})")).has_value());
  // Tabs and newlines in arguments are fine.
  auto ok = parse_launch_spec(boost::json::parse(R"j({"entry_point": ["python", "-c", "import x\n\tx.run()"]})j"));
  CHECK(ok.has_value());
  // The same checks hold for try_value_to.
  CHECK_FALSE(boost::json::try_value_to<liftoff::launch_spec>(boost::json::parse(R"({"entry_point": ["\u0000"]})"))
                  .has_value());
}

TEST_CASE("launch spec: names refuse control characters", "[core][parse]") {
  CHECK(spec_error(R"({"project": "abc\ndef"})") ==
        "launch spec: field 'project': contains a control character (U+000A) at byte 3; names are printable text");
  for (auto field : {"name", "job_name", "author", "queue", "resource", "project"}) {
    INFO(field);
    auto msg = spec_error(std::string(R"({")") + field + R"(": "x\u001b[2J"})");
    CHECK(msg == std::string("launch spec: field '") + field +
                     "': contains a control character (U+001B) at byte 1; names are printable text");
  }
  CHECK(spec_error(R"({"name": "del\u007f"})").find("(U+007F) at byte 3") != std::string::npos);
  CHECK(spec_error(R"({"name": "c1\u0085"})").find("(U+0085) at byte 2") != std::string::npos);
  CHECK(parse_launch_spec(boost::json::parse(R"({"name": "Résumé run #3", "author": "ada lovelace"})")).has_value());
}

TEST_CASE("launch spec errors quote a short prefix of a bad value", "[core][parse]") {
  auto msg = spec_error(R"({"run_id": ")" + std::string(10240, 'X') + R"("})");
  CHECK(msg.find("\"" + std::string(64, 'X') + "\xe2\x80\xa6\" (10240 bytes)") != std::string::npos);
  CHECK(msg.size() < 300);
  CHECK(spec_error(R"({"run_id": "Has Spaces"})").find("got 'Has Spaces'") != std::string::npos);
  CHECK(spec_error(R"({"run_id": "a\nb"})").find(R"(got "a\nb")") != std::string::npos);
  auto artifact = spec_error(R"({"code": {"artifact": ")" + std::string(2000, 'z') + R"("}})");
  CHECK(artifact.find("(2000 bytes)") != std::string::npos);
  CHECK(artifact.size() < 300);
  // Unknown fields with odd names are quoted safely; plain ones read as before.
  auto r = parse_launch_spec(boost::json::parse(R"({"a\nb": 1})"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.find(R"(launch spec: unknown field "a\nb")") == 0);
  auto big = parse_launch_spec(boost::json::parse(R"({"resource_args": {")" + std::string(3000, 'r') + R"(": 1}})"));
  REQUIRE_FALSE(big.has_value());
  CHECK(big.error().message.find("resource_args[\"" + std::string(64, 'r') + "\xe2\x80\xa6\" (3000 bytes)]: expected an "
                                 "object, got integer") == 0);
}

TEST_CASE("build secrets: parsed from the command-line form and the spec, never holding a value", "[parse]") {
  auto a = liftoff::parse_build_secret("id=pip,src=/run/pip.conf");
  REQUIRE(a.has_value());
  CHECK(a->id == "pip");
  CHECK(a->src == "/run/pip.conf");
  CHECK(a->env.empty());
  auto b = liftoff::parse_build_secret("id=tok,env=HF_TOKEN");
  REQUIRE(b.has_value());
  CHECK(b->env == "HF_TOKEN");
  CHECK(liftoff::parse_build_secret("id=HF_TOKEN")->env == "HF_TOKEN");
  CHECK(liftoff::parse_build_secret("type=env,id=x,source=VAR")->env == "VAR");
  CHECK_THAT(liftoff::parse_build_secret("id=x,src=a,env=B").error().what(), Catch::Contains("either src"));
  CHECK_THAT(liftoff::parse_build_secret("id=a b,env=X").error().what(), Catch::Contains("--build-secret.id"));
  CHECK_THAT(liftoff::parse_build_secret("id=x,scr=a").error().what(), Catch::Contains("scr") && Catch::Contains("src"));
  CHECK_THAT(liftoff::parse_build_secret("pip").error().what(), Catch::Contains("KEY=VALUE"));

  auto spec = liftoff::parse_launch_spec(boost::json::parse(
      R"({"image": "x", "build_secrets": [{"id": "a", "src": "f"}, "id=b,env=B"]})"));
  REQUIRE(spec.has_value());
  REQUIRE(spec->build_secrets.size() == 2);
  CHECK(spec->build_secrets[1].env == "B");
  auto again = liftoff::parse_launch_spec(liftoff::to_json(*spec));
  REQUIRE(again.has_value());
  CHECK(*again == *spec);
  auto bad = liftoff::parse_launch_spec(boost::json::parse(R"({"image": "x", "build_secrets": [{"id": "a"}]})"));
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().what(), Catch::Contains("build_secrets[0]"));
}
