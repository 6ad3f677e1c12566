// docker_builder against the real Docker engine, with the base image
// .ci/start-docker makes. Skipped, saying why, when no engine answers.
// Every image is tagged in the repository `liftoff-test-builder` and removed.

#include <liftoff/docker/builder.hpp>

#include "support/docker_support.hpp"
#include "support/test_support.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <stop_token>
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
  std::vector<std::string> logs, progress, build;
  launch_options options() {
    launch_options o;
    o.on_log = [this](liftoff::log_line const& l) {
      logs.push_back(l.text);
      if (l.stream == liftoff::log_stream::build) build.push_back(l.text);
    };
    o.on_progress = [this](std::string_view l) { progress.emplace_back(l); };
    return o;
  }
  bool logged(std::string_view part) const {
    for (auto const& l : logs)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
  std::string all() const {
    std::string out;
    for (auto const& l : logs) out += l + "\n";
    return out;
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
  CHECK_FALSE(first.build.empty());

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
  CHECK(second.build.empty());
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

TEST_CASE("docker_builder reports a failing step with its output, in the error and the logs", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image +
                                     "\nRUN echo step-one-output && ls /nonexistent\n");
  auto b = test_builder();
  launch_spec spec;
  spec.job_name = unique_job("failing");
  bool const buildkit = liftoff::buildkit_compiled();
  SECTION("classic builder") { b.mode = liftoff::docker_build_mode::classic; }
  SECTION("BuildKit, where liftoff has it") {
    if (!buildkit) {
      WARN("skipped: this liftoff was built without BuildKit (gRPC)");
      return;
    }
  }
  recorder r;
  auto built = b.build(dir_artifact(dir.path()), spec, r.options());
  REQUIRE_FALSE(built.has_value());
  if (auto p = b.plan(dir_artifact(dir.path()), spec)) c.images.push_back(p->image);
  INFO(built.error().what());
  INFO(r.all());
  CHECK(built.error().code == liftoff::error::build_failed);
  CHECK(built.error().stage == liftoff::failure_stage::build);
  // The failing step, and its own output quoted, not just the exit code.
  CHECK_THAT(built.error().what(), Catch::Contains("RUN echo step-one-output && ls /nonexistent") &&
                                       Catch::Contains("its last lines:") && Catch::Contains("\n  ") &&
                                       Catch::Contains("step-one-output") && Catch::Contains("/nonexistent"));
  // Every step's output is in the logs, as build lines.
  bool output_logged = false;
  for (auto const& l : r.build) output_logged = output_logged || contains(l, "step-one-output");
  CHECK(output_logged);
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

// ---- BuildKit ------------------------------------------------------------------

namespace {

/// Skips (saying why) where liftoff was built without BuildKit.
bool buildkit_or_skip() {
  if (liftoff::buildkit_compiled()) return true;
  WARN("skipped: this liftoff was built without BuildKit (gRPC)");
  return false;
}

}  // namespace

TEST_CASE("BuildKit builds RUN --mount cache and secret steps; the secret is in no layer and no log", "[docker][buildkit]") {
  auto e = engine_or_skip();
  if (!e || !buildkit_or_skip()) return;
  cleanup c{*e};
  temp_dir dir;
  temp_dir secrets;
  std::string const file_secret = "file-secret-value-7f3a";
  std::string const env_secret = "env-secret-value-91c2";
  write_file(secrets / "token", file_secret);
  ::setenv("LIFTOFF_TEST_BUILD_SECRET", env_secret.c_str(), 1);
  write_file(dir / "Dockerfile",
             std::string("FROM ") + base_image +
                 "\nRUN --mount=type=cache,target=/cache echo cached > /cache/x && cat /cache/x\n"
                 // Compared reversed, so that the Dockerfile (which the progress shows) holds no secret.
                 "RUN --mount=type=secret,id=filetok --mount=type=secret,id=envtok "
                 "test \"$(rev < /run/secrets/filetok)\" = " + std::string(file_secret.rbegin(), file_secret.rend()) +
                 " && test \"$(rev < /run/secrets/envtok)\" = " + std::string(env_secret.rbegin(), env_secret.rend()) +
                 " && echo secrets-matched\n"
                 "COPY . /app\n");
  write_file(dir / "a.txt", "alpha\n");
  auto b = test_builder();
  b.mode = liftoff::docker_build_mode::buildkit;
  launch_spec spec;
  spec.job_name = unique_job("buildkit");
  spec.build_secrets = {{"filetok", (secrets / "token").string(), ""}, {"envtok", "", "LIFTOFF_TEST_BUILD_SECRET"}};
  recorder r;
  auto built = b.build(dir_artifact(dir.path()), spec, r.options());
  INFO(r.all());
  INFO((built ? std::string() : built.error().what()));
  REQUIRE(built.has_value());
  c.images.push_back(built->image);
  // BuildKit's progress: numbered steps, the step's output, its end.
  CHECK(r.logged("#"));
  CHECK(r.logged("RUN --mount=type=cache,target=/cache"));
  CHECK(r.logged("secrets-matched"));
  CHECK(r.logged("DONE"));
  CHECK_FALSE(contains(r.all(), file_secret));
  CHECK_FALSE(contains(r.all(), env_secret));
  auto out = run_image(*e, c, built->image,
                       {{"Cmd", {"sh", "-c", "cat /app/a.txt; ls /run/secrets 2>&1; grep -rl " + file_secret +
                                                 " /app /etc /run /root /tmp /bin 2>/dev/null | head -1; echo end"}}});
  CHECK(contains(out, "alpha"));
  CHECK_FALSE(contains(out, file_secret));
  CHECK_FALSE(contains(out, "filetok"));
  ::unsetenv("LIFTOFF_TEST_BUILD_SECRET");
}

TEST_CASE("BuildKit sends what .dockerignore allows, and a file whose content changed at the same size", "[docker][buildkit]") {
  auto e = engine_or_skip();
  if (!e || !buildkit_or_skip()) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image + "\nCOPY . /app\n");
  write_file(dir / "a.txt", "aaaa\n");
  write_file(dir / "sub/b.txt", "beta\n");
  write_file(dir / "sub/keep.log", "kept\n");
  write_file(dir / "sub/drop.log", "dropped\n");
  write_file(dir / "secret.txt", "do not send\n");
  write_file(dir / ".dockerignore", "secret.txt\nsub/*.log\n!sub/keep.log\n");
  auto b = test_builder();
  b.mode = liftoff::docker_build_mode::buildkit;
  launch_spec spec;
  spec.job_name = unique_job("bk-context");
  recorder first;
  auto built = b.build(dir_artifact(dir.path()), spec, first.options());
  INFO(first.all());
  REQUIRE(built.has_value());
  c.images.push_back(built->image);
  auto out = run_image(*e, c, built->image, {{"Cmd", {"sh", "-c", "cd /app && find . -type f | sort && cat a.txt"}}});
  CHECK(contains(out, "./sub/b.txt"));
  CHECK(contains(out, "./sub/keep.log"));
  CHECK_FALSE(contains(out, "drop.log"));
  CHECK_FALSE(contains(out, "secret.txt"));
  CHECK(contains(out, "aaaa"));

  // Same size, new content, the modification time kept: the engine's cache
  // compares metadata, so the new time must tell it.
  auto const when = fs::last_write_time(dir / "a.txt");
  write_file(dir / "a.txt", "bbbb\n");
  fs::last_write_time(dir / "a.txt", when + std::chrono::seconds(1));
  recorder second;
  auto again = b.build(dir_artifact(dir.path()), spec, second.options());
  INFO(second.all());
  REQUIRE(again.has_value());
  c.images.push_back(again->image);
  CHECK(again->image != built->image);
  CHECK(contains(run_image(*e, c, again->image, {{"Cmd", {"cat", "/app/a.txt"}}}), "bbbb"));
}

TEST_CASE("a Dockerfile that needs BuildKit is refused by the classic builder, naming the line", "[docker][buildkit]") {
  auto e = engine_or_skip();
  if (!e) return;
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image +
                                     "\n# a comment\nRUN --mount=type=cache,target=/root/.cache/pip echo hi\n");
  auto b = test_builder();
  b.mode = liftoff::docker_build_mode::classic;
  launch_spec spec;
  spec.job_name = unique_job("needs-bk");
  recorder r;
  auto built = b.build(dir_artifact(dir.path()), spec, r.options());
  REQUIRE_FALSE(built.has_value());
  CHECK(built.error().code == liftoff::error::unsupported);
  CHECK_THAT(built.error().what(), Catch::Contains("needs BuildKit") && Catch::Contains("line 3: RUN --mount") &&
                                       Catch::Contains("classic builder was asked for"));
}

