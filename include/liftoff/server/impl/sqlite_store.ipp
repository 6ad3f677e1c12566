#ifndef LIFTOFF_SERVER_IMPL_SQLITE_STORE_IPP
#define LIFTOFF_SERVER_IMPL_SQLITE_STORE_IPP

#include <liftoff/server/sqlite_store.hpp>

#include <liftoff/core/spec.hpp>
#include <liftoff/detail/quote.hpp>
#include <liftoff/server/detail/data_dir.hpp>
#include <liftoff/server/detail/sqlite.hpp>
#include <liftoff/server/detail/sqlite_schema.hpp>
#include <liftoff/server/detail/sqlite_writer.hpp>
#include <liftoff/server/detail/util.hpp>
#include <liftoff/server/service.hpp>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <system_error>
#include <type_traits>

#include <fcntl.h>
#include <unistd.h>

namespace liftoff::server {
namespace detail {

// ---- conversions -----------------------------------------------------------------

LIFTOFF_DECL std::string to_text(boost::json::object const& o) { return boost::json::serialize(o); }

LIFTOFF_DECL std::string to_text(std::vector<std::string> const& v) {
  boost::json::array a;
  for (auto const& s : v) a.emplace_back(s);
  return boost::json::serialize(a);
}

LIFTOFF_DECL boost::json::object object_from_text(std::string const& text) {
  auto v = boost::json::parse(text);
  if (auto* o = v.if_object()) return std::move(*o);
  throw std::runtime_error("a stored JSON object is not an object: " + text.substr(0, 80));
}

LIFTOFF_DECL std::vector<std::string> strings_from_text(std::string const& text) {
  std::vector<std::string> out;
  auto v = boost::json::parse(text);
  if (auto* a = v.if_array())
    for (auto const& e : *a)
      if (auto* s = e.if_string()) out.emplace_back(*s);
  return out;
}

LIFTOFF_DECL failure_stage stage_from_string(std::string_view s) noexcept {
  for (auto st : {failure_stage::none, failure_stage::agent, failure_stage::source, failure_stage::build,
                  failure_stage::push, failure_stage::run})
    if (to_string(st) == s) return st;
  return failure_stage::none;
}

LIFTOFF_DECL run_state run_state_or_failed(std::string const& s) noexcept {
  return run_state_from_string(s).value_or(run_state::failed);
}

/// Times are kept to the millisecond; records returned by writes are rounded the same way as records read back.
LIFTOFF_DECL time_point round_ms(time_point t) noexcept { return from_millis(to_millis(t)); }

/// Letters, digits, '.', '_' and '-', 1 to `max` characters: safe in a URL path segment.
LIFTOFF_DECL bool is_plain_name(std::string_view s, std::size_t max) noexcept {
  if (s.empty() || s.size() > max) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

/// "v" and digits: a version selector, never an alias.
LIFTOFF_DECL std::optional<int> version_selector(std::string_view s) noexcept {
  if (s.size() < 2 || s.size() > 10 || s[0] != 'v') return std::nullopt;
  int v = 0;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

LIFTOFF_DECL std::string quoted(std::string_view s) { return liftoff::detail::quote_plain(s); }

// ---- rows --------------------------------------------------------------------------

LIFTOFF_DECL queue_record read_queue(sqlite_statement& st) {
  queue_record q;
  q.name = st.text(0);
  q.resource = st.text(1);
  q.config_template = object_from_text(st.text(2));
  q.prioritized = st.int64(3) != 0;
  q.created_at = st.time(4);
  return q;
}

LIFTOFF_DECL std::optional<queue_record> load_queue(sqlite_connection& db, std::string_view name) {
  auto& st = db.query("SELECT name, resource, config_template, prioritized, created_at FROM queues WHERE name = ?1", name);
  if (!st.step()) return std::nullopt;
  return read_queue(st);
}

LIFTOFF_DECL diagnostic no_queue(std::string_view name) {
  return store_failure(store_error::not_found,
                       "no queue called " + quoted(name) + "; list the queues, or create it first");
}

/// The columns `read_item` and `read_run` read, in their order.
#define LIFTOFF_SQLITE_ITEM_COLUMNS \
  "id, queue, priority, seq, run_id, run_spec, state, attempts, agent_id, lease_expires_at, pushed_at"
#define LIFTOFF_SQLITE_RUN_COLUMNS                                                                  \
  "run_id, item_id, queue, state, exit_code, stage, message, warnings, logs_tail, agent_id, "       \
  "stop_requested, created_at, started_at, ended_at"

LIFTOFF_DECL item_record read_item(sqlite_statement& st) {
  item_record i;
  i.id = st.int64(0);
  i.queue = st.text(1);
  i.priority = static_cast<priority>(std::clamp<std::int64_t>(st.int64(2), 0, 3));
  i.seq = st.int64(3);
  i.run_id = st.text(4);
  i.run_spec = object_from_text(st.text(5));
  i.state = item_state_from_string(st.text(6)).value_or(item_state::failed);
  i.attempts = st.integer(7);
  i.agent = st.opt_int64(8);
  i.lease_expires_at = st.opt_time(9);
  i.pushed_at = st.time(10);
  return i;
}

LIFTOFF_DECL std::optional<item_record> load_item(sqlite_connection& db, std::int64_t id) {
  auto& st = db.query(
      "SELECT " LIFTOFF_SQLITE_ITEM_COLUMNS " "
      "FROM items WHERE id = ?1",
      id);
  if (!st.step()) return std::nullopt;
  return read_item(st);
}

LIFTOFF_DECL std::vector<state_change> load_history(sqlite_connection& db, std::string_view run_id) {
  std::vector<state_change> out;
  auto& st = db.query("SELECT state, at, message FROM run_history WHERE run_id = ?1 ORDER BY n", run_id);
  while (st.step()) out.push_back({run_state_or_failed(st.text(0)), st.time(1), st.text(2)});
  return out;
}

LIFTOFF_DECL run_record read_run(sqlite_statement& st) {
  run_record r;
  r.run_id = st.text(0);
  r.item_id = st.int64(1);
  r.queue = st.text(2);
  r.state = run_state_or_failed(st.text(3));
  if (!st.is_null(4)) r.exit_code = st.integer(4);
  r.stage = stage_from_string(st.text(5));
  r.message = st.text(6);
  r.warnings = strings_from_text(st.text(7));
  r.logs_tail = st.text(8);
  r.agent = st.opt_int64(9);
  r.stop_requested = st.int64(10) != 0;
  r.created_at = st.time(11);
  r.started_at = st.opt_time(12);
  r.ended_at = st.opt_time(13);
  return r;
}

LIFTOFF_DECL std::optional<run_record> load_run(sqlite_connection& db, std::string_view run_id) {
  auto& st = db.query(
      "SELECT " LIFTOFF_SQLITE_RUN_COLUMNS " FROM runs WHERE run_id = ?1",
      run_id);
  if (!st.step()) return std::nullopt;
  auto r = read_run(st);
  r.history = load_history(db, r.run_id);
  return r;
}

LIFTOFF_DECL void append_history(sqlite_connection& db, std::string_view run_id, run_state s, time_point at,
                           std::string_view message) {
  db.run(
      "INSERT INTO run_history (run_id, n, state, at, message) "
      "VALUES (?1, (SELECT COALESCE(MAX(n), -1) + 1 FROM run_history WHERE run_id = ?1), ?2, ?3, ?4)",
      run_id, to_string(s), at, message);
}

/// Moves a run to `s` and records it; `ended_at` is set for a terminal state.
LIFTOFF_DECL void set_run_state(sqlite_connection& db, std::string_view run_id, run_state s, time_point at,
                          std::string_view message, failure_stage stage = failure_stage::none) {
  if (is_terminal(s))
    db.run("UPDATE runs SET state = ?2, ended_at = ?3, stage = ?4, message = ?5 WHERE run_id = ?1", run_id,
           to_string(s), at, to_string(stage), message);
  else
    db.run("UPDATE runs SET state = ?2 WHERE run_id = ?1", run_id, to_string(s));
  append_history(db, run_id, s, at, message);
}

LIFTOFF_DECL agent_record read_agent(sqlite_statement& st) {
  agent_record a;
  a.id = st.int64(0);
  a.name = st.text(1);
  a.host = st.text(2);
  a.queues = strings_from_text(st.text(3));
  a.max_jobs = st.integer(4);
  auto stored = st.text(5);
  if (stored == "stopped") a.state = agent_state::stopped;
  else if (stored == "lost") a.state = agent_state::lost;
  else a.state = st.int64(9) > 0 ? agent_state::running : agent_state::polling;
  a.last_heartbeat = st.time(6);
  a.stop_requested = st.int64(7) != 0;
  a.registered_at = st.time(8);
  a.token = st.opt_int64(10);
  return a;
}

#define LIFTOFF_SQLITE_AGENT_COLUMNS                                                                  \
  "id, name, host, queues, max_jobs, state, last_heartbeat, stop_requested, registered_at, "         \
  "(SELECT COUNT(*) FROM items WHERE items.agent_id = agents.id AND items.state IN ('leased', 'acked')), token_id"

LIFTOFF_DECL std::optional<agent_record> load_agent(sqlite_connection& db, std::int64_t id) {
  auto& st = db.query("SELECT " LIFTOFF_SQLITE_AGENT_COLUMNS " FROM agents WHERE id = ?1", id);
  if (!st.step()) return std::nullopt;
  return read_agent(st);
}

LIFTOFF_DECL diagnostic no_agent(std::int64_t id) {
  return store_failure(store_error::not_found,
                       "no agent with id " + std::to_string(id) + "; an agent must register before it leases");
}

#define LIFTOFF_SQLITE_TOKEN_COLUMNS "id, name, hash, created_at, revoked, role"

LIFTOFF_DECL token_record read_token(sqlite_statement& st) {
  // An unknown stored role reads as the least one, member.
  return {st.int64(0), st.text(1), st.text(2), st.time(3), st.int64(4) != 0,
          token_role_from_string(st.text(5)).value_or(token_role::member)};
}

LIFTOFF_DECL std::vector<std::string> load_aliases(sqlite_connection& db, std::string_view job, int version) {
  std::vector<std::string> out;
  auto& st = db.query("SELECT alias FROM job_aliases WHERE job = ?1 AND version = ?2 ORDER BY alias", job, version);
  while (st.step()) out.push_back(st.text(0));
  return out;
}

LIFTOFF_DECL job_version_record read_job_version(sqlite_statement& st) {
  job_version_record v;
  v.job = st.text(0);
  v.version = st.integer(1);
  v.source = object_from_text(st.text(2));
  v.digest = st.text(3);
  v.created_at = st.time(4);
  return v;
}

LIFTOFF_DECL std::optional<job_version_record> load_job_version(sqlite_connection& db, std::string_view job, int version) {
  auto& st = db.query("SELECT job, version, source, digest, created_at FROM job_versions WHERE job = ?1 AND version = ?2",
                      job, version);
  if (!st.step()) return std::nullopt;
  auto v = read_job_version(st);
  v.aliases = load_aliases(db, job, version);
  return v;
}

/// The version `selector` names, or a diagnostic listing what the job has.
LIFTOFF_DECL result<int> resolve_job_version(sqlite_connection& db, std::string_view job, std::string_view selector) {
  if (auto v = version_selector(selector)) {
    auto& st = db.query("SELECT 1 FROM job_versions WHERE job = ?1 AND version = ?2", job, *v);
    if (st.step()) return *v;
  } else {
    auto& st = db.query("SELECT version FROM job_aliases WHERE job = ?1 AND alias = ?2", job, selector);
    if (st.step()) return st.integer(0);
  }
  auto& count = db.query("SELECT COUNT(*) FROM job_versions WHERE job = ?1", job);
  count.step();
  auto n = count.int64(0);
  if (n == 0) return store_failure(store_error::not_found, "no job called " + quoted(job) + "; list the jobs");
  std::string aliases;
  auto& al = db.query("SELECT DISTINCT alias FROM job_aliases WHERE job = ?1 ORDER BY alias", job);
  while (al.step()) aliases += (aliases.empty() ? "" : ", ") + al.text(0);
  return store_failure(store_error::not_found,
                       "job " + quoted(job) + " has no version or alias " + quoted(selector) + "; it has versions v0…v" +
                           std::to_string(n - 1) + " and aliases " + aliases);
}

// ---- the store's state ---------------------------------------------------------------

struct sqlite_store_state {
  std::filesystem::path file;
  sqlite_store_options options;
  std::unique_ptr<sqlite_writer> writer;
  std::mutex readers_mutex;
  std::vector<std::unique_ptr<sqlite_connection>> idle_readers;

  /// Runs `f(connection)` as one write in the next group commit.
  template <class F>
  std::invoke_result_t<F&, sqlite_connection&> write(F f) {
    using value_type = typename std::invoke_result_t<F&, sqlite_connection&>::value_type;
    return writer->submit<value_type>(std::move(f));
  }

  /// Runs `f(connection)` in a read transaction on a connection of its own (a consistent snapshot).
  template <class F>
  std::invoke_result_t<F&, sqlite_connection&> read(F f) {
    std::unique_ptr<sqlite_connection> db;
    try {
      db = acquire();
      db->exec("BEGIN");
      auto r = f(*db);
      db->reset_all();
      db->exec("COMMIT");
      release(std::move(db));
      return r;
    } catch (sqlite_failure const& e) {
      discard(std::move(db));
      return storage_diagnostic("the store could not read", e.what());
    } catch (std::exception const& e) {
      discard(std::move(db));
      return store_failure(store_error::storage_failed, std::string("the store could not read: ") + e.what());
    }
  }

  std::unique_ptr<sqlite_connection> acquire() {
    {
      std::lock_guard lock(readers_mutex);
      if (!idle_readers.empty()) {
        auto db = std::move(idle_readers.back());
        idle_readers.pop_back();
        return db;
      }
    }
    return std::make_unique<sqlite_connection>(file);
  }

  void release(std::unique_ptr<sqlite_connection> db) {
    std::lock_guard lock(readers_mutex);
    if (idle_readers.size() < 8) idle_readers.push_back(std::move(db));
  }

  /// A connection whose read failed is closed rather than reused, unless it is back to a clean state.
  void discard(std::unique_ptr<sqlite_connection> db) noexcept {
    if (!db) return;
    db->reset_all();
    if (db->in_transaction()) {
      try {
        db->exec("ROLLBACK");
      } catch (...) {
        return;
      }
    }
    try {
      release(std::move(db));
    } catch (...) {
    }
  }
};

}  // namespace detail

// ---- opening ---------------------------------------------------------------------------

LIFTOFF_DECL sqlite_store::sqlite_store(std::unique_ptr<detail::sqlite_store_state> state) noexcept
    : state_(std::move(state)) {}
LIFTOFF_DECL sqlite_store::sqlite_store(sqlite_store&&) noexcept = default;
inline sqlite_store& sqlite_store::operator=(sqlite_store&&) noexcept = default;
LIFTOFF_DECL sqlite_store::~sqlite_store() = default;

LIFTOFF_DECL result<sqlite_store> sqlite_store::open(std::filesystem::path const& dir, sqlite_store_options options) {
  if (auto made = detail::make_private_dir(dir); !made) return made.error();
  std::error_code ec;
  auto state = std::make_unique<detail::sqlite_store_state>();
  state->file = dir / "liftoff.db";
  state->options = options;
  auto const& file = state->file;
  // A database that exists must be one: an empty or foreign file is refused, never started over.
  bool fresh = !std::filesystem::exists(file, ec);
  if (!fresh) {
    auto size = std::filesystem::file_size(file, ec);
    if (!ec && size == 0)
      return store_failure(store_error::storage_failed,
                           file.string() + " is empty (0 bytes), so it holds no liftoff data; it may have been "
                                           "truncated. Restore it from a backup, or move it away to start a new, "
                                           "empty server (its queues, runs and tokens would be gone)");
  } else {
    // Made here, readable by its owner only; SQLite gives its -wal and -shm files the same mode.
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) ::close(fd);
  }
  for (auto const* suffix : {"", "-wal", "-shm"}) {
    auto f = file.string() + suffix;
    if (std::filesystem::exists(f, ec))
      std::filesystem::permissions(f, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  }
  try {
    auto db = std::make_unique<detail::sqlite_connection>(state->file);
    if (!fresh) {
      // A quick integrity check before anything writes: a damaged file is refused, not served with 500s.
      auto& check = db->query("PRAGMA quick_check(5)");
      std::string problems;
      while (check.step()) {
        auto line = check.text(0);
        if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
      }
      check.reset();
      if (!problems.empty())
        throw detail::sqlite_failure(file.string() + " is damaged (" + problems +
                                         "); restore it from a backup (or try `sqlite3 " + file.string() +
                                         " .recover`) before starting the server",
                                     SQLITE_CORRUPT);
      auto& ours = db->query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
      bool liftoff_db = ours.step();
      ours.reset();
      if (!liftoff_db)
        throw detail::sqlite_failure(file.string() + " is a SQLite database, but not a liftoff server's (it has no "
                                                     "schema_version table); give the server a data directory of its own",
                                     SQLITE_MISMATCH);
    }
    // WAL: readers never block the writer nor it them; the mode is stored in the file.
    auto& mode = db->query("PRAGMA journal_mode = WAL");
    if (!mode.step() || mode.text(0) != "wal")
      throw detail::sqlite_failure("the database would not switch to WAL mode", SQLITE_ERROR);
    mode.reset();
    detail::migrate(*db, state->file.string());
    state->writer = std::make_unique<detail::sqlite_writer>(std::move(db), options.max_batch);
  } catch (detail::sqlite_failure const& e) {
    return store_failure(store_error::storage_failed, std::string("cannot open the store: ") + e.what());
  }
  return sqlite_store(std::move(state));
}

LIFTOFF_DECL std::filesystem::path const& sqlite_store::file() const noexcept { return state_->file; }

LIFTOFF_DECL commit_stats sqlite_store::stats() const noexcept {
  return {state_->writer->commits(), state_->writer->operations()};
}

// ---- queues ------------------------------------------------------------------------------

LIFTOFF_DECL result<queue_record> sqlite_store::create_queue(queue_record q) {
  if (!detail::is_plain_name(q.name, 64))
    return store_failure(store_error::invalid_request,
                         "queue name " + detail::quoted(q.name) +
                             " is not valid: use 1 to 64 letters, digits, '.', '_' or '-'");
  if (q.resource.empty())
    // The resources a deployment runs are the service layer's to know (`service_options::resources`), which checks
    // first; this is the store's own guard.
    return store_failure(store_error::invalid_request, detail::needs_resource_message(q.name, {}));
  q.created_at = detail::round_ms(q.created_at == time_point{} ? store_clock::now() : q.created_at);
  return state_->write([&](detail::sqlite_connection& db) -> result<queue_record> {
    if (detail::load_queue(db, q.name))
      return store_failure(store_error::already_exists,
                           "queue " + detail::quoted(q.name) + " already exists; choose another name or delete it first");
    db.run("INSERT INTO queues (name, resource, config_template, prioritized, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
           q.name, q.resource, detail::to_text(q.config_template), q.prioritized, q.created_at);
    return q;
  });
}

LIFTOFF_DECL result<queue_record> sqlite_store::get_queue(std::string_view name) {
  return state_->read([&](detail::sqlite_connection& db) -> result<queue_record> {
    if (auto q = detail::load_queue(db, name)) return std::move(*q);
    return detail::no_queue(name);
  });
}

LIFTOFF_DECL result<std::vector<queue_record>> sqlite_store::list_queues() {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<queue_record>> {
    std::vector<queue_record> out;
    auto& st = db.query("SELECT name, resource, config_template, prioritized, created_at FROM queues ORDER BY name");
    while (st.step()) out.push_back(detail::read_queue(st));
    return out;
  });
}

LIFTOFF_DECL result<void> sqlite_store::delete_queue(std::string_view name, bool force) {
  auto now = store_clock::now();
  return state_->write([&](detail::sqlite_connection& db) -> result<void> {
    if (!detail::load_queue(db, name)) return detail::no_queue(name);
    std::vector<std::pair<std::int64_t, std::string>> pending;
    auto& st = db.query("SELECT id, run_id FROM items WHERE queue = ?1 AND state IN ('queued', 'leased')", name);
    while (st.step()) pending.emplace_back(st.int64(0), st.text(1));
    if (!pending.empty() && !force)
      return store_failure(store_error::conflict,
                           "queue " + detail::quoted(name) + " still has " + std::to_string(pending.size()) +
                               " item(s) queued or leased; wait for them, or delete with force to stop them");
    for (auto const& [id, run_id] : pending) {
      db.run("UPDATE items SET state = 'done', lease_expires_at = NULL WHERE id = ?1", id);
      detail::set_run_state(db, run_id, run_state::stopped, now,
                            "queue " + detail::quoted(name) + " was deleted before the run started");
    }
    db.run("DELETE FROM queues WHERE name = ?1", name);
    return {};
  });
}

// ---- items --------------------------------------------------------------------------------

LIFTOFF_DECL result<item_record> sqlite_store::push(std::string_view queue, priority p, boost::json::object run_spec,
                                              std::string run_id, time_point now) {
  if (run_id.empty()) run_id = liftoff::make_run_id();
  if (!detail::is_plain_name(run_id, 128))
    return store_failure(store_error::invalid_request,
                         "run id " + detail::quoted(run_id) +
                             " is not valid: use 1 to 128 letters, digits, '.', '_' or '-', or leave it empty");
  now = detail::round_ms(now);
  auto spec_text = detail::to_text(run_spec);
  return state_->write([&](detail::sqlite_connection& db) -> result<item_record> {
    auto q = detail::load_queue(db, queue);
    if (!q) return detail::no_queue(queue);
    if (db.query("SELECT 1 FROM runs WHERE run_id = ?1", run_id).step())
      return store_failure(store_error::already_exists,
                           "a run with id " + detail::quoted(run_id) + " exists already; push without a run id to get a new one");
    db.run("INSERT INTO items (queue, priority, seq, run_id, run_spec, state, attempts, pushed_at) "
           "VALUES (?1, ?2, 0, ?3, ?4, 'queued', 0, ?5)",
           queue, static_cast<int>(p), run_id, spec_text, now);
    auto id = db.last_insert_id();
    // Push order is the row id, which AUTOINCREMENT never reuses.
    db.run("UPDATE items SET seq = id WHERE id = ?1", id);
    db.run("INSERT INTO runs (run_id, item_id, queue, state, created_at) VALUES (?1, ?2, ?3, 'queued', ?4)", run_id, id,
           queue, now);
    detail::append_history(db, run_id, run_state::queued, now,
                           "pushed to queue " + detail::quoted(queue) + " with priority " + std::string(to_string(p)));
    item_record item;
    item.id = id;
    item.queue = std::string(queue);
    item.priority = p;
    item.seq = id;
    item.run_id = run_id;
    item.run_spec = std::move(run_spec);
    item.pushed_at = now;
    return item;
  });
}

LIFTOFF_DECL result<item_record> sqlite_store::get_item(std::int64_t id) {
  return state_->read([&](detail::sqlite_connection& db) -> result<item_record> {
    if (auto i = detail::load_item(db, id)) return std::move(*i);
    return store_failure(store_error::not_found, "no item with id " + std::to_string(id));
  });
}

LIFTOFF_DECL result<std::map<item_state, std::int64_t>> sqlite_store::count_items(std::string_view queue) {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::map<item_state, std::int64_t>> {
    if (!detail::load_queue(db, queue)) return detail::no_queue(queue);
    std::map<item_state, std::int64_t> out;
    auto& st = db.query("SELECT state, COUNT(*) FROM items WHERE queue = ?1 GROUP BY state", queue);
    while (st.step())
      if (auto s = item_state_from_string(st.text(0))) out[*s] = st.int64(1);
    return out;
  });
}

LIFTOFF_DECL result<std::vector<item_record>> sqlite_store::list_items(std::string_view queue, std::optional<item_state> state) {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<item_record>> {
    auto q = detail::load_queue(db, queue);
    if (!q) return detail::no_queue(queue);
    // The order items would leave in: by state (queued first), then priority when it counts, then push order.
    auto& st = db.query(
        "SELECT " LIFTOFF_SQLITE_ITEM_COLUMNS " "
        "FROM items WHERE queue = ?1 AND (?2 IS NULL OR state = ?2) "
        "ORDER BY CASE state WHEN 'queued' THEN 0 WHEN 'leased' THEN 1 WHEN 'acked' THEN 2 ELSE 3 END, "
        "CASE WHEN ?3 THEN priority ELSE 0 END, seq",
        queue, state ? std::optional<std::string_view>(to_string(*state)) : std::nullopt, q->prioritized);
    std::vector<item_record> out;
    while (st.step()) out.push_back(detail::read_item(st));
    return out;
  });
}

