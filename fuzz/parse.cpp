// Fuzzes the launch spec and configuration readers of <liftoff/core/parse.hpp>:
// the input is read as JSON and as YAML (parse_json, parse_yaml, load_config
// of inline JSON and of a .json and a .yaml file), and whatever parses is read
// as a launch spec. Invariants: nothing throws; every failure is a liftoff
// error with a message; load_config agrees with the parser it picks;
// serialized JSON parses again; a spec that parses comes
// back the same from to_json (and from try_value_to).

#include <liftoff/core/parse.hpp>

#include "fuzz_support.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

#include <cstddef>
#include <cstdint>

namespace {

namespace json = boost::json;
using liftoff::fuzz::check_error;

void check_spec(json::value const& v) {
  auto s = liftoff::parse_launch_spec(v);
  auto as_value_to = json::try_value_to<liftoff::launch_spec>(v);
  LIFTOFF_FUZZ_CHECK(s.has_value() == as_value_to.has_value());
  if (!s) {
    check_error(s.error());
    return;
  }
  LIFTOFF_FUZZ_CHECK(*as_value_to == *s);
  auto j = liftoff::to_json(*s);
  auto again = liftoff::parse_launch_spec(j);
  LIFTOFF_FUZZ_CHECK(again.has_value(), json::serialize(j) + ": " + (again ? "" : again.error().what()));
  LIFTOFF_FUZZ_CHECK(*again == *s, json::serialize(j));
}

/// Both failed, or both gave the same value.
void check_same(liftoff::result<json::value> const& a, liftoff::result<json::value> const& b) {
  LIFTOFF_FUZZ_CHECK(a.has_value() == b.has_value());
  if (a) LIFTOFF_FUZZ_CHECK(*a == *b, json::serialize(*a) + " vs " + json::serialize(*b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const text = liftoff::fuzz::text_of(data, size);
  auto const& dir = liftoff::fuzz::scratch_dir();

  auto j = liftoff::parse_json(text, "input");
  if (j) {
    // Only that it parses: Boost.JSON (1.81) reads a double's digits to the
    // nearest value or one next to it, so a number need not come back equal.
    auto const text_again = json::serialize(*j);
    auto back = liftoff::parse_json(text_again, "serialized");
    LIFTOFF_FUZZ_CHECK(back.has_value(), text_again);
    check_spec(*j);
  } else {
    check_error(j.error());
  }

  auto y = liftoff::parse_yaml(text, "input");
  if (y) check_spec(*y);
  else check_error(y.error());

  // load_config reads inline JSON when the text starts with '{', otherwise a
  // file named by the text: only files of this process are named here.
  if (auto first = text.find_first_not_of(" \t\r\n"); first != std::string_view::npos && text[first] == '{')
    check_same(liftoff::load_config(text), j);
  liftoff::fuzz::write_file(dir / "input.json", text);
  check_same(liftoff::load_config((dir / "input.json").string()), j);
  liftoff::fuzz::write_file(dir / "input.yaml", text);
  check_same(liftoff::load_config((dir / "input.yaml").string()), y);
  return 0;
}
