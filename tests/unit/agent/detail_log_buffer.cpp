#include <liftoff/agent/detail/log_buffer.hpp>

#include <catch2/catch.hpp>

using namespace liftoff;

TEST_CASE("log_buffer hands out whole lines once, keeps a tail, and drops the oldest unsent lines past its limit", "[agent]") {
  detail::log_buffer buf(3, 21);  // three lines of "xxxxxx\n"
  buf.add({log_stream::out, "one"});
  buf.add({log_stream::err, "two"});
  CHECK(buf.take() == "one\ntwo\n");
  CHECK(buf.take().empty());
  CHECK_FALSE(buf.has_pending());

  buf.add({log_stream::system, "note"});
  auto unsent = buf.take();
  CHECK(unsent == "liftoff: note\n");
  buf.add({log_stream::out, "four"});
  buf.put_back(unsent);  // a failed send goes back before what came since
  CHECK(buf.take() == "liftoff: note\nfour\n");
  CHECK(buf.tail() == "two\nliftoff: note\nfour");

  for (auto const* l : {"aaaaaa", "bbbbbb", "cccccc", "dddddd"}) buf.add({log_stream::out, l});
  CHECK(buf.take() == "bbbbbb\ncccccc\ndddddd\n");
  CHECK(buf.dropped() == 1);
}

TEST_CASE("delivered_output_lines counts the run's own complete lines", "[agent]") {
  CHECK(detail::delivered_output_lines("") == 0);
  CHECK(detail::delivered_output_lines("a\nb\n") == 2);
  CHECK(detail::delivered_output_lines("a\nliftoff: cannot read\nb\npartial") == 2);
}
