#include <liftoff/docker/detail/log_demux.hpp>

#include <catch2/catch.hpp>

#include <utility>
#include <vector>

using liftoff::log_stream;
using liftoff::docker::detail::log_demuxer;

namespace {

/// A frame as the engine sends it: type, three zero bytes, big-endian size, payload.
std::string frame(unsigned char type, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(type);
  auto n = static_cast<std::uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + std::string(payload);
}

using tagged = std::vector<std::pair<log_stream, std::string>>;

tagged drain(log_demuxer& d) {
  tagged out;
  while (auto l = d.pop()) out.emplace_back(l->stream, l->text);
  return out;
}

/// Feeds `bytes` in pieces of `step` bytes, then ends the stream.
tagged feed_in_steps(log_demuxer& d, std::string const& bytes, std::size_t step) {
  for (std::size_t i = 0; i < bytes.size(); i += step) REQUIRE(d.feed(std::string_view(bytes).substr(i, step)).has_value());
  REQUIRE(d.finish().has_value());
  return drain(d);
}

}  // namespace

TEST_CASE("log frames become lines tagged with their stream, however the reads cut them", "[docker]") {
  std::string const bytes = frame(1, "hello\nwor") + frame(2, "oops\n") + frame(1, "ld\n") + frame(1, "") +
                            frame(2, "half") + frame(1, "out\r\n") + frame(2, " an error\nlast without newline");
  tagged const expected = {
      {log_stream::out, "hello"},       {log_stream::err, "oops"},
      {log_stream::out, "world"},       {log_stream::out, "out"},
      {log_stream::err, "half an error"}, {log_stream::err, "last without newline"},
  };
  // Every read size from one byte (headers split everywhere) to all at once.
  for (std::size_t step : {std::size_t(1), std::size_t(3), std::size_t(7), std::size_t(8), std::size_t(9), bytes.size()}) {
    INFO("read size " << step);
    log_demuxer d(true);
    CHECK(feed_in_steps(d, bytes, step) == expected);
  }
}

TEST_CASE("lines are available as soon as they are complete", "[docker]") {
  log_demuxer d(true);
  std::string const f = frame(1, "one\ntw");
  REQUIRE(d.feed(std::string_view(f).substr(0, 5)).has_value());
  CHECK(d.empty());
  REQUIRE(d.feed(std::string_view(f).substr(5)).has_value());
  CHECK(drain(d) == tagged{{log_stream::out, "one"}});
  REQUIRE(d.feed(frame(1, "o\n")).has_value());
  CHECK(drain(d) == tagged{{log_stream::out, "two"}});
}

TEST_CASE("a TTY container's raw stream is all stdout", "[docker]") {
  log_demuxer d(false);
  std::string const raw = std::string("\x01\x00 not a header\r\nsecond", 23) + "\nthird";
  auto lines = feed_in_steps(d, raw, 4);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == std::pair{log_stream::out, std::string("\x01\x00 not a header", 15)});
  CHECK(lines[1] == std::pair{log_stream::out, std::string("second")});
  CHECK(lines[2] == std::pair{log_stream::out, std::string("third")});
}

TEST_CASE("a broken frame stream is a protocol error", "[docker]") {
  log_demuxer unknown(true);
  auto bad = unknown.feed(frame(7, "x\n"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == liftoff::error::protocol_error);

  log_demuxer cut(true);
  REQUIRE(cut.feed(frame(1, "abc\n").substr(0, 10)).has_value());
  auto end = cut.finish();
  REQUIRE_FALSE(end.has_value());
  CHECK(end.error().code == liftoff::error::protocol_error);
  CHECK(drain(cut) == tagged{{log_stream::out, "ab"}});
}
