#include <liftoff/source/git.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

using namespace liftoff;
namespace fs = std::filesystem;

namespace {

std::string git(std::vector<std::string> args, fs::path const& cwd) {
  args.insert(args.begin(), {"git", "-c", "user.name=Liftoff Test", "-c", "user.email=test@example.com", "-c",
                             "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"});
  auto r = test::run_command(args, {}, cwd);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

/// A bare repository with main (two commits, tag v1 on the first) and a `feature` branch.
struct repository {
  test::temp_dir dir{"liftoff-git-test"};
  fs::path bare = dir / "origin.git";
  std::string first_commit;

  repository() {
    git({"init", "--quiet", "--bare", bare.string()}, dir.path());
    auto work = dir / "work";
    git({"init", "--quiet", work.string()}, dir.path());
    test::write_file(work / "train.sh", "#!/bin/sh\necho v1\n");
    test::write_file(work / "sub/config.txt", "one\n");
    git({"add", "."}, work);
    git({"commit", "--quiet", "-m", "first"}, work);
    git({"tag", "v1"}, work);
    first_commit = test::read_file(work / ".git/refs/heads/main");
    first_commit.resize(40);
    test::write_file(work / "train.sh", "#!/bin/sh\necho v2\n");
    git({"commit", "--quiet", "-am", "second"}, work);
    git({"checkout", "--quiet", "-b", "feature"}, work);
    test::write_file(work / "train.sh", "#!/bin/sh\necho feature\n");
    git({"commit", "--quiet", "-am", "feature"}, work);
    git({"push", "--quiet", bare.string(), "main", "feature", "v1"}, work);
  }
};

launch_spec git_spec(fs::path const& remote, std::string version) {
  launch_spec s;
  s.source = git_ref{remote.string(), std::move(version)};
  s.run_id = "gitrun01";
  return s;
}

}  // namespace

TEST_CASE("git_source models the source concept", "[local][git]") {
  STATIC_REQUIRE(source<git_source>);
  STATIC_REQUIRE(git_source::kind == source_kind::git);
  STATIC_REQUIRE(git_source::produces == artifact_kind::directory);
}

TEST_CASE("git_source checks out a branch, a tag, a commit or the default branch", "[local][git]") {
  repository repo;
  test::temp_dir work;
  launch_options o;
  o.work_dir = work.path();

  auto content = [&](std::string version) {
    auto a = git_source{}.fetch(git_spec(repo.bare, version), o);
    INFO(version << ": " << (a ? std::string() : a.error().message));
    REQUIRE(a.has_value());
    CHECK(a->kind == artifact_kind::directory);
    CHECK(a->directory.parent_path() == work.path());
    CHECK(a->lifetime);
    CHECK(a->digest == *directory_digest(a->directory));
    return test::read_file(a->directory / "train.sh");
  };
  CHECK(content("") == "#!/bin/sh\necho v2\n");
  CHECK(content("main") == "#!/bin/sh\necho v2\n");
  CHECK(content("feature") == "#!/bin/sh\necho feature\n");
  CHECK(content("v1") == "#!/bin/sh\necho v1\n");
  CHECK(content(repo.first_commit) == "#!/bin/sh\necho v1\n");
  CHECK(content(repo.first_commit.substr(0, 10)) == "#!/bin/sh\necho v1\n");
}

TEST_CASE("the clone lives as long as its artifact", "[local][git]") {
  repository repo;
  test::temp_dir work;
  launch_options o;
  o.work_dir = work / "nested";  // created on demand
  fs::path dir;
  {
    auto a = git_source{}.fetch(git_spec(repo.bare, "v1"), o);
    REQUIRE(a.has_value());
    dir = a->directory;
    auto copy = *a;
    a = diagnostic(error::cancelled, "");
    CHECK(fs::exists(dir / "train.sh"));  // the copy still holds it
  }
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("the digest of a checkout does not depend on where or when it was cloned", "[local][git]") {
  repository repo;
  test::temp_dir work;
  launch_options o;
  o.work_dir = work.path();
  auto a = git_source{}.fetch(git_spec(repo.bare, "v1"), o);
  auto b = git_source{}.fetch(git_spec(repo.bare, repo.first_commit), o);
  auto c = git_source{}.fetch(git_spec(repo.bare, "main"), o);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  REQUIRE(c.has_value());
  CHECK(a->directory != b->directory);
  CHECK(a->digest == b->digest);
  CHECK(a->digest != c->digest);
}

TEST_CASE("a build context narrows the artifact to a sub-directory of the checkout", "[local][git]") {
  repository repo;
  test::temp_dir work;
  launch_options o;
  o.work_dir = work.path();
  auto spec = git_spec(repo.bare, "main");
  spec.build_context = "sub";
  auto a = git_source{}.fetch(spec, o);
  REQUIRE(a.has_value());
  CHECK(a->directory.filename() == "sub");
  CHECK(fs::exists(a->directory / "config.txt"));

  spec.build_context = "missing";
  auto bad = git_source{}.fetch(spec, o);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == error::file_not_found);
  CHECK(bad.error().message.find("build_context: 'missing'") != std::string::npos);
  a = diagnostic(error::cancelled, "");
  CHECK(fs::is_empty(work.path()));  // the failed clone was removed too
}

TEST_CASE("git_source names a version that does not exist", "[local][git]") {
  repository repo;
  test::temp_dir work;
  launch_options o;
  o.work_dir = work.path();
  auto r = git_source{}.fetch(git_spec(repo.bare, "no-such-branch"), o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::source_failed);
  CHECK(r.error().message == "git version 'no-such-branch' not found in " + repo.bare.string() +
                                 ": no branch, tag or commit has that name");
  CHECK(fs::is_empty(work.path()));
}

TEST_CASE("git_source reports a remote that cannot be cloned, with git's own reason", "[local][git]") {
  test::temp_dir work;
  launch_options o;
  o.work_dir = work.path();
  auto remote = work / "no-such-repo";
  auto r = git_source{}.fetch(git_spec(remote, ""), o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::source_failed);
  INFO(r.error().message);
  CHECK(r.error().message.rfind("git clone " + remote.string() + " failed: fatal:", 0) == 0);
  CHECK(r.error().message.find('\n') == std::string::npos);
  CHECK(fs::is_empty(work.path()));
}

TEST_CASE("git_source says how to install git when it is missing", "[local][git]") {
  test::temp_dir empty;
  launch_options o;
  o.work_dir = empty.path();
  o.environment["PATH"] = empty.path().string();
  auto r = git_source{}.fetch(git_spec("https://example.com/repo.git", "main"), o);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::tool_missing);
  CHECK(r.error().message.rfind("git is not installed: install it (apt-get install git)", 0) == 0);
}

