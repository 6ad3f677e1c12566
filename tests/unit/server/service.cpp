#include <liftoff/server/service.hpp>

#include "support/test_support.hpp"

#include <liftoff/server/sqlite_store.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
using liftoff::error;
using liftoff::run_state;
using liftoff::server::event_kind;
using liftoff::server::item_state;
using liftoff::server::priority;
using liftoff::server::push_request;
using liftoff::server::queue_request;
using liftoff::server::service_event;
using liftoff::server::service_options;
using liftoff::server::sqlite_store;
using liftoff::server::state_update;
using liftoff::server::time_point;

using service = liftoff::server::basic_service<sqlite_store>;

constexpr auto t0 = time_point(std::chrono::milliseconds(1'700'000'000'000));

bool contains(std::string const& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// A service over a SQLite store in a temporary directory, on a clock the test moves, recording its events.
struct fixture {
  explicit fixture(service_options o = {}) {
    auto s = sqlite_store::open(dir.path() / "data");
    REQUIRE(s.has_value());
    store = std::make_unique<sqlite_store>(std::move(*s));
    o.data_dir = dir.path() / "data";
    o.clock = [this] { return now; };
    o.on_event = [this](service_event const& e) { events.push_back(e); };
    svc = std::make_unique<service>(*store, std::move(o));
    REQUIRE(svc->prepare().has_value());
  }

  bool told(event_kind kind, std::string const& name) const {
    return std::any_of(events.begin(), events.end(), [&](auto const& e) { return e.kind == kind && e.name == name; });
  }

  std::int64_t make_agent(std::vector<std::string> queues, int max_jobs = 10) {
    auto a = svc->register_agent({"agent", "host-1", std::move(queues), max_jobs});
    REQUIRE(a.has_value());
    return a->id;
  }

  liftoff::test::temp_dir dir;
  time_point now = t0;
  std::vector<service_event> events;
  std::unique_ptr<sqlite_store> store;
  std::unique_ptr<service> svc;
};

/// A queue whose template sets two env variables of local-process from `gpus` (int 0..8) and `mode` (fast|slow).
queue_request templated_queue(std::string name) {
  queue_request q;
  q.name = std::move(name);
  q.resource = "local-process";
  q.config_template = {
      {"resource_args",
       json::object{{"local-process", json::object{{"env", json::object{{"GPUS", "{{gpus}}"}, {"MODE", "run-{{mode}}"}}}}}}},
      {"variables", json::object{{"gpus", json::object{{"type", "int"}, {"minimum", 0}, {"maximum", 8}, {"default", 1}}},
                                 {"mode", json::object{{"type", "string"}, {"enum", json::array{"fast", "slow"}},
                                                       {"default", "fast"}}}}}};
  return q;
}

push_request spec_push(std::string const& name) {
  push_request r;
  r.spec = json::object{{"image", "busybox"}, {"name", name}};
  return r;
}

state_update update(run_state s) {
  state_update u;
  u.state = s;
  return u;
}

}  // namespace

TEST_CASE("service: a push of a stored job fills the queue's template and makes a run id", "[server][service]") {
  fixture f;
  REQUIRE(f.svc->create_queue(templated_queue("t")).has_value());

  auto v0 = f.svc->add_job("train", {{"image", "busybox:1"}, {"entry_point", "sh -c 'echo 1'"}}, {"prod"});
  REQUIRE(v0.has_value());
  CHECK(v0->created);
  CHECK(v0->version.version == 0);
  CHECK(std::find(v0->version.aliases.begin(), v0->version.aliases.end(), "prod") != v0->version.aliases.end());
  // The same source with its fields in another order is the same version.
  auto same = f.svc->add_job("train", {{"entry_point", "sh -c 'echo 1'"}, {"image", "busybox:1"}});
  REQUIRE(same.has_value());
  CHECK_FALSE(same->created);
  CHECK(same->version.version == 0);
  auto v1 = f.svc->add_job("train", {{"image", "busybox:2"}});
  REQUIRE(v1.has_value());
  CHECK(v1->version.version == 1);

  push_request r;
  r.job = "train:prod";
  r.priority = priority::high;
  r.variables = {{"gpus", "4"}};
  // The spec's own resource args stay, except where the queue's template speaks.
  r.spec = json::object{{"name", "mine"},
                        {"resource_args", json::object{{"local-process", json::object{{"env", json::object{
                                                                                             {"GPUS", 99}, {"OWN", "x"}}}}}}}};
  f.events.clear();
  auto item = f.svc->push("t", r);
  REQUIRE(item.has_value());
  auto const& spec = item->run_spec;
  CHECK(spec.at("image") == "busybox:1");  // v0, where `prod` points
  CHECK(spec.at("job_name") == "train");
  CHECK(spec.at("name") == "mine");
  CHECK(spec.at("resource") == "local-process");
  CHECK(spec.at("queue") == "t");
  auto const& env = spec.at("resource_args").at("local-process").at("env");
  CHECK(env.at("GPUS") == 4);
  CHECK(env.at("MODE") == "run-fast");
  CHECK(env.at("OWN") == "x");
  CHECK(item->priority == priority::high);
  CHECK(item->pushed_at == t0);
  REQUIRE(item->run_id.size() == 8);
  CHECK(std::isalpha(static_cast<unsigned char>(item->run_id[0])));
  CHECK(spec.at("run_id") == json::value(item->run_id));
  CHECK(f.told(event_kind::queue, "t"));

  // NAME alone is the latest version; a spec naming a source of its own replaces the job's.
  push_request latest;
  latest.job = "train";
  auto by_name = f.svc->push("t", latest);
  REQUIRE(by_name.has_value());
  CHECK(by_name->run_spec.at("image") == "busybox:2");
  push_request other = latest;
  other.job = "train:v0";
  other.spec = json::object{{"image", "alpine"}};
  auto replaced = f.svc->push("t", other);
  REQUIRE(replaced.has_value());
  CHECK(replaced->run_spec.at("image") == "alpine");
  CHECK(replaced->run_spec.at("job_name") == "train");

  CHECK(f.svc->list_items("t", item_state::queued)->size() == 3);
}

