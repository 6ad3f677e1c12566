#include <liftoff/source/ignore.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace liftoff;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> paths(std::vector<tree_entry> const& entries) {
  std::vector<std::string> out;
  for (auto const& e : entries) out.push_back(e.path);
  return out;
}

}  // namespace

TEST_CASE("gitignore-style patterns", "[local][ignore]") {
  auto rules = ignore_rules::parse(
      "# a comment\n"
      "\n"
      "*.log\n"
      "!keep.log\n"
      "build/\n"
      "/top.txt\n"
      "docs/*.md\n"
      "**/cache\n"
      "data/**\n"
      "a/**/z\n"
      "\\#literal\n"
      "trailing   \n");
  CHECK(rules.size() == 10);
  CHECK(rules.has_negations());

  CHECK(rules.ignored("x.log", false));
  CHECK(rules.ignored("deep/down/x.log", false));
  CHECK_FALSE(rules.ignored("keep.log", false));
  CHECK_FALSE(rules.ignored("sub/keep.log", false));

  CHECK(rules.ignored("build", true));
  CHECK(rules.ignored("src/build", true));
  CHECK_FALSE(rules.ignored("build", false));  // a file named build is not a directory
  CHECK(rules.ignored("build/out.o", false));  // inside an excluded directory

  CHECK(rules.ignored("top.txt", false));
  CHECK_FALSE(rules.ignored("sub/top.txt", false));  // anchored to the root

  CHECK(rules.ignored("docs/a.md", false));
  CHECK_FALSE(rules.ignored("docs/sub/a.md", false));  // `*` does not cross `/`
  CHECK_FALSE(rules.ignored("other/docs/a.md", false));

  CHECK(rules.ignored("cache", true));
  CHECK(rules.ignored("x/y/cache", false));

  CHECK_FALSE(rules.ignored("data", true));  // `data/**` is what is inside
  CHECK(rules.ignored("data/x", false));
  CHECK(rules.ignored("data/x/y", false));

  CHECK(rules.ignored("a/z", false));
  CHECK(rules.ignored("a/b/c/z", false));
  CHECK_FALSE(rules.ignored("b/a/z", false));

  CHECK(rules.ignored("#literal", false));
  CHECK(rules.ignored("trailing", false));
  CHECK_FALSE(rules.ignored("main.py", false));
}

TEST_CASE("an excluded directory cannot be re-included in gitignore style, but can in dockerignore style",
          "[local][ignore]") {
  auto git = ignore_rules::parse("dir/\n!dir/keep.txt\n");
  CHECK(git.ignored("dir/keep.txt", false));

  auto docker = ignore_rules::parse("dir\n!dir/keep.txt\n", ignore_syntax::dockerignore);
  CHECK(docker.ignored("dir", true));
  CHECK(docker.ignored("dir/other.txt", false));
  CHECK_FALSE(docker.ignored("dir/keep.txt", false));
  // Docker patterns are relative to the root.
  CHECK_FALSE(docker.ignored("sub/dir", true));
}

TEST_CASE("the walk is sorted, skips .git and ignored paths, and reports types and modes", "[local][ignore]") {
  test::temp_dir d;
  test::write_file(d / "b.txt", "bb");
  test::write_file(d / "a/z.txt", "z");
  test::write_file(d / "a/y.log", "log");
  test::write_file(d / "a.txt", "a");
  test::write_file(d / ".git/HEAD", "ref");
  test::write_file(d / "sub/.git", "gitdir: elsewhere");
  test::write_file(d / "build/out.o", "o");
  test::write_file(d / "run.sh", "#!/bin/sh\n");
  fs::permissions(d / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("b.txt", d / "link");
  ::mkfifo((d / "fifo").c_str(), 0600);  // neither file nor directory: skipped, never opened

  auto rules = ignore_rules::parse("*.log\nbuild/\n");
  auto entries = list_tree(d.path(), rules);
  REQUIRE(entries.has_value());
  CHECK(paths(*entries) == std::vector<std::string>{"a", "a/z.txt", "a.txt", "b.txt", "link", "run.sh", "sub"});

  auto find = [&](std::string const& p) {
    for (auto const& e : *entries)
      if (e.path == p) return e;
    FAIL("no entry " << p);
    return tree_entry{};
  };
  CHECK(find("a").type == tree_entry_type::directory);
  CHECK(find("b.txt").type == tree_entry_type::regular);
  CHECK(find("b.txt").size == 2);
  CHECK(find("link").type == tree_entry_type::symlink);
  CHECK(find("link").link_target == "b.txt");
  CHECK((find("run.sh").mode & 0100) != 0);
  CHECK((find("b.txt").mode & 0100) == 0);
}

TEST_CASE("the walk stops at the visitor's error and names unreadable paths", "[local][ignore]") {
  test::temp_dir d;
  test::write_file(d / "a", "");
  test::write_file(d / "b", "");
  int seen = 0;
  auto r = walk_tree(d.path(), {}, [&](tree_entry const&) -> result<void> {
    ++seen;
    return diagnostic(error::cancelled, "stop");
  });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "stop");
  CHECK(seen == 1);

  auto missing = list_tree(d / "nope", {});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == error::file_not_found);
  CHECK(missing.error().message.find((d / "nope").string()) != std::string::npos);

  if (::geteuid() != 0) {
    fs::create_directory(d / "locked");
    fs::permissions(d / "locked", fs::perms::none);
    auto locked = list_tree(d.path(), {});
    REQUIRE_FALSE(locked.has_value());
    CHECK(locked.error().code == error::file_unreadable);
    CHECK(locked.error().message.find("locked") != std::string::npos);
  }
}

TEST_CASE("ignore files load from disk; a missing one means no rules", "[local][ignore]") {
  test::temp_dir d;
  auto none = ignore_rules::load(d / ".liftoffignore");
  REQUIRE(none.has_value());
  CHECK(none->empty());
  test::write_file(d / ".liftoffignore", "*.tmp\r\n");
  auto some = ignore_rules::load(d / ".liftoffignore");
  REQUIRE(some.has_value());
  CHECK(some->ignored("x.tmp", false));
}
