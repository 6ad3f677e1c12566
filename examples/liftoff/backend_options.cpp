// The backends' own command-line options (--kube-context, --builder, …) and
// `liftoff resources`, read from the library's list of backends.

#include "commands.hpp"

#include <liftoff/backends.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <CLI/App.hpp>
#include <CLI/Validators.hpp>

#include <iostream>
#include <memory>

namespace liftoff::cli {

void add_backend_options(CLI::App& cmd, backend_values& values, bool for_agent) {
  for (auto const* b : backends())
    for (auto const& o : b->options) {
      if (!(for_agent ? o.for_agent : o.for_launch)) continue;
      auto& value = values[o.flag];
      value = o.default_value;
      auto* opt = cmd.add_option(o.flag, value, o.help);
      if (!o.default_value.empty()) opt->capture_default_str();
      if (!o.choices.empty()) opt->check(CLI::IsMember(o.choices));
    }
}

backend_settings backend_settings_from(backend_values const& values, bool for_agent, std::string agent_name) {
  backend_settings s;
  s.agent = std::move(agent_name);
  s.secure_mode = for_agent;
  s.for_agent = for_agent;
  for (auto const* b : backends())
    for (auto const& o : b->options)
      if (auto it = values.find(o.flag); !o.setting.empty() && it != values.end()) s.values[o.setting] = it->second;
  return s;
}

std::string resource_choices() {
  auto list = backends();
  std::string text;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i) text += i + 1 == list.size() ? " or " : ", ";
    text += list[i]->resource;
    for (auto k : list[i]->default_for)
      if (k == source_kind::code) text += " (the default)";
  }
  return text;
}

}  // namespace liftoff::cli

namespace liftoff::cli {

namespace {

std::string sources_text(backend const& b) {
  auto reg = launcher_registry();
  b.add_launchers(reg, {});
  std::string text;
  for (auto k : reg.sources_for(b.resource)) text += (text.empty() ? "" : ", ") + std::string(to_string(k));
  return text;
}

int run_resources(bool json) {
  for (auto const* b : backends()) {
    if (json) {
      boost::json::array args, options;
      for (auto const& a : b->resource_args) args.push_back({{"key", a.key}, {"help", a.help}});
      for (auto const& o : b->options) options.push_back({{"flag", o.flag}, {"help", o.help}});
      std::cout << boost::json::serialize(boost::json::object{{"resource", b->resource},
                                                              {"summary", b->summary},
                                                              {"sources", sources_text(*b)},
                                                              {"resource_args", std::move(args)},
                                                              {"options", std::move(options)}})
                << "\n";
      continue;
    }
    std::cout << b->resource << ": " << b->summary << "\n  runs: " << sources_text(*b) << " jobs\n";
    if (!b->resource_args.empty()) std::cout << "  resource_args." << b->resource << ":\n";
    for (auto const& a : b->resource_args) std::cout << "    " << a.key << "  " << a.help << "\n";
    for (auto const& o : b->options) std::cout << "  " << o.flag << "  " << o.help << "\n";
  }
  return exit_ok;
}

}  // namespace

void add_resources_command(CLI::App& app, command_action& action) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("resources", "List the resources this program can launch on, their resource_args "
                                              "and options");
  cmd->add_flag("--json", *json, "One JSON object per resource");
  cmd->callback([&action, json] { action = [json] { return run_resources(*json); }; });
}

}  // namespace liftoff::cli