// ---- leases ---------------------------------------------------------------------------------

LIFTOFF_DECL result<std::optional<item_record>> sqlite_store::lease(std::string_view queue, std::int64_t agent,
                                                             std::chrono::milliseconds lease_for, time_point now) {
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<std::optional<item_record>> {
    auto q = detail::load_queue(db, queue);
    if (!q) return detail::no_queue(queue);
    auto a = detail::load_agent(db, agent);
    if (!a) return detail::no_agent(agent);
    if (a->state == agent_state::stopped)
      return store_failure(store_error::conflict,
                           "agent " + std::to_string(agent) + " has stopped; start the agent again to register anew");
    if (std::find(a->queues.begin(), a->queues.end(), queue) == a->queues.end())
      return store_failure(store_error::invalid_request,
                           "agent " + std::to_string(agent) + " did not register for queue " + detail::quoted(queue) +
                               "; register it with that queue");
    db.run("UPDATE agents SET last_heartbeat = ?2, state = 'active' WHERE id = ?1", agent, now);
    if (a->stop_requested) return std::optional<item_record>();
    auto& held = db.query("SELECT COUNT(*) FROM items WHERE agent_id = ?1 AND state IN ('leased', 'acked')", agent);
    held.step();
    if (held.int64(0) >= a->max_jobs) return std::optional<item_record>();
    auto& next = q->prioritized
                     ? db.query("SELECT id, run_id, attempts FROM items WHERE queue = ?1 AND state = 'queued' "
                                "ORDER BY priority, seq LIMIT 1",
                                queue)
                     : db.query("SELECT id, run_id, attempts FROM items WHERE queue = ?1 AND state = 'queued' "
                                "ORDER BY seq LIMIT 1",
                                queue);
    if (!next.step()) return std::optional<item_record>();
    auto id = next.int64(0);
    auto run_id = next.text(1);
    auto attempt = next.integer(2) + 1;
    next.reset();
    db.run("UPDATE items SET state = 'leased', attempts = attempts + 1, agent_id = ?2, lease_expires_at = ?3 "
           "WHERE id = ?1",
           id, agent, now + lease_for);
    db.run("UPDATE runs SET agent_id = ?2 WHERE run_id = ?1", run_id, agent);
    detail::set_run_state(db, run_id, run_state::leased, now,
                          "leased by agent " + std::to_string(agent) + " (" + a->name + " on " + a->host +
                              "), attempt " + std::to_string(attempt));
    return detail::load_item(db, id);
  });
}

