#ifndef LIFTOFF_CORE_ANY_LAUNCHER_HPP
#define LIFTOFF_CORE_ANY_LAUNCHER_HPP

/** Type erasure for runs and launchers, for programs that choose a backend
    at run time (the queue says `kubernetes`). */

#include <liftoff/core/concepts.hpp>
#include <liftoff/core/pipeline.hpp>
#include <liftoff/core/spec.hpp>

#include <memory>
#include <utility>

namespace liftoff {

/// Any run, behind one interface. Copies share the run.
class any_run {
public:
  any_run() = default;

  /** Wraps a run of any target. Not any_run itself: that is checked first,
      so that asking whether any_run is movable (for `run<any_run>`) does not
      ask again whether any_run is a run (clang's endless recursion). */
  template <class R>
    requires(!std::same_as<std::decay_t<R>, any_run> && run<R>)
  any_run(R r) : impl_(std::make_shared<model<R>>(std::move(r))) {}

  std::string id() const { return impl_->id(); }
  run_status status() { return impl_->status(); }
  /// Blocks until the run has ended.
  run_status wait() { return impl_->wait(); }
  /// Asks the run to stop; after `grace` it is killed.
  void cancel(std::chrono::milliseconds grace) { impl_->cancel(grace); }
  std::vector<log_line> logs() const { return impl_->logs(); }

  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual std::string id() const = 0;
    virtual run_status status() = 0;
    virtual run_status wait() = 0;
    virtual void cancel(std::chrono::milliseconds) = 0;
    virtual std::vector<log_line> logs() const = 0;
  };
  template <class R>
  struct model final : concept_t {
    explicit model(R r) : run(std::move(r)) {}
    std::string id() const override { return run.id(); }
    run_status status() override { return run.status(); }
    run_status wait() override { return run.wait(); }
    void cancel(std::chrono::milliseconds g) override { run.cancel(g); }
    std::vector<log_line> logs() const override { return run.logs(); }
    R run;
  };
  std::shared_ptr<concept_t> impl_;
};

/// Any `launcher<…>`, behind one interface. Copies share the launcher.
class any_launcher {
public:
  /// Wraps a launcher; `L` must offer handles(), validate() and try_launch() as `launcher` does.
  template <class L>
    requires(!std::same_as<std::decay_t<L>, any_launcher> &&
             requires(L& l, L const& cl, launch_spec const& s, launch_options const& o) {
               { cl.handles() } -> std::same_as<source_kind>;
               { cl.validate(s) } -> std::same_as<result<void>>;
               l.try_launch(s, o);
             })
  explicit any_launcher(L l) : impl_(std::make_shared<model<L>>(std::move(l))) {}

  /// The kind of job source the launcher runs.
  source_kind handles() const { return impl_->handles(); }
  result<void> validate(launch_spec const& spec) const { return impl_->validate(spec); }
  /// Runs the pipeline; see `launcher::try_launch`.
  result<any_run> try_launch(launch_spec spec, launch_options const& options) {
    return impl_->try_launch(std::move(spec), options);
  }
  /// As `try_launch`, throwing `liftoff::exception` on failure.
  any_run launch(launch_spec spec, launch_options const& options) {
    return try_launch(std::move(spec), options).value();
  }

private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual source_kind handles() const = 0;
    virtual result<void> validate(launch_spec const&) const = 0;
    virtual result<any_run> try_launch(launch_spec, launch_options const&) = 0;
  };
  template <class L>
  struct model final : concept_t {
    explicit model(L l) : launcher(std::move(l)) {}
    source_kind handles() const override { return launcher.handles(); }
    result<void> validate(launch_spec const& s) const override { return launcher.validate(s); }
    result<any_run> try_launch(launch_spec s, launch_options const& o) override {
      auto r = launcher.try_launch(std::move(s), o);
      if (!r) return std::move(r).error();
      return any_run(std::move(*r));
    }
    L launcher;
  };
  std::shared_ptr<concept_t> impl_;
};

static_assert(run<any_run>);

}  // namespace liftoff

#endif
