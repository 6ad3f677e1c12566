// The BuildKit builder's pure parts: the progress printer and the file
// filters of the session's FileSync (the engine-facing parts are tested
// against the real engine in tests/integration/docker/builder.cpp).

#include <liftoff/detail/config.hpp>

#include <catch2/catch.hpp>

#if LIFTOFF_WITH_BUILDKIT

#include <liftoff/buildkit/detail/filesync.hpp>
#include <liftoff/buildkit/detail/progress.hpp>

#include <algorithm>

using namespace liftoff::buildkit::detail;
using liftoff::tree_entry_type;

namespace {

sync_entry file(std::string path) {
  sync_entry e;
  e.path = std::move(path);
  return e;
}
sync_entry dir(std::string path) {
  sync_entry e;
  e.path = std::move(path);
  e.type = tree_entry_type::directory;
  e.mode = 0755;
  return e;
}
std::vector<std::string> paths(std::vector<sync_entry> const& v) {
  std::vector<std::string> out;
  for (auto const& e : v) out.push_back(e.path);
  return out;
}

}  // namespace

TEST_CASE("progress lines: steps numbered as first seen, output prefixed, DONE, CACHED and ERROR", "[buildkit]") {
  progress_printer p(2);
  status_update u1;
  u1.vertexes = {{"sha256:a", "[1/2] FROM base", false, 10.0, std::nullopt, ""},
                 {"sha256:b", "[2/2] RUN make", false, std::nullopt, std::nullopt, ""}};
  CHECK(p.feed(u1) == std::vector<std::string>{"#1 [1/2] FROM base"});

  status_update u2;
  u2.vertexes = {{"sha256:a", "[1/2] FROM base", false, 10.0, 10.5, ""},
                 {"sha256:b", "[2/2] RUN make", false, 11.0, std::nullopt, ""}};
  u2.logs = {{"sha256:b", 1, "one\ntw"}, {"sha256:b", 2, "err line\n"}};
  CHECK(p.feed(u2) == std::vector<std::string>{"#2 [2/2] RUN make", "#2 one", "#2 err line", "#1 DONE 0.5s"});

  status_update u3;
  u3.logs = {{"sha256:b", 1, "o\nthree\n"}};
  u3.vertexes = {{"sha256:b", "[2/2] RUN make", false, 11.0, 12.0, "exit code: 2"}};
  CHECK(p.feed(u3) == std::vector<std::string>{"#2 two", "#2 three", "#2 ERROR: exit code: 2"});
  CHECK(p.failed_step() == "[2/2] RUN make");
  // The last two lines (quoted_lines = 2) of the failing step.
  CHECK(p.failed_lines() == std::vector<std::string>{"two", "three"});

  status_update u4;
  u4.vertexes = {{"sha256:c", "[internal] load build context", true, std::nullopt, std::nullopt, ""}};
  u4.statuses = {{"transfer", "sha256:c", "transferring context", 38, 0, true},
                 {"transfer", "sha256:c", "transferring context", 38, 0, true}};
  CHECK(p.feed(u4) == std::vector<std::string>{"#3 [internal] load build context", "#3 transferring context 38B done",
                                               "#3 CACHED"});
}

TEST_CASE("an unfinished output line is printed at the end of the stream", "[buildkit]") {
  progress_printer p;
  status_update u;
  u.vertexes = {{"d", "[1/1] RUN x", false, 1.0, std::nullopt, ""}};
  u.logs = {{"d", 1, "no newline"}};
  CHECK(p.feed(u) == std::vector<std::string>{"#1 [1/1] RUN x"});
  CHECK(p.finish() == std::vector<std::string>{"#1 no newline"});
  CHECK(p.failed_step().empty());
  CHECK(p.failed_lines() == std::vector<std::string>{"no newline"});
}

TEST_CASE("FileSync entries are in fsutil's walk order, component by component", "[buildkit]") {
  std::vector<sync_entry> v{file("a-b"), file("a/b"), dir("a"), file("B"), file("a/a")};
  sort_for_walk(v);
  CHECK(paths(v) == std::vector<std::string>{"B", "a", "a/a", "a/b", "a-b"});
}

TEST_CASE("FileSync filters: follow paths, include patterns and .dockerignore excludes, with parent directories", "[buildkit]") {
  std::vector<sync_entry> v{dir("sub"), file("sub/Dockerfile"), file("sub/other"), file("Dockerfile"),
                            dir("logs"), file("logs/a.log"), file("logs/keep.log"), file("secret.txt")};
  SECTION("follow paths keep exactly those files and the directories leading to them") {
    auto r = apply_filter(v, {.follow_paths = {"sub/Dockerfile", "./.dockerignore"}});
    REQUIRE(r.has_value());
    CHECK(paths(*r) == std::vector<std::string>{"sub", "sub/Dockerfile"});
  }
  SECTION("exclude patterns are .dockerignore rules, ! included") {
    auto r = apply_filter(v, {.exclude_patterns = {"secret.txt", "logs/*.log", "!logs/keep.log"}});
    REQUIRE(r.has_value());
    CHECK(paths(*r) ==
          std::vector<std::string>{"sub", "sub/Dockerfile", "sub/other", "Dockerfile", "logs", "logs/keep.log"});
  }
  SECTION("include patterns keep what matches and what is below a matching directory") {
    auto r = apply_filter(v, {.include_patterns = {"sub", "*.txt"}});
    REQUIRE(r.has_value());
    CHECK(paths(*r) == std::vector<std::string>{"sub", "sub/Dockerfile", "sub/other", "secret.txt"});
  }
}

TEST_CASE("modes are sent as Go's os.FileMode, and in-memory files change time with their content", "[buildkit]") {
  CHECK(go_file_mode(tree_entry_type::regular, 0644) == 0644);
  CHECK(go_file_mode(tree_entry_type::directory, 0755) == ((1u << 31) | 0755));
  CHECK(go_file_mode(tree_entry_type::symlink, 0777) == ((1u << 27) | 0777));
  CHECK(go_file_mode(tree_entry_type::regular, 04755) == ((1u << 23) | 0755));
  auto a = memory_file("Dockerfile", "FROM a\n");
  auto b = memory_file("Dockerfile", "FROM b\n");
  CHECK(a.size == b.size);
  CHECK(a.mtime_ns != b.mtime_ns);
  CHECK(memory_file("Dockerfile", "FROM a\n").mtime_ns == a.mtime_ns);
  CHECK(a.mtime_ns > 0);
}

#else

TEST_CASE("BuildKit's unit tests need a liftoff built with BuildKit", "[buildkit]") {
  WARN("skipped: this liftoff was built without BuildKit (gRPC)");
}

#endif
