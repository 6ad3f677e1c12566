#ifndef LIFTOFF_AGENT_DETAIL_LOG_BUFFER_HPP
#define LIFTOFF_AGENT_DETAIL_LOG_BUFFER_HPP

#include <liftoff/core/run_status.hpp>

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace liftoff::detail {

/// How liftoff's own lines (`log_stream::system`) are marked in a run's logs on the server.
inline constexpr std::string_view agent_system_prefix = "liftoff: ";
/// How the image build's output (`log_stream::build`) is marked there.
inline constexpr std::string_view agent_build_prefix = "liftoff build: ";

/** A run's output on its way to the server: the text not sent yet, and the
    last lines for the run's `logs_tail`. Filled by a target's reader thread,
    drained by the agent's run thread; every member is thread-safe.

    While the server is away the unsent text grows up to `max_pending`
    bytes; beyond that the oldest whole lines are dropped and counted, so
    the run keeps going and the newest output is what reaches the server. */
class log_buffer {
public:
  explicit log_buffer(std::size_t tail_lines = 100, std::size_t max_pending = std::size_t(8) << 20)
      : tail_lines_(tail_lines), max_pending_(max_pending) {}

  /// Adds a line: stdout and stderr as they are, liftoff's own lines prefixed with "liftoff: ", the build's with "liftoff build: ".
  void add(log_line const& line) {
    std::string text = line.stream == log_stream::system  ? std::string(agent_system_prefix) + line.text
                       : line.stream == log_stream::build ? std::string(agent_build_prefix) + line.text
                                                          : line.text;
    std::lock_guard lock(m_);
    pending_ += text;
    pending_ += '\n';
    while (pending_.size() > max_pending_) {
      auto nl = pending_.find('\n');
      pending_.erase(0, nl == std::string::npos ? pending_.size() : nl + 1);
      ++dropped_;
    }
    tail_.push_back(std::move(text));
    while (tail_.size() > tail_lines_) tail_.pop_front();
  }

  /// Takes the text not sent yet (whole lines, each ending in "\n").
  std::string take() {
    std::lock_guard lock(m_);
    return std::exchange(pending_, {});
  }

  /** Puts back text that `take` gave and could not be sent, before what
      came since; the oldest lines go first when the limit is exceeded. */
  void put_back(std::string text) {
    std::lock_guard lock(m_);
    text += pending_;
    pending_ = std::move(text);
    while (pending_.size() > max_pending_) {
      auto nl = pending_.find('\n');
      pending_.erase(0, nl == std::string::npos ? pending_.size() : nl + 1);
      ++dropped_;
    }
  }

  /// Whether there is text to send.
  bool has_pending() const {
    std::lock_guard lock(m_);
    return !pending_.empty();
  }

  /// The last `tail_lines` lines, joined with "\n".
  std::string tail() const {
    std::lock_guard lock(m_);
    std::string out;
    for (auto const& l : tail_) {
      if (!out.empty()) out += '\n';
      out += l;
    }
    return out;
  }

  /// How many lines were dropped unsent because the limit was reached.
  std::size_t dropped() const {
    std::lock_guard lock(m_);
    return dropped_;
  }

private:
  std::size_t tail_lines_;
  std::size_t max_pending_;
  mutable std::mutex m_;
  std::string pending_;
  std::deque<std::string> tail_;
  std::size_t dropped_ = 0;
};

/** How many lines of a run's own output the server holds, given its logs'
    text: every complete line except liftoff's own ("liftoff: …"). A
    re-attached container's log stream repeats the output from the start;
    this many lines of it were already delivered. */
inline std::size_t delivered_output_lines(std::string_view text) {
  std::size_t count = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) break;  // an unfinished line was not delivered whole
    if (!text.substr(0, nl).starts_with(agent_system_prefix)) ++count;
    text.remove_prefix(nl + 1);
  }
  return count;
}

}  // namespace liftoff::detail

#endif
