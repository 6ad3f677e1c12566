// docker_builder against the real Docker engine, with the base image
// .ci/start-docker makes. Skipped, saying why, when no engine answers.
// Every image is tagged in the repository `liftoff-test-builder` and removed.

#include <liftoff/docker/builder.hpp>

#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <random>
#include <unistd.h>

using liftoff::artifact;
using liftoff::artifact_kind;
using liftoff::docker_builder;
using liftoff::launch_options;
using liftoff::launch_spec;
using liftoff::docker::engine;
using liftoff::test::temp_dir;
using liftoff::test::write_file;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr char const* base_image = liftoff::test::docker_base_image;

using liftoff::test::engine_or_skip;

/// A job name unique to this test process, so concurrent runs never share images.
std::string unique_job(std::string_view what) {
  static std::string const id = [] {
    std::random_device rd;
    return std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000);
  }();
  return std::string(what) + "-" + id;
}

docker_builder test_builder() {
  docker_builder b;
  b.repository = "liftoff-test-builder";
  return b;
}

artifact dir_artifact(fs::path const& d) {
  artifact a;
  a.directory = d;
  return a;
}

/// Records what a build reports.
struct recorder {
  std::vector<std::string> logs, progress;
  launch_options options() {
    launch_options o;
    o.on_log = [this](liftoff::log_line const& l) { logs.push_back(l.text); };
    o.on_progress = [this](std::string_view l) { progress.emplace_back(l); };
    return o;
  }
  bool logged(std::string_view part) const {
    for (auto const& l : logs)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
};

/// Removes the images a test made, whatever happens in it.
struct cleanup {
  engine& e;
  std::vector<std::string> images, containers;
  ~cleanup() {
    for (auto const& c : containers) (void)e.remove_container(c, true);
    for (auto const& i : images) (void)e.remove_image(i, true);
  }
};

/// Runs `image` (with `config` added) to its end and returns its output.
std::string run_image(engine& e, cleanup& c, std::string const& image, json::object config = {}) {
  config["Image"] = image;
  auto id = e.create_container(config);
  REQUIRE(id.has_value());
  c.containers.push_back(*id);
  auto wait = e.begin_wait(*id);
  REQUIRE(wait.has_value());
  REQUIRE(e.start_container(*id).has_value());
  auto code = wait->get();
  REQUIRE(code.has_value());
  auto logs = e.logs(*id, false);
  REQUIRE(logs.has_value());
  std::string out;
  for (;;) {
    auto l = logs->next();
    REQUIRE(l.has_value());
    if (!*l) break;
    out += (*l)->text + "\n";
  }
  INFO(out);
  CHECK(*code == 0);
  return out;
}

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("docker_builder builds a directory with its own Dockerfile, then skips the unchanged rebuild", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image + "\nCOPY . /app\n");
  write_file(dir / "a.txt", "alpha\n");
  write_file(dir / "sub/b.txt", "beta\n");
  write_file(dir / "secret.txt", "do not send\n");
  write_file(dir / ".dockerignore", "secret.txt\n");
  auto b = test_builder();
  launch_spec spec;
  spec.job_name = unique_job("own");

  recorder first;
  auto built = b.build(dir_artifact(dir.path()), spec, first.options());
  REQUIRE(built.has_value());
  c.images.push_back(built->image);
  CHECK(built->kind == artifact_kind::local_image);
  CHECK_THAT(built->image, Catch::StartsWith("liftoff-test-builder/own-"));
  CHECK(first.logged("building image " + built->image));
  CHECK_FALSE(first.progress.empty());

  auto img = e->inspect_image(built->image).value();
  REQUIRE(img.has_value());
  auto created = std::string(img->at("Created").as_string());
  auto const& labels = img->at("Config").at("Labels").as_object();
  CHECK_THAT(std::string(labels.at("liftoff.source-digest").as_string()), Catch::StartsWith("sha256:"));
  CHECK(labels.at("liftoff.job").as_string() == spec.job_name);

