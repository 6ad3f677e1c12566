#include <liftoff/client/client.hpp>

#include "support/env_guard.hpp"
#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

using namespace liftoff;
namespace fs = std::filesystem;

namespace {

::mode_t mode_of(fs::path const& p) {
  struct ::stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void set_mtime(fs::path const& p, std::time_t t) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::hours(24 * 365) +
                             std::chrono::seconds(t % 1000));
}

/// A small job directory: a script, an executable, a sub-directory, a link, .git and an ignored file.
void make_job_tree(fs::path const& root) {
  test::write_file(root / "job.py", "print('hello')\n");
  test::write_file(root / "run.sh", "#!/bin/sh\necho run\n");
  fs::permissions(root / "run.sh", fs::perms(0755));
  test::write_file(root / "data" / "config.json", "{\"lr\": 0.1}\n");
  test::write_file(root / ".git" / "HEAD", "ref: refs/heads/main\n");
  test::write_file(root / "checkpoints" / "big.bin", std::string(4096, 'x'));
  test::write_file(root / ".liftoffignore", "checkpoints/\n*.log\n");
  test::write_file(root / "train.log", "noise\n");
  fs::create_symlink("data/config.json", root / "config.json");
}

std::vector<std::string> tar_paths(fs::path const& file) {
  std::vector<std::string> out;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_filename(a, file.c_str(), 10240) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    out.push_back(archive_entry_pathname(e));
    CHECK(archive_entry_mtime(e) == 0);
    CHECK(archive_entry_uid(e) == 0);
    CHECK(archive_entry_gid(e) == 0);
    CHECK(std::string(archive_entry_uname(e) ? archive_entry_uname(e) : "").empty());
    CHECK(std::string(archive_entry_gname(e) ? archive_entry_gname(e) : "").empty());
  }
  archive_read_free(a);
  return out;
}

/// A tar.gz with one entry of the given type, written with libarchive as a hostile server might.
void craft_tarball(fs::path const& file, std::string const& path, int type = AE_IFREG, std::string const& link = {}) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, path.c_str());
  archive_entry_set_filetype(e, static_cast<unsigned>(type));
  archive_entry_set_perm(e, 0644);
  std::string data = "owned\n";
  archive_entry_set_size(e, type == AE_IFREG ? static_cast<la_int64_t>(data.size()) : 0);
  if (type == AE_IFLNK) archive_entry_set_symlink(e, link.c_str());
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  if (type == AE_IFREG) archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace

// ---- credentials ---------------------------------------------------------------

TEST_CASE("credentials are saved readable by their owner only and read back", "[client]") {
  test::temp_dir dir;
  test::env_guard server_env("LIFTOFF_SERVER", nullptr);
  test::env_guard token_env("LIFTOFF_API_TOKEN", nullptr);
  auto file = dir / "conf" / "liftoff" / "credentials.json";
  ::mode_t old_umask = ::umask(0022);
  auto saved = client::save_credentials({"http://127.0.0.1:9", "lft_secret"}, file);
  ::umask(old_umask);
  REQUIRE(saved.has_value());
  CHECK(mode_of(file) == 0600);

  auto c = client::load_credentials(file);
  REQUIRE(c.has_value());
  CHECK(c->server == "http://127.0.0.1:9");
  CHECK(c->token == "lft_secret");

  SECTION("saving again replaces the file and keeps its mode") {
    REQUIRE((client::save_credentials({"http://127.0.0.1:10", "lft_other"}, file)).has_value());
    CHECK(mode_of(file) == 0600);
    CHECK(client::load_credentials(file)->server == "http://127.0.0.1:10");
  }
}

TEST_CASE("credentials readable by the group or others are refused with the chmod to run", "[client]") {
  test::temp_dir dir;
  test::env_guard server_env("LIFTOFF_SERVER", nullptr);
  test::env_guard token_env("LIFTOFF_API_TOKEN", nullptr);
  auto file = dir / "credentials.json";
  REQUIRE((client::save_credentials({"http://127.0.0.1:9", "lft_secret"}, file)).has_value());
  ::chmod(file.c_str(), 0640);
  auto c = client::load_credentials(file);
  REQUIRE_FALSE(c.has_value());
  CHECK_THAT(c.error().what(), Catch::Contains("chmod 600 " + file.string()));
  CHECK_THAT(c.error().what(), Catch::Contains("0640"));
  CHECK(c.error().what().find("lft_secret") == std::string::npos);
}