TEST_CASE("service: job selectors are NAME, NAME:ALIAS or NAME:vN", "[server][service]") {
  auto plain = liftoff::server::parse_job_selector("train");
  REQUIRE(plain.has_value());
  CHECK(plain->name == "train");
  CHECK(plain->selector == "latest");
  auto version = liftoff::server::parse_job_selector("train:v3");
  REQUIRE(version.has_value());
  CHECK(version->name == "train");
  CHECK(version->selector == "v3");
  for (auto bad : {"", ":prod", "train:"}) {
    auto r = liftoff::server::parse_job_selector(bad);
    INFO(bad);
    REQUIRE(r.has_error());
    CHECK(r.error().code == error::invalid_request);
    CHECK(contains(r.error().what(), "NAME:ALIAS"));
  }
}

TEST_CASE("service: a bad push names the field and pushes nothing", "[server][service]") {
  fixture f;
  REQUIRE(f.svc->create_queue(templated_queue("t")).has_value());
  REQUIRE(f.svc->add_job("train", {{"image", "busybox:1"}}).has_value());

  push_request bad_selector;
  bad_selector.job = "train:";
  auto sel = f.svc->push("t", bad_selector);
  REQUIRE(sel.has_error());
  CHECK(sel.error().code == error::invalid_request);
  CHECK(contains(sel.error().what(), "push: field 'job': expected NAME, NAME:ALIAS or NAME:vN, got \"train:\""));

  push_request unknown_version;
  unknown_version.job = "train:v9";
  auto ver = f.svc->push("t", unknown_version);
  REQUIRE(ver.has_error());
  CHECK(ver.error().code == error::not_found);
  CHECK(contains(ver.error().what(), "push: field 'job'"));
  CHECK(contains(ver.error().what(), "v9"));

  struct bad_case {
    json::object variables;
    std::string names;
  };
  std::vector<bad_case> cases = {
      {{{"gpus", "many"}}, "gpus"},   // wrong type
      {{{"gpus", 9}}, "gpus"},        // above the maximum
      {{{"mode", "medium"}}, "mode"}, // not in the enum
      {{{"gpu", 2}}, "gpu"},          // unknown name
  };
  for (auto const& bc : cases) {
    auto r = spec_push("x");
    r.variables = bc.variables;
    auto pushed = f.svc->push("t", r);
    INFO(json::serialize(bc.variables));
    REQUIRE(pushed.has_error());
    CHECK(pushed.error().code == error::invalid_request);
    CHECK(contains(pushed.error().what(), "push: field 'variables'"));
    CHECK(contains(pushed.error().what(), "'" + bc.names + "'"));
  }

  auto neither = f.svc->push("t", push_request{});
  REQUIRE(neither.has_error());
  CHECK(neither.error().code == error::invalid_request);
  CHECK(contains(neither.error().what(), "field 'spec'"));

  auto typo = push_request{};
  typo.spec = json::object{{"image", "busybox"}, {"entry_pont", "x"}};
  auto spelled = f.svc->push("t", typo);
  REQUIRE(spelled.has_error());
  CHECK(contains(spelled.error().what(), "entry_pont"));

  // An artifact the server does not hold (this service holds none).
  std::string artifact = "sha256:" + std::string(64, 'a');
  auto code = push_request{};
  code.spec = json::object{{"code", json::object{{"artifact", artifact}}}};
  auto missing = f.svc->push("t", code);
  REQUIRE(missing.has_error());
  CHECK(missing.error().code == error::invalid_request);
  CHECK(contains(missing.error().what(), artifact));

  auto nowhere = f.svc->push("nowhere", spec_push("x"));
  REQUIRE(nowhere.has_error());
  CHECK(nowhere.error().code == error::not_found);

  CHECK(f.svc->list_items("t")->empty());
  CHECK(f.svc->list_runs()->empty());
  CHECK_FALSE(f.told(event_kind::queue, "t"));
}

