// `liftoff job create {image|git|code}|list|describe|alias`: jobs stored on the queue server.

#include "client_support.hpp"

#include <liftoff/core/spec.hpp>

#include <CLI/App.hpp>

#include <memory>

namespace liftoff::cli {

namespace {

struct job_flags {
  std::string name;
  std::string image;
  std::string uri;
  std::string git_version;
  std::string dir;
  std::string entry_point;
  std::vector<std::string> aliases;
  std::string alias;
  std::string version;
  bool json = false;
};

std::string aliases_text(std::vector<std::string> const& a) {
  std::string out;
  for (auto const& x : a) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? "-" : out;
}

/// What a job version's source is, in a few words.
std::string source_text(boost::json::object const& s) {
  if (auto const* i = s.if_contains("image"); i && i->is_string()) return "image " + std::string(i->get_string());
  if (auto const* g = s.if_contains("git"); g && g->is_object()) {
    std::string out = "git";
    if (auto const* r = g->get_object().if_contains("remote"); r && r->is_string()) out += " " + std::string(r->get_string());
    if (auto const* v = g->get_object().if_contains("version"); v && v->is_string())
      out += " @ " + std::string(v->get_string());
    return out;
  }
  if (auto const* c = s.if_contains("code")) {
    if (c->is_object())
      if (auto const* a = c->get_object().if_contains("artifact"); a && a->is_string())
        return "code " + std::string(a->get_string()).substr(0, 19);
    return "code";
  }
  return "-";
}

std::string entry_point_text(boost::json::object const& s) {
  auto const* e = s.if_contains("entry_point");
  if (!e) return "-";
  if (e->is_string()) return std::string(e->get_string());
  std::string out;
  if (e->is_array())
    for (auto const& w : e->get_array())
      if (w.is_string()) out += (out.empty() ? "" : " ") + std::string(w.get_string());
  return out.empty() ? "-" : out;
}

/// Adds `entry_point` to a source, as the words of the command line.
result<void> add_entry_point(boost::json::object& source, std::string const& entry_point) {
  if (entry_point.empty()) return {};
  auto words = split_command_line(entry_point);
  if (!words) return diagnostic(error::invalid_spec, "--entry-point: " + words.error().message);
  boost::json::array a;
  for (auto const& w : *words) a.emplace_back(w);
  source["entry_point"] = std::move(a);
  return {};
}

int create_job(job_flags const& f, boost::json::object source, client::api_client& api, terminal& term) {
  // The versions before, to say whether this one is new.
  int newest = -1;
  if (auto before = api.job_versions(f.name))
    for (auto const& v : *before) newest = std::max(newest, v.version);
  auto made = api.create_job(f.name, std::move(source), f.aliases);
  if (!made) return term.fail(made.error(), exit_failed);
  if (made->version > newest)
    term.note("job " + made->job + " v" + std::to_string(made->version) + " created (" + aliases_text(made->aliases) + ")");
  else
    term.note("job " + made->job + " unchanged: its source is v" + std::to_string(made->version) + " (" +
              aliases_text(made->aliases) + ")");
  std::cout << made->job << ":v" << made->version << std::endl;
  return exit_ok;
}

int run_create_image(job_flags const& f) {
  terminal term;
  boost::json::object source{{"image", f.image}};
  if (auto e = add_entry_point(source, f.entry_point); !e) return term.fail(e.error(), exit_usage);
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  return create_job(f, std::move(source), *api, term);
}

int run_create_git(job_flags const& f) {
  terminal term;
  boost::json::object git{{"remote", f.uri}};
  if (!f.git_version.empty()) git["version"] = f.git_version;
  boost::json::object source{{"git", std::move(git)}};
  if (auto e = add_entry_point(source, f.entry_point); !e) return term.fail(e.error(), exit_usage);
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  return create_job(f, std::move(source), *api, term);
}

int run_create_code(job_flags const& f) {
  terminal term;
  std::error_code ec;
  if (!std::filesystem::is_directory(f.dir, ec))
    return term.fail(diagnostic(error::file_not_found, "--dir " + f.dir + ": not a directory"), exit_usage);
  boost::json::object source;
  if (auto e = add_entry_point(source, f.entry_point); !e) return term.fail(e.error(), exit_usage);
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto digest = upload_code_dir(*api, term, f.dir);
  if (!digest) return term.fail(digest.error(), exit_failed);
  source["code"] = boost::json::object{{"artifact", *digest}};
  return create_job(f, std::move(source), *api, term);
}

int run_list(job_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto jobs = api->list_jobs();
  if (!jobs) return term.fail(jobs.error(), exit_failed);
  if (f.json) {
    print_json(boost::json::value_from(*jobs));
    return exit_ok;
  }
  text_table t({"JOB", "LATEST", "SOURCE", "ENTRY POINT", "ALIASES", "CREATED"});
  for (auto const& j : *jobs)
    t.add({j.job, "v" + std::to_string(j.version), source_text(j.source), entry_point_text(j.source),
           aliases_text(j.aliases), short_time(j.created_at)});
  t.print(std::cout);
  return exit_ok;
}

int run_describe(job_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto versions = api->job_versions(f.name);
  if (!versions) return term.fail(versions.error(), exit_failed);
  if (f.json) {
    print_json(boost::json::value_from(*versions));
    return exit_ok;
  }
  std::cout << "job: " << f.name << "\n";
  text_table t({"VERSION", "ALIASES", "SOURCE", "ENTRY POINT", "DIGEST", "CREATED"});
  for (auto const& v : *versions)
    t.add({"v" + std::to_string(v.version), aliases_text(v.aliases), source_text(v.source), entry_point_text(v.source),
           v.digest.substr(0, 19), short_time(v.created_at)});
  t.print(std::cout);
  return exit_ok;
}

int run_alias(job_flags const& f) {
  terminal term;
  auto api = connect_to_server();
  if (!api) return term.fail(api.error(), exit_failed);
  auto v = api->set_job_alias(f.name, f.alias, f.version);
  if (!v) return term.fail(v.error(), exit_failed);
  term.note("job " + v->job + ":" + f.alias + " is now v" + std::to_string(v->version));
  return exit_ok;
}

void add_common(CLI::App* cmd, job_flags& f) {
  cmd->add_option("name", f.name, "The job's name")->required();
  cmd->add_option("--entry-point,-E", f.entry_point, "The command to run, e.g. \"python3 train.py\"");
  cmd->add_option("--alias,-a", f.aliases, "Aliases for this version (repeatable); `latest` is always set");
}

}  // namespace

void add_job_command(CLI::App& app, command_action& action) {
  auto* job = app.add_subcommand("job", "Manage the jobs stored on the queue server");
  job->require_subcommand(1);

  auto* create = job->add_subcommand("create", "Store a job version: from an image, a git repository or local code");
  create->require_subcommand(1);

  auto image = std::make_shared<job_flags>();
  auto* from_image = create->add_subcommand("image", "A job that runs a container image");
  add_common(from_image, *image);
  from_image->add_option("--image,-i", image->image, "The image, e.g. python:3.12-slim")->required();
  from_image->callback([image, &action] { action = [image] { return run_create_image(*image); }; });

  auto git = std::make_shared<job_flags>();
  auto* from_git = create->add_subcommand("git", "A job whose code is a git repository");
  add_common(from_git, *git);
  from_git->add_option("--uri,-u", git->uri, "The repository's URL")->required();
  from_git->add_option("--git-version,-g", git->git_version, "Branch, tag or commit");
  from_git->callback([git, &action] { action = [git] { return run_create_git(*git); }; });

  auto code = std::make_shared<job_flags>();
  auto* from_code = create->add_subcommand("code", "A job whose code is a local directory, uploaded to the server");
  add_common(from_code, *code);
  from_code->add_option("--dir,-d", code->dir, "The job's directory (.git and .liftoffignore entries are left out)")
      ->required();
  from_code->callback([code, &action] { action = [code] { return run_create_code(*code); }; });

  auto list = std::make_shared<job_flags>();
  auto* list_cmd = job->add_subcommand("list", "List the jobs with their latest versions");
  list_cmd->add_flag("--json", list->json, "Print JSON");
  list_cmd->callback([list, &action] { action = [list] { return run_list(*list); }; });

  auto describe = std::make_shared<job_flags>();
  auto* describe_cmd = job->add_subcommand("describe", "Show a job's versions and aliases");
  describe_cmd->add_option("name", describe->name, "The job's name")->required();
  describe_cmd->add_flag("--json", describe->json, "Print JSON");
  describe_cmd->callback([describe, &action] { action = [describe] { return run_describe(*describe); }; });

  auto alias = std::make_shared<job_flags>();
  auto* alias_cmd = job->add_subcommand("alias", "Point an alias at a version");
  alias_cmd->add_option("name", alias->name, "The job's name")->required();
  alias_cmd->add_option("alias", alias->alias, "The alias, e.g. production")->required();
  alias_cmd->add_option("version", alias->version, "The version: v3, or another alias")->required();
  alias_cmd->callback([alias, &action] { action = [alias] { return run_alias(*alias); }; });
}

}  // namespace liftoff::cli