TEST_CASE("a stop request ends a BuildKit build at once, and no image is made", "[docker][buildkit]") {
  auto e = engine_or_skip();
  if (!e || !buildkit_or_skip()) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image + "\nRUN echo sleeping-now && sleep 60\n");
  auto b = test_builder();
  launch_spec spec;
  spec.job_name = unique_job("bk-cancel");
  auto plan = b.plan(dir_artifact(dir.path()), spec);
  REQUIRE(plan.has_value());
  c.images.push_back(plan->image);
  std::stop_source stop;
  auto options = launch_options{};
  std::atomic<bool> sleeping{false};
  options.on_log = [&](liftoff::log_line const& l) {
    if (l.text.find("sleeping-now") != std::string::npos && !sleeping.exchange(true)) stop.request_stop();
  };
  options.stop = stop.get_token();
  auto const start = std::chrono::steady_clock::now();
  auto built = b.build(dir_artifact(dir.path()), spec, options);
  auto const took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(built.has_value());
  CHECK(sleeping);
  CHECK(built.error().code == liftoff::error::cancelled);
  CHECK(took < std::chrono::seconds(30));
  CHECK_FALSE(e->inspect_image(plan->image).value().has_value());
}

TEST_CASE("the classic builder stops a build on a stop request", "[docker]") {
  auto e = engine_or_skip();
  if (!e) return;
  cleanup c{*e};
  temp_dir dir;
  write_file(dir / "Dockerfile", std::string("FROM ") + base_image + "\nRUN echo sleeping-now && sleep 60\n");
  auto b = test_builder();
  b.mode = liftoff::docker_build_mode::classic;
  launch_spec spec;
  spec.job_name = unique_job("classic-cancel");
  auto plan = b.plan(dir_artifact(dir.path()), spec);
  REQUIRE(plan.has_value());
  c.images.push_back(plan->image);
  std::stop_source stop;
  launch_options options;
  std::atomic<bool> sleeping{false};
  options.on_log = [&](liftoff::log_line const& l) {
    if (l.text.find("sleeping-now") != std::string::npos && !sleeping.exchange(true)) stop.request_stop();
  };
  options.stop = stop.get_token();
  auto const start = std::chrono::steady_clock::now();
  auto built = b.build(dir_artifact(dir.path()), spec, options);
  REQUIRE_FALSE(built.has_value());
  CHECK(sleeping);
  CHECK(built.error().code == liftoff::error::cancelled);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  CHECK_FALSE(e->inspect_image(plan->image).value().has_value());
}