TEST_CASE("the environment overrides the credentials file", "[client]") {
  test::temp_dir dir;
  auto file = dir / "credentials.json";
  REQUIRE((client::save_credentials({"http://from-file:1", "lft_file"}, file)).has_value());

  SECTION("the server alone") {
    test::env_guard server_env("LIFTOFF_SERVER", "http://from-env:2");
    test::env_guard token_env("LIFTOFF_API_TOKEN", nullptr);
    auto c = client::load_credentials(file);
    REQUIRE(c.has_value());
    CHECK(c->server == "http://from-env:2");
    CHECK(c->token == "lft_file");
  }
  SECTION("both, with no file at all") {
    test::env_guard server_env("LIFTOFF_SERVER", "http://from-env:2");
    test::env_guard token_env("LIFTOFF_API_TOKEN", "lft_env");
    auto c = client::load_credentials(dir / "missing.json");
    REQUIRE(c.has_value());
    CHECK(c->server == "http://from-env:2");
    CHECK(c->token == "lft_env");
  }
  SECTION("nothing known says to log in") {
    test::env_guard server_env("LIFTOFF_SERVER", nullptr);
    test::env_guard token_env("LIFTOFF_API_TOKEN", nullptr);
    auto c = client::load_credentials(dir / "missing.json");
    REQUIRE_FALSE(c.has_value());
    CHECK_THAT(c.error().what(), Catch::Contains("liftoff login"));
  }
}

TEST_CASE("the default credentials file follows XDG_CONFIG_HOME, else HOME", "[client]") {
  {
    test::env_guard xdg("XDG_CONFIG_HOME", "/somewhere/conf");
    CHECK(client::default_credentials_file() == fs::path("/somewhere/conf/liftoff/credentials.json"));
  }
  test::env_guard xdg("XDG_CONFIG_HOME", nullptr);
  test::env_guard home("HOME", "/home/someone");
  CHECK(client::default_credentials_file() == fs::path("/home/someone/.config/liftoff/credentials.json"));
}

// ---- packing ---------------------------------------------------------------------

TEST_CASE("a code artifact is the same bytes for the same tree", "[client]") {
  test::temp_dir dir;
  auto tree = dir / "job";
  make_job_tree(tree);

  auto first = client::pack_code_artifact(tree, dir / "a.tar.gz");
  REQUIRE(first.has_value());
  CHECK(first->size() == 71);
  CHECK(first->rfind("sha256:", 0) == 0);
  auto second = client::pack_code_artifact(tree, dir / "b.tar.gz");
  REQUIRE(second.has_value());
  CHECK(*first == *second);
  CHECK(test::read_file(dir / "a.tar.gz") == test::read_file(dir / "b.tar.gz"));

  SECTION("other modification times give the same digest") {
    set_mtime(tree / "job.py", 12345);
    set_mtime(tree / "data", 777);
    auto again = client::pack_code_artifact(tree, dir / "c.tar.gz");
    REQUIRE(again.has_value());
    CHECK(*again == *first);
  }
  SECTION("a changed byte gives another digest") {
    test::write_file(tree / "job.py", "print('hellO')\n");
    auto changed = client::pack_code_artifact(tree, dir / "c.tar.gz");
    REQUIRE(changed.has_value());
    CHECK(*changed != *first);
  }
  SECTION("a changed mode gives another digest") {
    fs::permissions(tree / "job.py", fs::perms(0755));
    auto changed = client::pack_code_artifact(tree, dir / "c.tar.gz");
    REQUIRE(changed.has_value());
    CHECK(*changed != *first);
  }
  SECTION("ignored files do not count") {
    test::write_file(tree / "checkpoints" / "more.bin", "more");
    test::write_file(tree / "other.log", "more noise");
    test::write_file(tree / ".git" / "index", "changed");
    auto same = client::pack_code_artifact(tree, dir / "c.tar.gz");
    REQUIRE(same.has_value());
    CHECK(*same == *first);
  }
}

