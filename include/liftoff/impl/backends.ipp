#ifndef LIFTOFF_IMPL_BACKENDS_IPP
#define LIFTOFF_IMPL_BACKENDS_IPP

#include <liftoff/backends.hpp>

// The list of backends: one line each.
#include <liftoff/local/backend.hpp>
#include <liftoff/docker/backend.hpp>
#include <liftoff/kube/backend.hpp>
#include <liftoff/sagemaker/backend.hpp>

#include <utility>
#include <vector>

namespace liftoff {

LIFTOFF_DECL std::span<backend const* const> backends() {
  static backend const* const list[] = {
      &local_process_backend(),
      &docker_backend(),
      &kubernetes_backend(),
      &sagemaker_backend(),
  };
  return list;
}

LIFTOFF_DECL backend const* find_backend(std::string_view resource) {
  for (auto const* b : backends())
    if (b->resource == resource) return b;
  return nullptr;
}

LIFTOFF_DECL std::vector<std::string> backend_names() {
  std::vector<std::string> names;
  for (auto const* b : backends()) names.push_back(b->resource);
  return names;
}

LIFTOFF_DECL launcher_registry make_registry(backend_settings const& settings) {
  launcher_registry reg;
  for (auto const* b : backends()) {
    b->add_launchers(reg, settings);
    for (auto kind : b->default_for) reg.set_default_resource(kind, b->resource);
  }
  return reg;
}

namespace detail {

/// Hands each run to the reattach function of its resource's backend.
struct backend_reattach {
  std::vector<std::pair<std::string, reattach_fn>> by_resource;

  result<std::optional<any_run>> operator()(reattach_request const& r) const {
    if (r.resource.empty()) {
      // The run's spec could not be read: each backend looks for it, in turn, until one answers.
      for (auto const& entry : by_resource) {
        result<std::optional<any_run>> found = entry.second(r);
        if (found.has_value() || found.error().code != make_error_code(error::unsupported)) return found;
      }
    } else {
      for (auto const& entry : by_resource)
        if (entry.first == r.resource) return entry.second(r);
    }
    return diagnostic(error::unsupported, "runs on " + (r.resource.empty() ? std::string("an unnamed resource")
                                                                            : r.resource) +
                                              " cannot be found again by this agent");
  }
};

}  // namespace detail

LIFTOFF_DECL reattach_fn make_reattach(backend_settings const& settings) {
  detail::backend_reattach dispatch;
  for (auto const* b : backends())
    if (b->reattach) dispatch.by_resource.emplace_back(b->resource, b->reattach(settings));
  return dispatch;
}

}  // namespace liftoff

#endif
