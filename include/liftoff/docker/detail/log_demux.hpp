#ifndef LIFTOFF_DOCKER_DETAIL_LOG_DEMUX_HPP
#define LIFTOFF_DOCKER_DETAIL_LOG_DEMUX_HPP

// The Engine API's log and attach streams. A container without a TTY sends
// frames: an 8-byte header (stream type 0/1/2, three zero bytes, the payload
// size as a big-endian uint32) and the payload. A TTY container sends its raw
// output. Reads cut both anywhere; this turns the bytes into lines, each tagged
// with the stream it came from.

#include <liftoff/core/error.hpp>
#include <liftoff/core/run_status.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff::docker::detail {

class log_demuxer {
public:
  /// A line longer than this is handed on in pieces rather than held without bound.
  static constexpr std::size_t max_line = 1u << 20;

  /// `multiplexed`: the stream is framed (no TTY); else it is raw stdout.
  explicit log_demuxer(bool multiplexed) noexcept : multiplexed_(multiplexed) {}

  bool multiplexed() const noexcept { return multiplexed_; }

  /** Takes the next bytes of the stream; complete lines become available to
      `pop`. Fails with `error::protocol_error` on a frame of an unknown stream type. */
  result<void> feed(std::string_view bytes) {
    if (!multiplexed_) {
      append(log_stream::out, bytes);
      return {};
    }
    while (!bytes.empty()) {
      if (remaining_ == 0) {
        auto take = std::min(bytes.size(), header_size - header_.size());
        header_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
        if (header_.size() < header_size) break;
        auto type = static_cast<unsigned char>(header_[0]);
        if (type > 2)
          return diagnostic(error::protocol_error,
                            "the Docker engine sent a log frame of unknown stream type " + std::to_string(type));
        current_ = type == 2 ? log_stream::err : log_stream::out;  // 0 (stdin) is echoed input: stdout
        remaining_ = 0;
        for (int i = 4; i < 8; ++i) remaining_ = (remaining_ << 8) | static_cast<unsigned char>(header_[i]);
        header_.clear();
        continue;  // a zero-length frame leaves remaining_ at 0: the next header follows
      }
      auto take = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), remaining_));
      append(current_, bytes.substr(0, take));
      bytes.remove_prefix(take);
      remaining_ -= take;
    }
    return {};
  }

  /// The end of the stream: partial lines become lines. Fails if it ended inside a frame header.
  result<void> finish() {
    flush(log_stream::out);
    flush(log_stream::err);
    if (multiplexed_ && (!header_.empty() || remaining_ != 0))
      return diagnostic(error::protocol_error, "the Docker engine's log stream ended in the middle of a frame");
    return {};
  }

  /// The next complete line, if any.
  std::optional<log_line> pop() {
    if (lines_.empty()) return std::nullopt;
    auto l = std::move(lines_.front());
    lines_.pop_front();
    return l;
  }

  bool empty() const noexcept { return lines_.empty(); }

private:
  static constexpr std::size_t header_size = 8;

  std::string& partial(log_stream s) { return s == log_stream::err ? err_ : out_; }

  void append(log_stream s, std::string_view bytes) {
    auto& buf = partial(s);
    for (;;) {
      auto nl = bytes.find('\n');
      if (nl == std::string_view::npos) break;
      buf.append(bytes.substr(0, nl));
      bytes.remove_prefix(nl + 1);
      emit(s, buf);
    }
    buf.append(bytes);
    while (buf.size() > max_line) {
      std::string piece = buf.substr(0, max_line);
      buf.erase(0, max_line);
      lines_.push_back(log_line{s, std::move(piece)});
    }
  }

  void emit(log_stream s, std::string& buf) {
    if (!buf.empty() && buf.back() == '\r') buf.pop_back();  // TTYs end lines with "\r\n"
    lines_.push_back(log_line{s, std::move(buf)});
    buf.clear();
  }

  void flush(log_stream s) {
    auto& buf = partial(s);
    if (!buf.empty()) emit(s, buf);
  }

  bool multiplexed_;
  std::string header_;  // bytes of a frame header read so far
  std::uint64_t remaining_ = 0;  // payload bytes left in the current frame
  log_stream current_ = log_stream::out;
  std::string out_, err_;  // each stream's unfinished line
  std::deque<log_line> lines_;
};

}  // namespace liftoff::docker::detail

#endif
