#include <liftoff/source/local_dir.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace liftoff;
namespace fs = std::filesystem;

namespace {

std::string digest_of(fs::path const& p) {
  auto d = directory_digest(p);
  REQUIRE(d.has_value());
  return *d;
}

void make_tree(fs::path const& root) {
  test::write_file(root / "train.py", "print('hello')\n");
  test::write_file(root / "lib/util.py", "x = 1\n");
  test::write_file(root / "data/empty", "");
}

}  // namespace

TEST_CASE("local_dir_source models the source concept", "[local][local_dir]") {
  STATIC_REQUIRE(source<local_dir_source>);
  STATIC_REQUIRE(local_dir_source::kind == source_kind::code);
  STATIC_REQUIRE(local_dir_source::produces == artifact_kind::directory);
}

TEST_CASE("the digest covers content, modes and names, not timestamps or location", "[local][local_dir]") {
  test::temp_dir d;
  make_tree(d.path());
  auto const base = digest_of(d.path());
  CHECK(base.rfind("sha256:", 0) == 0);
  CHECK(base.size() == 7 + 64);
  CHECK(digest_of(d.path()) == base);

  SECTION("touching a file changes nothing") {
    fs::last_write_time(d / "train.py", fs::last_write_time(d / "train.py") - std::chrono::hours(24));
    CHECK(digest_of(d.path()) == base);
  }
  SECTION("the same tree elsewhere has the same digest") {
    test::temp_dir other;
    make_tree(other.path());
    CHECK(digest_of(other.path()) == base);
  }
  SECTION("a one-byte edit changes it") {
    test::write_file(d / "train.py", "print('hellp')\n");
    CHECK(digest_of(d.path()) != base);
  }
  SECTION("chmod +x changes it") {
    fs::permissions(d / "train.py", fs::perms::owner_exec, fs::perm_options::add);
    CHECK(digest_of(d.path()) != base);
  }
  SECTION("a rename changes it") {
    fs::rename(d / "lib/util.py", d / "lib/utils.py");
    CHECK(digest_of(d.path()) != base);
  }
  SECTION("a new empty directory changes it") {
    fs::create_directory(d / "new");
    CHECK(digest_of(d.path()) != base);
  }
  SECTION("bytes moving from one file to the next change it (sizes are framed)") {
    test::write_file(d / "data/a", "xy");
    test::write_file(d / "data/b", "");
    auto one = digest_of(d.path());
    test::write_file(d / "data/a", "x");
    test::write_file(d / "data/b", "y");
    CHECK(digest_of(d.path()) != one);
  }
  SECTION("a symlink counts by its target text") {
    fs::create_symlink("train.py", d / "link");
    auto with_link = digest_of(d.path());
    CHECK(with_link != base);
    fs::remove(d / "link");
    fs::create_symlink("lib/util.py", d / "link");
    CHECK(digest_of(d.path()) != with_link);
  }
}

TEST_CASE("the digest skips .git and what .liftoffignore lists", "[local][local_dir]") {
  test::temp_dir d;
  make_tree(d.path());
  test::write_file(d / ".liftoffignore", "*.ckpt\noutputs/\n!keep.ckpt\n");
  auto const base = digest_of(d.path());

  test::write_file(d / ".git/HEAD", "ref: refs/heads/main\n");
  test::write_file(d / "model.ckpt", "weights");
  test::write_file(d / "lib/other.ckpt", "weights");  // an existing directory: a new one would count
  test::write_file(d / "outputs/run1/log.txt", "log");
  CHECK(digest_of(d.path()) == base);

  test::write_file(d / "keep.ckpt", "re-included by negation");
  CHECK(digest_of(d.path()) != base);

  // The ignore file is itself part of the code.
  test::write_file(d / ".liftoffignore", "*.ckpt\noutputs/\n");
  fs::remove(d / "keep.ckpt");
  CHECK(digest_of(d.path()) != base);
}

TEST_CASE("the digest names what it cannot read", "[local][local_dir]") {
  test::temp_dir d;
  auto missing = directory_digest(d / "nope");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == error::file_not_found);
  if (::geteuid() != 0) {
    test::write_file(d / "secret.txt", "x");
    fs::permissions(d / "secret.txt", fs::perms::none);
    auto r = directory_digest(d.path());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == error::file_unreadable);
    CHECK(r.error().message.find("secret.txt") != std::string::npos);
  }
}

TEST_CASE("local_dir_source yields the canonical directory and its digest", "[local][local_dir]") {
  test::temp_dir d;
  make_tree(d.path());
  launch_spec spec;
  spec.source = code_dir{d / "lib" / ".."};
  auto a = local_dir_source{}.fetch(spec, {});
  REQUIRE(a.has_value());
  CHECK(a->kind == artifact_kind::directory);
  CHECK(a->directory == d.path());
  CHECK(a->digest == digest_of(d.path()));

  SECTION("a relative path resolves against the current directory") {
    auto cwd = fs::current_path();
    fs::current_path(d.path());
    spec.source = code_dir{"lib"};
    auto rel = local_dir_source{}.fetch(spec, {});
    fs::current_path(cwd);
    REQUIRE(rel.has_value());
    CHECK(rel->directory == d / "lib");
  }
  SECTION("a build context narrows it to a sub-directory") {
    spec.build_context = "lib";
    auto sub = local_dir_source{}.fetch(spec, {});
    REQUIRE(sub.has_value());
    CHECK(sub->directory == d / "lib");
    spec.build_context = "nope";
    auto bad = local_dir_source{}.fetch(spec, {});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message.find("build_context: 'nope'") != std::string::npos);
    spec.build_context = "../..";
    CHECK_FALSE((local_dir_source{}.fetch(spec, {})).has_value());
  }
}

TEST_CASE("local_dir_source names a missing or unusable directory", "[local][local_dir]") {
  test::temp_dir d;
  launch_spec spec;
  spec.source = code_dir{d / "missing"};
  auto r = local_dir_source{}.fetch(spec, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::file_not_found);
  CHECK(r.error().message == "code: " + (d / "missing").string() +
                                 " does not exist (give the job's code directory with --uri)");

  test::write_file(d / "file", "");
  spec.source = code_dir{d / "file"};
  auto f = local_dir_source{}.fetch(spec, {});
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error().message.find("is not a directory") != std::string::npos);

  if (::geteuid() != 0) {
    fs::create_directory(d / "locked");
    fs::permissions(d / "locked", fs::perms::none);
    spec.source = code_dir{d / "locked"};
    auto l = local_dir_source{}.fetch(spec, {});
    REQUIRE_FALSE(l.has_value());
    CHECK(l.error().code == error::file_unreadable);
    CHECK(l.error().message.find("locked") != std::string::npos);
  }

  spec.source = image_ref{"busybox"};
  CHECK_FALSE((local_dir_source{}.validate(spec)).has_value());
}

TEST_CASE("a dry run still digests and emits the digest action", "[local][local_dir]") {
  test::temp_dir d;
  make_tree(d.path());
  launch_spec spec;
  spec.source = code_dir{d.path()};
  std::vector<boost::json::object> actions;
  launch_options o;
  o.on_dry_run = [&](boost::json::object const& a) { actions.push_back(a); };
  auto a = local_dir_source{}.fetch(spec, o);
  REQUIRE(a.has_value());
  REQUIRE(actions.size() == 1);
  CHECK(actions[0].at("stage") == "source");
  CHECK(actions[0].at("action") == "digest");
  CHECK(actions[0].at("directory").as_string() == d.path().string());
  CHECK(actions[0].at("digest").as_string() == a->digest);
}
