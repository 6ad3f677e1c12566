#ifndef LIFTOFF_CORE_IMPL_REGISTRY_IPP
#define LIFTOFF_CORE_IMPL_REGISTRY_IPP

#include <liftoff/core/registry.hpp>

#include <liftoff/detail/lines.hpp>
#include <liftoff/detail/quote.hpp>

namespace liftoff {

LIFTOFF_DECL void launcher_registry::add(std::string resource, any_launcher l) {
  auto& list = launchers_[std::move(resource)];
  std::erase_if(list, [&](any_launcher const& x) { return x.handles() == l.handles(); });
  list.push_back(std::move(l));
}

LIFTOFF_DECL std::vector<std::string> launcher_registry::resources() const {
  std::vector<std::string> names;
  for (auto const& kv : launchers_) names.push_back(kv.first);
  return names;
}

LIFTOFF_DECL std::vector<source_kind> launcher_registry::sources_for(std::string_view resource) const {
  std::vector<source_kind> kinds;
  if (auto it = launchers_.find(resource); it != launchers_.end())
    for (auto const& l : it->second) kinds.push_back(l.handles());
  return kinds;
}

LIFTOFF_DECL std::string launcher_registry::resource_for(launch_spec const& spec) const {
  if (!spec.resource.empty()) return spec.resource;
  auto it = defaults_.find(kind_of(spec.source));
  return it == defaults_.end() ? std::string() : it->second;
}

LIFTOFF_DECL result<any_launcher> launcher_registry::find(std::string_view resource, source_kind kind) const {
  if (kind == source_kind::none)
    return diagnostic(error::invalid_spec, "the spec names no job source: give a code directory or git URL "
                                           "(--uri) or an image (--docker-image)");
  auto it = launchers_.find(resource);
  if (resource.empty()) {
    return diagnostic(error::unknown_resource, "the spec names no resource and this program has no default one for " +
                                                   std::string(to_string(kind)) + " sources: give one of " +
                                                   detail::join_names(resources()));
  }
  if (it == launchers_.end()) {
    std::string msg = "unknown resource " + detail::quote_plain(resource);
    std::vector<std::string_view> names;
    for (auto const& kv : launchers_) names.push_back(kv.first);
    if (auto m = closest_match(resource, names); !m.empty()) msg += " (did you mean '" + m + "'?)";
    msg += "; this program can launch on: " + detail::join_names(names);
    return diagnostic(error::unknown_resource, std::move(msg));
  }
  for (auto const& l : it->second)
    if (l.handles() == kind) return l;
  std::string msg = "resource " + detail::quote_plain(resource) + " cannot run " + std::string(to_string(kind)) +
                    " sources; it runs: ";
  for (std::size_t i = 0; i < it->second.size(); ++i)
    msg += (i ? ", " : "") + std::string(to_string(it->second[i].handles()));
  return diagnostic(error::unsupported, std::move(msg));
}

LIFTOFF_DECL result<any_run> launcher_registry::try_launch(launch_spec spec, launch_options const& options) const {
  auto l = find(spec);
  if (!l) return std::move(l).error();
  return l->try_launch(std::move(spec), options);
}

}  // namespace liftoff

#endif
