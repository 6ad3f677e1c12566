#ifndef LIFTOFF_DOCKER_DETAIL_JSON_MESSAGE_HPP
#define LIFTOFF_DOCKER_DETAIL_JSON_MESSAGE_HPP

// The Engine API's JSON-message streams (pull, push, build): one JSON object
// per line, carrying `status`/`id`/`progress` (pulls), `stream` (build
// output), `aux` (the built image's id) or `error`/`errorDetail`.

#include <liftoff/core/error.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::docker::detail {

/// One message of the stream.
struct json_message {
  std::string id;        ///< a layer id for pulls
  std::string status;    ///< "Pulling fs layer", "Download complete"
  std::string progress;  ///< "[==>   ] 1.2MB/3MB"
  std::string stream;    ///< build output, possibly several lines or part of one
  std::string error;     ///< errorDetail.message, else error; empty when this is no error
  std::optional<boost::json::object> aux;

  bool is_error() const noexcept { return !error.empty(); }
};

/** Parses one line of the stream; an empty line gives an empty message.
    Fails with `error::protocol_error` when it is not a JSON object. */
inline result<json_message> parse_json_message(std::string_view line) {
  json_message m;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return m;
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) {
    std::string shown(line.substr(0, 200));
    return diagnostic(error::protocol_error, "the Docker engine sent a progress line that is not a JSON object: " + shown);
  }
  auto const& o = v.as_object();
  auto str = [&](boost::json::object const& from, char const* name) {
    auto const* f = from.if_contains(name);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  m.id = str(o, "id");
  m.status = str(o, "status");
  m.progress = str(o, "progress");
  m.stream = str(o, "stream");
  if (auto const* d = o.if_contains("errorDetail"); d && d->is_object()) m.error = str(d->as_object(), "message");
  if (m.error.empty()) m.error = str(o, "error");
  if (auto const* a = o.if_contains("aux"); a && a->is_object()) m.aux = a->as_object();
  return m;
}

/** Turns pull messages into progress lines: one per layer status change
    ("a1b2c3d4e5f6: Pull complete"), not one per progress tick; messages
    without a layer ("Status: Downloaded newer image for busybox:latest") as they come. */
class pull_tracker {
public:
  /// The line to report for `m`, if it changes what the reader knows.
  std::optional<std::string> line(json_message const& m) {
    if (m.status.empty()) return std::nullopt;
    if (m.id.empty()) return m.status;
    auto& last = status_[m.id];
    if (last == m.status) return std::nullopt;
    last = m.status;
    return m.id + ": " + m.status;
  }

private:
  std::map<std::string, std::string> status_;
};

/** Collects build output: whole lines from the `stream` pieces, the step
    being run, and the image id (`aux.ID`, else "Successfully built <id>"). */
class build_tracker {
public:
  /// Takes a message; returns the complete output lines it finished.
  std::vector<std::string> feed(json_message const& m) {
    std::vector<std::string> out;
    if (m.aux) {
      if (auto const* id = m.aux->if_contains("ID"); id && id->is_string()) image_id_ = std::string(id->as_string());
    }
    if (m.is_error()) error_ = m.error;
    partial_ += m.stream;
    for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
      std::string l = partial_.substr(0, nl);
      partial_.erase(0, nl + 1);
      if (!l.empty() && l.back() == '\r') l.pop_back();
      note(l);
      out.push_back(std::move(l));
    }
    return out;
  }

  /// The unfinished last line, at the end of the stream.
  std::optional<std::string> finish() {
    if (partial_.empty()) return std::nullopt;
    std::string l = std::move(partial_);
    partial_.clear();
    note(l);
    return l;
  }

  std::string const& image_id() const noexcept { return image_id_; }
  std::string const& last_step() const noexcept { return step_; }  ///< "Step 2/2 : RUN false"
  std::string const& error() const noexcept { return error_; }      ///< the engine's message, if the build failed

  /// The failure as a sentence: which step, the engine's message, and the step's last output lines.
  diagnostic failure() const {
    std::string msg = "the Docker build failed";
    if (!step_.empty()) msg += " at " + step_;
    msg += ": " + (error_.empty() ? std::string("the engine reported no image id") : error_);
    if (!step_lines_.empty()) {
      msg += "\nits last lines:";
      for (auto const& l : step_lines_) msg += "\n  " + l;
    }
    return diagnostic(error::build_failed, std::move(msg), failure_stage::build);
  }
  /// The last output lines of the step being run (at most 12).
  std::deque<std::string> const& step_lines() const noexcept { return step_lines_; }

private:
  void note(std::string const& l) {
    if (l.starts_with("Step ")) {
      step_ = l;
      step_lines_.clear();
      return;
    }
    if (!step_.empty() && !l.starts_with(" ---> ") && !l.starts_with("Removing intermediate container ")) {
      step_lines_.push_back(l);
      if (step_lines_.size() > 12) step_lines_.pop_front();
    }
    constexpr std::string_view built = "Successfully built ";
    if (l.starts_with(built) && image_id_.empty()) image_id_ = l.substr(built.size());
  }

  std::string partial_, image_id_, step_, error_;
  std::deque<std::string> step_lines_;
};

}  // namespace liftoff::docker::detail

#endif
