#include <liftoff/server/config_template.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using liftoff::server::config_template;
using liftoff::server::template_variable;
using liftoff::server::variable_type;

namespace {

constexpr char const* queue_template = R"({
  "resource_args": {
    "local-container": {
      "gpus": "{{gpus}}",
      "env": {"LR": "{{lr}}", "RUN": "${run_id}", "SIZE": "size-{{ size }}"},
      "args": ["--lr", "{{ lr }}", "--gpus={{gpus}}", {"nested": ["{{size}}"]}],
      "labels": {"{{size}}": "literal key"}
    }
  },
  "variables": {
    "gpus": {"type": "int", "minimum": 0, "maximum": 8, "default": 1, "description": "GPUs per run"},
    "lr": {"type": "float", "minimum": 0, "maximum": 1},
    "size": {"type": "string", "enum": ["s", "m"], "default": "s"}
  }
})";

config_template make_template(std::string_view json = queue_template) {
  auto t = config_template::parse(boost::json::parse(json));
  REQUIRE(t.has_value());
  return std::move(*t);
}

std::string parse_error(std::string_view json) {
  auto t = config_template::parse(boost::json::parse(json));
  REQUIRE_FALSE(t.has_value());
  return t.error().message;
}

std::string fill_error(config_template const& t, std::string_view values) {
  auto r = t.fill(boost::json::parse(values).as_object());
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}

boost::json::object fill(config_template const& t, std::string_view values) {
  auto r = t.fill(boost::json::parse(values).as_object());
  REQUIRE(r.has_value());
  return std::move(*r);
}

}  // namespace

TEST_CASE("a config template parses its variables in declaration order", "[server]") {
  auto t = make_template();
  REQUIRE(t.variables.size() == 3);
  auto const& gpus = t.variables[0];
  CHECK(gpus.name == "gpus");
  CHECK(gpus.type == variable_type::integer);
  CHECK(gpus.minimum == 0.0);
  CHECK(gpus.maximum == 8.0);
  REQUIRE(gpus.default_value);
  CHECK(gpus.default_value->as_int64() == 1);
  CHECK(gpus.description == "GPUs per run");
  CHECK(t.variables[1].name == "lr");
  CHECK(t.variables[1].type == variable_type::number);
  CHECK_FALSE(t.variables[1].default_value);
  CHECK(t.variables[2].allowed == std::vector<std::string>{"s", "m"});
  CHECK(t.find("size") == &t.variables[2]);
  CHECK(t.find("gpu") == nullptr);
  CHECK(t.warnings().empty());
}

TEST_CASE("type names: string, int and float, with the JSON Schema spellings accepted", "[server]") {
  using liftoff::server::variable_type_from_string;
  CHECK(variable_type_from_string("int") == variable_type::integer);
  CHECK(variable_type_from_string("integer") == variable_type::integer);
  CHECK(variable_type_from_string("float") == variable_type::number);
  CHECK(variable_type_from_string("number") == variable_type::number);
  CHECK(variable_type_from_string("string") == variable_type::string);
  CHECK_FALSE(variable_type_from_string("bool"));
  CHECK(liftoff::server::to_string(variable_type::integer) == "int");
  CHECK(liftoff::server::to_string(variable_type::number) == "float");
}

TEST_CASE("fill substitutes typed values in nested objects and arrays", "[server]") {
  auto t = make_template();
  auto args = fill(t, R"({"gpus": 2, "lr": 0.001, "size": "m"})");
  auto const& c = args.at("local-container").as_object();
  // A string that is exactly one variable becomes the typed value.
  REQUIRE(c.at("gpus").is_int64());
  CHECK(c.at("gpus").as_int64() == 2);
  auto const& args_array = c.at("args").as_array();
  REQUIRE(args_array.at(1).is_double());
  CHECK(args_array.at(1).as_double() == 0.001);
  CHECK(args_array.at(3).at("nested").as_array().at(0).as_string() == "m");
  // Inside a longer string the value is written as text.
  CHECK(args_array.at(2).as_string() == "--gpus=2");
  CHECK(c.at("env").at("SIZE").as_string() == "size-m");
  REQUIRE(c.at("env").at("LR").is_double());
  // Keys are not substituted, and literal text stays.
  CHECK(c.at("labels").as_object().contains("{{size}}"));
  CHECK(c.at("labels").at("{{size}}").as_string() == "literal key");
  CHECK(args_array.at(0).as_string() == "--lr");
}