TEST_CASE("a code artifact leaves out .git and what .liftoffignore names, sorted and without owners", "[client]") {
  test::temp_dir dir;
  auto tree = dir / "job";
  make_job_tree(tree);
  REQUIRE((client::pack_code_artifact(tree, dir / "a.tar.gz")).has_value());
  auto paths = tar_paths(dir / "a.tar.gz");
  std::vector<std::string> expected{".liftoffignore", "config.json", "data/", "data/config.json", "job.py", "run.sh"};
  CHECK(paths == expected);
}

TEST_CASE("a symlink leading out of the directory is refused when packing", "[client]") {
  test::temp_dir dir;
  test::write_file(dir / "job" / "job.py", "x");
  fs::create_symlink("../../etc/passwd", dir / "job" / "escape");
  auto packed = client::pack_code_artifact(dir / "job", dir / "a.tar.gz");
  REQUIRE_FALSE(packed.has_value());
  CHECK_THAT(packed.error().what(), Catch::Contains("'escape'"));
  CHECK_FALSE(fs::exists(dir / "a.tar.gz"));
}

TEST_CASE("packing a missing directory names it", "[client]") {
  test::temp_dir dir;
  auto packed = client::pack_code_artifact(dir / "nope", dir / "a.tar.gz");
  REQUIRE_FALSE(packed.has_value());
  CHECK_THAT(packed.error().what(), Catch::Contains((dir / "nope").string()));
}

// ---- unpacking ---------------------------------------------------------------------

TEST_CASE("a packed tree unpacks with its contents, links and modes", "[client]") {
  test::temp_dir dir;
  auto tree = dir / "job";
  make_job_tree(tree);
  fs::permissions(tree / "data", fs::perms(0750));
  auto digest = client::pack_code_artifact(tree, dir / "a.tar.gz");
  REQUIRE(digest.has_value());

  auto out = dir / "out" / "code";
  REQUIRE((client::unpack_code_artifact(dir / "a.tar.gz", out)).has_value());
  CHECK(test::read_file(out / "job.py") == "print('hello')\n");
  CHECK(test::read_file(out / "data" / "config.json") == "{\"lr\": 0.1}\n");
  CHECK(mode_of(out / "run.sh") == 0755);
  CHECK(mode_of(out / "job.py") == mode_of(tree / "job.py"));
  CHECK(mode_of(out / "data") == 0750);
  CHECK(fs::is_symlink(out / "config.json"));
  CHECK(fs::read_symlink(out / "config.json") == fs::path("data/config.json"));
  CHECK_FALSE(fs::exists(out / ".git"));
  CHECK_FALSE(fs::exists(out / "checkpoints"));
  CHECK_FALSE(fs::exists(out / "train.log"));

  // The unpacked tree packs to the same artifact.
  auto again = client::pack_code_artifact(out, dir / "b.tar.gz");
  REQUIRE(again.has_value());
  CHECK(*again == *digest);
}

TEST_CASE("unpacking refuses entries that land outside the directory", "[client]") {
  test::temp_dir dir;
  auto out = dir / "deep" / "out";
  auto tarball = dir / "evil.tar.gz";

  SECTION("a path climbing out with ..") {
    craft_tarball(tarball, "../escaped.txt");
    auto r = client::unpack_code_artifact(tarball, out);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().what(), Catch::Contains("'../escaped.txt'"));
    CHECK_FALSE(fs::exists(dir / "deep" / "escaped.txt"));
  }
  SECTION("a .. in the middle") {
    craft_tarball(tarball, "a/../../escaped.txt");
    REQUIRE_FALSE((client::unpack_code_artifact(tarball, out)).has_value());
    CHECK_FALSE(fs::exists(dir / "deep" / "escaped.txt"));
  }
  SECTION("an absolute path") {
    auto target = dir / "absolute.txt";
    craft_tarball(tarball, target.string());
    auto r = client::unpack_code_artifact(tarball, out);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().what(), Catch::Contains("outside"));
    CHECK_FALSE(fs::exists(target));
  }
  SECTION("a symlink pointing out") {
    craft_tarball(tarball, "link", AE_IFLNK, "../../elsewhere");
    auto r = client::unpack_code_artifact(tarball, out);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().what(), Catch::Contains("'link'"));
    CHECK_FALSE(fs::is_symlink(out / "link"));
  }
}