LIFTOFF_DECL result<heartbeat_reply> sqlite_store::heartbeat(std::int64_t agent, std::chrono::milliseconds lease_for,
                                                      time_point now) {
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<heartbeat_reply> {
    auto a = detail::load_agent(db, agent);
    if (!a) return detail::no_agent(agent);
    if (a->state == agent_state::stopped)
      return store_failure(store_error::conflict,
                           "agent " + std::to_string(agent) + " has stopped; start the agent again to register anew");
    db.run("UPDATE agents SET last_heartbeat = ?2, state = 'active' WHERE id = ?1", agent, now);
    db.run("UPDATE items SET lease_expires_at = ?2 WHERE agent_id = ?1 AND state IN ('leased', 'acked')", agent,
           now + lease_for);
    heartbeat_reply reply;
    reply.stop_agent = a->stop_requested;
    reply.lease_time = lease_for;
    auto& st = db.query(
        "SELECT runs.run_id FROM runs JOIN items ON items.id = runs.item_id "
        "WHERE items.agent_id = ?1 AND items.state IN ('leased', 'acked') AND runs.stop_requested = 1 "
        "ORDER BY runs.run_id",
        agent);
    while (st.step()) reply.stop_runs.push_back(st.text(0));
    return reply;
  });
}

LIFTOFF_DECL result<std::vector<lease_expiry>> sqlite_store::expire_leases(time_point now, int max_attempts) {
  if (max_attempts < 1)
    return store_failure(store_error::invalid_request,
                         "max_attempts is " + std::to_string(max_attempts) + "; it must be at least 1");
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<std::vector<lease_expiry>> {
    std::vector<lease_expiry> out;
    auto& st = db.query(
        "SELECT id, run_id, queue, agent_id, attempts FROM items "
        "WHERE state IN ('leased', 'acked') AND lease_expires_at < ?1 ORDER BY id",
        now);
    while (st.step()) {
      lease_expiry e;
      e.item_id = st.int64(0);
      e.run_id = st.text(1);
      e.queue = st.text(2);
      e.agent = st.int64(3);
      e.attempts = st.integer(4);
      e.requeued = e.attempts < max_attempts;
      out.push_back(std::move(e));
    }
    st.reset();
    for (auto const& e : out) {
      auto who = "agent " + std::to_string(e.agent) + " stopped heartbeating before its lease ended";
      if (e.requeued) {
        db.run("UPDATE items SET state = 'queued', agent_id = NULL, lease_expires_at = NULL WHERE id = ?1", e.item_id);
        db.run("UPDATE runs SET agent_id = NULL WHERE run_id = ?1", e.run_id);
        detail::set_run_state(db, e.run_id, run_state::queued, now,
                              who + "; back on the queue after attempt " + std::to_string(e.attempts) + " of " +
                                  std::to_string(max_attempts));
      } else {
        db.run("UPDATE items SET state = 'failed', lease_expires_at = NULL WHERE id = ?1", e.item_id);
        detail::set_run_state(db, e.run_id, run_state::failed, now,
                              who + "; gave up after " + std::to_string(e.attempts) +
                                  " attempt(s): check that the queue's agents are healthy (their logs, their "
                                  "heartbeat interval against the lease time), then push the run again",
                              failure_stage::agent);
      }
    }
    return out;
  });
}

