// What both consumer programs do with liftoff: parse a launch spec, give it
// a run id and print its command. `mode` is printed after "consumer ok".
#include <liftoff/core/launcher.hpp>
#include <liftoff/core/parse.hpp>

#include <boost/json/parse.hpp>

#include <iostream>
#include <string>

inline int run_consumer(std::string const& mode) {
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
  std::cout << "consumer ok" << mode << ": run id " << spec.run_id << ", command " << command << "\n";
  return liftoff::kind_of(spec.source) == liftoff::source_kind::code ? 0 : 1;
}
