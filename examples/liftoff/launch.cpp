// `liftoff launch`: the whole pipeline, synchronously, in this process.

#include "commands.hpp"
#include "terminal.hpp"

#include <liftoff/core/registry.hpp>
#include <liftoff/docker_launchers.hpp>
#include <liftoff/local.hpp>

#include <boost/json/serialize.hpp>

#include <CLI/App.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace liftoff::cli {

namespace {

struct launch_flags {
  std::string uri;
  std::string entry_point;
  std::string git_version;
  std::string build_context;
  std::string dockerfile;
  std::string docker_image;
  std::string base_image;
  std::string config;
  std::string resource;
  std::string resource_args;
  std::string project;
  std::string name;
  std::string job_name;
  bool dry_run = false;
  double grace_seconds = 10;
};

bool looks_like_git_url(std::string const& uri) {
  for (char const* scheme : {"http://", "https://", "git://", "ssh://", "file://", "git@"})
    if (uri.rfind(scheme, 0) == 0) return true;
  return uri.size() > 4 && uri.ends_with(".git") && !std::filesystem::exists(uri);
}

/// The launch spec from the config file (if any) with the flags on top.
result<launch_spec> spec_from_flags(launch_flags const& f) {
  boost::json::object doc;
  if (!f.config.empty()) {
    auto cfg = load_config(f.config);
    if (!cfg) return std::move(cfg).error();
    auto* obj = cfg->if_object();
    if (!obj)
      return diagnostic(error::invalid_spec, "--config " + f.config + ": expected an object, got " +
                                                 std::string(json_kind_name(*cfg)));
    doc = std::move(*obj);
  }
  auto set_source = [&](char const* key, boost::json::value v) {
    doc.erase("image");
    doc.erase("git");
    doc.erase("code");
    doc[key] = std::move(v);
  };
  if (!f.uri.empty()) {
    if (looks_like_git_url(f.uri)) {
      boost::json::object g{{"remote", f.uri}};
      if (!f.git_version.empty()) g["version"] = f.git_version;
      set_source("git", std::move(g));
    } else {
      std::error_code ec;
      if (!std::filesystem::exists(f.uri, ec))
        return diagnostic(error::file_not_found, "--uri " + f.uri + ": no such directory (give a local job "
                                                 "directory or a git repository URL)");
      if (!std::filesystem::is_directory(f.uri, ec))
        return diagnostic(error::invalid_spec, "--uri " + f.uri + ": not a directory (give the job's directory, "
                                               "and the script with --entry-point)");
      set_source("code", boost::json::string(std::filesystem::absolute(f.uri).lexically_normal().string()));
    }
  } else if (!f.git_version.empty()) {
    return diagnostic(error::invalid_spec, "--git-version needs a git repository given with --uri");
  }
  if (!f.docker_image.empty()) {
    if (!f.uri.empty())
      return diagnostic(error::invalid_spec, "give either --uri or --docker-image as the job's source, not both");
    set_source("image", boost::json::string(f.docker_image));
  }
  auto put = [&](char const* key, std::string const& v) { if (!v.empty()) doc[key] = v; };
  put("entry_point", f.entry_point);
  put("build_context", f.build_context);
  put("dockerfile", f.dockerfile);
  put("base_image", f.base_image);
  put("resource", f.resource);
  put("project", f.project);
  put("name", f.name);
  put("job_name", f.job_name);
  if (!f.resource_args.empty()) {
    auto ra = load_config(f.resource_args);
    if (!ra) return std::move(ra).error();
    auto* obj = ra->if_object();
    if (!obj)
      return diagnostic(error::invalid_spec, "--resource-args: expected an object keyed by resource name, got " +
                                                 std::string(json_kind_name(*ra)));
    auto& merged = doc["resource_args"];
    if (!merged.is_object()) merged = boost::json::object{};
    for (auto const& kv : *obj) merged.as_object()[kv.key()] = kv.value();
  }
  return parse_launch_spec(doc);
}

/// The launchers this program is built with. As in W&B Launch, a job runs in
/// a container unless it asks for `--resource local-process`.
launcher_registry make_registry() {
  launcher_registry reg;
  reg.add("local-process", local_code_launcher{});
  reg.add("local-process", local_git_launcher{});
  reg.add("local-container", docker_image_launcher{});
  reg.add("local-container", docker_code_launcher{});
  reg.add("local-container", docker_git_launcher{});
  reg.set_default_resource(source_kind::code, "local-container");
  reg.set_default_resource(source_kind::git, "local-container");
  return reg;
}

int run_launch(launch_flags const& flags) {
  terminal term;
  auto spec = spec_from_flags(flags);
  if (!spec) return term.fail(spec.error(), exit_usage);
  ensure_run_id(*spec);
  auto registry = make_registry();
  if (spec->resource.empty()) spec->resource = registry.resource_for(*spec);

  auto launcher = registry.find(*spec);
  if (!launcher) return term.fail(launcher.error(), exit_usage);
  if (auto v = launcher->validate(*spec); !v) return term.fail(v.error(), exit_usage);

  launch_options options;
  options.grace_period = std::chrono::milliseconds(static_cast<long long>(flags.grace_seconds * 1000));
  if (flags.dry_run) {
    term.json_line({{"action", "launch"}, {"resource", spec->resource}, {"spec", to_json(*spec)}});
    options.on_dry_run = [&](boost::json::object const& a) { term.json_line(a); };
  } else {
    options.on_log = [&](log_line const& l) { term.log(l); };
    options.on_status = [&](run_status const& s) { term.status(spec->run_id, s); };
    if (term.interactive()) options.on_progress = [&](std::string_view line) { term.progress(line); };
    term.note("launching run " + spec->run_id + " on " + spec->resource);
  }

  interrupt_watch interrupts;  // from here on, Ctrl-C cancels the run instead of killing liftoff
  auto started = launcher->try_launch(*spec, options);
  if (!started) return term.fail(started.error(), interrupts.signal() ? interrupts.exit_code() : exit_failed);

  auto run = *started;
  interrupts.on_signal([run, grace = options.grace_period](int count) mutable {
    run.cancel(count > 1 ? std::chrono::milliseconds(0) : grace);
  });
  auto final_status = run.wait();
  interrupts.stop();
  if (flags.dry_run) return exit_ok;
  term.finished(spec->run_id, final_status);
  if (final_status.succeeded()) return exit_ok;
  if (final_status.state == run_state::stopped && interrupts.signal()) return interrupts.exit_code();
  if (final_status.exit_code && *final_status.exit_code > 0 && *final_status.exit_code < 256)
    return *final_status.exit_code;
  return exit_failed;
}

}  // namespace

