#ifndef LIFTOFF_DOCKER_IMPL_REGISTRY_PUSH_IPP
#define LIFTOFF_DOCKER_IMPL_REGISTRY_PUSH_IPP

#include <liftoff/docker/registry_push.hpp>

#include <liftoff/core/launcher.hpp>
#include <liftoff/docker/launch_support.hpp>
#include <liftoff/docker/reference.hpp>

#include <boost/json/string.hpp>

#include <cstdlib>

namespace liftoff {

namespace detail {

/// The first 32 hex digits of a "sha256:…" digest, or empty when `digest` is not one.
LIFTOFF_DECL std::string content_tag_of(std::string_view digest) {
  constexpr std::string_view prefix = "sha256:";
  if (!digest.starts_with(prefix) || digest.size() < prefix.size() + 32) return {};
  auto hex = digest.substr(prefix.size(), 32);
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  return std::string(hex);
}

LIFTOFF_DECL diagnostic push_failure(diagnostic d) { return at_stage(std::move(d), failure_stage::push); }

}  // namespace detail

LIFTOFF_DECL result<std::pair<std::string, std::string>> registry_push::resolve_repository(launch_spec const& spec) const {
  std::string const resource = spec.resource.empty() ? std::string("<resource>") : spec.resource;
  std::string const field = "resource_args." + resource + ".registry";
  std::string repo, origin;
  if (!repository.empty()) {
    repo = repository;
    origin = "registry_push.repository";
  } else if (auto const* v = spec.args_for(spec.resource).if_contains("registry");
             v && !(v->is_string() && v->get_string().empty())) {  // "" is a template left blank: not set
    if (!v->is_string())
      return diagnostic(error::invalid_spec,
                        field + ": expected a string naming the repository to push to, like \"127.0.0.1:5000/team/train\"");
    repo = std::string(v->get_string());
    origin = field;
  } else if (char const* env = std::getenv(std::string(registry_env).c_str()); env && *env) {
    repo = env;
    origin = std::string(registry_env);
  } else {
    return diagnostic(error::invalid_spec,
                      "registry_push: no registry to push the image to: set " + field +
                          " (a repository like \"127.0.0.1:5000/team/train\") or the environment variable " +
                          std::string(registry_env));
  }
  // The repository is a prefix of image names: it may not carry a tag or digest, nor a scheme.
  if (auto r = docker::parse_image_reference(repo + "/job:tag"); !r || repo.find("://") != std::string::npos)
    return diagnostic(error::invalid_spec,
                      origin + ": '" + repo + "' is not an image repository (expected [host[:port]/]path, like "
                               "\"127.0.0.1:5000/team/train\", without a scheme, tag or digest)" +
                          (r ? std::string() : ": " + r.error().message));
  return std::pair{std::move(repo), std::move(origin)};
}

LIFTOFF_DECL result<void> registry_push::validate(launch_spec const& spec) const {
  if (kind_of(spec.source) == source_kind::image) {
    // Nothing is pushed; a repository that is set must still make sense.
    bool set = !repository.empty() || spec.args_for(spec.resource).contains("registry");
    if (!set) return {};
  }
  auto r = resolve_repository(spec);
  if (!r) return r.error();
  return {};
}

LIFTOFF_DECL result<registry_push_plan> registry_push::plan(artifact const& in, launch_spec const& spec) const {
  auto dest = resolve_repository(spec);
  if (!dest) return detail::push_failure(dest.error());
  registry_push_plan p;
  p.repository = std::move(dest->first);
  p.origin = std::move(dest->second);
  p.local_image = in.image;
  auto local = docker::parse_image_reference(in.image);
  if (in.image.empty() || !local)
    return detail::push_failure(diagnostic(
        error::invalid_spec, "registry_push: the built image '" + in.image + "' is not an image name to push" +
                                 (local ? std::string() : ": " + local.error().message)));
  auto slash = local->path.rfind('/');
  p.name = append_image_name ? p.repository + "/" + local->path.substr(slash == std::string::npos ? 0 : slash + 1)
                             : p.repository;
  p.tag = detail::content_tag_of(in.digest);
  p.content_tag = !p.tag.empty();
  if (!p.content_tag) p.tag = local->tag;
  if (p.tag.empty())  // named by digest only
    return detail::push_failure(diagnostic(error::invalid_spec,
                                           "registry_push: the built image '" + in.image +
                                               "' has neither a tag nor a content digest to tag it by in the registry"));
  return p;
}

LIFTOFF_DECL result<artifact> registry_push::deliver(artifact const& in, launch_spec const& spec,
                                               launch_options const& options) const {
  if (in.kind == artifact_kind::registry_image) return in;  // already pullable
  if (in.kind != artifact_kind::local_image)
    return detail::push_failure(diagnostic(error::invalid_spec, "registry_push: cannot push a " +
                                                                    std::string(to_string(in.kind)) +
                                                                    "; it pushes images (build one with docker_builder)"));
  auto p = plan(in, spec);
  if (!p) return p.error();
  auto const target = p->reference();
  auto fail = [&target](diagnostic const& d) {
    // The engine's and the registry's own codes are kept for refusals of credentials and
    // unreachable engines; any other refusal is the push failing.
    auto code = d.code == error::http_status || d.code == error::protocol_error ? make_error_code(error::push_failed) : d.code;
    return diagnostic(code, "pushing " + target + ": " + d.message, failure_stage::push);
  };

  auto eng = docker::connect_for_launch(engine, options, "push");
  if (!eng) return detail::push_failure(eng.error());

  std::optional<docker::registry_auth> credentials = auth;
  if (!credentials) {
    auto found = docker::find_image_auth(target, docker_config);
    if (!found) return detail::push_failure(found.error());
    credentials = std::move(*found);
  }

  artifact out{artifact_kind::registry_image, {}, target, in.digest, in.lifetime};
  if (p->content_tag) {
    auto present = eng->distribution_inspect(target, credentials);
    if (!present) return fail(present.error());
    if (*present) {
      options.log(log_stream::system, "image " + target + " is already in the registry; no push needed");
      out.image = p->name + "@" + **present;
      return out;
    }
  }

  if (auto t = eng->tag_image(p->local_image, target); !t) return fail(t.error());
  options.log(log_stream::system, "pushing image " + target);
  auto digest = eng->push_image(target, credentials, [&options](std::string_view line) { options.progress(line); });
  if (!digest) {
    auto d = digest.error();
    d.stage = failure_stage::push;
    return d;
  }
  if (!digest->empty()) out.image = p->name + "@" + *digest;  // empty in a dry run: the tag reference stays
  return out;
}

}  // namespace liftoff

#endif