namespace {

/// One entry of a tar.gz written by `write_tarball`.
struct tar_entry {
  std::string path;
  int type = AE_IFREG;
  ::mode_t perm = 0644;
  std::size_t size = 0;  ///< bytes of `fill` (files only)
  char fill = 'x';
};

/// A tar.gz of `entries`, written with libarchive as a hostile server might.
void write_tarball(fs::path const& file, std::vector<tar_entry> const& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
  std::string const chunk(64 * 1024, '\0');
  for (auto const& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_filetype(e, static_cast<unsigned>(t.type));
    archive_entry_set_perm(e, t.perm);
    archive_entry_set_size(e, t.type == AE_IFREG ? static_cast<la_int64_t>(t.size) : 0);
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    std::string const block(chunk.size(), t.fill);
    for (std::size_t left = t.type == AE_IFREG ? t.size : 0; left > 0;) {
      auto n = std::min(left, block.size());
      REQUIRE(archive_write_data(a, block.data(), n) == static_cast<la_ssize_t>(n));
      left -= n;
    }
    archive_entry_free(e);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
}

}  // namespace

TEST_CASE("unpacking drops the setuid, setgid and sticky bits and keeps the rest of the mode", "[client]") {
  test::temp_dir dir;
  auto tarball = dir / "modes.tar.gz";
  write_tarball(tarball, {{"bin", AE_IFDIR, 0755},
                          {"bin/root-shell", AE_IFREG, 04755, 6},
                          {"bin/group-tool", AE_IFREG, 02750, 6},
                          {"bin/both", AE_IFREG, 06711, 6},
                          {"shared", AE_IFDIR, 01777},
                          {"readonly", AE_IFDIR, 0555},
                          {"readonly/notes.txt", AE_IFREG, 0444, 6}});
  auto out = dir / "out";
  auto r = client::unpack_code_artifact(tarball, out);
  INFO((r ? "" : r.error().what()));
  REQUIRE(r.has_value());
  CHECK(mode_of(out / "bin" / "root-shell") == 0755);
  CHECK(mode_of(out / "bin" / "group-tool") == 0750);
  CHECK(mode_of(out / "bin" / "both") == 0711);
  CHECK(mode_of(out / "shared") == 0777);
  // A directory stays writable by its owner, so that the agent can remove the run's directory.
  CHECK(mode_of(out / "readonly") == 0755);
  CHECK(mode_of(out / "readonly" / "notes.txt") == 0444);
  CHECK(test::read_file(out / "bin" / "root-shell") == "xxxxxx");
  fs::remove_all(out);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("an archive that expands past the size limit is refused and leaves nothing behind", "[client]") {
  test::temp_dir dir;
  auto tarball = dir / "bomb.tar.gz";
  // 10 MiB of zeros compress to a few kilobytes.
  write_tarball(tarball, {{"readme.txt", AE_IFREG, 0644, 100}, {"zeros.bin", AE_IFREG, 0644, 10u << 20, '\0'}});
  REQUIRE(fs::file_size(tarball) < 100u * 1024);
  client::unpack_limits limits;
  limits.max_unpacked_bytes = 1u << 20;
  limits.unpacked_bytes_setting = "--max-unpacked-size";

  SECTION("into a directory it makes") {
    auto out = dir / "run" / "code";
    auto r = client::unpack_code_artifact(tarball, out, limits);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == error::body_too_large);
    CHECK(r.error().what() == "code artifact " + tarball.string() +
                                  " unpacks to more than 1 MiB (1048576 bytes), the limit, at its entry 'zeros.bin': "
                                  "it is refused as a possible archive bomb; if it is expected, raise "
                                  "--max-unpacked-size");
    CHECK_FALSE(fs::exists(out));
    CHECK(fs::is_directory(dir / "run"));
  }
  SECTION("into a directory that holds files already: only what it added is removed") {
    auto out = dir / "existing";
    test::write_file(out / "kept.txt", "mine\n");
    auto r = client::unpack_code_artifact(tarball, out, limits);
    REQUIRE_FALSE(r.has_value());
    CHECK(test::read_file(out / "kept.txt") == "mine\n");
    CHECK_FALSE(fs::exists(out / "readme.txt"));
    CHECK_FALSE(fs::exists(out / "zeros.bin"));
  }
  SECTION("the default limit takes it; a limit of exactly its size too") {
    REQUIRE((client::unpack_code_artifact(tarball, dir / "a")).has_value());
    CHECK(fs::file_size(dir / "a" / "zeros.bin") == 10u << 20);
    limits.max_unpacked_bytes = (10u << 20) + 100;
    REQUIRE((client::unpack_code_artifact(tarball, dir / "b", limits)).has_value());
    limits.max_unpacked_bytes -= 1;
    CHECK_FALSE((client::unpack_code_artifact(tarball, dir / "c", limits)).has_value());
    CHECK_FALSE(fs::exists(dir / "c"));
  }
}

TEST_CASE("an archive with more entries than the limit is refused and leaves nothing behind", "[client]") {
  test::temp_dir dir;
  auto tarball = dir / "many.tar.gz";
  std::vector<tar_entry> entries = {{"d", AE_IFDIR, 0755}};
  for (int i = 0; i < 20; ++i) entries.push_back({"d/f" + std::to_string(i), AE_IFREG, 0644, 1});
  write_tarball(tarball, entries);
  client::unpack_limits limits;
  limits.max_entries = 20;
  auto out = dir / "out";
  auto r = client::unpack_code_artifact(tarball, out, limits);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == error::body_too_large);
  CHECK(r.error().what() == "code artifact " + tarball.string() +
                                " has more than 20 entries, the limit: it is refused as a possible archive bomb; if "
                                "it is expected, raise unpack_limits::max_entries");
  CHECK_FALSE(fs::exists(out));