LIFTOFF_DECL result<item_record> sqlite_store::ack(std::int64_t item, std::int64_t agent) {
  return state_->write([&](detail::sqlite_connection& db) -> result<item_record> {
    auto i = detail::load_item(db, item);
    if (!i) return store_failure(store_error::not_found, "no item with id " + std::to_string(item));
    auto const held_by_caller = i->agent && *i->agent == agent;
    if (i->state == item_state::acked && held_by_caller) return std::move(*i);
    if (i->state != item_state::leased || !held_by_caller) {
      std::string why;
      if (i->state == item_state::queued)
        why = "its lease expired and it went back to the queue; drop it";
      else if (i->state == item_state::leased || i->state == item_state::acked)
        why = "agent " + std::to_string(*i->agent) + " holds it; drop it";
      else
        why = "it has ended (" + std::string(to_string(i->state)) + "); drop it";
      return store_failure(store_error::not_holder,
                           "agent " + std::to_string(agent) + " cannot ack item " + std::to_string(item) + ": " + why);
    }
    db.run("UPDATE items SET state = 'acked' WHERE id = ?1", item);
    i->state = item_state::acked;
    return std::move(*i);
  });
}

// ---- runs -------------------------------------------------------------------------------------

LIFTOFF_DECL result<run_record> sqlite_store::report(std::string_view run_id, std::int64_t agent, state_update const& u,
                                              time_point now) {
  if (u.state == run_state::queued || u.state == run_state::leased)
    return store_failure(store_error::invalid_request,
                         "an agent reports building, starting, running or a terminal state, not " +
                             std::string(to_string(u.state)));
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<run_record> {
    auto r = detail::load_run(db, run_id);
    if (!r) return store_failure(store_error::not_found, "no run with id " + detail::quoted(run_id));
    if (auto ok = check_state_report(*r, u); !ok) return ok.error();
    auto i = detail::load_item(db, r->item_id);
    if (!i || !i->agent || *i->agent != agent ||
        (i->state != item_state::leased && i->state != item_state::acked))
      return store_failure(store_error::not_holder, "agent " + std::to_string(agent) + " does not hold run " +
                                                        detail::quoted(run_id) + "; stop reporting on it");
    if (u.state == run_state::preempted) {
      // DESIGN.md: a preempted run goes back on its queue with the same run
      // id (and its place in line), a bounded number of times.
      int preemptions = 1;
      for (auto const& h : r->history) preemptions += h.state == run_state::preempted;
      if (preemptions <= state_->options.max_preemptions) {
        detail::append_history(db, run_id, run_state::preempted, now, u.message);
        db.run("UPDATE items SET state = 'queued', agent_id = NULL, lease_expires_at = NULL WHERE id = ?1", i->id);
        db.run("UPDATE runs SET agent_id = NULL, stop_requested = 0 WHERE run_id = ?1", run_id);
        detail::set_run_state(db, run_id, run_state::queued, now,
                              "preempted; back on queue " + detail::quoted(i->queue) + " (preemption " +
                                  std::to_string(preemptions) + " of at most " +
                                  std::to_string(state_->options.max_preemptions) + ")");
        return std::move(*detail::load_run(db, run_id));
      }
    }
    auto const terminal = is_terminal(u.state);
    // A report from the holder is an ack; a terminal one ends the item.
    if (terminal) db.run("UPDATE items SET state = 'done', lease_expires_at = NULL WHERE id = ?1", i->id);
    else db.run("UPDATE items SET state = 'acked' WHERE id = ?1", i->id);
    auto warnings = r->warnings;
    warnings.insert(warnings.end(), u.warnings.begin(), u.warnings.end());
    db.run(
        "UPDATE runs SET state = ?2, exit_code = COALESCE(?3, exit_code), "
        "stage = CASE WHEN ?4 = 'none' THEN stage ELSE ?4 END, "
        "message = CASE WHEN ?5 = '' THEN message ELSE ?5 END, warnings = ?6, "
        "logs_tail = CASE WHEN ?7 = '' THEN logs_tail ELSE ?7 END, "
        "started_at = CASE WHEN ?2 = 'running' THEN COALESCE(started_at, ?8) ELSE started_at END, "
        "ended_at = CASE WHEN ?9 THEN ?8 ELSE ended_at END WHERE run_id = ?1",
        run_id, to_string(u.state), u.exit_code, to_string(u.stage), u.message, detail::to_text(warnings), u.logs_tail,
        now, terminal);
    detail::append_history(db, run_id, u.state, now, u.message);
    return std::move(*detail::load_run(db, run_id));
  });
}

