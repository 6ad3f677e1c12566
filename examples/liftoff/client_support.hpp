#ifndef LIFTOFF_EXAMPLES_CLIENT_SUPPORT_HPP
#define LIFTOFF_EXAMPLES_CLIENT_SUPPORT_HPP

// What the commands that talk to the queue server share: the connection,
// tables, and following a run to its end.

#include "commands.hpp"
#include "terminal.hpp"

#include <liftoff/client/client.hpp>

#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <utility>
#include <iostream>
#include <string>
#include <vector>

namespace liftoff::cli {

/// A client of the server named by the saved credentials (or LIFTOFF_SERVER / LIFTOFF_API_TOKEN).
inline result<client::api_client> connect_to_server() {
  auto creds = client::load_credentials();
  if (!creds) return creds.error();
  return client::api_client::create(*creds);
}

/// A table printed with its columns aligned, headers in capitals.
class text_table {
public:
  explicit text_table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const noexcept { return rows_.empty(); }

  void print(std::ostream& os) const {
    std::vector<std::size_t> width(headers_.size());
    for (std::size_t i = 0; i < headers_.size(); ++i) width[i] = headers_[i].size();
    for (auto const& r : rows_)
      for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    auto line = [&](std::vector<std::string> const& r) {
      std::string out;
      for (std::size_t i = 0; i < width.size(); ++i) {
        std::string const cell = i < r.size() ? r[i] : "";
        out += cell;
        if (i + 1 < width.size()) out += std::string(width[i] - cell.size() + 2, ' ');
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      os << out << '\n';
    };
    line(headers_);
    for (auto const& r : rows_) line(r);
    os.flush();
  }

private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// "2026-11-28 16:46:03" (UTC), or "-" for an unset time.
inline std::string short_time(std::optional<server::time_point> t) {
  if (!t || *t == server::time_point{}) return "-";
  auto s = server::format_time(*t);  // 2026-11-28T16:46:03.123Z
  return s.substr(0, 10) + " " + s.substr(11, 8);
}

/// Prints a JSON value on one line of stdout.
inline void print_json(boost::json::value const& v) { std::cout << boost::json::serialize(v) << std::endl; }

/// The exit code for a run that ended: 0 finished; the run's own exit code when it has one; 1 otherwise.
inline int exit_code_for(server::run_record const& r) {
  if (r.state == run_state::finished) return exit_ok;
  if (r.exit_code && *r.exit_code > 0 && *r.exit_code < 256) return *r.exit_code;
  return exit_failed;
}

/** Prints a run's logs from `offset` as they arrive until it ends; with
    `states`, notes every state change too. Returns the run's final record. */
inline result<server::run_record> follow_run(client::api_client& api, terminal& term, std::string const& run_id,
                                             bool states, std::uint64_t offset = 0) {
  std::optional<run_state> last;
  for (;;) {
    auto chunk = api.logs(run_id, offset, std::chrono::seconds(30));
    if (!chunk) return chunk.error();
    if (!chunk->text.empty()) {
      std::cout << chunk->text;
      std::cout.flush();
    }
    if (states && chunk->state != last && !is_terminal(chunk->state))
      term.note("run " + run_id + " " + std::string(to_string(chunk->state)));
    last = chunk->state;
    bool const progressed = chunk->next_offset != offset;
    offset = chunk->next_offset;
    if (is_terminal(chunk->state) && !progressed) break;
  }
  return api.get_run(run_id);
}

/// A packed code directory in a temporary file, removed with this object.
class packed_code {
public:
  packed_code() = default;
  packed_code(packed_code const&) = delete;
  packed_code& operator=(packed_code const&) = delete;
  packed_code(packed_code&& o) noexcept : file_(std::exchange(o.file_, {})), digest_(std::move(o.digest_)) {}
  ~packed_code() {
    std::error_code ec;
    if (!file_.empty()) std::filesystem::remove(file_, ec);
  }

  /// Packs `dir` (see `client::pack_code_artifact`).
  static result<packed_code> pack(std::filesystem::path const& dir) {
    packed_code p;
    std::error_code ec;
    auto tmp = std::filesystem::temp_directory_path(ec);
    if (ec) tmp = "/tmp";
    p.file_ = tmp / ("liftoff-code-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".tar.gz");
    auto digest = client::pack_code_artifact(dir, p.file_);
    if (!digest) return digest.error();
    p.digest_ = std::move(*digest);
    return p;
  }

  std::filesystem::path const& file() const noexcept { return file_; }
  std::string const& digest() const noexcept { return digest_; }

private:
  std::filesystem::path file_;
  std::string digest_;
};

/// Packs `dir` and uploads it unless the server holds it already; returns its digest.
inline result<std::string> upload_code_dir(client::api_client& api, terminal& term, std::filesystem::path const& dir) {
  auto packed = packed_code::pack(dir);
  if (!packed) return packed.error();
  auto sent = api.upload_artifact(packed->digest(), packed->file());
  if (!sent) return sent.error();
  if (!*sent) {
    term.note("code " + dir.string() + " is already on the server as " + packed->digest());
    return packed->digest();
  }
  std::error_code ec;
  auto size = std::filesystem::file_size(packed->file(), ec);
  term.note("uploaded " + dir.string() + " as " + packed->digest() + " (" + std::to_string(size) + " bytes)");
  return packed->digest();
}

/// Notes how a run ended, as `liftoff launch` does for a local run.
inline void note_finished(terminal& term, server::run_record const& r) {
  term.finished(r.run_id, run_status(r.state, r.exit_code, r.stage, r.message));
}

}  // namespace liftoff::cli

#endif