  limits.max_entries = 21;
  REQUIRE((client::unpack_code_artifact(tarball, out, limits)).has_value());
  CHECK(fs::exists(out / "d" / "f19"));
}

TEST_CASE("unpacking a file that is not a tar.gz fails naming it", "[client]") {
  test::temp_dir dir;
  test::write_file(dir / "junk.tar.gz", "this is not gzip");
  auto r = client::unpack_code_artifact(dir / "junk.tar.gz", dir / "out");
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().what(), Catch::Contains("junk.tar.gz"));
  CHECK_FALSE(fs::exists(dir / "out"));
}

// ---- the client against a local HTTP server ---------------------------------------

namespace {

struct recorded {
  std::mutex mutex;
  std::vector<test::net_server_request> requests;
  void add(test::net_server_request const& r) {
    std::lock_guard lock(mutex);
    requests.push_back(r);
  }
  test::net_server_request last() {
    std::lock_guard lock(mutex);
    return requests.back();
  }
};

std::string json(boost::json::value const& v) { return boost::json::serialize(v); }

boost::json::object queue_json(std::string name) {
  return {{"name", name}, {"resource", "local-process"}, {"config_template", boost::json::object{}},
          {"prioritized", true}, {"created_at", "2026-01-02T03:04:05.000Z"}};
}

}  // namespace

