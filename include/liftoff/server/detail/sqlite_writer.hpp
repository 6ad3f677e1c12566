#ifndef LIFTOFF_SERVER_DETAIL_SQLITE_WRITER_HPP
#define LIFTOFF_SERVER_DETAIL_SQLITE_WRITER_HPP

/** Group commit: one thread owns the write connection. Callers enqueue an
    operation and block; the thread takes everything queued, runs it in one
    `BEGIN IMMEDIATE … COMMIT` with each operation inside its own SAVEPOINT
    (a failing operation rolls back alone), and wakes the callers only after
    the COMMIT (and so its fsync) returned. Many callers share one fsync. */

#include <liftoff/server/detail/sqlite.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace liftoff::server::detail {

/// A queued write: runs inside the writer's transaction; its caller waits on `wait()`.
class write_op {
public:
  virtual ~write_op() = default;
  /// Runs the operation; false when it failed (its savepoint is then rolled back).
  virtual bool run(sqlite_connection& db) noexcept = 0;
  /// Replaces the outcome with a failure (the transaction holding it did not commit).
  virtual void fail(diagnostic d) noexcept = 0;

  void finish() noexcept {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_one();
  }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return done_; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
};

inline diagnostic storage_diagnostic(std::string_view what, std::string_view detail) {
  return store_failure(store_error::storage_failed,
                       std::string(what) + ": " + std::string(detail) +
                           " (check that the data directory's disk is writable and not full)");
}

/// `F` is `result<T>(sqlite_connection&)`.
template <class T, class F>
class typed_write_op final : public write_op {
public:
  explicit typed_write_op(F f) : f_(std::move(f)) {}

  bool run(sqlite_connection& db) noexcept override {
    try {
      out_.emplace(f_(db));
    } catch (sqlite_failure const& e) {
      out_.emplace(storage_diagnostic("the store could not write", e.what()));
    } catch (std::exception const& e) {
      out_.emplace(store_failure(store_error::storage_failed, std::string("the store could not write: ") + e.what()));
    }
    return out_->has_value();
  }
  void fail(diagnostic d) noexcept override { out_.emplace(std::move(d)); }
  result<T> take() { return std::move(*out_); }

private:
  F f_;
  std::optional<result<T>> out_;
};

/// The writer thread and its queue.
class sqlite_writer {
public:
  explicit sqlite_writer(std::unique_ptr<sqlite_connection> db, std::size_t max_batch)
      : db_(std::move(db)), max_batch_(max_batch ? max_batch : 1), thread_([this] { loop(); }) {}

  ~sqlite_writer() {
    {
      std::lock_guard lock(m_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  sqlite_writer(sqlite_writer const&) = delete;
  sqlite_writer& operator=(sqlite_writer const&) = delete;

  /// Runs `f` in the next group commit and returns its outcome once that commit is durable.
  template <class T, class F>
  result<T> submit(F f) {
    auto op = std::make_shared<typed_write_op<T, F>>(std::move(f));
    {
      std::lock_guard lock(m_);
      queue_.push_back(op);
    }
    cv_.notify_one();
    op->wait();
    return op->take();
  }

  std::uint64_t commits() const noexcept { return commits_.load(); }
  std::uint64_t operations() const noexcept { return operations_.load(); }

private:
  void loop() {
    for (;;) {
      std::vector<std::shared_ptr<write_op>> batch;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and every caller was answered
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      commit(batch);
      for (auto& op : batch) op->finish();
    }
  }

  void commit(std::vector<std::shared_ptr<write_op>>& batch) noexcept {
    try {
      db_->exec("BEGIN IMMEDIATE");
    } catch (sqlite_failure const& e) {
      for (auto& op : batch) op->fail(storage_diagnostic("the store could not start a transaction", e.what()));
      return;
    }
    std::vector<bool> ok(batch.size(), false);
    std::size_t ran = 0;
    try {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        db_->exec("SAVEPOINT op");
        ok[i] = batch[i]->run(*db_);
        ran = i + 1;
        db_->reset_all();
        if (!ok[i]) db_->exec("ROLLBACK TO op");
        db_->exec("RELEASE op");
      }
      db_->exec("COMMIT");
    } catch (sqlite_failure const& e) {
      if (db_->in_transaction()) {
        try {
          db_->exec("ROLLBACK");
        } catch (sqlite_failure const&) {
        }
      }
      // Nothing of this batch is on disk: the operations that had succeeded (or never ran) must not say so.
      for (std::size_t i = 0; i < batch.size(); ++i)
        if (ok[i] || i >= ran) batch[i]->fail(storage_diagnostic("the store could not commit", e.what()));
      operations_ += batch.size();
      return;
    }
    commits_ += 1;
    operations_ += batch.size();
  }

  std::unique_ptr<sqlite_connection> db_;
  std::size_t max_batch_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<write_op>> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> operations_{0};
  std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace liftoff::server::detail

#endif