TEST_CASE("agent macros survive filling for the agent to substitute", "[server]") {
  auto t = make_template();
  auto args = fill(t, R"({"lr": 0.5})");
  CHECK(args.at("local-container").at("env").at("RUN").as_string() == "${run_id}");

  auto mixed = make_template(R"({"resource_args": {"kubernetes": {"name": "run-${run_id}-{{size}}-${ENV_VAR}"}},
                                 "variables": {"size": {"type": "string"}}})");
  CHECK(fill(mixed, R"({"size": "xl"})").at("kubernetes").at("name").as_string() == "run-${run_id}-xl-${ENV_VAR}");
}

TEST_CASE("defaults fill what an item does not give", "[server]") {
  auto t = make_template();
  auto args = fill(t, R"({"lr": 0.1})");
  CHECK(args.at("local-container").at("gpus").as_int64() == 1);
  CHECK(args.at("local-container").at("env").at("SIZE").as_string() == "size-s");

  auto values = t.resolve(boost::json::parse(R"({"lr": "0.25"})").as_object());
  REQUIRE(values.has_value());
  CHECK(values->size() == 3);
  CHECK(values->at("gpus").as_int64() == 1);
  CHECK(values->at("lr").as_double() == 0.25);
  CHECK(values->at("size").as_string() == "s");
}

TEST_CASE("values given as strings from a command line convert to the declared type", "[server]") {
  auto t = make_template();
  auto values = liftoff::server::parse_variable_assignments({"gpus=3", "lr=1e-3", "size=m", "gpus=2"});
  REQUIRE(values.has_value());
  CHECK(values->at("gpus").as_string() == "2");  // the later assignment wins; values stay strings here
  auto args = t.fill(*values);
  REQUIRE(args.has_value());
  auto const& c = args->at("local-container");
  REQUIRE(c.at("gpus").is_int64());
  CHECK(c.at("gpus").as_int64() == 2);
  REQUIRE(c.at("env").at("LR").is_double());
  CHECK(c.at("env").at("LR").as_double() == 0.001);
  CHECK(c.at("args").at(2).as_string() == "--gpus=2");
  // A number written into text uses its shortest form.
  auto text = make_template(R"({"resource_args": {"r": {"flag": "--lr={{lr}}"}}, "variables": {"lr": {"type": "float"}}})");
  CHECK(fill(text, R"({"lr": "1e-3"})").at("r").at("flag").as_string() == "--lr=0.001");
  CHECK(fill(text, R"({"lr": " +2 "})").at("r").at("flag").as_string() == "--lr=2");

  CHECK(fill_error(t, R"({"lr": 0.1, "gpus": "two"})") == "template variable 'gpus': expected an integer, got string 'two'");
  CHECK(fill_error(t, R"({"lr": "fast"})") == "template variable 'lr': expected a number, got string 'fast'");
  CHECK(fill_error(t, R"({"lr": "nan"})") == "template variable 'lr': expected a number, got string 'nan'");
  CHECK(fill_error(t, R"({"lr": 0.1, "gpus": "9"})") == "template variable 'gpus': 9 is above the maximum 8");
  CHECK(fill_error(t, R"({"lr": 0.1, "gpus": "2.5"})") == "template variable 'gpus': expected an integer, got string '2.5'");

  auto bad = liftoff::server::parse_variable_assignments({"gpus"});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "--set-var gpus: expected name=value");
  CHECK_FALSE(liftoff::server::parse_variable_assignments({"=3"}).has_value());
  auto with_equals = liftoff::server::parse_variable_assignments({"cmd=a=b"});
  REQUIRE(with_equals.has_value());
  CHECK(with_equals->at("cmd").as_string() == "a=b");
}

