// liftoff::docker::engine against the real Docker engine at DOCKER_HOST or
// unix:///var/run/docker.sock, with the base image .ci/start-docker makes.
// Skipped, saying why, when no engine answers.

#include <liftoff/docker/engine.hpp>

#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using liftoff::log_stream;
using liftoff::docker::engine;
namespace json = boost::json;

namespace {

constexpr char const* base_image = liftoff::test::docker_base_image;

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

using liftoff::test::engine_or_skip;

/// A label value unique to this test process, so tests never see each other's containers.
std::string unique_id() {
  static std::string const id = [] {
    std::random_device rd;
    return std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
  }();
  return id;
}

/// Removes the containers and images a test made, whatever happens in it.
struct cleanup {
  engine& e;
  std::vector<std::string> containers;
  std::vector<std::string> images;
  ~cleanup() {
    for (auto const& c : containers) (void)e.remove_container(c, true);
    for (auto const& i : images) (void)e.remove_image(i, true);
  }
};

json::object busybox(std::string const& script, bool tty = false) {
  return json::object{{"Image", base_image},
                      {"Cmd", {"sh", "-c", script}},
                      {"Tty", tty},
                      {"Labels", {{"liftoff.test", unique_id()}}}};
}

/// A tar stream (built with libarchive) holding one Dockerfile.
std::string context_tar(std::string const& dockerfile) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* data, void const* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(data)->append(static_cast<char const*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, "Dockerfile");
  archive_entry_set_size(entry, static_cast<la_int64_t>(dockerfile.size()));
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, 0644);
  archive_write_header(a, entry);
  archive_write_data(a, dockerfile.data(), dockerfile.size());
  archive_entry_free(entry);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

liftoff::net::body_reader reader_of(std::string data) {
  return [data = std::move(data), offset = std::size_t(0)](std::span<char> buf, liftoff::error_code&) mutable {
    auto n = std::min(buf.size(), data.size() - offset);
    std::copy_n(data.data() + offset, n, buf.data());
    offset += n;
    return n;
  };
}

std::vector<std::pair<log_stream, std::string>> all_lines(liftoff::docker::log_reader& r) {
  std::vector<std::pair<log_stream, std::string>> out;
  for (;;) {
    auto l = r.next();
    REQUIRE(l.has_value());
    if (!*l) return out;
    out.emplace_back((*l)->stream, (*l)->text);
  }
}

}  // namespace

TEST_CASE("docker: connects with a negotiated API version and inspects images", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto v = e->api_version();
  INFO("negotiated " << v);
  auto dot = v.find('.');
  REQUIRE(dot != std::string::npos);
  CHECK(std::pair{std::stoi(v.substr(0, dot)), std::stoi(v.substr(dot + 1))} >= std::pair{1, 41});

  auto img = e->inspect_image(base_image).value();
  REQUIRE(img.has_value());
  CHECK(img->at("Id").as_string().starts_with("sha256:"));
  CHECK_FALSE(e->inspect_image("liftoff-test/does-not-exist:" + unique_id()).value().has_value());
}

TEST_CASE("docker: a container's output arrives live and tagged, and its exit code is kept", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  auto id = e->create_container(busybox("echo out1; echo err1 >&2; sleep 2; echo out2; exit 3"), "liftoff-test-" + unique_id());
  REQUIRE(id.has_value());
  c.containers.push_back(*id);

  // Registered before the start, so even an instant exit is seen.
  auto wait = e->begin_wait(*id, liftoff::docker::wait_condition::next_exit);
  REQUIRE(wait.has_value());
  REQUIRE(e->start_container(*id).has_value());
  auto logs = e->logs(*id, true);
  REQUIRE(logs.has_value());
  CHECK_FALSE(logs->tty());

  std::vector<std::pair<log_stream, std::string>> lines;
  while (lines.size() < 2) {
    auto l = logs->next().value();
    REQUIRE(l.has_value());
    lines.emplace_back(l->stream, l->text);
  }
  // Live: the first two lines are here while the container still sleeps.
  auto running = e->inspect_container(*id).value();
  CHECK(running.at("State").at("Running").as_bool());
  std::sort(lines.begin(), lines.end());  // stdout and stderr are separate pipes: their order may vary
  CHECK(lines == std::vector<std::pair<log_stream, std::string>>{{log_stream::out, "out1"}, {log_stream::err, "err1"}});
  auto rest = all_lines(*logs);
  CHECK(rest == std::vector<std::pair<log_stream, std::string>>{{log_stream::out, "out2"}});

  CHECK(wait->get().value() == 3);
  CHECK(e->wait_container(*id).value() == 3);  // not-running: at once for an exited container
  auto info = e->inspect_container(*id).value();
  CHECK(info.at("State").at("ExitCode").to_number<int>() == 3);
  CHECK_FALSE(info.at("State").at("OOMKilled").as_bool());

  // The logs of an exited container, without following.
  auto again = e->logs(*id, false).value();
  CHECK(all_lines(again).size() == 3);

  REQUIRE(e->remove_container(*id).has_value());
  c.containers.clear();
  auto gone = e->inspect_container(*id);
  REQUIRE_FALSE(gone.has_value());
  CHECK(contains(gone.error().message, "no such container"));
}

TEST_CASE("docker: a TTY container's output is one raw stream", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  auto id = e->create_container(busybox("echo hello from a tty; echo to stderr >&2", true)).value();
  c.containers.push_back(id);
  auto wait = e->begin_wait(id).value();
  REQUIRE(e->start_container(id).has_value());
  CHECK(wait.get().value() == 0);
  auto logs = e->logs(id, false).value();
  CHECK(logs.tty());
  CHECK(all_lines(logs) == std::vector<std::pair<log_stream, std::string>>{{log_stream::out, "hello from a tty"},
                                                                           {log_stream::out, "to stderr"}});
}

