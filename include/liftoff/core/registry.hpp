#ifndef LIFTOFF_CORE_REGISTRY_HPP
#define LIFTOFF_CORE_REGISTRY_HPP

/** The launcher registry: resource names (`local-process`, `local-container`,
    `kubernetes`, …) mapped to the launchers a program was compiled with. */

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
      source (`local-container` for images, `local-process` for code and git
      unless `set_default_resource` said otherwise). */
  std::string resource_for(launch_spec const& spec) const;

  /// Makes `resource` the default for specs of `kind` that name none.
  void set_default_resource(source_kind kind, std::string resource) { defaults_[kind] = std::move(resource); }

private:
  std::map<std::string, std::vector<any_launcher>, std::less<>> launchers_;
  std::map<source_kind, std::string> defaults_ = {{source_kind::image, "local-container"},
                                                  {source_kind::git, "local-process"},
                                                  {source_kind::code, "local-process"},
                                                  {source_kind::none, "local-process"}};
};

inline void launcher_registry::add(std::string resource, any_launcher l) {
  auto& list = launchers_[std::move(resource)];
  std::erase_if(list, [&](any_launcher const& x) { return x.handles() == l.handles(); });
  list.push_back(std::move(l));
}

inline std::vector<std::string> launcher_registry::resources() const {
  std::vector<std::string> names;
  for (auto const& kv : launchers_) names.push_back(kv.first);
  return names;
}

inline std::vector<source_kind> launcher_registry::sources_for(std::string_view resource) const {
  std::vector<source_kind> kinds;
  if (auto it = launchers_.find(resource); it != launchers_.end())
    for (auto const& l : it->second) kinds.push_back(l.handles());
  return kinds;
}

inline std::string launcher_registry::resource_for(launch_spec const& spec) const {
  if (!spec.resource.empty()) return spec.resource;
  auto it = defaults_.find(kind_of(spec.source));
  return it == defaults_.end() ? std::string("local-process") : it->second;
}

inline result<any_launcher> launcher_registry::find(std::string_view resource, source_kind kind) const {
  auto it = launchers_.find(resource);
  if (it == launchers_.end()) {
    std::string msg = "unknown resource '" + std::string(resource) + "'";
    std::vector<std::string_view> names;
    for (auto const& kv : launchers_) names.push_back(kv.first);
    if (auto m = closest_match(resource, names); !m.empty()) msg += " (did you mean '" + m + "'?)";
    msg += "; this program can launch on: ";
    for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + std::string(names[i]);
    return diagnostic(error::unknown_resource, std::move(msg));
  }
  for (auto const& l : it->second)
    if (l.handles() == kind) return l;
  if (kind == source_kind::none)
    return diagnostic(error::invalid_spec, "the spec names no job source: give a code directory or git URL "
                                           "(--uri) or an image (--docker-image)");
  std::string msg = "resource '" + std::string(resource) + "' cannot run " + std::string(to_string(kind)) +
                    " sources; it runs: ";
  for (std::size_t i = 0; i < it->second.size(); ++i)
    msg += (i ? ", " : "") + std::string(to_string(it->second[i].handles()));
  return diagnostic(error::unsupported, std::move(msg));
}

inline result<any_run> launcher_registry::try_launch(launch_spec spec, launch_options const& options) const {
  auto l = find(spec);
  if (!l) return std::move(l).error();
  return l->try_launch(std::move(spec), options);
}

}  // namespace liftoff

#endif
