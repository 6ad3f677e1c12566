#include <liftoff/docker/builder.hpp>
#include <boost/json/parse.hpp>

#include "support/test_support.hpp"

#include <liftoff/core/launcher.hpp>

#include <archive.h>
#include <archive_entry.h>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <vector>

using liftoff::artifact;
using liftoff::artifact_kind;
using liftoff::docker_builder;
using liftoff::dockerfile_origin;
using liftoff::launch_options;
using liftoff::launch_spec;
using liftoff::test::temp_dir;
using liftoff::test::write_file;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

/// True when `r` holds a value; otherwise shows its diagnostic.
template <class T>
bool ok(liftoff::result<T> const& r) {
  if (!r) UNSCOPED_INFO(r.error().what());
  return r.has_value();
}

artifact dir_artifact(fs::path const& d) {
  artifact a;
  a.kind = artifact_kind::directory;
  a.directory = d;
  return a;
}

/// A dry-run build: the result and every emitted action.
struct dry_run {
  std::vector<json::object> actions;
  std::vector<liftoff::log_line> logs;
  liftoff::result<artifact> out = liftoff::diagnostic(liftoff::error::cancelled, "not run");

  dry_run(docker_builder const& b, artifact const& in, launch_spec const& spec) {
    launch_options o;
    o.on_dry_run = [this](json::object const& a) { actions.push_back(a); };
    o.on_log = [this](liftoff::log_line const& l) { logs.push_back(l); };
    out = b.build(in, spec, o);
  }

  json::object const* find(std::string_view action, std::string_view method = {}, std::string_view path_part = {}) const {
    for (auto const& a : actions) {
      if (a.at("action").as_string() != action) continue;
      if (!method.empty()) {
        auto const& r = a.at("request").as_object();
        if (r.at("method").as_string() != method) continue;
        if (std::string_view(r.at("path").as_string()).find(path_part) == std::string_view::npos) continue;
      }
      return &a;
    }
    return nullptr;
  }

  std::string build_query(std::string_view key) const {
    auto const* a = find("docker api", "POST", "/build");
    REQUIRE(a);
    auto const& q = a->at("request").at("query").as_object();
    auto const* v = q.if_contains(key);
    if (!v) return {};
    return v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
  }

  std::string dockerfile_text() const {
    auto const* a = find("dockerfile");
    REQUIRE(a);
    return std::string(a->at("text").as_string());
  }
};

std::string plan_tag(docker_builder const& b, fs::path const& d, launch_spec const& spec = {}) {
  auto p = b.plan(dir_artifact(d), spec);
  REQUIRE(ok(p));
  return p->image;
}

/// The files of a tar, read back with libarchive.
std::map<std::string, std::string> tar_files(std::string const& tar) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, tar.data(), tar.size()) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string content;
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) content.append(buf, static_cast<std::size_t>(n));
    out[archive_entry_pathname(e)] = content;
  }
  archive_read_free(a);
  return out;
}

}  // namespace

TEST_CASE("docker_builder models the builder concept: a directory in, a local image out", "[docker]") {
  STATIC_REQUIRE(liftoff::builder<docker_builder>);
  STATIC_REQUIRE(docker_builder::accepts(artifact_kind::directory));
  STATIC_REQUIRE_FALSE(docker_builder::accepts(artifact_kind::local_image));
  STATIC_REQUIRE(docker_builder::output(artifact_kind::directory) == artifact_kind::local_image);
}

