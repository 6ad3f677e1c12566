#ifndef LIFTOFF_SERVER_DETAIL_SQLITE_SCHEMA_HPP
#define LIFTOFF_SERVER_DETAIL_SQLITE_SCHEMA_HPP

/** The SQLite store's schema, as numbered migrations. `schema_version` holds
    how many have been applied; opening a database applies the rest, each in
    its own transaction. A migration, once released, is never edited: a
    change is a new migration appended to the list. */

#include <liftoff/server/detail/sqlite.hpp>

#include <array>
#include <string>
#include <string_view>

namespace liftoff::server::detail {

/// Times are milliseconds since the Unix epoch; JSON is stored as text.
inline constexpr std::array<std::string_view, 2> sqlite_migrations = {
    // 1: the first schema.
    R"sql(
CREATE TABLE queues (
  name            TEXT PRIMARY KEY,
  resource        TEXT NOT NULL,
  config_template TEXT NOT NULL,
  prioritized     INTEGER NOT NULL,
  created_at      INTEGER NOT NULL
);
CREATE TABLE items (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  queue            TEXT NOT NULL,
  priority         INTEGER NOT NULL,
  seq              INTEGER NOT NULL,
  run_id           TEXT NOT NULL UNIQUE,
  run_spec         TEXT NOT NULL,
  state            TEXT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  agent_id         INTEGER,
  lease_expires_at INTEGER,
  pushed_at        INTEGER NOT NULL
);
CREATE INDEX items_by_priority ON items (queue, state, priority, seq);
CREATE INDEX items_by_seq ON items (queue, state, seq);
CREATE INDEX items_by_agent ON items (agent_id, state);
CREATE INDEX items_by_lease ON items (state, lease_expires_at);
CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY,
  item_id        INTEGER NOT NULL,
  queue          TEXT NOT NULL,
  state          TEXT NOT NULL,
  exit_code      INTEGER,
  stage          TEXT NOT NULL DEFAULT 'none',
  message        TEXT NOT NULL DEFAULT '',
  warnings       TEXT NOT NULL DEFAULT '[]',
  logs_tail      TEXT NOT NULL DEFAULT '',
  agent_id       INTEGER,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  started_at     INTEGER,
  ended_at       INTEGER
);
CREATE INDEX runs_by_queue ON runs (queue, created_at);
CREATE INDEX runs_by_state ON runs (state, created_at);
CREATE TABLE run_history (
  run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  n       INTEGER NOT NULL,
  state   TEXT NOT NULL,
  at      INTEGER NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, n)
);
CREATE TABLE agents (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  name           TEXT NOT NULL,
  host           TEXT NOT NULL,
  queues         TEXT NOT NULL,
  max_jobs       INTEGER NOT NULL,
  state          TEXT NOT NULL,
  last_heartbeat INTEGER NOT NULL,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  registered_at  INTEGER NOT NULL
);
CREATE TABLE tokens (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL,
  hash       TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE job_versions (
  job        TEXT NOT NULL,
  version    INTEGER NOT NULL,
  source     TEXT NOT NULL,
  digest     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job, version)
);
CREATE INDEX job_versions_by_digest ON job_versions (job, digest);
CREATE TABLE job_aliases (
  job     TEXT NOT NULL,
  alias   TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (job, alias),
  FOREIGN KEY (job, version) REFERENCES job_versions (job, version)
);
)sql",
    // 2: token roles (tokens made before roles were admins) and the token each agent is bound to.
    R"sql(
ALTER TABLE tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE agents ADD COLUMN token_id INTEGER;
)sql",
};

/** Brings the database to the newest schema. Fails (throws `sqlite_failure`)
    on a database written by a newer liftoff. */
inline void migrate(sqlite_connection& db, std::string const& file) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  db.exec("BEGIN IMMEDIATE");
  try {
    auto& st = db.query("SELECT version FROM schema_version");
    std::int64_t version = 0;
    bool has_row = st.step();
    if (has_row) version = st.int64(0);
    st.reset();
    if (version > static_cast<std::int64_t>(sqlite_migrations.size()))
      throw sqlite_failure(file + " has schema version " + std::to_string(version) + ", but this liftoff knows only up to " +
                               std::to_string(sqlite_migrations.size()) + "; run a newer liftoff server",
                           SQLITE_MISMATCH);
    if (!has_row) db.run("INSERT INTO schema_version (version) VALUES (0)");
    for (auto v = version; v < static_cast<std::int64_t>(sqlite_migrations.size()); ++v) {
      db.exec(sqlite_migrations[static_cast<std::size_t>(v)]);
      db.run("UPDATE schema_version SET version = ?1", v + 1);
    }
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

}  // namespace liftoff::server::detail

#endif
