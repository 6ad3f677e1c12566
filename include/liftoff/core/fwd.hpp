#ifndef LIFTOFF_CORE_FWD_HPP
#define LIFTOFF_CORE_FWD_HPP

/** Names of liftoff's core types, and nothing else: what a header needs to
    mention them (the policy concepts, a declaration) without their
    definitions or Boost.JSON. */

namespace boost::system {
template <class T, class E>
class result;
}  // namespace boost::system

namespace liftoff {

struct diagnostic;
/// A value or the diagnostic that says why there is none (<liftoff/core/error.hpp>).
template <class T>
using result = boost::system::result<T, diagnostic>;

enum class source_kind;    // <liftoff/core/spec.hpp>
enum class artifact_kind;  // <liftoff/core/pipeline.hpp>
struct launch_spec;
struct launch_options;
struct artifact;
struct run_status;  // <liftoff/core/run_status.hpp>
struct log_line;

}  // namespace liftoff

#endif