  auto out = run_image(*e, c, built->image,
                       {{"Cmd", {"sh", "-c", "cat /app/a.txt /app/sub/b.txt; ls -a /app"}}});
  CHECK(contains(out, "alpha\nbeta\n"));
  CHECK_FALSE(contains(out, "secret.txt"));

  // Unchanged (and only touched): no build.
  fs::last_write_time(dir / "a.txt", fs::file_time_type::clock::now() + std::chrono::hours(1));
  recorder second;
  auto again = b.build(dir_artifact(dir.path()), spec, second.options());
  REQUIRE(again.has_value());
  CHECK(again->image == built->image);
  CHECK(second.logged("image " + built->image + " is up to date; no build needed"));
  CHECK_FALSE(second.logged("building image"));
  CHECK(second.progress.empty());
  CHECK(e->inspect_image(built->image).value()->at("Created").as_string() == created);

  // One byte edited: a new image.
  write_file(dir / "a.txt", "alphA\n");
  recorder third;
  auto edited = b.build(dir_artifact(dir.path()), spec, third.options());
  REQUIRE(edited.has_value());
  c.images.push_back(edited->image);
  CHECK(edited->image != built->image);
  CHECK(third.logged("building image " + edited->image));
  CHECK(contains(run_image(*e, c, edited->image, {{"Cmd", {"cat", "/app/a.txt"}}}), "alphA"));
}

TEST_CASE("docker_builder generates a Dockerfile: user 1000 runs the entry point", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "run.sh", "echo \"uid=$(id -u) $(cat /app/data.txt) args=$*\"\n");
  write_file(dir / "data.txt", "payload");
  auto b = test_builder();
  launch_spec spec;
  spec.job_name = unique_job("generated");
  spec.base_image = base_image;
  spec.entry_point = {"sh", "run.sh"};

  recorder r;
  auto built = b.build(dir_artifact(dir.path()), spec, r.options());
  INFO((built ? std::string() : built.error().what()));
  REQUIRE(built.has_value());
  c.images.push_back(built->image);
  CHECK_FALSE(fs::exists(dir / ".liftoff"));

  auto img = e->inspect_image(built->image).value();
  REQUIRE(img.has_value());
  auto const& config = img->at("Config").as_object();
  CHECK(config.at("User").as_string() == "1000:1000");
  CHECK(json::serialize(config.at("Entrypoint")) == R"(["sh","run.sh"])");
  CHECK(config.at("WorkingDir").as_string() == "/app");

  auto out = run_image(*e, c, built->image, {{"Cmd", {"x", "y"}}});
  CHECK(contains(out, "uid=1000 payload args=x y"));
}

TEST_CASE("docker_builder reports a failing step with stage build", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image + "\nRUN false\n");
  auto b = test_builder();
  launch_spec spec;
  spec.job_name = unique_job("failing");
  recorder r;
  auto built = b.build(dir_artifact(dir.path()), spec, r.options());
  REQUIRE_FALSE(built.has_value());
  if (auto p = b.plan(dir_artifact(dir.path()), spec)) c.images.push_back(p->image);
  CHECK(built.error().code == liftoff::error::build_failed);
  CHECK(built.error().stage == liftoff::failure_stage::build);
  CHECK_THAT(built.error().what(), Catch::Contains("Step") && Catch::Contains("RUN false"));
}

TEST_CASE("docker_builder refuses a symlink out of the context before contacting the engine", "[docker]") {
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image + "\n");
  fs::create_symlink("/etc/passwd", dir / "passwd");
  auto b = test_builder();
  b.engine.host = "unix:///nonexistent/docker.sock";  // not reached
  launch_spec spec;
  recorder r;
  auto built = b.build(dir_artifact(dir.path()), spec, r.options());
  REQUIRE_FALSE(built.has_value());
  CHECK(built.error().stage == liftoff::failure_stage::build);
  CHECK_THAT(built.error().what(), Catch::Contains("'passwd'"));
}