TEST_CASE("docker_builder: Dockerfile precedence", "[docker]") {
  temp_dir dir;
  write_file(dir / "src/train.py", "print(1)\n");
  write_file(dir / "docker/train.Dockerfile", "FROM from-spec\n");
  write_file(dir / "Dockerfile", "FROM from-context\n");
  write_file(dir / "src/Dockerfile.liftoff", "FROM beside-entry-point\n");
  write_file(dir / "Dockerfile.liftoff", "FROM at-root\n");
  docker_builder b;
  launch_spec spec;
  spec.entry_point = {"python", "-u", "src/train.py", "--epochs", "3"};

  SECTION("--dockerfile first") {
    spec.dockerfile = "docker/train.Dockerfile";
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE(ok(r.out));
    CHECK(r.build_query("dockerfile") == "docker/train.Dockerfile");
    CHECK(r.dockerfile_text() == "FROM from-spec\n");
    CHECK(r.find("dockerfile")->at("origin").as_string() == "dockerfile");
  }
  SECTION("then the context's Dockerfile") {
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE(ok(r.out));
    CHECK(r.build_query("dockerfile") == "Dockerfile");
    CHECK(r.dockerfile_text() == "FROM from-context\n");
  }
  SECTION("then Dockerfile.liftoff beside the entry point") {
    fs::remove(dir / "Dockerfile");
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE(ok(r.out));
    CHECK(r.build_query("dockerfile") == "src/Dockerfile.liftoff");
    CHECK(r.dockerfile_text() == "FROM beside-entry-point\n");
  }
  SECTION("then Dockerfile.liftoff at the root") {
    fs::remove(dir / "Dockerfile");
    fs::remove(dir / "src/Dockerfile.liftoff");
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE(ok(r.out));
    CHECK(r.build_query("dockerfile") == "Dockerfile.liftoff");
    CHECK(r.dockerfile_text() == "FROM at-root\n");
  }
  SECTION("else a generated one, in memory only") {
    fs::remove(dir / "Dockerfile");
    fs::remove(dir / "src/Dockerfile.liftoff");
    fs::remove(dir / "Dockerfile.liftoff");
    spec.overrides.args = {"--lr", "0.1"};
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE(ok(r.out));
    CHECK(r.build_query("dockerfile") == ".liftoff/Dockerfile");
    auto text = r.dockerfile_text();
    CHECK_THAT(text, Catch::Contains("FROM python:3.11-slim\n") && Catch::Contains("WORKDIR /app\n") &&
                         Catch::Contains("COPY --chown=1000:1000 . /app\n") && Catch::Contains("USER 1000:1000\n") &&
                         Catch::Contains(R"(ENTRYPOINT ["python","-u","src/train.py","--epochs","3"])"));
    CHECK_THAT(text, !Catch::Contains("pip install") && !Catch::Contains("--lr"));
    CHECK(r.find("dockerfile")->at("origin").as_string() == "generated");
    CHECK_FALSE(fs::exists(dir / ".liftoff"));

    auto p = b.plan(dir_artifact(dir.path()), spec);
    REQUIRE(ok(p));
    auto files = tar_files(p->build_context.to_tar().value());
    CHECK(files.at(".liftoff/Dockerfile") == text);
    CHECK(files.count("src/train.py") == 1);
  }
  SECTION("a generated one installs requirements.txt, from base_image or the overriding entry point") {
    fs::remove(dir / "Dockerfile");
    fs::remove(dir / "src/Dockerfile.liftoff");
    fs::remove(dir / "Dockerfile.liftoff");
    write_file(dir / "requirements.txt", "numpy\n");
    spec.base_image = "liftoff-test/busybox:latest";
    spec.overrides.entry_point = std::vector<std::string>{"sh", "run.sh"};
    auto p = b.plan(dir_artifact(dir.path()), spec);
    REQUIRE(ok(p));
    CHECK(p->origin == dockerfile_origin::generated);
    CHECK(p->base_image == "liftoff-test/busybox:latest");
    CHECK_THAT(p->dockerfile_text,
               Catch::Contains("FROM liftoff-test/busybox:latest\n") &&
                   Catch::Contains("COPY requirements.txt /app/requirements.txt\nRUN pip install --no-cache-dir -r "
                                   "requirements.txt\n") &&
                   Catch::Contains(R"(ENTRYPOINT ["sh","run.sh"])"));
  }
}