LIFTOFF_DECL result<run_record> sqlite_store::get_run(std::string_view run_id) {
  return state_->read([&](detail::sqlite_connection& db) -> result<run_record> {
    if (auto r = detail::load_run(db, run_id)) return std::move(*r);
    return store_failure(store_error::not_found, "no run with id " + detail::quoted(run_id));
  });
}

LIFTOFF_DECL result<std::vector<run_record>> sqlite_store::list_runs(run_filter const& filter) {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<run_record>> {
    std::vector<run_record> out;
    auto& st = db.query(
        "SELECT " LIFTOFF_SQLITE_RUN_COLUMNS " FROM runs "
        "WHERE (?1 IS NULL OR queue = ?1) AND (?2 IS NULL OR state = ?2) AND (?4 IS NULL OR agent_id = ?4) "
        "AND (?5 = 0 OR state NOT IN ('finished', 'failed', 'stopped', 'crashed', 'preempted')) "
        "ORDER BY created_at DESC, item_id DESC LIMIT ?3",
        filter.queue,
        filter.state ? std::optional<std::string_view>(to_string(*filter.state)) : std::nullopt,
        static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, INT64_MAX)), filter.agent,
        static_cast<std::int64_t>(filter.active_only ? 1 : 0));
    while (st.step()) out.push_back(detail::read_run(st));
    st.reset();
    for (auto& r : out) r.history = detail::load_history(db, r.run_id);
    return out;
  });
}

