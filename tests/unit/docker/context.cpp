#include <liftoff/docker/context.hpp>

#include "support/test_support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <vector>

using liftoff::docker::build_context;
using liftoff::docker::context_options;
using liftoff::test::temp_dir;
using liftoff::test::write_file;
namespace fs = std::filesystem;

namespace {

/// True when `r` holds a value; otherwise shows its diagnostic.
template <class T>
bool ok(liftoff::result<T> const& r) {
  if (!r) UNSCOPED_INFO(r.error().what());
  return r.has_value();
}

struct tar_entry {
  std::string path;
  unsigned type = 0;  // AE_IFREG, AE_IFDIR, AE_IFLNK
  unsigned perm = 0;
  std::string content;
  std::string link;
  long long mtime = -1, uid = -1, gid = -1;
  std::string uname, gname;
};

/// Reads a tar back with libarchive.
std::vector<tar_entry> read_tar(std::string const& tar) {
  std::vector<tar_entry> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, tar.data(), tar.size()) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    tar_entry t;
    t.path = archive_entry_pathname(e);
    if (t.path.size() > 1 && t.path.back() == '/') t.path.pop_back();
    t.type = archive_entry_filetype(e);
    t.perm = archive_entry_perm(e);
    if (auto const* l = archive_entry_symlink(e)) t.link = l;
    t.mtime = archive_entry_mtime(e);
    t.uid = archive_entry_uid(e);
    t.gid = archive_entry_gid(e);
    if (auto const* u = archive_entry_uname(e)) t.uname = u;
    if (auto const* g = archive_entry_gname(e)) t.gname = g;
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) t.content.append(buf, static_cast<std::size_t>(n));
    out.push_back(std::move(t));
  }
  archive_read_free(a);
  return out;
}

std::vector<std::string> paths(std::vector<tar_entry> const& es) {
  std::vector<std::string> p;
  for (auto const& e : es) p.push_back(e.path);
  return p;
}

tar_entry const* find(std::vector<tar_entry> const& es, std::string const& path) {
  for (auto const& e : es)
    if (e.path == path || e.path == path + "/") return &e;
  return nullptr;
}

void make_tree(fs::path const& d) {
  write_file(d / "train.py", "print('hi')\n");
  write_file(d / "lib/util.py", "x = 1\n");
  write_file(d / "run.sh", "#!/bin/sh\necho run\n");
  fs::permissions(d / "run.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  fs::create_symlink("lib/util.py", d / "link.py");
}

}  // namespace

TEST_CASE("build_context: the tar has exactly the directory's entries, with modes and symlinks", "[docker]") {
  temp_dir dir;
  make_tree(dir.path());
  auto c = build_context::open(dir.path());
  REQUIRE(ok(c));
  auto tar = c->to_tar();
  REQUIRE(ok(tar));
  auto es = read_tar(*tar);
  CHECK(paths(es) == std::vector<std::string>{"lib", "lib/util.py", "link.py", "run.sh", "train.py"});
  auto const* run = find(es, "run.sh");
  REQUIRE(run);
  CHECK(run->type == AE_IFREG);
  CHECK(run->perm == 0744);
  CHECK(run->content == "#!/bin/sh\necho run\n");
  auto const* link = find(es, "link.py");
  REQUIRE(link);
  CHECK(link->type == AE_IFLNK);
  CHECK(link->link == "lib/util.py");
  CHECK(find(es, "lib")->type == AE_IFDIR);
  for (auto const& e : es) {
    CHECK(e.mtime == 0);
    CHECK(e.uid == 0);
    CHECK(e.gid == 0);
    CHECK(e.uname.empty());
    CHECK(e.gname.empty());
  }
}

TEST_CASE("build_context: .dockerignore is honoured, with negation; it and the Dockerfile are always sent", "[docker]") {
  temp_dir dir;
  write_file(dir / "train.py", "1");
  write_file(dir / "data/big.bin", "2");
  write_file(dir / "data/keep.txt", "3");
  write_file(dir / "notes.md", "4");
  write_file(dir / "Dockerfile", "FROM x\n");
  write_file(dir / ".dockerignore", "# comment\ndata\n!data/keep.txt\n*.md\nDockerfile\n.dockerignore\n");
  context_options o;
  o.always_include = {"Dockerfile"};
  auto c = build_context::open(dir.path(), o);
  REQUIRE(ok(c));
  auto es = read_tar(c->to_tar().value());
  auto p = paths(es);
  CHECK(std::find(p.begin(), p.end(), "train.py") != p.end());
  CHECK(std::find(p.begin(), p.end(), "data/keep.txt") != p.end());
  CHECK(std::find(p.begin(), p.end(), "data/big.bin") == p.end());
  CHECK(std::find(p.begin(), p.end(), "notes.md") == p.end());
  CHECK(std::find(p.begin(), p.end(), "Dockerfile") != p.end());
  CHECK(std::find(p.begin(), p.end(), ".dockerignore") != p.end());
  CHECK(c->dockerignore_text().find("!data/keep.txt") != std::string::npos);
}

TEST_CASE("build_context: in-memory files are added and replace a file of the same path", "[docker]") {
  temp_dir dir;
  write_file(dir / "train.py", "1");
  write_file(dir / ".liftoff/Dockerfile", "FROM on-disk\n");
  context_options o;
  o.extra_files.push_back({".liftoff/Dockerfile", "FROM generated\n", 0644});
  auto c = build_context::open(dir.path(), o);
  REQUIRE(ok(c));
  auto es = read_tar(c->to_tar().value());
  int count = 0;
  for (auto const& e : es)
    if (e.path == ".liftoff/Dockerfile") {
      ++count;
      CHECK(e.content == "FROM generated\n");
      CHECK(e.perm == 0644);
    }
  CHECK(count == 1);
  CHECK(liftoff::test::read_file(dir / ".liftoff/Dockerfile") == "FROM on-disk\n");
}

