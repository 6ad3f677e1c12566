#ifndef LIFTOFF_BUILDKIT_DETAIL_PROGRESS_HPP
#define LIFTOFF_BUILDKIT_DETAIL_PROGRESS_HPP

// BuildKit's status stream as lines, in the form of BuildKit's own plain
// progress ("#5 [2/4] RUN pip install …", its output, "#5 DONE 1.2s"),
// and what a failure quotes: the failing step and its last lines.

#include <liftoff/detail/config.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace liftoff::buildkit::detail {

/// One `Vertex` of a `StatusResponse`: a step, as far as it got.
struct vertex_update {
  std::string digest;
  std::string name;
  bool cached = false;
  std::optional<double> started;    ///< seconds since the epoch
  std::optional<double> completed;
  std::string error;
};

/// One `VertexStatus`: progress of a part of a step (a layer, the context transfer).
struct vertex_status {
  std::string id;
  std::string vertex;
  std::string name;
  std::int64_t current = 0;
  std::int64_t total = 0;
  bool completed = false;
};

/// One `VertexLog`: output of a step.
struct vertex_log {
  std::string vertex;
  int stream = 1;  ///< 1 stdout, 2 stderr
  std::string data;
};

/// One `VertexWarning`.
struct vertex_warning {
  std::string vertex;
  std::string text;
};

/// A decoded `StatusResponse`.
struct status_update {
  std::vector<vertex_update> vertexes;
  std::vector<vertex_status> statuses;
  std::vector<vertex_log> logs;
  std::vector<vertex_warning> warnings;
};

/** Turns status updates into lines. Each step gets a number in the order it
    is first seen; its name is printed when it starts, each line of its
    output prefixed with its number, and its end as DONE (with the time it
    took), CACHED or ERROR. Part progress (a layer's bytes) is printed once,
    when done. The last `quoted_lines` lines of each step are kept for the
    failure message. */
class progress_printer {
public:
  explicit progress_printer(std::size_t quoted_lines = 12) : quoted_lines_(quoted_lines) {}

  /// The lines `u` adds to the output.
  std::vector<std::string> feed(status_update const& u);
  /// The unfinished output lines of every step, at the end of the stream.
  std::vector<std::string> finish();

  /// The name of the step that failed ("[2/3] RUN make"), empty when none did.
  std::string failed_step() const;
  /// The last output lines of the step that failed (of the last step to print, when none did).
  std::vector<std::string> failed_lines() const;

private:
  struct step {
    int number = 0;
    std::string name;
    bool announced = false, done = false;
    std::optional<double> started;
    std::string error;
    std::map<int, std::string> partial;  // by stream
    std::deque<std::string> last;
  };
  step& of(std::string const& digest);
  void add_line(step& s, std::string line, std::vector<std::string>& out);
  std::size_t quoted_lines_;
  std::map<std::string, step> steps_;
  std::map<std::string, bool> statuses_done_;
  std::string failed_, last_printed_;
  int next_ = 1;
};

}  // namespace liftoff::buildkit::detail

#if LIFTOFF_HEADER_ONLY
#include <liftoff/buildkit/impl/progress.ipp>
#endif

#endif