void add_launch_command(CLI::App& app, command_action& action) {
  auto flags = std::make_shared<launch_flags>();
  auto* cmd = app.add_subcommand("launch", "Launch a job now and wait for it; exit with its status");
  cmd->add_option("--uri,-u", flags->uri, "The job's code: a local directory or a git repository URL");
  cmd->add_option("--entry-point,-E", flags->entry_point, "The command to run, e.g. \"python train.py\"");
  cmd->add_option("--git-version,-g", flags->git_version, "Branch, tag or commit of the git repository");
  cmd->add_option("--build-context", flags->build_context, "Directory inside the source to build and run from");
  cmd->add_option("--dockerfile,-D", flags->dockerfile, "Dockerfile inside the source");
  cmd->add_option("--docker-image,-d", flags->docker_image, "Run this container image");
  cmd->add_option("--base-image,-B", flags->base_image, "Base image of a generated Dockerfile");
  cmd->add_option("--config,-c", flags->config, "Launch config: a JSON or YAML file, or inline JSON");
  cmd->add_option("--resource,-r", flags->resource,
                  "Where to run: local-process (default for code), local-container (default for images)");
  cmd->add_option("--resource-args,-R", flags->resource_args,
                  "Resource arguments keyed by resource name: a JSON or YAML file, or inline JSON");
  cmd->add_option("--project,-p", flags->project, "Project the run belongs to");
  cmd->add_option("--name", flags->name, "Name of the run");
  cmd->add_option("--job-name,-J", flags->job_name, "Name of the job");
  cmd->add_option("--grace-period", flags->grace_seconds, "Seconds a cancelled run has to stop before it is killed")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--dry-run", flags->dry_run, "Print, as JSON lines, what would be done, and do nothing");
  cmd->callback([flags, &action] { action = [flags] { return run_launch(*flags); }; });
}

}  // namespace liftoff::cli