TEST_CASE("docker: kill, and stop with a grace period", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};

  SECTION("kill") {
    auto id = e->create_container(busybox("sleep 60")).value();
    c.containers.push_back(id);
    REQUIRE(e->start_container(id).has_value());
    REQUIRE(e->kill_container(id, "SIGKILL").has_value());
    CHECK(e->wait_container(id).value() == 137);
    auto again = e->kill_container(id);
    REQUIRE_FALSE(again.has_value());
    CHECK(contains(again.error().message, "is not running"));
  }
  SECTION("stop: a container that handles SIGTERM exits within the grace period") {
    auto id = e->create_container(busybox("trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done")).value();
    c.containers.push_back(id);
    REQUIRE(e->start_container(id).has_value());
    auto logs = e->logs(id, true).value();
    REQUIRE(logs.next().value()->text == "ready");
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(e->stop_container(id, 20s).has_value());
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    CHECK(e->wait_container(id).value() == 0);
    CHECK(logs.next().value()->text == "got TERM");
    REQUIRE(e->stop_container(id, 1s).has_value());  // already stopped: fine
  }
  SECTION("stop: one that ignores SIGTERM is killed after the grace period") {
    auto id = e->create_container(busybox("trap '' TERM; echo ready; while true; do sleep 0.1; done")).value();
    c.containers.push_back(id);
    REQUIRE(e->start_container(id).has_value());
    auto logs = e->logs(id, true).value();
    REQUIRE(logs.next().value()->text == "ready");
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(e->stop_container(id, 1s).has_value());
    CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);
    CHECK(e->wait_container(id).value() == 137);
  }
}

TEST_CASE("docker: containers are listed by label", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  auto run = "r-" + unique_id();
  for (auto const* r : {run.c_str(), run.c_str(), "other"}) {
    auto cfg = busybox("true");
    cfg["Labels"].as_object()["liftoff.run-id"] = r;
    c.containers.push_back(e->create_container(cfg).value());
  }
  auto mine = e->list_containers({"liftoff.run-id=" + run}).value();
  REQUIRE(mine.size() == 2);
  for (auto const& m : mine) CHECK(m.at("Labels").at("liftoff.run-id").as_string() == run);
  CHECK(e->list_containers({"liftoff.run-id=" + run}, false).value().empty());  // created, not running
  CHECK(e->list_containers({"liftoff.test=" + unique_id(), "liftoff.run-id=other"}).value().size() == 1);
}

TEST_CASE("docker: bad input gets clear errors", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  auto missing = e->create_container(json::object{{"Image", "liftoff-test/not-here:" + unique_id()}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(contains(missing.error().message, "the engine has no image 'liftoff-test/not-here:"));
  CHECK(contains(missing.error().message, "pull or build it first"));

  std::vector<std::string> progress;
  auto pulled = e->pull("127.0.0.1:9/nope:1", nullptr, [&](std::string_view l) { progress.emplace_back(l); });
  REQUIRE_FALSE(pulled.has_value());
  INFO(pulled.error().message);
  CHECK(pulled.error().message.starts_with("pulling 127.0.0.1:9/nope:1: "));
  CHECK(contains(pulled.error().message, "127.0.0.1:9"));
  CHECK(contains(pulled.error().message, "connection refused"));
}

TEST_CASE("docker: builds from a streamed tar, and a failing step is named", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  auto const tag = "liftoff-test/built:" + unique_id();
  c.images.push_back(tag);

  liftoff::docker::build_request req;
  req.tags = {tag};
  req.labels = {{"liftoff.test", unique_id()}};
  std::vector<std::string> out;
  auto built = e->build(req, reader_of(context_tar(std::string("FROM ") + base_image + "\nRUN echo built > /built.txt\n")),
                        [&](std::string_view l) { out.emplace_back(l); });
  INFO((built ? std::string() : built.error().message));
  REQUIRE(built.has_value());
  CHECK(built->image_id.starts_with("sha256:"));
  CHECK(std::find(out.begin(), out.end(), "Step 2/3 : RUN echo built > /built.txt"  /* the labels are step 3 */) != out.end());
  auto img = e->inspect_image(tag).value();
  REQUIRE(img.has_value());
  CHECK(img->at("Id").as_string() == built->image_id);
  CHECK(img->at("Config").at("Labels").at("liftoff.test").as_string() == unique_id());

  auto cfg = busybox("cat /built.txt");
  cfg["Image"] = tag;
  auto id = e->create_container(cfg).value();
  c.containers.push_back(id);
  auto wait = e->begin_wait(id).value();
  REQUIRE(e->start_container(id).has_value());
  CHECK(wait.get().value() == 0);
  auto logs = e->logs(id, false).value();
  CHECK(all_lines(logs) == std::vector<std::pair<log_stream, std::string>>{{log_stream::out, "built"}});

  req.tags = {"liftoff-test/broken:" + unique_id()};
  auto broken = e->build(req, reader_of(context_tar(std::string("FROM ") + base_image + "\nRUN false\n")));
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().code == liftoff::error::build_failed);
  CHECK(broken.error().stage == liftoff::failure_stage::build);
  INFO(broken.error().message);
  CHECK(contains(broken.error().message, "at Step 2/3 : RUN false: "));
  CHECK(contains(broken.error().message, "returned a non-zero code: 1"));
  CHECK_FALSE(e->inspect_image(req.tags[0]).value().has_value());
}
