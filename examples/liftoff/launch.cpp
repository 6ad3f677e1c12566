// `liftoff launch`: the whole pipeline, synchronously, in this process; or,
// with `--queue`, a push of the job to a queue of the queue server.

#include "client_support.hpp"
#include "commands.hpp"
#include "terminal.hpp"

#include <liftoff/server/config_template.hpp>
#include <liftoff/core/parse.hpp>

#include <liftoff/backends.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <CLI/App.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stop_token>
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
  std::vector<std::string> build_secrets;  ///< --build-secret id=NAME,src=PATH|env=VAR
  std::string config;
  std::string resource;
  std::string resource_args;
  std::string project;
  std::string name;
  std::string job_name;
  /// The backends' own options (`backend::options`), by flag; a setting starts at its default.
  std::map<std::string, std::string, std::less<>> backend_values;
  bool dry_run = false;
  double grace_seconds = 10;
  // Pushing to a queue instead of running here.
  std::string queue;
  std::string job;  ///< a stored job: NAME, NAME:ALIAS or NAME:vN
  std::string priority = "medium";
  std::vector<std::string> set_vars;
  bool wait = false;
};

/// Whether any flag that shapes the launch spec was given (with `--job`, they override the stored job).
bool spec_flags_given(launch_flags const& f) {
  for (auto const* v : {&f.uri, &f.entry_point, &f.git_version, &f.build_context, &f.dockerfile, &f.docker_image,
                        &f.base_image, &f.config, &f.resource, &f.resource_args, &f.project, &f.name, &f.job_name})
    if (!v->empty()) return true;
  if (!f.build_secrets.empty()) return true;
  for (auto const* b : backends())
    for (auto const& o : b->options)
      if (auto it = f.backend_values.find(o.flag); !o.resource_arg.empty() && it != f.backend_values.end() &&
                                                    !it->second.empty())
        return true;
  return false;
}

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
  if (!f.build_secrets.empty()) {
    boost::json::array secrets;
    if (auto const* given = doc.if_contains("build_secrets"); given && given->is_array()) secrets = given->as_array();
    for (auto const& text : f.build_secrets) {
      auto b = parse_build_secret(text);
      if (!b) return b.error();
      boost::json::object o{{"id", b->id}};
      if (!b->src.empty()) o["src"] = std::filesystem::absolute(b->src).lexically_normal().string();
      if (!b->env.empty()) o["env"] = b->env;
      secrets.emplace_back(std::move(o));
    }
    doc["build_secrets"] = std::move(secrets);
  }
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
  // The backends' options that set a resource argument: --kube-context, --aws-region, ….
  for (auto const* b : backends())
    for (auto const& o : b->options) {
      auto it = f.backend_values.find(o.flag);
      if (o.resource_arg.empty() || it == f.backend_values.end() || it->second.empty()) continue;
      auto& merged = doc["resource_args"];
      if (!merged.is_object()) merged = boost::json::object{};
      auto& own = merged.as_object()[b->resource];
      if (!own.is_object()) own = boost::json::object{};
      own.as_object()[o.resource_arg] = it->second;
    }
  return parse_launch_spec(doc);
}

/** `launch --queue`: builds the spec as a local launch would, replaces a local
    code directory with an uploaded artifact, and pushes it. Returns at once
    unless `--wait`, which follows the run to its end and exits with its status. */
int run_push(launch_flags const& flags) {
  terminal term;
  auto priority = server::priority_from_string(flags.priority);
  if (!priority)
    return term.fail(diagnostic(error::invalid_spec, "--priority " + flags.priority +
                                                         ": expected critical, high, medium or low"),
                     exit_usage);
  auto variables = server::parse_variable_assignments(flags.set_vars);
  if (!variables) return term.fail(variables.error(), exit_usage);

  client::push_request req;
  req.queue = flags.queue;
  req.priority = *priority;
  req.variables = std::move(*variables);
  req.job = flags.job;

  std::optional<launch_spec> spec;
  if (flags.job.empty() || spec_flags_given(flags)) {
    auto s = spec_from_flags(flags);
    if (!s) return term.fail(s.error(), exit_usage);
    if (flags.job.empty() && kind_of(s->source) == source_kind::none)
      return term.fail(diagnostic(error::invalid_spec, "nothing to push: give the job's source (--uri or "
                                                       "--docker-image), or a stored job with --job NAME"),
                       exit_usage);
    spec = std::move(*s);
  }

  std::optional<client::api_client> api;
  if (!flags.dry_run) {
    auto connected = connect_to_server();
    if (!connected) return term.fail(connected.error(), exit_failed);
    api.emplace(std::move(*connected));
  }
  if (spec)
    if (auto* code = std::get_if<code_dir>(&spec->source); code && code->artifact.empty()) {
      // The agent runs elsewhere: the directory travels as an artifact held by the server.
      std::string digest;
      if (flags.dry_run) {
        auto packed = packed_code::pack(code->path);
        if (!packed) return term.fail(packed.error(), exit_usage);
        digest = packed->digest();
      } else {
        auto uploaded = upload_code_dir(*api, term, code->path);
        if (!uploaded) return term.fail(uploaded.error(), exit_failed);
        digest = std::move(*uploaded);
      }
      *code = code_dir{{}, std::move(digest)};
    }
  if (spec) req.spec = to_json(*spec).as_object();

  if (flags.dry_run) {
    boost::json::object o{{"action", "push"}, {"queue", req.queue}, {"priority", server::to_string(req.priority)}};
    if (req.spec) o["spec"] = *req.spec;
    if (!req.job.empty()) o["job"] = req.job;
    if (!req.variables.empty()) o["variables"] = req.variables;
    term.json_line(o);
    return exit_ok;
  }

  auto item = api->push(req);
  if (!item) return term.fail(item.error(), exit_failed);
  std::cout << "run " << item->run_id << " (item " << item->id << ") queued on " << item->queue << std::endl;
  if (!flags.wait) return exit_ok;

  auto end = follow_run(*api, term, item->run_id, true);
  if (!end) return term.fail(end.error(), exit_failed);
  note_finished(term, *end);
  return exit_code_for(*end);
}

