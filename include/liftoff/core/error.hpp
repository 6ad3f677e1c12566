#ifndef LIFTOFF_CORE_ERROR_HPP
#define LIFTOFF_CORE_ERROR_HPP

#include <liftoff/core/fwd.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>
#include <boost/assert/source_location.hpp>
#include <boost/throw_exception.hpp>

#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace liftoff {

using boost::system::error_code;
using boost::system::system_error;

/// The conditions liftoff reports. Every value has a message a user can act on;
/// the specific detail (which field, which file) travels in a `diagnostic`.
enum class error {
  ok = 0,
  invalid_spec = 1,      ///< a launch spec field has the wrong type or value
  unknown_field,         ///< a field that liftoff does not know
  parse_error,           ///< malformed JSON or YAML
  file_not_found,        ///< a path named by the user does not exist
  file_unreadable,       ///< a path exists but cannot be read
  not_executable,        ///< the entry point cannot be executed
  tool_missing,          ///< an external tool (git) is not installed
  source_failed,         ///< the source stage failed (clone, checkout)
  build_failed,          ///< the build stage failed
  push_failed,           ///< the push stage failed
  run_failed,            ///< the run ended unsuccessfully
  cancelled,             ///< the operation was cancelled
  timeout,               ///< the operation did not finish in time
  unknown_resource,      ///< no launcher is registered for a resource name
  http_status,           ///< an HTTP peer answered with an error status
  protocol_error,        ///< a peer sent something that does not follow its protocol
  body_too_large,        ///< a body exceeded the configured limit
  unsupported,           ///< a feature is not supported by this combination
  not_found,             ///< no queue, item, run, agent, token or job version by that name or id
  already_exists,        ///< a queue or run id that is taken
  conflict,              ///< the record's state forbids it: pending items, an ended run, a stopped agent
  not_holder,            ///< an agent acted on an item it does not hold
  invalid_request,       ///< a malformed name, an out-of-range value in a request
  storage_failed,        ///< the database itself failed (disk full, corruption, I/O)
  unauthorized,          ///< a service refused the credentials (missing, wrong or expired)
  forbidden,             ///< a service knows the identity but does not allow it this action
  gone,                  ///< what was asked for existed and is gone (a run an agent looked for after a restart)
};

namespace detail {

class error_category_impl final : public boost::system::error_category {
public:
  constexpr error_category_impl() noexcept : error_category(0x6c6966746f666621ULL) {}
  const char* name() const noexcept override { return "liftoff"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::ok: return "success";
      case error::invalid_spec: return "invalid launch spec";
      case error::unknown_field: return "unknown field";
      case error::parse_error: return "malformed configuration";
      case error::file_not_found: return "file or directory not found";
      case error::file_unreadable: return "file or directory cannot be read";
      case error::not_executable: return "entry point is not executable";
      case error::tool_missing: return "a required tool is not installed";
      case error::source_failed: return "could not fetch the job's source";
      case error::build_failed: return "the build failed";
      case error::push_failed: return "the image push failed";
      case error::run_failed: return "the run failed";
      case error::cancelled: return "cancelled";
      case error::timeout: return "timed out";
      case error::unknown_resource: return "unknown resource";
      case error::http_status: return "the server answered with an error status";
      case error::protocol_error: return "the peer broke its protocol";
      case error::body_too_large: return "body exceeds the size limit";
      case error::unsupported: return "not supported";
      case error::not_found: return "no such record";
      case error::already_exists: return "the record already exists";
      case error::conflict: return "the record's state does not allow this";
      case error::not_holder: return "the agent does not hold this item";
      case error::invalid_request: return "invalid request";
      case error::storage_failed: return "the database failed";
      case error::unauthorized: return "the credentials were refused";
      case error::forbidden: return "the identity is not allowed to do this";
      case error::gone: return "it is gone";
    }
    return "unknown liftoff error";
  }
};

}  // namespace detail

/// The one category of liftoff's own errors.
inline boost::system::error_category const& liftoff_category() noexcept {
  static constexpr detail::error_category_impl instance;
  return instance;
}

inline error_code make_error_code(error e) noexcept {
  return error_code(static_cast<int>(e), liftoff_category());
}

/// Where in the pipeline something failed (DESIGN.md, "Run states").
enum class failure_stage { none, agent, source, build, push, run };

inline std::string_view to_string(failure_stage s) noexcept {
  switch (s) {
    case failure_stage::none: return "none";
    case failure_stage::agent: return "agent";
    case failure_stage::source: return "source";
    case failure_stage::build: return "build";
    case failure_stage::push: return "push";
    case failure_stage::run: return "run";
  }
  return "none";
}

/** An error code with the sentence a person needs: which field, file or
    request, and what was expected. Used as the error type of
    `boost::system::result` throughout liftoff. */
struct diagnostic {
  error_code code;
  std::string message;
  failure_stage stage = failure_stage::none;  ///< set by the launcher for pipeline failures

  diagnostic() = default;
  diagnostic(error_code c, std::string m, failure_stage st = failure_stage::none)
      : code(c), message(std::move(m)), stage(st) {}
  diagnostic(error e, std::string m, failure_stage st = failure_stage::none)
      : code(make_error_code(e)), message(std::move(m)), stage(st) {}

  /// The full text: the message, or the code's message when there is none.
  std::string what() const { return message.empty() ? code.message() : message; }
};

/** Prints the sentence (so test frameworks and logs can show a diagnostic or
    a result holding one). A template, so that this header needs no <ostream>;
    only for standard streams, or a stream-like class with its own template
    `operator<<` (Catch2's) would find both, which clang rejects as ambiguous. */
template <class Ostream>
  requires std::is_base_of_v<std::basic_ostream<typename Ostream::char_type, typename Ostream::traits_type>, Ostream>
Ostream& operator<<(Ostream& os, diagnostic const& d) {
  os << d.what();
  return os;
}

/// Thrown by the throwing overloads; `what()` is the diagnostic's sentence.
class exception : public system_error {
public:
  exception(diagnostic d) : system_error(d.code, d.what()), diag_(std::move(d)) {}
  diagnostic const& diag() const noexcept { return diag_; }
  char const* what() const noexcept override { return diag_.message.empty() ? system_error::what() : diag_.message.c_str(); }

private:
  diagnostic diag_;
};

/// Lets `result<T, diagnostic>::value()` throw `liftoff::exception`.
[[noreturn]] inline void throw_exception_from_error(diagnostic const& d, boost::source_location const& loc) {
  boost::throw_exception(exception(d), loc);
}

// result<T>: see <liftoff/core/fwd.hpp>.

/// Throws `d` as `liftoff::exception`.
[[noreturn]] inline void throw_diagnostic(diagnostic d) { throw exception(std::move(d)); }

}  // namespace liftoff

namespace boost::system {
template <>
struct is_error_code_enum<::liftoff::error> : std::true_type {};
}  // namespace boost::system

#endif