TEST_CASE("template-variable values are validated with errors that name the variable", "[server]") {
  auto t = make_template();
  SECTION("unknown name") {
    CHECK(fill_error(t, R"({"gpu": 2, "lr": 0.1})") ==
          "unknown template variable 'gpu' (did you mean 'gpus'?); this queue's variables: gpus, lr, size");
    CHECK(fill_error(t, R"({"zzzzzz": 2})") == "unknown template variable 'zzzzzz'; this queue's variables: gpus, lr, size");
    auto none = make_template(R"({"resource_args": {"local-process": {}}})");
    auto r = none.fill(boost::json::parse(R"({"gpus": 1})").as_object());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::error::unknown_field);
    CHECK(r.error().message == "unknown template variable 'gpus': this queue has no template variables");
  }
  SECTION("wrong type") {
    CHECK(fill_error(t, R"({"gpus": "two", "lr": 0.1})") == "template variable 'gpus': expected an integer, got string 'two'");
    CHECK(fill_error(t, R"({"gpus": 2.5, "lr": 0.1})") == "template variable 'gpus': expected an integer, got number 2.5");
    CHECK(fill_error(t, R"({"gpus": true, "lr": 0.1})") == "template variable 'gpus': expected an integer, got boolean true");
    CHECK(fill_error(t, R"({"lr": [1]})") == "template variable 'lr': expected a number, got array");
    CHECK(fill_error(t, R"({"lr": 0.1, "size": 3})") == "template variable 'size': expected a string, got integer 3");
    CHECK(fill_error(t, R"({"lr": null})") == "template variable 'lr': expected a number, got null");
  }
  SECTION("out of range") {
    CHECK(fill_error(t, R"({"gpus": 9, "lr": 0.1})") == "template variable 'gpus': 9 is above the maximum 8");
    CHECK(fill_error(t, R"({"gpus": -1, "lr": 0.1})") == "template variable 'gpus': -1 is below the minimum 0");
    CHECK(fill_error(t, R"({"lr": 1.5})") == "template variable 'lr': 1.5 is above the maximum 1");
    CHECK(fill_error(t, R"({"gpus": 18446744073709551615, "lr": 0.1})") ==
          "template variable 'gpus': 18446744073709551615 does not fit a 64-bit integer");
    // The bounds are inclusive.
    CHECK(fill(t, R"({"gpus": 8, "lr": 1})").at("local-container").at("gpus").as_int64() == 8);
    CHECK(fill(t, R"({"gpus": 0, "lr": 0})").at("local-container").at("gpus").as_int64() == 0);
  }
  SECTION("not in the enum") {
    CHECK(fill_error(t, R"({"lr": 0.1, "size": "xl"})") == "template variable 'size': 'xl' is not one of s, m");
    CHECK(fill_error(t, R"({"lr": 0.1, "size": "S"})") == "template variable 'size': 'S' is not one of s, m");
  }
  SECTION("missing without a default") {
    auto r = t.fill({});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == liftoff::error::invalid_spec);
    CHECK(r.error().message == "template variable 'lr' has no default: give it with --set-var lr=…");
  }
}

TEST_CASE("an integral number is an integer; an integer is a float", "[server]") {
  auto t = make_template();
  auto args = fill(t, R"({"gpus": 4.0, "lr": 1})");
  REQUIRE(args.at("local-container").at("gpus").is_int64());
  CHECK(args.at("local-container").at("gpus").as_int64() == 4);
  REQUIRE(args.at("local-container").at("env").at("LR").is_double());
  CHECK(args.at("local-container").at("env").at("LR").as_double() == 1.0);
}

