#ifndef LIFTOFF_SERVER_WIRE_HPP
#define LIFTOFF_SERVER_WIRE_HPP

/** The control plane's records as JSON, as the HTTP API sends and receives
    them. The server writes records with `boost::json::value_from`; the
    client reads them back with the `*_from_json` functions, whose errors
    name the field and what was expected.

    Times are UTC, RFC 3339 with milliseconds: "2026-11-28T16:46:03.123Z".

    Errors travel as `{"error": {"code": "not_found", "message": "…",
    "stage": "agent"}}`, `code` being the name of a `liftoff::error` value
    (`error_name`), with the HTTP status `http_status_for` gives. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/core/run_status.hpp>
#include <liftoff/server/store.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::server {

// ---- times ---------------------------------------------------------------------

/// "2026-11-28T16:46:03.123Z".
std::string format_time(time_point t);
/// Reads what `format_time` writes (the fraction is optional); empty when `text` is not such a time.
std::optional<time_point> parse_time(std::string_view text);

// ---- errors ----------------------------------------------------------------------

/// The name of a liftoff error code as the API sends it ("not_found"); "error" for codes of other categories.
std::string_view error_name(error_code const& ec);
/// The liftoff error a name stands for; `http_status` for names it does not know.
error error_from_name(std::string_view name);
/** The HTTP status an error is answered with: 404 not_found, 409
    already_exists/conflict, 403 not_holder, 413 body_too_large, 400 for
    bad input (invalid_request, invalid_spec, unknown_field, parse_error,
    unknown_resource, unsupported), 500 for the rest. */
unsigned http_status_for(error_code const& ec);
/// `{"error": {"code", "message", "stage"?}}`.
boost::json::object error_body(diagnostic const& d);
/** Reads an error response back into a diagnostic. A body that is not an
    error object gives `http_status` with `fallback` as its message. */
diagnostic diagnostic_from_body(std::string_view body, std::string fallback);

// ---- reading requests and records --------------------------------------------------

/** Reads the fields of one JSON object and keeps the first problem as a
    diagnostic naming the field path: "agent registration: field 'max_jobs':
    expected an integer, got string". Getters return a default after the
    first error; check `ok()` (or `error()`) once at the end. A value or a
    key the message quotes is shown as `liftoff::detail::quote_excerpt` shows
    it: at most 64 bytes of it, control characters escaped. */
class field_reader {
public:
  field_reader(boost::json::value const& v, std::string what);

  bool ok() const noexcept { return !error_; }
  diagnostic const& error() const { return *error_; }
  /// The error, or `v` when every field read well.
  template <class T>
  result<T> finish(T v) const {
    if (error_) return *error_;
    return v;
  }

  bool has(std::string_view key) const;
  std::string string(std::string_view key);                               ///< required
  std::string string_or(std::string_view key, std::string fallback);      ///< optional
  std::optional<std::string> optional_string(std::string_view key);
  std::int64_t integer(std::string_view key);
  std::optional<std::int64_t> optional_integer(std::string_view key);
  bool boolean_or(std::string_view key, bool fallback);
  double number_or(std::string_view key, double fallback);
  std::vector<std::string> strings(std::string_view key);                 ///< optional; empty when absent
  boost::json::object object_or_empty(std::string_view key);
  std::optional<time_point> optional_time(std::string_view key);
  time_point time(std::string_view key);
  /// Rejects fields not in `known`, suggesting the closest.
  void only(std::initializer_list<std::string_view> known);
  /// Records a problem with `key` (when none was recorded yet).
  void fail(std::string_view key, std::string expected);
  /** Records a problem with `key` when `value`, a name people read, holds a
      control character (U+0000–U+001F, U+007F–U+009F) or invalid UTF-8:
      "agent registration: field 'name': contains a control character
      (U+000A) at byte 3; names are printable text". */
  void require_printable(std::string_view key, std::string_view value);

private:
  boost::json::value const* find(std::string_view key) const;
  void wrong(std::string_view key, std::string_view expected, boost::json::value const& got);

  boost::json::object const* obj_ = nullptr;
  std::string what_;
  std::optional<diagnostic> error_;
};

// ---- records ------------------------------------------------------------------------

void tag_invoke(boost::json::value_from_tag, boost::json::value& v, queue_record const& q);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, item_record const& i);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, state_change const& c);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, run_record const& r);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, agent_record const& a);
/// Never the hash: `{"id", "name", "created_at", "revoked"}`.
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, token_record const& t);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, job_version_record const& j);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, agent_registration const& r);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, state_update const& u);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, heartbeat_reply const& h);
void tag_invoke(boost::json::value_from_tag, boost::json::value& v, lease_expiry const& e);

result<queue_record> queue_from_json(boost::json::value const& v);
result<item_record> item_from_json(boost::json::value const& v);
result<run_record> run_from_json(boost::json::value const& v);
result<agent_record> agent_from_json(boost::json::value const& v);
result<token_record> token_from_json(boost::json::value const& v);
result<job_version_record> job_version_from_json(boost::json::value const& v);
/** An agent's registration: `name` (required), `host`, `queues`, `max_jobs`
    (1 to 100000) and `resume`. The name, the host and each queue name must
    be printable text (see `field_reader::require_printable`). */
result<agent_registration> agent_registration_from_json(boost::json::value const& v);
result<state_update> state_update_from_json(boost::json::value const& v);
result<heartbeat_reply> heartbeat_reply_from_json(boost::json::value const& v);

/// Reads a JSON array of records with one of the functions above; errors name the index.
template <class F>
auto list_from_json(boost::json::value const& v, F read, std::string_view what)
    -> result<std::vector<typename decltype(read(v))::value_type>> {
  using T = typename decltype(read(v))::value_type;
  auto const* arr = v.if_array();
  if (!arr) return diagnostic(error::protocol_error, std::string(what) + ": expected an array");
  std::vector<T> out;
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto r = read((*arr)[i]);
    if (!r) {
      auto d = std::move(r).error();
      d.message = std::string(what) + "[" + std::to_string(i) + "]: " + d.message;
      return d;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace liftoff::server

#if LIFTOFF_HEADER_ONLY
#include <liftoff/server/impl/wire.ipp>
#endif

#endif