LIFTOFF_DECL result<run_record> sqlite_store::request_stop_run(std::string_view run_id, time_point now) {
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<run_record> {
    auto r = detail::load_run(db, run_id);
    if (!r) return store_failure(store_error::not_found, "no run with id " + detail::quoted(run_id));
    if (is_terminal(r->state))
      return store_failure(store_error::conflict, "run " + detail::quoted(run_id) + " already ended as " +
                                                      std::string(to_string(r->state)) + "; there is nothing to stop");
    auto i = detail::load_item(db, r->item_id);
    if (i && i->state == item_state::queued) {
      db.run("UPDATE items SET state = 'done' WHERE id = ?1", i->id);
      db.run("UPDATE runs SET stop_requested = 1 WHERE run_id = ?1", run_id);
      detail::set_run_state(db, run_id, run_state::stopped, now, "stopped by a user before an agent took it");
    } else {
      db.run("UPDATE runs SET stop_requested = 1 WHERE run_id = ?1", run_id);
    }
    return std::move(*detail::load_run(db, run_id));
  });
}

// ---- agents -------------------------------------------------------------------------------------

LIFTOFF_DECL result<agent_record> sqlite_store::register_agent(agent_registration const& r, time_point now) {
  if (r.name.empty()) return store_failure(store_error::invalid_request, "an agent needs a name");
  if (r.max_jobs < 1)
    return store_failure(store_error::invalid_request,
                         "max_jobs is " + std::to_string(r.max_jobs) + "; an agent runs at least 1 job");
  if (r.queues.empty()) return store_failure(store_error::invalid_request, "an agent needs at least one queue");
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<agent_record> {
    for (auto const& q : r.queues)
      if (!detail::load_queue(db, q)) return detail::no_queue(q);
    if (r.resume) {
      auto old = detail::load_agent(db, *r.resume);
      if (old && old->name == r.name && old->state != agent_state::stopped) {
        // Only the token an agent is bound to may take it over; an unbound (older) agent is bound now.
        if (old->token && r.token && *old->token != *r.token)
          return store_failure(store_error::not_holder,
                               "agent " + std::to_string(old->id) +
                                   " was registered with another token, and only that token may resume it; "
                                   "register a new agent instead (remove the agent's state file)");
        db.run("UPDATE agents SET host = ?2, queues = ?3, max_jobs = ?4, state = 'active', last_heartbeat = ?5, "
               "stop_requested = 0, token_id = COALESCE(token_id, ?6) WHERE id = ?1",
               old->id, r.host, detail::to_text(r.queues), r.max_jobs, now, r.token);
        return std::move(*detail::load_agent(db, old->id));
      }
    }
    db.run("INSERT INTO agents (name, host, queues, max_jobs, state, last_heartbeat, registered_at, token_id) "
           "VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?5, ?6)",
           r.name, r.host, detail::to_text(r.queues), r.max_jobs, now, r.token);
    return std::move(*detail::load_agent(db, db.last_insert_id()));
  });
}