TEST_CASE("a failed fill changes nothing", "[server]") {
  auto t = make_template();
  auto const before = t;
  CHECK_FALSE(t.fill(boost::json::parse(R"({"gpus": 9, "lr": 0.1})").as_object()).has_value());
  CHECK(t == before);
  auto ok = t.fill(boost::json::parse(R"({"gpus": 2, "lr": 0.1})").as_object());
  REQUIRE(ok.has_value());
  CHECK(t == before);
  CHECK(t.resource_args.at("local-container").at("gpus").as_string() == "{{gpus}}");
}

TEST_CASE("a config template's definitions are checked", "[server]") {
  CHECK(parse_error(R"([])") == "config template: expected an object with resource_args and variables, got array");
  CHECK(parse_error(R"({"varibles": {}})") == "config template: unknown field 'varibles' (did you mean 'variables'?)");
  CHECK(parse_error(R"({"resource_args": []})") == "resource_args: expected an object keyed by resource name, got array");
  CHECK(parse_error(R"({"resource_args": {"local-process": "x"}})") ==
        "resource_args.local-process: expected an object, got string");
  CHECK(parse_error(R"({"variables": []})") == "variables: expected an object keyed by variable name, got array");
  CHECK(parse_error(R"({"variables": {"gpus": 1}})") == "variables.gpus: expected an object with a type, got integer");
  CHECK(parse_error(R"({"variables": {"my-var": {"type": "int"}}})") ==
        "variables: 'my-var' is not a valid variable name (letters, digits and '_', not starting with a digit)");
  CHECK(parse_error(R"({"variables": {"2gpus": {"type": "int"}}})") ==
        "variables: '2gpus' is not a valid variable name (letters, digits and '_', not starting with a digit)");
  CHECK(parse_error(R"({"variables": {"gpus": {}}})") == "variables.gpus.type: missing; expected one of string, int, float");
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "bool"}}})") ==
        "variables.gpus.type: expected one of string, int, float, got string 'bool'");
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "int", "minimun": 0}}})") ==
        "variables.gpus: unknown field 'minimun' (did you mean 'minimum'?)");
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "int", "minimum": 9, "maximum": 8}}})") ==
        "variables.gpus: the minimum 9 is above the maximum 8");
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "int", "minimum": 0.5}}})") ==
        "variables.gpus.minimum: expected an integer, got number 0.5");
  CHECK(parse_error(R"({"variables": {"lr": {"type": "float", "maximum": "1"}}})") ==
        "variables.lr.maximum: expected a number, got string '1'");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "maximum": 3}}})") ==
        "variables.size.maximum: only an int or float variable takes a maximum; 'size' is string");
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "int", "enum": ["1"]}}})") ==
        "variables.gpus.enum: only a string variable takes an enum; 'gpus' is int");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "enum": []}}})") ==
        "variables.size.enum: expected at least one allowed value");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "enum": ["s", 1]}}})") ==
        "variables.size.enum[1]: expected a string, got integer");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "enum": ["s", "m", "s"]}}})") ==
        "variables.size.enum: 's' is listed twice");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "description": 3}}})") ==
        "variables.size.description: expected a string, got integer");
}

TEST_CASE("a default of the wrong type or out of range is rejected", "[server]") {
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "int", "default": "two"}}})") ==
        "variables.gpus.default: expected an integer, got string 'two'");
  CHECK(parse_error(R"({"variables": {"gpus": {"type": "int", "maximum": 8, "default": 9}}})") ==
        "variables.gpus.default: 9 is above the maximum 8");
  CHECK(parse_error(R"({"variables": {"lr": {"type": "float", "minimum": 0, "default": -0.5}}})") ==
        "variables.lr.default: -0.5 is below the minimum 0");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "enum": ["s", "m"], "default": "xl"}}})") ==
        "variables.size.default: 'xl' is not one of s, m");
  CHECK(parse_error(R"({"variables": {"size": {"type": "string", "default": null}}})") ==
        "variables.size.default: expected a string, got null");
  // A default is stored with its declared type.
  auto t = make_template(R"({"variables": {"gpus": {"type": "int", "default": "2"}, "lr": {"type": "float", "default": 1}}})");
  CHECK(t.variables[0].default_value->is_int64());
  CHECK(t.variables[1].default_value->is_double());
}

