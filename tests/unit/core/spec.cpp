#include <liftoff/core/spec.hpp>
#include <liftoff/core/parse.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <catch2/catch.hpp>

#include "support/test_support.hpp"

using liftoff::parse_launch_spec;

namespace {
std::string error_of(std::string_view json) {
  auto r = parse_launch_spec(boost::json::parse(json));
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}
}  // namespace

TEST_CASE("a full launch spec parses and round-trips", "[core][spec]") {
  auto doc = boost::json::parse(R"({
    "git": {"remote": "https://example.com/r.git", "version": "v1"},
    "entry_point": "python train.py --lr '0.1 0.2'",
    "build_context": "jobs/hello", "dockerfile": "Dockerfile.liftoff", "base_image": "python:3.11-slim",
    "overrides": {"args": ["--epochs", "3"], "run_config": {"lr": 0.1}, "entry_point": ["python3", "x.py"]},
    "resource": "local-process", "resource_args": {"local-process": {"env": {"A": "1"}}},
    "project": "p", "name": "n", "job_name": "j", "run_id": "abc123", "author": "ada", "queue": "q"})");
  auto r = parse_launch_spec(doc);
  REQUIRE(r.has_value());
  auto const& s = *r;
  REQUIRE(std::holds_alternative<liftoff::git_ref>(s.source));
  CHECK(std::get<liftoff::git_ref>(s.source).version == "v1");
  CHECK(s.entry_point == std::vector<std::string>{"python", "train.py", "--lr", "0.1 0.2"});
  CHECK(s.command() == std::vector<std::string>{"python3", "x.py", "--epochs", "3"});
  CHECK(s.args_for("local-process").at("env").at("A").as_string() == "1");
  CHECK(s.args_for("kubernetes").empty());
  CHECK(s.overrides.run_config.at("lr").as_double() == 0.1);

  auto again = parse_launch_spec(liftoff::to_json(s));
  REQUIRE(again.has_value());
  CHECK(*again == s);
  CHECK(boost::json::value_to<liftoff::launch_spec>(boost::json::value_from(s)) == s);
}