TEST_CASE("the client sends the token, reuses its connection and reads records back", "[client]") {
  recorded seen;
  auto server = test::net_test_server::tcp([&](test::net_exchange& x) {
    seen.add(x.request());
    auto const& t = x.request().target;
    if (t == "/api/v1/queues" && x.request().method == "POST") {
      auto body = boost::json::parse(x.request().body).as_object();
      x.respond(201, json(queue_json(std::string(body["name"].as_string()))), {{"Content-Type", "application/json"}});
    } else if (t == "/api/v1/queues") {
      auto q = queue_json("gpu");
      q["counts"] = boost::json::object{{"queued", 2}, {"leased", 1}};
      x.respond(200, json(boost::json::array{q}), {{"Content-Type", "application/json"}});
    } else {
      x.respond(404, json(boost::json::object{{"error", {{"code", "not_found"}, {"message", "no such thing"}}}}));
    }
  });
  auto c = client::api_client::create(server->url(), "lft_topsecret");
  REQUIRE(c.has_value());
  auto created = c->create_queue("gpu", "local-process", {}, false);
  REQUIRE(created.has_value());
  CHECK(created->name == "gpu");
  auto sent = boost::json::parse(seen.last().body).as_object();
  CHECK(sent["name"] == "gpu");
  CHECK(sent["resource"] == "local-process");
  CHECK(sent["prioritized"] == false);
  CHECK(seen.last().header("Authorization") == "Bearer lft_topsecret");

  auto queues = c->list_queues();
  REQUIRE(queues.has_value());
  REQUIRE(queues->size() == 1);
  CHECK((*queues)[0].counts["queued"] == 2);
  CHECK((*queues)[0].counts["leased"] == 1);
  CHECK(server->connections() == 1);
}

TEST_CASE("the server's errors come back with their code and sentence, never the token", "[client]") {
  auto server = test::net_test_server::tcp([&](test::net_exchange& x) {
    auto const& t = x.request().target;
    if (t.starts_with("/api/v1/queues/missing"))
      x.respond(404, json(boost::json::object{{"error", {{"code", "not_found"}, {"message", "no queue 'missing'"}}}}),
                {{"Content-Type", "application/json"}});
    else if (t.starts_with("/api/v1/queues/busy"))
      x.respond(409, json(boost::json::object{{"error", {{"code", "conflict"}, {"message", "queue 'busy' has 3 pending items"}}}}),
                {{"Content-Type", "application/json"}});
    else
      x.respond(502, "<html>bad gateway</html>", {{"Content-Type", "text/html"}});
  });
  client::api_client c = client::api_client::create(server->url(), "lft_topsecret", {.max_attempts = 1}).value();

  auto missing = c.describe_queue("missing");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == error::not_found);
  CHECK(missing.error().what() == "no queue 'missing'");

  auto busy = c.delete_queue("busy");
  REQUIRE_FALSE(busy.has_value());
  CHECK(busy.error().code == error::conflict);
  CHECK_THAT(busy.error().what(), Catch::Contains("3 pending items"));

  auto proxy = c.list_jobs();
  REQUIRE_FALSE(proxy.has_value());
  CHECK(proxy.error().code == error::http_status);
  CHECK_THAT(proxy.error().what(), Catch::StartsWith("GET " + server->url() + "/api/v1/jobs: 502 Bad Gateway"));
  for (auto const& d : {missing.error(), busy.error(), proxy.error()})
    CHECK(d.what().find("lft_topsecret") == std::string::npos);
}

