// The same program in separate-compilation mode (LIFTOFF_SEPARATE_COMPILATION):
// liftoff's headers give declarations only, and the definitions come from
// liftoff::compiled (find_package) or from compiled_parts.cpp (a program that
// compiles only the parts it uses).
#include <liftoff/core/launcher.hpp>

#include <boost/json/parse.hpp>

#include <iostream>

#if LIFTOFF_HEADER_ONLY
#error this program is built with LIFTOFF_SEPARATE_COMPILATION
#endif

int main() {
  auto parsed = liftoff::parse_launch_spec(boost::json::parse(R"({
    "code": ".",
    "entry_point": "python3 job.py",
    "overrides": {"args": ["--steps", "2"]},
    "project": "consumer",
    "run_id": "consumer-check"
  })"));
  if (!parsed) {
    std::cerr << "consumer: " << parsed.error().message << "\n";
    return 1;
  }
  liftoff::launch_spec spec = *parsed;
  liftoff::ensure_run_id(spec);
  std::string command;
  for (auto const& word : spec.command()) command += (command.empty() ? "" : " ") + word;
  std::cout << "consumer ok (separate compilation): run id " << spec.run_id << ", command " << command << "\n";
  return liftoff::kind_of(spec.source) == liftoff::source_kind::code ? 0 : 1;
}