TEST_CASE("each job source kind parses", "[core][spec]") {
  CHECK(liftoff::kind_of(parse_launch_spec(boost::json::parse(R"({"image": "busybox"})"))->source) ==
        liftoff::source_kind::image);
  CHECK(liftoff::kind_of(parse_launch_spec(boost::json::parse(R"({"git": "https://x/r.git"})"))->source) ==
        liftoff::source_kind::git);
  CHECK(liftoff::kind_of(parse_launch_spec(boost::json::parse(R"({"code": "."})"))->source) ==
        liftoff::source_kind::code);
  CHECK(liftoff::kind_of(parse_launch_spec(boost::json::parse(R"({})"))->source) == liftoff::source_kind::none);
}

TEST_CASE("code from a queue names its artifact on the server", "[core][spec]") {
  auto digest = "sha256:" + std::string(64, 'a');
  auto s = parse_launch_spec(boost::json::parse(R"({"code": {"artifact": ")" + digest + R"("}})"));
  REQUIRE(s.has_value());
  auto const& c = std::get<liftoff::code_dir>(s->source);
  CHECK(c.artifact == digest);
  CHECK(c.path.empty());
  auto again = parse_launch_spec(liftoff::to_json(*s));
  REQUIRE(again.has_value());
  CHECK(*again == *s);
  // A plain directory keeps its plain JSON form.
  CHECK(liftoff::to_json(*parse_launch_spec(boost::json::parse(R"({"code": {"path": "/job"}})")))
            .as_object().at("code") == "/job");
  CHECK(error_of(R"({"code": {"artifact": "md5:abc"}})").find("code.artifact: expected \"sha256:\"") == 0);
  CHECK(error_of(R"({"code": {}})") == "code: expected a path, an artifact or both");
  CHECK(error_of(R"({"code": {"dir": "/x"}})").find("code: unknown field 'dir'") == 0);
  CHECK(error_of(R"({"code": 3})") == "code: expected a directory path, or an object with path and artifact, got integer");
}

TEST_CASE("spec errors name the field path and what was expected", "[core][spec]") {
  CHECK(error_of(R"({"project": 3})") == "project: expected a string, got integer");
  CHECK(error_of(R"({"entry_point": {"a": 1}})") == "entry_point: expected a string or an array of strings, got object");
  CHECK(error_of(R"({"entry_point": ["python", 1]})") == "entry_point[1]: expected a string, got integer");
  CHECK(error_of(R"({"resource_args": {"local-process": []}})") ==
        "resource_args.local-process: expected an object, got array");
  CHECK(error_of(R"({"overrides": {"args": "x"}})") == "overrides.args: expected an array of strings, got string");
  CHECK(error_of(R"({"overrides": {"run_config": [1]}})") == "overrides.run_config: expected an object, got array");
  CHECK(error_of(R"({"git": {"remote": "x", "branch": "main"}})").find("git: unknown field 'branch'") == 0);
  CHECK(error_of(R"({"image": "a", "code": "."})") ==
        "launch spec: give only one of image, git and code as the job's source");
  CHECK(error_of(R"({"run_id": "Has Spaces"})").find("run_id: expected") == 0);
  CHECK(error_of(R"({"entry_point": "python 'oops"})") == "entry_point: unterminated single quote in command line");
  CHECK(error_of(R"([1, 2])") == "launch spec: expected an object, got array");
}

TEST_CASE("unknown top-level fields are errors with a suggestion when close", "[core][spec]") {
  auto r = parse_launch_spec(boost::json::parse(R"({"entrypoint": "x"})"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == liftoff::error::unknown_field);
  CHECK(r.error().message == "launch spec: unknown field 'entrypoint' (did you mean 'entry_point'?)");
  auto far = error_of(R"({"zzzzzzzzzz": 1})");
  CHECK(far.find("unknown field 'zzzzzzzzzz' (expected one of: image, git, code") != std::string::npos);
}

TEST_CASE("command lines split like a shell splits words", "[core][spec]") {
  using v = std::vector<std::string>;
  CHECK(*liftoff::split_command_line("python  train.py\t-x") == v{"python", "train.py", "-x"});
  CHECK(*liftoff::split_command_line(R"(a 'b c' "d \"e\" \\ $f" g\ h)") == v{"a", "b c", R"(d "e" \ $f)", "g h"});
  CHECK(*liftoff::split_command_line(R"(x '' "")") == v{"x", "", ""});
  CHECK(liftoff::split_command_line("").value().empty());
  CHECK_FALSE(liftoff::split_command_line("\"open").has_value());
}

TEST_CASE("run ids are generated when absent and kept when present", "[core][spec]") {
  liftoff::launch_spec s;
  liftoff::ensure_run_id(s);
  CHECK(s.run_id.size() == 8);
  CHECK(std::isalpha(static_cast<unsigned char>(s.run_id[0])));
  auto first = s.run_id;
  liftoff::ensure_run_id(s);
  CHECK(s.run_id == first);
  CHECK(liftoff::make_run_id() != liftoff::make_run_id());
}

TEST_CASE("config loads from inline JSON, JSON files and YAML files", "[core][spec]") {
  liftoff::test::temp_dir dir;
  liftoff::test::write_file(dir / "c.json", R"({"project": "p"})");
  liftoff::test::write_file(dir / "c.yaml", "project: p\noverrides:\n  run_config: {lr: 0.5, n: 3, on: true, s: '3'}\n");
  CHECK(liftoff::load_config(R"( {"project": "p"})")->at("project").as_string() == "p");
  CHECK(liftoff::load_config((dir / "c.json").string())->at("project").as_string() == "p");
  auto y = liftoff::load_config((dir / "c.yaml").string());
  REQUIRE(y.has_value());
  auto const& rc = y->at("overrides").at("run_config");
  CHECK(rc.at("lr").as_double() == 0.5);
  CHECK(rc.at("n").as_int64() == 3);
  CHECK(rc.at("on").as_bool());
  CHECK(rc.at("s").as_string() == "3");  // quoted stays a string
}

TEST_CASE("malformed config reports file, line and column", "[core][spec]") {
  liftoff::test::temp_dir dir;
  liftoff::test::write_file(dir / "bad.json", "{\n  \"project\": \"p\",\n  oops\n}\n");
  liftoff::test::write_file(dir / "bad.yaml", "project: p\nlist: [1, 2\nother: 3\n");
  auto j = liftoff::load_config((dir / "bad.json").string());
  REQUIRE_FALSE(j.has_value());
  CHECK(j.error().code == liftoff::error::parse_error);
  CHECK(j.error().message.find((dir / "bad.json").string() + ":3:3: invalid JSON") == 0);
  auto y = liftoff::load_config((dir / "bad.yaml").string());
  REQUIRE_FALSE(y.has_value());
  CHECK(y.error().message.find((dir / "bad.yaml").string() + ":") == 0);
  CHECK(y.error().message.find("invalid YAML") != std::string::npos);
  auto missing = liftoff::load_config((dir / "nope.yaml").string());
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == liftoff::error::file_not_found);
}