LIFTOFF_DECL result<agent_record> sqlite_store::get_agent(std::int64_t id) {
  return state_->read([&](detail::sqlite_connection& db) -> result<agent_record> {
    if (auto a = detail::load_agent(db, id)) return std::move(*a);
    return detail::no_agent(id);
  });
}

LIFTOFF_DECL result<std::vector<agent_record>> sqlite_store::list_agents() {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<agent_record>> {
    std::vector<agent_record> out;
    auto& st = db.query("SELECT " LIFTOFF_SQLITE_AGENT_COLUMNS " FROM agents ORDER BY id");
    while (st.step()) out.push_back(detail::read_agent(st));
    return out;
  });
}

LIFTOFF_DECL result<agent_record> sqlite_store::request_stop_agent(std::int64_t id) {
  return state_->write([&](detail::sqlite_connection& db) -> result<agent_record> {
    if (db.run("UPDATE agents SET stop_requested = 1 WHERE id = ?1", id) == 0) return detail::no_agent(id);
    return std::move(*detail::load_agent(db, id));
  });
}

LIFTOFF_DECL result<agent_record> sqlite_store::agent_stopped(std::int64_t id) {
  return state_->write([&](detail::sqlite_connection& db) -> result<agent_record> {
    if (db.run("UPDATE agents SET state = 'stopped' WHERE id = ?1", id) == 0) return detail::no_agent(id);
    return std::move(*detail::load_agent(db, id));
  });
}

LIFTOFF_DECL result<std::vector<agent_record>> sqlite_store::mark_lost_agents(time_point now,
                                                                       std::chrono::milliseconds silent_for) {
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<std::vector<agent_record>> {
    std::vector<std::int64_t> ids;
    auto& st = db.query("SELECT id FROM agents WHERE state = 'active' AND last_heartbeat < ?1 ORDER BY id", now - silent_for);
    while (st.step()) ids.push_back(st.int64(0));
    st.reset();
    std::vector<agent_record> out;
    for (auto id : ids) {
      db.run("UPDATE agents SET state = 'lost' WHERE id = ?1", id);
      out.push_back(std::move(*detail::load_agent(db, id)));
    }
    return out;
  });
}

// ---- tokens ---------------------------------------------------------------------------------------

LIFTOFF_DECL result<token_record> sqlite_store::add_token(std::string_view name, std::string_view hash, token_role role,
                                                         time_point now) {
  if (name.empty()) return store_failure(store_error::invalid_request, "a token needs a name");
  if (!liftoff::detail::is_sha256_hex(hash))
    return store_failure(store_error::invalid_request,
                         "a token is stored as its SHA-256 (64 lowercase hex digits); pass hash_token(token), "
                         "never the token itself");
  now = detail::round_ms(now);
  return state_->write([&](detail::sqlite_connection& db) -> result<token_record> {
    if (db.query("SELECT 1 FROM tokens WHERE hash = ?1", hash).step())
      return store_failure(store_error::already_exists, "this token is already stored; make a new one");
    db.run("INSERT INTO tokens (name, hash, created_at, role) VALUES (?1, ?2, ?3, ?4)", name, hash, now,
           to_string(role));
    return token_record{db.last_insert_id(), std::string(name), std::string(hash), now, false, role};
  });
}

LIFTOFF_DECL result<std::optional<token_record>> sqlite_store::find_token(std::string_view hash) {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::optional<token_record>> {
    auto& st = db.query("SELECT " LIFTOFF_SQLITE_TOKEN_COLUMNS " FROM tokens WHERE hash = ?1 AND revoked = 0", hash);
    if (!st.step()) return std::optional<token_record>();
    return std::optional<token_record>(detail::read_token(st));
  });
}