TEST_CASE("docker_builder: bad Dockerfiles and paths are clear errors", "[docker]") {
  temp_dir dir;
  write_file(dir / "train.py", "1");
  docker_builder b;
  launch_spec spec;

  SECTION("missing --dockerfile") {
    spec.dockerfile = "docker/Nope";
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE_FALSE(ok(r.out));
    CHECK(r.out.error().code == liftoff::error::file_not_found);
    CHECK(r.out.error().stage == liftoff::failure_stage::build);
    CHECK_THAT(r.out.error().what(), Catch::Contains("dockerfile: 'docker/Nope' does not exist"));
    CHECK(r.actions.empty());
  }
  SECTION("--dockerfile outside the context") {
    spec.dockerfile = "../Dockerfile";
    CHECK_FALSE(ok(b.validate(spec)));
    auto p = b.plan(dir_artifact(dir.path()), spec);
    REQUIRE_FALSE(ok(p));
    CHECK_THAT(p.error().what(), Catch::StartsWith("dockerfile:"));
  }
  SECTION("a Dockerfile that is a symlink out of the context") {
    fs::create_symlink("/etc/hostname", dir / "Dockerfile");
    auto p = b.plan(dir_artifact(dir.path()), spec);
    REQUIRE_FALSE(ok(p));
    CHECK_THAT(p.error().what(), Catch::Contains("outside the build context"));
  }
  SECTION("build_context escaping the source") {
    spec.build_context = "../..";
    auto v = b.validate(spec);
    REQUIRE_FALSE(ok(v));
    CHECK(v.error().code == liftoff::error::invalid_spec);
    CHECK_THAT(v.error().what(), Catch::StartsWith("build_context: '../..'"));
    spec.build_context = "/etc";
    CHECK_FALSE(ok(b.validate(spec)));
    spec.build_context = "sub/../other";
    CHECK(ok(b.validate(spec)));
  }
  SECTION("a malformed base image") {
    spec.base_image = "Not A Reference";
    auto v = b.validate(spec);
    REQUIRE_FALSE(ok(v));
    CHECK_THAT(v.error().what(), Catch::StartsWith("base_image:"));
  }
  SECTION("a symlink out of the context") {
    fs::create_symlink("../outside", dir / "data");
    dry_run r(b, dir_artifact(dir.path()), spec);
    REQUIRE_FALSE(ok(r.out));
    CHECK(r.out.error().stage == liftoff::failure_stage::build);
    CHECK_THAT(r.out.error().what(), Catch::Contains("'data'"));
  }
}

TEST_CASE("docker_builder: the tag follows content, Dockerfile and base image, not timestamps", "[docker]") {
  temp_dir dir;
  write_file(dir / "train.py", "print(1)\n");
  docker_builder b;
  launch_spec spec;
  spec.entry_point = {"python", "train.py"};
  spec.job_name = "My Job!";
  auto first = plan_tag(b, dir.path(), spec);
  CHECK_THAT(first, Catch::Matches("liftoff/my-job:[0-9a-f]{32}"));

  CHECK(plan_tag(b, dir.path(), spec) == first);
  fs::last_write_time(dir / "train.py", fs::file_time_type::clock::now() + std::chrono::hours(1));
  CHECK(plan_tag(b, dir.path(), spec) == first);  // touch

  auto other_base = spec;
  other_base.base_image = "liftoff-test/busybox:latest";
  CHECK(plan_tag(b, dir.path(), other_base) != first);

  write_file(dir / "train.py", "print(2)\n");  // one byte
  auto edited = plan_tag(b, dir.path(), spec);
  CHECK(edited != first);
  write_file(dir / "train.py", "print(1)\n");
  CHECK(plan_tag(b, dir.path(), spec) == first);

  write_file(dir / "Dockerfile", "FROM a\n");
  auto with_dockerfile = plan_tag(b, dir.path(), spec);
  CHECK(with_dockerfile != first);
  write_file(dir / "Dockerfile", "FROM b\n");
  CHECK(plan_tag(b, dir.path(), spec) != with_dockerfile);

  write_file(dir / ".dockerignore", "*.log\n");
  CHECK(plan_tag(b, dir.path(), spec) != with_dockerfile);

  // The source's digest is used when it has one.
  auto in = dir_artifact(dir.path());
  in.digest = "sha256:" + std::string(64, 'a');
  auto p1 = b.plan(in, spec);
  in.digest = "sha256:" + std::string(64, 'b');
  auto p2 = b.plan(in, spec);
  REQUIRE(ok(p1));
  REQUIRE(ok(p2));
  CHECK(p1->image != p2->image);
  CHECK(p1->source_digest == "sha256:" + std::string(64, 'a'));
}

