#ifndef LIFTOFF_SOURCE_IMPL_GIT_IPP
#define LIFTOFF_SOURCE_IMPL_GIT_IPP

#include <liftoff/source/git.hpp>

#include <liftoff/detail/process.hpp>

#include <stdlib.h>

namespace liftoff {

namespace detail {

LIFTOFF_DECL std::string redact_url(std::string const& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto host_start = scheme + 3;
  auto at = url.find('@', host_start);
  auto slash = url.find('/', host_start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  auto colon = url.find(':', host_start);
  if (colon == std::string::npos || colon > at) return url.substr(0, host_start) + "***" + url.substr(at);
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

LIFTOFF_DECL std::vector<std::string> git_environment(std::map<std::string, std::string> const& extra) {
  auto env = current_environment();
  for (auto const& [k, v] : extra) env_set(env, k, v);
  env_set(env, "GIT_TERMINAL_PROMPT", "0");
  // The child has no terminal: an ssh password prompt would stop it forever.
  if (!env_get(env, "GIT_SSH_COMMAND") && !env_get(env, "GIT_SSH"))
    env_set(env, "GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
  return env;
}

/// Removes a clone when the last artifact holding it goes away.
struct owned_directory {
  std::filesystem::path path;
  explicit owned_directory(std::filesystem::path p) : path(std::move(p)) {}
  owned_directory(owned_directory const&) = delete;
  owned_directory& operator=(owned_directory const&) = delete;
  ~owned_directory() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// git's message without the remote's secrets, for a one-line diagnostic.
LIFTOFF_DECL std::string git_message(process_output const& out, std::string const& url) {
  std::string line = last_line(out.err);
  if (line.empty()) line = out.status.describe();
  auto redacted = redact_url(url);
  if (redacted != url)
    for (std::size_t i; (i = line.find(url)) != std::string::npos;) line.replace(i, url.size(), redacted);
  return line;
}

}  // namespace detail

LIFTOFF_DECL result<void> git_source::validate(launch_spec const& spec) const {
  auto const* g = std::get_if<git_ref>(&spec.source);
  if (!g || g->remote.empty()) return diagnostic(error::invalid_spec, "git.remote: expected a repository URL");
  if (g->remote.front() == '-')
    return diagnostic(error::invalid_spec, "git.remote: '" + g->remote + "' is not a repository URL");
  if (!g->version.empty() && g->version.front() == '-')
    return diagnostic(error::invalid_spec, "git.version: '" + g->version + "' is not a branch, tag or commit");
  return {};
}

LIFTOFF_DECL result<artifact> git_source::fetch(launch_spec const& spec, launch_options const& options) const {
  if (auto v = validate(spec); !v) return v.error();
  auto const& ref = std::get<git_ref>(spec.source);
  auto const remote = detail::redact_url(ref.remote);

  auto env = detail::git_environment(options.environment);
  auto git = detail::find_executable("git", detail::env_get(env, "PATH").value_or(""));
  if (git.empty())
    return diagnostic(error::tool_missing,
                      "git is not installed: install it (apt-get install git) or put it on PATH, to clone " + remote);

  std::error_code ec;
  auto base = options.work_dir.empty() ? std::filesystem::temp_directory_path(ec) : options.work_dir;
  std::string name = "liftoff-git-" + (spec.run_id.empty() ? std::string("run") : spec.run_id) + "-";

  if (options.dry_run()) {
    options.emit({{"stage", "source"}, {"action", "git clone"}, {"remote", remote}, {"version", ref.version}});
    artifact a;
    a.kind = artifact_kind::directory;
    a.directory = base / (name + "XXXXXX");
    return a;
  }

  std::filesystem::create_directories(base, ec);
  std::string templ = (base / (name + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr)
    return diagnostic(error::file_unreadable,
                      "cannot create a directory for the clone in " + base.string() + ": " + ::strerror(errno));
  auto owner = std::make_shared<detail::owned_directory const>(std::filesystem::canonical(templ, ec));
  if (ec) return diagnostic(error::file_unreadable, templ + ": " + ec.message());
  auto const& dir = owner->path;

  auto run_git = [&](std::vector<std::string> args) {
    detail::spawn_options o;
    o.argv = {git.string()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = env;
    return detail::run_process(o);
  };

  auto cloned = run_git({"clone", "--quiet", "--no-checkout", "--", ref.remote, dir.string()});
  if (!cloned) return diagnostic(error::source_failed, "cannot run git: " + cloned.error().message);
  if (!cloned->status.success())
    return diagnostic(error::source_failed,
                      "git clone " + remote + " failed: " + detail::git_message(*cloned, ref.remote));

  // A branch is found as origin/<name> (a clone has only the default one locally); then tags, then commits.
  std::string wanted = ref.version.empty() ? "HEAD" : ref.version;
  std::string commit;
  std::vector<std::string> candidates;
  if (ref.version.empty()) candidates = {"HEAD"};
  else candidates = {"refs/remotes/origin/" + wanted, "refs/tags/" + wanted, wanted};
  for (auto const& c : candidates) {
    auto r = run_git({"-C", dir.string(), "rev-parse", "--verify", "--quiet", c + "^{commit}"});
    if (r && r->status.success()) {
      commit = detail::last_line(r->out);
      break;
    }
  }
  if (commit.empty()) {
    if (ref.version.empty())
      return diagnostic(error::source_failed, "git clone " + remote + ": the repository has no commits");
    return diagnostic(error::source_failed, "git version '" + ref.version + "' not found in " + remote +
                                                ": no branch, tag or commit has that name");
  }
  auto checked_out = run_git({"-C", dir.string(), "checkout", "--quiet", "--detach", commit});
  if (!checked_out) return diagnostic(error::source_failed, "cannot run git: " + checked_out.error().message);
  if (!checked_out->status.success())
    return diagnostic(error::source_failed, "git checkout " + wanted + " in the clone of " + remote +
                                                " failed: " + detail::git_message(*checked_out, ref.remote));

  artifact a;
  a.kind = artifact_kind::directory;
  a.directory = dir;
  if (!spec.build_context.empty()) {
    auto sub = detail::build_context_dir(dir, spec.build_context, remote);
    if (!sub) return sub.error();
    a.directory = *sub;
  }
  auto digest = directory_digest(a.directory);
  if (!digest) return digest.error();
  a.digest = std::move(*digest);
  a.lifetime = std::move(owner);
  return a;
}

}  // namespace liftoff

#endif
