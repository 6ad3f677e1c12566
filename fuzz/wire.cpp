// Fuzzes the control plane's wire readers (<liftoff/server/wire.hpp>), which
// read what clients and agents send the server and what the server answers:
// the input is parsed as JSON and given to every `*_from_json` reader and to
// list_from_json; the text itself to parse_time and diagnostic_from_body.
// Invariants: nothing throws; a reader fails with a liftoff error naming
// what it read; what a reader accepts, written back with value_from, is read
// again and written the same (a fixed point after one normalisation); a
// time parse_time reads is written by format_time as text that reads back to
// the same time; an error body read back from error_body keeps its code,
// message and stage.

#include <liftoff/server/wire.hpp>

#include "fuzz_support.hpp"

#include <liftoff/core/parse.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

namespace json = boost::json;
namespace server = liftoff::server;
using liftoff::fuzz::check_error;

template <class Read>
void check_reader(json::value const& v, Read read, char const* what) {
  auto r = read(v);
  if (!r) {
    check_error(r.error());
    return;
  }
  auto const written = json::value_from(*r);
  auto again = read(written);
  LIFTOFF_FUZZ_CHECK(again.has_value(), std::string(what) + ": " + json::serialize(written) + ": " +
                                            (again ? "" : again.error().what()));
  auto const rewritten = json::value_from(*again);
  LIFTOFF_FUZZ_CHECK(rewritten == written,
                     std::string(what) + ": " + json::serialize(written) + " became " + json::serialize(rewritten));
}

void check_time(std::string_view text) {
  auto t = server::parse_time(text);
  if (!t) return;
  auto const written = server::format_time(*t);
  auto again = server::parse_time(written);
  LIFTOFF_FUZZ_CHECK(again.has_value(), written);
  LIFTOFF_FUZZ_CHECK(*again == *t, written);
}

void check_error_body(std::string_view text) {
  auto d = server::diagnostic_from_body(text, "fallback");
  LIFTOFF_FUZZ_CHECK(d.code.category() == liftoff::liftoff_category());
  (void)server::http_status_for(d.code);
  auto const body = json::serialize(server::error_body(d));
  auto back = server::diagnostic_from_body(body, "other fallback");
  LIFTOFF_FUZZ_CHECK(back.code == d.code, body);
  LIFTOFF_FUZZ_CHECK(back.message == d.what(), body);
  LIFTOFF_FUZZ_CHECK(back.stage == d.stage, body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const text = liftoff::fuzz::text_of(data, size);
  check_time(text);
  check_error_body(text);
  (void)server::error_from_name(text);

  auto v = liftoff::parse_json(text, "input");
  if (!v) return 0;
  check_reader(*v, server::queue_from_json, "queue");
  check_reader(*v, server::item_from_json, "item");
  check_reader(*v, server::run_from_json, "run");
  check_reader(*v, server::agent_from_json, "agent");
  check_reader(*v, server::token_from_json, "token");
  check_reader(*v, server::job_version_from_json, "job version");
  check_reader(*v, server::agent_registration_from_json, "agent registration");
  check_reader(*v, server::state_update_from_json, "state update");
  check_reader(*v, server::heartbeat_reply_from_json, "heartbeat reply");
  auto items = server::list_from_json(*v, server::item_from_json, "items");
  if (!items) check_error(items.error());
  // A field's string read as a time, the way the readers read created_at.
  if (auto const* o = v->if_object())
    for (auto const& kv : *o)
      if (auto const* s = kv.value().if_string()) check_time(*s);
  return 0;
}
