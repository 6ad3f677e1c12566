#ifndef LIFTOFF_SERVER_DETAIL_SQLITE_HPP
#define LIFTOFF_SERVER_DETAIL_SQLITE_HPP

/** A thin RAII layer over the SQLite C API: a connection with a cache of
    prepared statements, and statements that bind and read typed values.
    SQLite failures throw `sqlite_failure`; the store turns it into a
    diagnostic at the edge of every operation, so none escapes the store. */

#include <liftoff/server/store.hpp>

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace liftoff::server::detail {

/// A SQLite call failed; `what()` names the call and SQLite's message.
class sqlite_failure : public std::runtime_error {
public:
  sqlite_failure(std::string what, int code) : std::runtime_error(std::move(what)), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

inline std::int64_t to_millis(time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

inline time_point from_millis(std::int64_t ms) noexcept {
  return time_point(std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds(ms)));
}

/// One prepared statement. Bind with `bind` (1-based), `step`, read columns (0-based).
class sqlite_statement {
public:
  sqlite_statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_,
                                    nullptr);
        rc != SQLITE_OK)
      throw sqlite_failure("preparing `" + std::string(sql) + "`: " + sqlite3_errmsg(db), rc);
  }
  ~sqlite_statement() { sqlite3_finalize(stmt_); }
  sqlite_statement(sqlite_statement const&) = delete;
  sqlite_statement& operator=(sqlite_statement const&) = delete;

  void reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  void bind(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, int v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, bool v) { check(sqlite3_bind_int64(stmt_, i, v ? 1 : 0)); }
  void bind(int i, std::string_view v) {
    check(sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind(int i, std::string const& v) { bind(i, std::string_view(v)); }
  void bind(int i, char const* v) { bind(i, std::string_view(v)); }
  void bind(int i, time_point t) { bind(i, to_millis(t)); }
  void bind(int i, std::nullopt_t) { check(sqlite3_bind_null(stmt_, i)); }
  template <class T>
  void bind(int i, std::optional<T> const& v) {
    if (v) bind(i, *v);
    else bind(i, std::nullopt);
  }

  /// True when a row is ready; false when the statement is done.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw sqlite_failure(std::string("running `") + sqlite3_sql(stmt_) + "`: " + sqlite3_errmsg(db_), rc);
  }

  /// Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }

  bool is_null(int col) const noexcept { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t int64(int col) const noexcept { return sqlite3_column_int64(stmt_, col); }
  int integer(int col) const noexcept { return sqlite3_column_int(stmt_, col); }
  std::string text(int col) const {
    auto const* p = reinterpret_cast<char const*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  time_point time(int col) const noexcept { return from_millis(int64(col)); }
  std::optional<std::int64_t> opt_int64(int col) const noexcept {
    if (is_null(col)) return std::nullopt;
    return int64(col);
  }
  std::optional<time_point> opt_time(int col) const noexcept {
    if (is_null(col)) return std::nullopt;
    return time(col);
  }

private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw sqlite_failure(std::string("binding a parameter: ") + sqlite3_errmsg(db_), rc);
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/** A connection to the store's database file, with every statement it ran
    kept prepared (keyed by its text, which is always a literal). */
class sqlite_connection {
public:
  explicit sqlite_connection(std::filesystem::path const& file) {
    int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw sqlite_failure("opening " + file.string() + ": " + msg, rc);
    }
    sqlite3_extended_result_codes(db_, 1);
    // Another process on the same file (a second server, the CLI) waits for the write lock instead of failing.
    sqlite3_busy_timeout(db_, 10'000);
    exec("PRAGMA foreign_keys = ON");
    // Every commit reaches the disk before it returns (DESIGN.md: a 2xx means fsync).
    exec("PRAGMA synchronous = FULL");
  }
  ~sqlite_connection() {
    statements_.clear();
    sqlite3_close(db_);
  }
  sqlite_connection(sqlite_connection const&) = delete;
  sqlite_connection& operator=(sqlite_connection const&) = delete;

  sqlite3* handle() const noexcept { return db_; }

  /// Runs SQL text with no parameters (pragmas, transactions, schema).
  void exec(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw sqlite_failure("running `" + text + "`: " + msg, rc);
    }
  }

  /// The prepared statement for `sql`, reset, with `args` bound to ?1, ?2, ….
  template <class... Args>
  sqlite_statement& query(std::string_view sql, Args const&... args) {
    auto it = statements_.find(sql);
    if (it == statements_.end())
      it = statements_.emplace(std::string(sql), std::make_unique<sqlite_statement>(db_, sql)).first;
    auto& st = *it->second;
    st.reset();
    int i = 0;
    (st.bind(++i, args), ...);
    return st;
  }

  /// Runs a statement that returns no rows; the number of rows it changed.
  template <class... Args>
  int run(std::string_view sql, Args const&... args) {
    query(sql, args...).run();
    return sqlite3_changes(db_);
  }

  /// Resets every cached statement, so none holds a read position past the end of an operation.
  void reset_all() noexcept {
    for (auto& [sql, st] : statements_) st->reset();
  }

  std::int64_t last_insert_id() const noexcept { return sqlite3_last_insert_rowid(db_); }

  bool in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

private:
  sqlite3* db_ = nullptr;
  std::map<std::string, std::unique_ptr<sqlite_statement>, std::less<>> statements_;
};

}  // namespace liftoff::server::detail

#endif