TEST_CASE("docker_builder: image names fall back to the context directory's name", "[docker]") {
  temp_dir parent;
  auto d = parent / "My_Project..v2";
  write_file(d / "train.py", "1");
  docker_builder b;
  b.repository = "example.com/team";
  CHECK_THAT(plan_tag(b, d), Catch::Matches("example.com/team/my_project-v2:[0-9a-f]{32}"));
  CHECK(liftoff::detail::image_name_component("--A.b__c--d-") == "a.b-c-d");
  CHECK(liftoff::detail::image_name_component("!!!") == "");
}

TEST_CASE("docker_builder: a dry run emits the engine requests and the Dockerfile", "[docker]") {
  temp_dir dir;
  write_file(dir / "train.py", "1");
  docker_builder b;
  launch_spec spec;
  spec.entry_point = {"python", "train.py"};
  spec.job_name = "mnist";
  spec.project = "vision";
  auto in = dir_artifact(dir.path());
  in.digest = "sha256:" + std::string(64, 'c');
  dry_run r(b, in, spec);
  REQUIRE(ok(r.out));
  CHECK(r.out->kind == artifact_kind::local_image);
  CHECK_THAT(r.out->image, Catch::StartsWith("liftoff/mnist:"));
  CHECK_THAT(r.out->digest, Catch::Matches("sha256:[0-9a-f]{64}"));
  CHECK(r.out->digest.substr(7, 32) == r.out->image.substr(r.out->image.size() - 32));

  auto const* inspect = r.find("docker api", "GET", "/images/");
  REQUIRE(inspect);
  CHECK(inspect->at("stage").as_string() == "build");
  auto const* build = r.find("docker api", "POST", "/build");
  REQUIRE(build);
  CHECK(r.build_query("t") == r.out->image);
  auto labels = json::parse(r.build_query("labels")).as_object();
  CHECK(labels.at("liftoff.source-digest").as_string() == in.digest);
  CHECK(labels.at("liftoff.job").as_string() == "mnist");
  CHECK(labels.at("liftoff.project").as_string() == "vision");
  CHECK_THAT(r.dockerfile_text(), Catch::Contains("FROM python:3.11-slim"));
  // The inspect comes before the build.
  CHECK(inspect < build);
  REQUIRE_FALSE(r.logs.empty());
  CHECK_THAT(r.logs.back().text, Catch::StartsWith("building image liftoff/mnist:"));
}

TEST_CASE("buildkit_feature names the first line a classic builder cannot build", "[docker]") {
  using liftoff::buildkit_feature;
  CHECK_FALSE(buildkit_feature("FROM a\nRUN echo --mount\nCOPY . /app\n# syntax=x\n").has_value());
  CHECK(buildkit_feature("# syntax=docker/dockerfile:1.4\nFROM a\n") ==
        "line 1: # syntax=docker/dockerfile:1.4 (a frontend image)");
  CHECK(buildkit_feature("FROM a\n\nRUN --mount=type=cache,target=/root/.cache/pip pip install x\n") ==
        "line 3: RUN --mount");
  CHECK(buildkit_feature("FROM a\ncopy --link . /app\n") == "line 2: COPY --link");
  CHECK(buildkit_feature("FROM a\nCOPY --chmod=755 x /x\n") == "line 2: COPY --chmod");
  CHECK(buildkit_feature("FROM a\nRUN <<EOF\necho hi\nEOF\n").value().starts_with("line 2: a heredoc"));
  CHECK_FALSE(buildkit_feature("FROM a\nRUN echo $((1<<2))\n").has_value());
}