TEST_CASE("service: a code artifact the server holds may be pushed", "[server][service]") {
  std::string hex(64, 'b');
  service_options o;
  o.has_artifact = [&](std::string_view h) { return h == hex; };
  fixture f(o);
  queue_request q;
  q.name = "q";
  q.resource = "local-process";
  REQUIRE(f.svc->create_queue(q).has_value());
  auto code = push_request{};
  code.spec = json::object{{"code", json::object{{"artifact", "sha256:" + hex}}}};
  auto pushed = f.svc->push("q", code);
  REQUIRE(pushed.has_value());
  CHECK(pushed->run_spec.at("code").at("artifact") == json::value("sha256:" + hex));
  // A job naming another artifact is refused.
  auto job = f.svc->add_job("coded", {{"code", json::object{{"artifact", "sha256:" + std::string(64, 'c')}}}});
  REQUIRE(job.has_error());
  CHECK(contains(job.error().what(), "job: field 'source': code.artifact"));
  CHECK(f.svc->list_jobs()->empty());
}

TEST_CASE("service: a lease, then reports, and a state that cannot follow", "[server][service]") {
  fixture f;
  queue_request q;
  q.name = "q";
  q.resource = "local-process";
  REQUIRE(f.svc->create_queue(q).has_value());
  auto agent = f.make_agent({"q"});
  auto other = f.make_agent({"q"});
  auto pushed = f.svc->push("q", spec_push("job"));
  REQUIRE(pushed.has_value());
  auto run_id = pushed->run_id;

  auto leased = f.svc->lease("q", agent);
  REQUIRE(leased.has_value());
  REQUIRE(leased->has_value());
  CHECK((*leased)->id == pushed->id);
  CHECK((*leased)->state == item_state::leased);
  CHECK((*leased)->attempts == 1);
  CHECK(*(*leased)->lease_expires_at == t0 + f.svc->options().lease_time);
  auto nothing = f.svc->lease("q", other);
  REQUIRE(nothing.has_value());
  CHECK_FALSE(nothing->has_value());

  // Only the holder reports or writes logs.
  auto intruder = f.svc->report(run_id, other, update(run_state::running));
  REQUIRE(intruder.has_error());
  CHECK(intruder.error().code == error::not_holder);
  CHECK(f.svc->append_logs(run_id, other, "intruder\n").error().code == error::not_holder);

  f.events.clear();
  f.now = t0 + 1s;
  auto running = f.svc->report(run_id, agent, update(run_state::running));
  REQUIRE(running.has_value());
  CHECK(running->state == run_state::running);
  CHECK(running->started_at == t0 + 1s);
  CHECK(f.told(event_kind::run, run_id));
  CHECK_FALSE(f.told(event_kind::queue, "q"));  // nothing for the queue's waiters yet

  REQUIRE(f.svc->append_logs(run_id, agent, "hello\n").has_value());
  REQUIRE(f.svc->append_logs(run_id, agent, "world\n").has_value());
  auto logs = f.svc->read_logs(run_id, 6);
  REQUIRE(logs.has_value());
  CHECK(logs->text == "world\n");
  CHECK(logs->next_offset == 12);
  CHECK(logs->state == run_state::running);
  CHECK(f.svc->read_logs(run_id, 99).error().code == error::invalid_request);

  auto done = update(run_state::finished);
  done.exit_code = 0;
  auto finished = f.svc->report(run_id, agent, done);
  REQUIRE(finished.has_value());
  CHECK(finished->state == run_state::finished);
  CHECK(finished->exit_code == 0);
  CHECK(f.told(event_kind::queue, "q"));

  // Nothing follows a terminal state, and agents never report queued or leased.
  auto again = f.svc->report(run_id, agent, update(run_state::running));
  REQUIRE(again.has_error());
  CHECK(again.error().code == error::conflict);
  CHECK(contains(again.error().what(), "already ended as finished"));
  auto back = f.svc->report(run_id, agent, update(run_state::queued));
  REQUIRE(back.has_error());
  CHECK(back.error().code == error::invalid_request);
  CHECK(liftoff::server::check_state_report(*finished, update(run_state::stopped)).error().code == error::conflict);
  CHECK(liftoff::server::check_state_report(*running, update(run_state::stopped)).has_value());

  auto run = f.svc->get_run(run_id);
  REQUIRE(run.has_value());
  CHECK(run->run.state == run_state::finished);
  REQUIRE(run->spec.has_value());
  CHECK(run->spec->at("name") == "job");
  std::vector<run_state> states;
  for (auto const& h : run->run.history) states.push_back(h.state);
  CHECK(states == std::vector<run_state>{run_state::queued, run_state::leased, run_state::running, run_state::finished});
  CHECK(f.svc->get_run("nope").error().code == error::not_found);
}