LIFTOFF_DECL result<token_record> sqlite_store::revoke_token(std::int64_t id) {
  return state_->write([&](detail::sqlite_connection& db) -> result<token_record> {
    auto& st = db.query("SELECT " LIFTOFF_SQLITE_TOKEN_COLUMNS " FROM tokens WHERE id = ?1", id);
    if (!st.step()) return store_failure(store_error::not_found, "no token with id " + std::to_string(id));
    auto t = detail::read_token(st);
    st.reset();
    if (t.revoked) return t;
    if (t.role == token_role::admin) {
      auto& admins = db.query("SELECT COUNT(*) FROM tokens WHERE role = 'admin' AND revoked = 0");
      admins.step();
      auto n = admins.int64(0);
      admins.reset();
      if (n <= 1)
        return store_failure(store_error::conflict,
                             "token " + std::to_string(id) + " (" + detail::quoted(t.name) +
                                 ") is the last active admin token: revoking it would leave nobody able to manage "
                                 "the server; make another admin token first (`liftoff token create NAME --role "
                                 "admin`), then revoke this one");
    }
    db.run("UPDATE tokens SET revoked = 1 WHERE id = ?1", id);
    t.revoked = true;
    return t;
  });
}

LIFTOFF_DECL result<std::vector<token_record>> sqlite_store::list_tokens() {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<token_record>> {
    std::vector<token_record> out;
    auto& st = db.query("SELECT " LIFTOFF_SQLITE_TOKEN_COLUMNS " FROM tokens ORDER BY id");
    while (st.step()) out.push_back(detail::read_token(st));
    return out;
  });
}

// ---- jobs ------------------------------------------------------------------------------------------

LIFTOFF_DECL result<job_version_record> sqlite_store::add_job_version(std::string_view job, boost::json::object source,
                                                                std::string_view digest, time_point now) {
  if (job.empty() || job.size() > 128)
    return store_failure(store_error::invalid_request, "a job name has 1 to 128 characters");
  if (digest.empty())
    return store_failure(store_error::invalid_request,
                         "job " + detail::quoted(job) + " needs the digest of its source to be versioned");
  now = detail::round_ms(now);
  auto source_text = detail::to_text(source);
  return state_->write([&](detail::sqlite_connection& db) -> result<job_version_record> {
    int version = 0;
    auto& same = db.query("SELECT version FROM job_versions WHERE job = ?1 AND digest = ?2 ORDER BY version LIMIT 1",
                          job, digest);
    if (same.step()) {
      version = same.integer(0);
      same.reset();
    } else {
      same.reset();
      auto& next = db.query("SELECT COALESCE(MAX(version) + 1, 0) FROM job_versions WHERE job = ?1", job);
      next.step();
      version = next.integer(0);
      next.reset();
      db.run("INSERT INTO job_versions (job, version, source, digest, created_at) VALUES (?1, ?2, ?3, ?4, ?5)", job,
             version, source_text, digest, now);
    }
    db.run("INSERT INTO job_aliases (job, alias, version) VALUES (?1, 'latest', ?2) "
           "ON CONFLICT (job, alias) DO UPDATE SET version = excluded.version",
           job, version);
    return std::move(*detail::load_job_version(db, job, version));
  });
}

LIFTOFF_DECL result<job_version_record> sqlite_store::set_job_alias(std::string_view job, std::string_view alias,
                                                              std::string_view selector) {
  if (alias == "latest")
    return store_failure(store_error::invalid_request,
                         "`latest` moves by itself to the newest version; choose another alias");
  if (detail::version_selector(alias) || !detail::is_plain_name(alias, 64))
    return store_failure(store_error::invalid_request,
                         "alias " + detail::quoted(alias) +
                             " is not valid: use 1 to 64 letters, digits, '.', '_' or '-', not shaped like a version (v3)");
  return state_->write([&](detail::sqlite_connection& db) -> result<job_version_record> {
    auto v = detail::resolve_job_version(db, job, selector);
    if (!v) return v.error();
    db.run("INSERT INTO job_aliases (job, alias, version) VALUES (?1, ?2, ?3) "
           "ON CONFLICT (job, alias) DO UPDATE SET version = excluded.version",
           job, alias, *v);
    return std::move(*detail::load_job_version(db, job, *v));
  });
}

LIFTOFF_DECL result<job_version_record> sqlite_store::get_job_version(std::string_view job, std::string_view selector) {
  return state_->read([&](detail::sqlite_connection& db) -> result<job_version_record> {
    auto v = detail::resolve_job_version(db, job, selector);
    if (!v) return v.error();
    return std::move(*detail::load_job_version(db, job, *v));
  });
}

LIFTOFF_DECL result<std::vector<job_version_record>> sqlite_store::list_job_versions(std::string_view job) {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<job_version_record>> {
    std::vector<job_version_record> out;
    auto& st = db.query("SELECT job, version, source, digest, created_at FROM job_versions WHERE job = ?1 ORDER BY version",
                        job);
    while (st.step()) out.push_back(detail::read_job_version(st));
    st.reset();
    if (out.empty()) return store_failure(store_error::not_found, "no job called " + detail::quoted(job) + "; list the jobs");
    for (auto& v : out) v.aliases = detail::load_aliases(db, v.job, v.version);
    return out;
  });
}

LIFTOFF_DECL result<std::vector<job_version_record>> sqlite_store::list_jobs() {
  return state_->read([&](detail::sqlite_connection& db) -> result<std::vector<job_version_record>> {
    std::vector<job_version_record> out;
    auto& st = db.query(
        "SELECT v.job, v.version, v.source, v.digest, v.created_at FROM job_versions v "
        "JOIN job_aliases a ON a.job = v.job AND a.version = v.version AND a.alias = 'latest' ORDER BY v.job");
    while (st.step()) out.push_back(detail::read_job_version(st));
    st.reset();
    for (auto& v : out) v.aliases = detail::load_aliases(db, v.job, v.version);
    return out;
  });
}

#undef LIFTOFF_SQLITE_AGENT_COLUMNS
#undef LIFTOFF_SQLITE_ITEM_COLUMNS
#undef LIFTOFF_SQLITE_RUN_COLUMNS

static_assert(store<sqlite_store>, "sqlite_store must model liftoff::server::store");

}  // namespace liftoff::server

#endif