TEST_CASE("template references must be declared and well formed", "[server]") {
  CHECK(parse_error(R"({"resource_args": {"local-container": {"gpus": "{{gpu}}"}},
                        "variables": {"gpus": {"type": "int"}}})") ==
        "resource_args.local-container.gpus: template variable 'gpu' is not declared under variables "
        "(did you mean 'gpus'?)");
  CHECK(parse_error(R"({"resource_args": {"kubernetes": {"spec": {"containers": [{"image": "x"}, {"args": ["a", "b{{ zone }}"]}]}}}})") ==
        "resource_args.kubernetes.spec.containers[1].args[1]: template variable 'zone' is not declared under variables");
  CHECK(parse_error(R"({"resource_args": {"local-container": {"gpus": "{{gpu-count}}"}}})") ==
        "resource_args.local-container.gpus: '{{gpu-count}}' is not a template variable: expected {{name}}, a name "
        "of letters, digits and '_', not starting with a digit");
  CHECK(parse_error(R"({"resource_args": {"r": {"x": "{{}}"}}})") ==
        "resource_args.r.x: '{{}}' is not a template variable: expected {{name}}, a name of letters, digits and '_', "
        "not starting with a digit");
  // An unclosed `{{` and single braces are text.
  auto t = make_template(R"({"resource_args": {"r": {"x": "a {{ b", "y": "{x}", "z": "${HOME}"}}})");
  CHECK(fill(t, "{}").at("r").at("x").as_string() == "a {{ b");
  CHECK(fill(t, "{}").at("r").at("y").as_string() == "{x}");
}

TEST_CASE("a declared variable that is never used is a warning, not an error", "[server]") {
  auto t = make_template(R"({"resource_args": {"r": {"gpus": "{{gpus}}"}},
                             "variables": {"gpus": {"type": "int"}, "zone": {"type": "string", "default": "a"}}})");
  CHECK(t.warnings() == std::vector<std::string>{"template variable 'zone' is declared but not used in resource_args"});
  // A use only in a key does not count: keys are not substituted.
  auto keyed = make_template(R"({"resource_args": {"r": {"{{zone}}": 1}}, "variables": {"zone": {"type": "string"}}})");
  CHECK(keyed.warnings().size() == 1);
}

TEST_CASE("a template built by hand is still checked when filled", "[server]") {
  config_template t;
  t.resource_args = boost::json::parse(R"({"r": {"a": "{{missing}}"}})").as_object();
  auto r = t.fill({});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "resource_args.r.a: template variable 'missing' is not declared under variables");

  template_variable bad_default{"n", variable_type::integer, {}, std::nullopt, 3.0, boost::json::value(5), ""};
  t.resource_args = boost::json::parse(R"({"r": {"a": "{{n}}"}})").as_object();
  t.variables = {bad_default};
  r = t.fill({});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "template variable 'n': its default is invalid: 5 is above the maximum 3");
}

TEST_CASE("a config template reads from YAML", "[server]") {
  auto t = config_template::from_yaml(R"(
resource_args:
  local-container:
    gpus: "{{gpus}}"
    command: [python, train.py, "--size={{ size }}", "--run=${run_id}"]
variables:
  gpus:
    type: int
    minimum: 0
    maximum: 8
    default: 1
  size:
    type: string
    enum: [s, m]
    description: model size
)");
  REQUIRE(t.has_value());
  CHECK(t->variables.size() == 2);
  CHECK(t->variables[0].maximum == 8.0);
  CHECK(t->variables[1].description == "model size");
  auto args = t->fill(boost::json::parse(R"({"size": "m"})").as_object());
  REQUIRE(args.has_value());
  CHECK(args->at("local-container").at("gpus").as_int64() == 1);
  CHECK(args->at("local-container").at("command").at(2).as_string() == "--size=m");
  CHECK(args->at("local-container").at("command").at(3).as_string() == "--run=${run_id}");

  auto bad = config_template::from_yaml("variables:\n  gpus:\n    type: int\n    maximum: [\n", "queue.yaml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::parse_error);
  CHECK(bad.error().message.rfind("queue.yaml:", 0) == 0);

  auto wrong = config_template::from_yaml("variables:\n  gpus:\n    type: int\n    maximum: eight\n");
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().message == "variables.gpus.maximum: expected an integer, got string 'eight'");
}