TEST_CASE("service: a multi-queue lease takes the queues in turn", "[server][service]") {
  fixture f;
  for (auto name : {"a", "b"}) {
    queue_request q;
    q.name = name;
    q.resource = "local-process";
    REQUIRE(f.svc->create_queue(q).has_value());
    for (int i = 0; i < 2; ++i) REQUIRE(f.svc->push(name, spec_push(std::string(name) + std::to_string(i))).has_value());
  }
  auto agent = f.make_agent({"a", "b"});
  std::vector<std::string> from;
  for (;;) {
    auto item = f.svc->lease_any({"a", "b"}, agent);
    REQUIRE(item.has_value());
    if (!*item) break;
    from.push_back((*item)->queue);
  }
  CHECK(from == std::vector<std::string>{"a", "b", "a", "b"});
  auto none = f.svc->lease_any({}, agent);
  REQUIRE(none.has_error());
  CHECK(none.error().code == error::invalid_request);
  CHECK(contains(none.error().what(), "'queues'"));
}

TEST_CASE("service: expired leases go back to their queue on a sweep", "[server][service]") {
  service_options o;
  o.lease_time = 100ms;
  o.max_attempts = 2;
  fixture f(o);
  queue_request q;
  q.name = "q";
  q.resource = "local-process";
  REQUIRE(f.svc->create_queue(q).has_value());
  auto agent = f.make_agent({"q"});
  auto pushed = f.svc->push("q", spec_push("flaky"));
  REQUIRE(pushed.has_value());
  REQUIRE(f.svc->lease("q", agent)->has_value());

  f.events.clear();
  f.now = t0 + 50ms;  // the lease still stands
  auto early = f.svc->sweep();
  REQUIRE(early.expired.has_value());
  CHECK(early.expired->empty());
  CHECK(f.events.empty());

  f.now = t0 + 1s;
  auto late = f.svc->sweep();
  REQUIRE(late.expired.has_value());
  REQUIRE(late.expired->size() == 1);
  CHECK(late.expired->front().run_id == pushed->run_id);
  CHECK(late.expired->front().requeued);
  CHECK(f.told(event_kind::queue, "q"));
  CHECK(f.told(event_kind::run, pushed->run_id));
  CHECK(f.svc->list_items("q", item_state::queued)->size() == 1);
}

TEST_CASE("service: a queue needs a resource, and the sentence names the deployment's", "[server][service]") {
  SECTION("resources known") {
    service_options o;
    o.resources = {"local-process", "kubernetes"};
    fixture f(o);
    queue_request q;
    q.name = "x";
    auto none = f.svc->create_queue(q);
    REQUIRE(none.has_error());
    CHECK(none.error().code == error::invalid_request);
    CHECK(none.error().what() == "queue 'x' needs a resource, one of: local-process, kubernetes");

    q.resource = "kubernets";
    auto typo = f.svc->create_queue(q);
    REQUIRE(typo.has_value());
    REQUIRE(typo->warnings.size() == 1);
    CHECK(contains(typo->warnings[0], "'kubernets'"));
    CHECK(contains(typo->warnings[0], "local-process, kubernetes"));

    q.name = "k";
    q.resource = "kubernetes";
    auto fine = f.svc->create_queue(q);
    REQUIRE(fine.has_value());
    CHECK(fine->warnings.empty());
    CHECK(fine->queue.created_at == t0);
  }
  SECTION("resources not known") {
    fixture f;
    queue_request q;
    q.name = "x";
    auto none = f.svc->create_queue(q);
    REQUIRE(none.has_error());
    CHECK(none.error().what() == "queue 'x' needs a resource name such as the agent's");
    // The store's own guard says the same, knowing no list either.
    liftoff::server::queue_record direct;
    direct.name = "y";
    auto stored = f.store->create_queue(direct);
    REQUIRE(stored.has_error());
    CHECK(stored.error().what() == "queue 'y' needs a resource name such as the agent's");

    q.resource = "anything";
    q.config_template = {{"resourc_args", json::object{}}};
    auto bad_template = f.svc->create_queue(q);
    REQUIRE(bad_template.has_error());
    CHECK(contains(bad_template.error().what(), "queue: field 'config_template'"));
    CHECK(f.svc->list_queues()->empty());
  }
}