int run_launch(launch_flags const& flags) {
  terminal term;
  if (!flags.queue.empty()) return run_push(flags);
  if (!flags.job.empty())
    return term.fail(diagnostic(error::invalid_spec, "--job " + flags.job + " runs a stored job from a queue: give "
                                                     "the queue with --queue QUEUE"),
                     exit_usage);
  for (auto [given, name] : {std::pair{flags.wait, "--wait"}, std::pair{!flags.set_vars.empty(), "--set-var"},
                             std::pair{flags.priority != "medium", "--priority"}})
    if (given)
      return term.fail(diagnostic(error::invalid_spec, std::string(name) + " applies to a push: give the queue "
                                                       "with --queue QUEUE"),
                       exit_usage);
  auto spec = spec_from_flags(flags);
  if (!spec) return term.fail(spec.error(), exit_usage);
  ensure_run_id(*spec);
  auto registry = make_registry(backend_settings_from(flags.backend_values, false));
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

  // From here on, Ctrl-C cancels the launch instead of killing liftoff: during
  // the build it stops the build and starts nothing; once the run started it
  // cancels the run with its grace period, and a second one kills it.
  interrupt_watch interrupts;
  std::stop_source stop_launch;
  options.stop = stop_launch.get_token();
  interrupts.on_signal([&](int) {
    term.note("cancelling: the launch stops; press Ctrl-C again to kill the run once it has started");
    stop_launch.request_stop();
  });
  auto started = launcher->try_launch(*spec, options);
  if (!started || stop_launch.stop_requested()) {
    if (started) {
      auto run = *started;
      run.cancel(std::chrono::milliseconds(0));
      run.wait();
      term.note("run " + spec->run_id + " cancelled before it ran");
      return interrupts.exit_code();
    }
    return term.fail(started.error(), interrupts.signal() ? interrupts.exit_code() : exit_failed);
  }

  auto run = *started;
  interrupts.on_signal([&term, run, grace = options.grace_period](int count) mutable {
    if (count > 1) {
      term.note("killing the run");
      run.cancel(std::chrono::milliseconds(0));
    } else {
      term.note("cancelling the run (" + std::to_string(grace.count() / 1000) + " s grace period); press Ctrl-C again to kill it");
      run.cancel(grace);
    }
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
  auto* cmd = app.add_subcommand("launch", "Launch a job now and wait for it, exiting with its status; or push it to a queue (--queue)");
  cmd->add_option("--uri,-u", flags->uri, "The job's code: a local directory or a git repository URL");
  cmd->add_option("--entry-point,-E", flags->entry_point, "The command to run, e.g. \"python train.py\"");
  cmd->add_option("--git-version,-g", flags->git_version, "Branch, tag or commit of the git repository");
  cmd->add_option("--build-context", flags->build_context, "Directory inside the source to build and run from");
  cmd->add_option("--dockerfile,-D", flags->dockerfile, "Dockerfile inside the source");
  cmd->add_option("--docker-image,-d", flags->docker_image, "Run this container image");
  cmd->add_option("--base-image,-B", flags->base_image, "Base image of a generated Dockerfile");
  cmd->add_option("--build-secret", flags->build_secrets,
                  "A secret the build may mount (RUN --mount=type=secret,id=NAME): id=NAME,src=PATH or "
                  "id=NAME,env=VAR (repeatable); its value is never stored");
  cmd->add_option("--config,-c", flags->config, "Launch config: a JSON or YAML file, or inline JSON");
  cmd->add_option("--resource,-r", flags->resource, "Where to run: " + resource_choices());
  cmd->add_option("--resource-args,-R", flags->resource_args,
                  "Resource arguments keyed by resource name: a JSON or YAML file, or inline JSON");
  cmd->add_option("--project,-p", flags->project, "Project the run belongs to");
  cmd->add_option("--name", flags->name, "Name of the run");
  cmd->add_option("--job-name,-J", flags->job_name, "Name of the job");
  cmd->add_option("--grace-period", flags->grace_seconds, "Seconds a cancelled run has to stop before it is killed")
      ->check(CLI::NonNegativeNumber);
  add_backend_options(*cmd, flags->backend_values, false);
  cmd->add_flag("--dry-run", flags->dry_run, "Print, as JSON lines, what would be done, and do nothing");
  cmd->add_option("--queue,-q", flags->queue, "Push the job to this queue of the queue server instead of running it here");
  cmd->add_option("--job,-j", flags->job, "Push a stored job: NAME, NAME:ALIAS or NAME:vN (with --queue)");
  cmd->add_option("--priority,-P", flags->priority, "The item's priority: critical, high, medium (default) or low");
  cmd->add_option("--set-var,-V", flags->set_vars, "A value for a queue template variable, NAME=VALUE (repeatable)");
  cmd->add_flag("--wait,-w", flags->wait, "After pushing, follow the run to its end and exit with its status");
  cmd->callback([flags, &action] { action = [flags] { return run_launch(*flags); }; });
}

}  // namespace liftoff::cli
