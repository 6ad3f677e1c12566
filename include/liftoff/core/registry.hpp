#ifndef LIFTOFF_CORE_REGISTRY_HPP
#define LIFTOFF_CORE_REGISTRY_HPP

/** The launcher registry: resource names (`local-process`, `local-container`,
    `kubernetes`, …) mapped to the launchers a program was compiled with. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/any_launcher.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/** Maps a resource name to its launchers. A resource has one launcher per
    kind of job source: `local-container` runs an image as it is, and builds
    one from a directory or a git repository first, with different pipelines. */
class launcher_registry {
public:
  /// Registers `l` for `resource`, replacing a launcher for the same source kind.
  void add(std::string resource, any_launcher l);

  template <class L>
    requires(!std::same_as<std::decay_t<L>, any_launcher> && std::constructible_from<any_launcher, L>)
  void add(std::string resource, L l) {
    add(std::move(resource), any_launcher(std::move(l)));
  }

  /// The registered resource names, sorted.
  std::vector<std::string> resources() const;

  /// The source kinds `resource` can run.
  std::vector<source_kind> sources_for(std::string_view resource) const;

  /** The launcher for `resource` and a source kind. The error says which
      resources exist (with a suggestion for a near miss), or which sources
      the resource can run. */
  result<any_launcher> find(std::string_view resource, source_kind kind) const;

  /// The launcher for a spec: its resource (or the default one) and its source.
  result<any_launcher> find(launch_spec const& spec) const { return find(resource_for(spec), kind_of(spec.source)); }

  /// Finds the launcher for `spec` and launches it.
  result<any_run> try_launch(launch_spec spec, launch_options const& options) const;

  /** The resource a spec runs on: its own, else the default for its kind of
      source (`set_default_resource`; each backend says which kinds it is the
      default for), else empty. */
  std::string resource_for(launch_spec const& spec) const;

  /// Makes `resource` the default for specs of `kind` that name none.
  void set_default_resource(source_kind kind, std::string resource) { defaults_[kind] = std::move(resource); }

private:
  std::map<std::string, std::vector<any_launcher>, std::less<>> launchers_;
  std::map<source_kind, std::string> defaults_;
};

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/core/impl/registry.ipp>
#endif

#endif