TEST_CASE("service: the first token is made once, and tokens authenticate until revoked", "[server][service]") {
  fixture f;
  auto first = f.svc->create_first_token();
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  auto const& admin = (*first)->token;
  CHECK(admin.rfind("lft_", 0) == 0);
  CHECK((*first)->record.name == "admin");
  auto again = f.svc->create_first_token();
  REQUIRE(again.has_value());
  CHECK_FALSE(again->has_value());

  auto who = f.svc->authenticate(admin);
  REQUIRE(who.has_value());
  CHECK(who->name == "admin");
  auto wrong = f.svc->authenticate("lft_" + std::string(64, '0'));
  REQUIRE(wrong.has_error());
  CHECK(contains(wrong.error().what(), "not valid"));

  auto unnamed = f.svc->create_token("");
  REQUIRE(unnamed.has_error());
  CHECK(contains(unnamed.error().what(), "token: field 'name'"));
  auto ci = f.svc->create_token("ci");
  REQUIRE(ci.has_value());
  REQUIRE(f.svc->authenticate(ci->token).has_value());
  REQUIRE(f.svc->revoke_token(ci->record.id).has_value());
  CHECK(f.svc->authenticate(ci->token).has_error());
  CHECK(f.svc->list_tokens()->size() == 2);
}

TEST_CASE("service: a token's name is printable text", "[server][service]") {
  auto newline = liftoff::server::check_token_name("ci\nadmin");
  REQUIRE(newline.has_error());
  CHECK(newline.error().code == error::invalid_request);
  CHECK(newline.error().what() ==
        "token: field 'name': contains a control character (U+000A) at byte 2; names are printable text");
  CHECK(liftoff::server::check_token_name("\x1b[31mred").error().what() ==
        "token: field 'name': contains a control character (U+001B) at byte 0; names are printable text");
  CHECK(liftoff::server::check_token_name(std::string("a\0b", 3)).error().what().find("(U+0000) at byte 1") !=
        std::string::npos);
  CHECK(liftoff::server::check_token_name("bad\xff").error().what() ==
        "token: field 'name': is not valid UTF-8 at byte 3; names are printable text");
  CHECK(liftoff::server::check_token_name("ci runner (café)").has_value());

  fixture f;
  auto made = f.svc->create_token("deploy\r\nbot");
  REQUIRE(made.has_error());
  CHECK(contains(made.error().what(), "(U+000D) at byte 6"));
  CHECK(f.svc->list_tokens()->empty());
}

TEST_CASE("service: errors quote a short, escaped prefix of a bad name", "[server][service]") {
  std::string const big(10240, 'x');
  std::string const shown = "\"" + std::string(64, 'x') + "\xe2\x80\xa6\" (10240 bytes)";
  auto name = liftoff::server::check_job_name(big);
  REQUIRE(name.has_error());
  CHECK(name.error().what() == "job: field 'name': expected 1 to 128 letters, digits, '.', '_' or '-', got " + shown);
  auto alias = liftoff::server::check_job_alias(big);
  REQUIRE(alias.has_error());
  CHECK(alias.error().what().find("job: field 'aliases': " + shown + " cannot be an alias") == 0);
  auto selector = liftoff::server::parse_job_selector(big + ":");
  REQUIRE(selector.has_error());
  CHECK(selector.error().what() == "expected NAME, NAME:ALIAS or NAME:vN, got \"" + std::string(64, 'x') +
                                       "\xe2\x80\xa6\" (10241 bytes)");
  CHECK(liftoff::server::check_job_name("a\nb").error().what().find(R"(got "a\nb")") != std::string::npos);
  CHECK(liftoff::server::check_job_name("a b").error().what().find(R"(got "a b")") != std::string::npos);

  queue_request q;
  q.name = "q\n" + big;
  auto none = liftoff::server::prepare_queue(q, {});
  REQUIRE(none.has_error());
  CHECK(none.error().what() == "queue \"q\\n" + std::string(62, 'x') + "\xe2\x80\xa6\" (10242 bytes) needs a resource "
                                                                      "name such as the agent's");
}