TEST_CASE("an artifact is uploaded streamed, once, and downloaded checked", "[client]") {
  test::temp_dir dir;
  make_job_tree(dir / "job");
  auto digest = client::pack_code_artifact(dir / "job", dir / "job.tar.gz");
  REQUIRE(digest.has_value());
  std::string const hex = digest->substr(7);

  std::mutex mutex;
  std::map<std::string, std::string> stored;
  std::atomic<int> puts{0};
  std::atomic<bool> chunked{false};
  std::atomic<bool> corrupt{false};
  auto server = test::net_test_server::tcp([&](test::net_exchange& x) {
    auto const& r = x.request();
    auto key = r.target.substr(std::string("/api/v1/artifacts/").size());
    std::lock_guard lock(mutex);
    if (r.method == "HEAD") {
      x.respond(stored.count(key) ? 200 : 404);
    } else if (r.method == "PUT") {
      ++puts;
      chunked = r.chunked;
      stored[key] = r.body;
      x.respond(201, json(boost::json::object{{"digest", "sha256:" + key}, {"size", r.body.size()}}));
    } else if (stored.count(key)) {
      x.respond(200, corrupt ? stored[key] + "x" : stored[key], {{"Content-Type", "application/gzip"}});
    } else {
      x.respond(404, json(boost::json::object{{"error", {{"code", "not_found"}, {"message", "no artifact"}}}}));
    }
  });
  auto c = client::api_client::create(server->url(), "lft_t").value();

  CHECK(c.has_artifact(*digest).value() == false);
  auto sent = c.upload_artifact(*digest, dir / "job.tar.gz");
  REQUIRE(sent.has_value());
  CHECK(*sent);
  CHECK(puts == 1);
  CHECK(chunked);
  CHECK(stored[hex] == test::read_file(dir / "job.tar.gz"));
  CHECK(c.has_artifact(*digest).value() == true);
  auto again = c.upload_artifact(*digest, dir / "job.tar.gz");
  REQUIRE(again.has_value());
  CHECK_FALSE(*again);
  CHECK(puts == 1);  // already there: nothing sent

  REQUIRE((c.download_artifact(*digest, dir / "copy.tar.gz")).has_value());
  CHECK(test::read_file(dir / "copy.tar.gz") == test::read_file(dir / "job.tar.gz"));

  corrupt = true;
  auto bad = c.download_artifact(*digest, dir / "bad.tar.gz");
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().what(), Catch::Contains("SHA-256"));
  CHECK_FALSE(fs::exists(dir / "bad.tar.gz"));
  for (auto const& e : fs::directory_iterator(dir.path())) CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);

  auto malformed = c.has_artifact("md5:abc");
  REQUIRE_FALSE(malformed.has_value());
  CHECK_THAT(malformed.error().what(), Catch::Contains("md5:abc"));
}

TEST_CASE("lease long-polls with a wait and reads 204 as nothing", "[client]") {
  recorded seen;
  auto server = test::net_test_server::tcp([&](test::net_exchange& x) {
    seen.add(x.request());
    auto body = boost::json::parse(x.request().body).as_object();
    if (body["queues"].as_array().size() == 1) {
      x.respond(204);
      return;
    }
    boost::json::object item{{"id", 7},           {"queue", "b"},          {"priority", "high"},
                             {"seq", 3},          {"run_id", "run-abc"},   {"run_spec", boost::json::object{}},
                             {"state", "leased"}, {"attempts", 1},         {"agent", 4},
                             {"pushed_at", "2026-01-02T03:04:05.000Z"}};
    x.respond(200, json(item), {{"Content-Type", "application/json"}});
  });
  auto c = client::api_client::create(server->url(), "lft_t", {.request_timeout = std::chrono::seconds(5)}).value();
  auto none = c.lease(4, {"a"}, std::chrono::seconds(40));
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
  CHECK(seen.last().target == "/api/v1/lease?wait=40");
  CHECK(seen.last().method == "POST");

  auto got = c.lease(4, {"a", "b"}, std::chrono::milliseconds(250));
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK((*got)->run_id == "run-abc");
  CHECK((*got)->priority == server::priority::high);
  CHECK(seen.last().target == "/api/v1/lease?wait=0.250");
  auto body = boost::json::parse(seen.last().body).as_object();
  CHECK(body["agent"] == 4);
  CHECK(body["queues"] == boost::json::array{"a", "b"});
}

TEST_CASE("logs read the next offset and the run's state from the headers", "[client]") {
  auto server = test::net_test_server::tcp([&](test::net_exchange& x) {
    if (x.request().target.find("offset=0") != std::string::npos)
      x.respond(200, "line one\n", {{"X-Liftoff-Next-Offset", "9"}, {"X-Liftoff-Run-State", "running"}});
    else
      x.respond(200, "", {{"X-Liftoff-Next-Offset", "9"}, {"X-Liftoff-Run-State", "finished"}});
  });
  auto c = client::api_client::create(server->url(), "lft_t").value();
  auto first = c.logs("run-1");
  REQUIRE(first.has_value());
  CHECK(first->text == "line one\n");
  CHECK(first->next_offset == 9);
  CHECK(first->state == run_state::running);
  auto rest = c.logs("run-1", 9, std::chrono::seconds(1));
  REQUIRE(rest.has_value());
  CHECK(rest->text.empty());
  CHECK(rest->state == run_state::finished);
}