TEST_CASE("a git dry run emits the clone and clones nothing", "[local][git]") {
  test::temp_dir work;
  std::vector<boost::json::object> actions;
  launch_options o;
  o.work_dir = work.path();
  o.on_dry_run = [&](boost::json::object const& a) { actions.push_back(a); };
  auto r = git_source{}.fetch(git_spec("https://user:s3cret@example.com/repo.git", "v2"), o);
  REQUIRE(r.has_value());
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].at("stage") == "source");
  CHECK(actions[0].at("action") == "git clone");
  CHECK(actions[0].at("remote") == "https://user:***@example.com/repo.git");
  CHECK(actions[0].at("version") == "v2");
  CHECK(fs::is_empty(work.path()));
}

TEST_CASE("git_source validates remote and version", "[local][git]") {
  CHECK((git_source{}.validate(git_spec("https://example.com/r.git", "main"))).has_value());
  CHECK_FALSE((git_source{}.validate(git_spec("--upload-pack=evil", ""))).has_value());
  CHECK_FALSE((git_source{}.validate(git_spec("https://example.com/r.git", "--orphan"))).has_value());
  launch_spec none;
  CHECK_FALSE((git_source{}.validate(none)).has_value());
}

TEST_CASE("secrets in remote URLs are redacted", "[local][git]") {
  CHECK(detail::redact_url("https://user:tok@host/r.git") == "https://user:***@host/r.git");
  CHECK(detail::redact_url("https://tok@host/r.git") == "https://***@host/r.git");
  CHECK(detail::redact_url("https://host/a@b") == "https://host/a@b");
  CHECK(detail::redact_url("git@github.com:org/r.git") == "git@github.com:org/r.git");
}
