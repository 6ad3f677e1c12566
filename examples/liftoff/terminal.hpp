#ifndef LIFTOFF_EXAMPLES_TERMINAL_HPP
#define LIFTOFF_EXAMPLES_TERMINAL_HPP

// What the CLI prints, and how it turns Ctrl-C into a clean cancel.

#include <liftoff/core/run_status.hpp>

#include <boost/json/object.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace liftoff::cli {

/// Serialises the CLI's output: the run's own lines as they are, liftoff's prefixed on stderr.
class terminal {
public:
  /// Prints a one-line error and returns `code`.
  int fail(diagnostic const& d, int code);
  void note(std::string const& text);
  void log(log_line const& line);
  void status(std::string const& run_id, run_status const& s);
  void finished(std::string const& run_id, run_status const& s);
  void json_line(boost::json::object const& o);
  /// A progress line (pull layers, build steps), shown only on a terminal.
  void progress(std::string_view line);
  /// Whether stderr is a terminal.
  bool interactive() const;

private:
  std::mutex mutex_;
};

/** While alive, SIGINT and SIGTERM no longer end the program: they are
    counted and passed to a handler (on its own thread), which cancels the run. */
class interrupt_watch {
public:
  interrupt_watch();
  ~interrupt_watch();
  interrupt_watch(interrupt_watch const&) = delete;
  interrupt_watch& operator=(interrupt_watch const&) = delete;

  /// Sets the handler; called with the number of signals so far (at once if some already came).
  void on_signal(std::function<void(int)> handler);
  /// The last signal received, or 0.
  int signal() const;
  /// The shell's exit code for the last signal (130 for SIGINT, 143 for SIGTERM).
  int exit_code() const { return 128 + signal(); }
  /// Stops watching and restores the default handlers.
  void stop();

private:
  void loop();
  mutable std::mutex mutex_;
  std::function<void(int)> handler_;
  int count_ = 0;
  int last_ = 0;
  int pipe_[2] = {-1, -1};
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace liftoff::cli

#endif