TEST_CASE("build_context: identical directories give identical tar bytes, whatever the read sizes", "[docker]") {
  temp_dir a, b;
  make_tree(a.path());
  make_tree(b.path());
  // Different timestamps must not matter.
  fs::last_write_time(b / "train.py", fs::file_time_type::clock::now() - std::chrono::hours(48));
  auto ta = build_context::open(a.path()).value().to_tar();
  auto tb = build_context::open(b.path()).value().to_tar();
  REQUIRE(ok(ta));
  REQUIRE(ok(tb));
  CHECK(*ta == *tb);

  // 7 bytes at a time through the body reader gives the same stream.
  auto reader = build_context::open(a.path()).value().reader();
  std::string small;
  char buf[7];
  for (;;) {
    liftoff::error_code ec;
    auto n = reader(std::span<char>(buf, sizeof buf), ec);
    REQUIRE_FALSE(ec);
    if (n == 0) break;
    CHECK(n <= 7);
    small.append(buf, n);
  }
  CHECK(small == *ta);

  write_file(b / "train.py", "print('hI')\n");
  CHECK(build_context::open(b.path()).value().to_tar().value() != *ta);
}

TEST_CASE("build_context: a large file streams within the window", "[docker]") {
  temp_dir dir;
  constexpr off_t size = off_t(200) << 20;
  {
    int fd = ::open((dir / "weights.bin").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "head", 4, 0) == 4);
    REQUIRE(::ftruncate(fd, size) == 0);
    REQUIRE(::pwrite(fd, "tail", 4, size - 4) == 4);
    ::close(fd);
  }
  auto c = build_context::open(dir.path());
  REQUIRE(ok(c));
  auto s = c->stream();
  std::vector<char> buf(256 * 1024);
  std::uint64_t total = 0;
  std::string first, last;
  for (;;) {
    liftoff::error_code ec;
    auto n = s.read(buf, ec);
    REQUIRE_FALSE(ec);
    if (n == 0) break;
    if (first.size() < 1024) first.append(buf.data(), std::min<std::size_t>(n, 1024 - first.size()));
    last.append(buf.data(), n);
    if (last.size() > 32768) last.erase(0, last.size() - 32768);
    total += n;
  }
  CHECK(total > std::uint64_t(size));
  CHECK(total < std::uint64_t(size) + 64 * 1024);
  CHECK(s.bytes_produced() == total);
  CHECK(s.max_buffered() <= c->options().window);
  CHECK(s.max_buffered() <= 128 * 1024);
  CHECK(first.substr(512, 4) == "head");  // right after the 512-byte ustar header
  CHECK(last.find("tail") != std::string::npos);
}

TEST_CASE("build_context: symlinks leaving the context are refused, naming the link", "[docker]") {
  SECTION("absolute") {
    temp_dir dir;
    write_file(dir / "a.py", "1");
    fs::create_symlink("/etc/passwd", dir / "passwd");
    auto c = build_context::open(dir.path());
    REQUIRE_FALSE(ok(c));
    CHECK(c.error().code == liftoff::error::invalid_spec);
    CHECK_THAT(c.error().what(), Catch::Contains("'passwd'") && Catch::Contains("/etc/passwd"));
  }
  SECTION("relative, up and out") {
    temp_dir dir;
    fs::create_directories(dir / "sub");
    fs::create_symlink("../../outside", dir / "sub/escape");
    auto c = build_context::open(dir.path());
    REQUIRE_FALSE(ok(c));
    CHECK_THAT(c.error().what(), Catch::Contains("'sub/escape'") && Catch::Contains("outside"));
  }
  SECTION("an ignored link is not sent, so not refused") {
    temp_dir dir;
    fs::create_symlink("/etc/passwd", dir / "passwd");
    write_file(dir / ".dockerignore", "passwd\n");
    CHECK(ok(build_context::open(dir.path())));
  }
  SECTION("inside is fine") {
    temp_dir dir;
    fs::create_directories(dir / "sub");
    fs::create_symlink("../a.py", dir / "sub/ok");
    CHECK(ok(build_context::open(dir.path())));
  }
}

TEST_CASE("build_context: .dockerignore patterns reaching outside are refused", "[docker]") {
  temp_dir dir;
  write_file(dir / "a.py", "1");
  write_file(dir / ".dockerignore", "*.pyc\n!../secrets\n");
  auto c = build_context::open(dir.path());
  REQUIRE_FALSE(ok(c));
  CHECK(c.error().code == liftoff::error::invalid_spec);
  CHECK_THAT(c.error().what(), Catch::Contains(".dockerignore line 2") && Catch::Contains("../secrets"));
  CHECK(ok(liftoff::docker::detail::check_dockerignore("a/b/*.py\n# ../comment\n!keep/**")));
  CHECK_FALSE(ok(liftoff::docker::detail::check_dockerignore("a/../../c")));
  CHECK_FALSE(ok(liftoff::docker::detail::check_dockerignore("/..")));
}

TEST_CASE("build_context: a missing directory is a clear error", "[docker]") {
  auto c = build_context::open("/nonexistent/liftoff-context");
  REQUIRE_FALSE(ok(c));
  CHECK(c.error().code == liftoff::error::file_not_found);
  CHECK_THAT(c.error().what(), Catch::Contains("/nonexistent/liftoff-context"));
}