TEST_CASE("an unquoted {{name}} in YAML gets a hint to quote it", "[server]") {
  auto t = config_template::from_yaml("resource_args:\n  r:\n    gpus: {{gpus}}\nvariables:\n  gpus: {type: int}\n");
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().message.find("quote a value that starts with a template variable") != std::string::npos);
}

TEST_CASE("load reads inline JSON and YAML files", "[server]") {
  auto inline_json = config_template::load(R"({"variables": {"gpus": {"type": "int"}}})");
  REQUIRE(inline_json.has_value());
  CHECK(inline_json->variables.at(0).name == "gpus");

  auto dir = std::filesystem::temp_directory_path() / ("liftoff-config-template-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "queue.yaml";
  std::ofstream(path) << "variables:\n  size:\n    type: string\n    enum: [s, m]\n";
  auto from_file = config_template::load(path.string());
  std::filesystem::remove_all(dir);
  REQUIRE(from_file.has_value());
  CHECK(from_file->variables.at(0).allowed == std::vector<std::string>{"s", "m"});
}

TEST_CASE("to_json round-trips through parse", "[server]") {
  auto t = make_template();
  auto json = t.to_json();
  CHECK(json.at("variables").at("gpus").at("type").as_string() == "int");
  CHECK(json.at("variables").at("gpus").at("minimum").is_int64());  // written 0, not 0E0
  CHECK(json.at("variables").at("lr").at("type").as_string() == "float");
  CHECK_FALSE(json.at("variables").at("lr").as_object().contains("default"));
  auto again = config_template::parse(json);
  REQUIRE(again.has_value());
  CHECK(*again == t);
  CHECK(boost::json::value_to<config_template>(boost::json::value_from(t)) == t);

  auto fractional = make_template(R"({"variables": {"lr": {"type": "float", "minimum": 0.5, "default": 0.75}}})");
  auto back = config_template::parse(fractional.to_json());
  REQUIRE(back.has_value());
  CHECK(*back == fractional);
  CHECK(back->variables[0].default_value->as_double() == 0.75);

  auto r = boost::json::try_value_to<config_template>(boost::json::parse(R"({"bogus": 1})"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == liftoff::error::unknown_field);
}

TEST_CASE("template errors quote a short, escaped prefix of a bad value or name", "[server]") {
  auto t = make_template();
  std::string const big(10240, 'm');
  std::string const shown = "\"" + std::string(64, 'm') + "\xe2\x80\xa6\" (10240 bytes)";
  CHECK(fill_error(t, R"({"lr": 0.1, "size": ")" + big + R"("})") ==
        "template variable 'size': " + shown + " is not one of s, m");
  CHECK(fill_error(t, R"({"lr": 0.1, "gpus": ")" + big + R"("})") ==
        "template variable 'gpus': expected an integer, got string " + shown);
  CHECK(fill_error(t, R"({"lr": 0.1, "size": "s\nm"})") == R"(template variable 'size': "s\nm" is not one of s, m)");
  // The name of an unknown variable comes from the push: it is quoted short too.
  auto unknown = fill_error(t, R"({")" + big + R"(": 1})");
  CHECK(unknown.find("unknown template variable " + shown) == 0);
  CHECK(fill_error(t, R"({"gp\u001bus": 1})").find(R"(unknown template variable "gp\u001bus")") == 0);
  // A key of the template that is no plain name is shown in brackets in a path.
  CHECK(parse_error(R"({"resource_args": {"r": {"a.b/c": "{{nope}}"}}})") ==
        R"(resource_args.r["a.b/c"]: template variable 'nope' is not declared under variables)");
}
