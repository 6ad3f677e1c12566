#include <liftoff/agent/detail/recovery.hpp>

#include <catch2/catch.hpp>

#include "support/net_test_server.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace t = liftoff::test;
using namespace liftoff;
using namespace std::chrono_literals;

namespace {

/// A run found again: what a reattach function hands back.
struct found_run {
  std::string run_id;
  std::string id() const { return run_id; }
  run_status status() { return run_status(run_state::running); }
  run_status wait() { return run_status(run_state::finished, 0); }
  void cancel(std::chrono::milliseconds) {}
  std::vector<log_line> logs() const { return {}; }
};

/** A control plane that knows run `run1`: its spec (`spec`, or a record with none when empty) and
    its logs ("a\nliftoff: note\nb\n": two lines of the run's own output). */
std::unique_ptr<t::net_test_server> control_plane(std::string spec) {
  return t::net_test_server::tcp([spec = std::move(spec)](t::net_exchange& ex) {
    auto const& target = ex.request().target;
    if (target == "/api/v1/runs/run1") {
      ex.respond(200, spec.empty() ? R"({"run_id": "run1"})" : R"({"run_id": "run1", "spec": )" + spec + "}",
                 {{"Content-Type", "application/json"}});
    } else if (target.rfind("/api/v1/runs/run1/logs", 0) == 0) {
      ex.respond(200, "a\nliftoff: note\nb\n", {{"X-Liftoff-Next-Offset", "18"}, {"X-Liftoff-Run-State", "running"}});
    } else {
      ex.respond(404, R"({"error": "not_found", "message": "no such run"})", {{"Content-Type", "application/json"}});
    }
  });
}

constexpr char const* container_spec =
    R"({"run_id": "run1", "image": "busybox", "entry_point": ["true"], "resource": "local-container"})";

/// The agent's view of the server, with `reattach`; what it was asked goes to `asked`.
struct fixture {
  explicit fixture(std::string spec = container_spec) : server(control_plane(std::move(spec))) {
    agent::agent_options o;
    o.server = {server->url(), "lft_test"};
    o.grace_period = 3s;
    o.on_event = [this](std::string_view e) {
      std::lock_guard lock(m);
      events.emplace_back(e);
    };
    sh.emplace(std::move(o));
    auto c = sh->make_client();
    REQUIRE(c.has_value());
    client.emplace(std::move(*c));
  }

  void answer(std::function<result<std::optional<any_run>>()> with) {
    sh->opts.reattach = [this, with = std::move(with)](reattach_request const& r) {
      asked = r;
      return with();
    };
  }

  /// The crash reason `find_run_again` gives (failing the test if it found the run).
  std::string reason() {
    auto found = agent::detail::find_run_again(*sh, *client, "run1", {});
    REQUIRE(std::holds_alternative<std::string>(found));
    return std::get<std::string>(found);
  }

  std::unique_ptr<t::net_test_server> server;
  std::optional<agent::detail::agent_shared> sh;
  std::optional<client::api_client> client;
  std::optional<reattach_request> asked;
  std::mutex m;
  std::vector<std::string> events;
};

}  // namespace

TEST_CASE("find_run_again asks the reattach function with the run's spec, resource and delivered lines", "[agent]") {
  fixture f;
  f.answer([] { return std::optional<any_run>(any_run(found_run{"run1"})); });
  auto found = agent::detail::find_run_again(*f.sh, *f.client, "run1", {});
  REQUIRE(std::holds_alternative<any_run>(found));
  CHECK(std::get<any_run>(found).id() == "run1");
  REQUIRE(f.asked);
  CHECK(f.asked->run_id == "run1");
  CHECK(f.asked->resource == "local-container");
  CHECK(f.asked->spec.resource == "local-container");
  CHECK(f.asked->delivered_lines == 2);  // liftoff's own line is not the run's output
  CHECK(f.asked->options.grace_period == 3s);
  std::lock_guard lock(f.m);
  CHECK(f.events == std::vector<std::string>{"run run1 found again on local-container; following it"});
}

TEST_CASE("find_run_again turns each answer of the reattach function into the run's crash reason", "[agent]") {
  fixture f;
  SECTION("gone") {
    f.answer([] { return std::optional<any_run>(); });
    CHECK(f.reason() == "the agent restarted and did not find the run on local-container again: it is gone");
  }
  SECTION("gone, saying what became of it: its sentence as it is") {
    f.answer([]() -> result<std::optional<any_run>> {
      return diagnostic(error::gone, "the agent restarted and the container was removed by hand");
    });
    CHECK(f.reason() == "the agent restarted and the container was removed by hand");
  }
  SECTION("not its resource") {
    f.answer([]() -> result<std::optional<any_run>> {
      return diagnostic(error::unsupported, "runs on local-container are not local processes");
    });
    CHECK(f.reason() == "the agent restarted and cannot find runs on local-container again");
  }
  SECTION("the resource could not be asked") {
    f.answer([]() -> result<std::optional<any_run>> { return diagnostic(error::timeout, "the engine does not answer"); });
    CHECK(f.reason() == "the agent restarted and could not look for the run on local-container: the engine does not answer");
  }
  SECTION("no reattach function at all") {
    f.sh->opts.reattach = nullptr;
    CHECK(f.reason() == "the agent restarted and cannot find runs on local-container again");
  }
  std::lock_guard lock(f.m);
  CHECK(f.events.empty());
}

TEST_CASE("find_run_again asks about a run whose spec cannot be read with no resource", "[agent]") {
  fixture f("");
  SECTION("a function that finds runs by id answers") {
    f.answer([]() -> result<std::optional<any_run>> {
      return diagnostic(error::gone, "the agent restarted and the run's process was not found");
    });
    CHECK(f.reason() == "the agent restarted and the run's process was not found");
    REQUIRE(f.asked);
    CHECK(f.asked->resource.empty());
    CHECK(f.asked->run_id == "run1");
  }
  SECTION("no one answers: the reason says the spec could not be read") {
    f.answer([]() -> result<std::optional<any_run>> { return diagnostic(error::unsupported, "not mine"); });
    auto why = f.reason();
    INFO(why);
    CHECK(why.rfind("the agent restarted and cannot find the run again: its spec could not be read (", 0) == 0);
    CHECK(why.find("'spec'") != std::string::npos);
  }
}
