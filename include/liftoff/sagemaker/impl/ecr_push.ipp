#ifndef LIFTOFF_SAGEMAKER_IMPL_ECR_PUSH_IPP
#define LIFTOFF_SAGEMAKER_IMPL_ECR_PUSH_IPP

#include <liftoff/sagemaker/ecr_push.hpp>

#include <liftoff/core/launcher.hpp>
#include <liftoff/detail/base64.hpp>
#include <liftoff/docker/reference.hpp>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/regex.hpp>

#include <utility>

namespace liftoff {

namespace detail {

/// Where `ecr_push` pushes, and how it reaches ECR: decided without contacting anything.
struct ecr_destination {
  ecr_repository repository;
  std::string origin;  ///< where the repository came from
  std::string region;
  std::string profile;  ///< the shared-files profile ("" for the default)

  /// "host/name", the repository images are pushed to.
  std::string prefix() const { return repository.host + "/" + repository.name; }
};

/// `resource_args.sagemaker.<key>` when it is a non-empty string; "" otherwise (a blank template value is unset).
LIFTOFF_DECL result<std::string> sagemaker_setting(launch_spec const& spec, std::string_view key, std::string_view example) {
  auto const* v = spec.args_for("sagemaker").if_contains(key);
  if (!v || (v->is_string() && v->get_string().empty())) return std::string();
  if (!v->is_string())
    return diagnostic(error::invalid_spec, "resource_args.sagemaker." + std::string(key) + ": expected a string, like " +
                                               std::string(example));
  return std::string(v->get_string());
}

inline constexpr std::string_view ecr_repository_example = "\"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/train\"";

/** The repository (see `ecr_push`), without the region: `{repository string, origin}`, or nullopt
    when none is set. */
LIFTOFF_DECL result<std::optional<std::pair<std::string, std::string>>> ecr_repository_setting(ecr_push const& p,
                                                                                        launch_spec const& spec) {
  using found = std::optional<std::pair<std::string, std::string>>;
  if (!p.push.repository.empty()) return found(std::pair{p.push.repository, std::string("ecr_push.push.repository")});
  auto from_args = sagemaker_setting(spec, "registry", ecr_repository_example);
  if (!from_args) return from_args.error();
  if (!from_args->empty()) return found(std::pair{std::move(*from_args), std::string("resource_args.sagemaker.registry")});
  if (auto env = p.aws.env(registry_env); !env.empty()) return found(std::pair{std::move(env), std::string(registry_env)});
  return found();
}

LIFTOFF_DECL result<ecr_destination> resolve_ecr_destination(ecr_push const& p, launch_spec const& spec) {
  auto setting = ecr_repository_setting(p, spec);
  if (!setting) return setting.error();
  if (!*setting)
    return diagnostic(error::invalid_spec, "ecr_push: no ECR repository to push the image to: set "
                                           "resource_args.sagemaker.registry (a repository like " +
                                               std::string(ecr_repository_example) + ") or the environment variable " +
                                               std::string(registry_env));
  auto repo = parse_ecr_repository((*setting)->first, (*setting)->second);
  if (!repo) return repo.error();
  ecr_destination d{std::move(*repo), std::move((*setting)->second), {}, {}};

  auto profile = sagemaker_setting(spec, "profile", "\"dev\"");
  if (!profile) return profile.error();
  d.profile = p.aws.profile.empty() ? std::move(*profile) : p.aws.profile;

  if (!d.repository.region.empty()) {
    d.region = d.repository.region;
  } else {
    std::string explicit_region = p.region;
    if (explicit_region.empty()) {
      auto from_args = sagemaker_setting(spec, "region", "\"us-east-1\"");
      if (!from_args) return from_args.error();
      explicit_region = std::move(*from_args);
    }
    auto o = p.aws;
    o.profile = d.profile;
    auto region = aws::resolve_region(o, explicit_region);
    if (!region) return region.error();
    d.region = std::move(*region);
  }
  return d;
}

/// The ECR client of a destination: `p.credentials`, else the shared default chain with the destination's profile.
LIFTOFF_DECL aws::json_client ecr_client(ecr_push const& p, ecr_destination const& d) {
  auto o = p.aws;
  o.profile = d.profile;
  auto provider = p.credentials ? p.credentials : aws::shared_credentials_chain(o);
  return aws::json_client::for_region(aws::services::ecr(), d.region, o, std::move(provider), p.client, p.retry);
}

LIFTOFF_DECL boost::json::object describe_images_input(ecr_destination const& d, std::string const& tag) {
  boost::json::object in;
  if (!d.repository.registry_id.empty()) in["registryId"] = d.repository.registry_id;
  in["repositoryName"] = d.repository.name;
  in["imageIds"] = boost::json::array{boost::json::object{{"imageTag", tag}}};
  return in;
}

LIFTOFF_DECL diagnostic ecr_missing_repository(ecr_destination const& d) {
  auto const& r = d.repository;
  return diagnostic(error::push_failed,
                    "ECR repository `" + r.name + "` does not exist in account " +
                        (r.registry_id.empty() ? std::string("of the credentials") : r.registry_id) + " (" + d.region +
                        "; from " + d.origin + "): create it with `aws ecr create-repository --repository-name " +
                        r.name + " --region " + d.region + "`",
                    failure_stage::push);
}

/** `DescribeImages` for `tag`: the image's digest, nullopt when ECR does not have the tag,
    or a diagnostic (stage push; a missing repository says how to create it). */
LIFTOFF_DECL result<std::optional<std::string>> ecr_find_tag(aws::json_client const& ecr, ecr_destination const& d,
                                                       std::string const& tag) {
  auto answer = ecr.call("DescribeImages", describe_images_input(d, tag));
  if (!answer) {
    auto const& m = answer.error().message;
    if (m.find("RepositoryNotFoundException") != std::string::npos) return ecr_missing_repository(d);
    if (m.find("ImageNotFoundException") != std::string::npos) return std::optional<std::string>();
    return at_stage(answer.error(), failure_stage::push);
  }
  if (auto const* details = answer->is_object() ? answer->as_object().if_contains("imageDetails") : nullptr;
      details && details->is_array())
    for (auto const& image : details->as_array())
      if (auto const* digest = image.is_object() ? image.as_object().if_contains("imageDigest") : nullptr;
          digest && digest->is_string() && !digest->get_string().empty())
        return std::optional<std::string>(std::string(digest->get_string()));
  return std::optional<std::string>();
}

/// `GetAuthorizationToken`, decoded into the registry login (user `AWS` and the password).
LIFTOFF_DECL result<docker::registry_auth> ecr_login(aws::json_client const& ecr, ecr_destination const& d) {
  boost::json::object in;
  auto answer = ecr.call("GetAuthorizationToken", in);
  if (!answer) return at_stage(answer.error(), failure_stage::push);
  auto bad = [&](std::string_view what) {
    return diagnostic(error::protocol_error,
                      "ECR GetAuthorizationToken (" + ecr.endpoint() + "): " + std::string(what) +
                          "; expected authorizationData[0].authorizationToken, base64 of \"AWS:<password>\"",
                      failure_stage::push);
  };
  auto const* data = answer->is_object() ? answer->as_object().if_contains("authorizationData") : nullptr;
  if (!data || !data->is_array() || data->as_array().empty() || !data->as_array()[0].is_object())
    return bad("the answer has no authorizationData");
  auto const& first = data->as_array()[0].as_object();
  auto const* token = first.if_contains("authorizationToken");
  if (!token || !token->is_string()) return bad("the answer has no authorizationToken");
  auto decoded = liftoff::detail::base64_decode(token->get_string());
  auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) return bad("the authorizationToken is not base64 of \"user:password\"");
  docker::registry_auth auth;
  auth.username = decoded->substr(0, colon);
  auth.password = decoded->substr(colon + 1);
  auth.server_address = d.repository.host;
  return auth;
}

/// Emits the signed, redacted request of `operation` for a dry run; fails as signing does (no credentials).
LIFTOFF_DECL result<void> emit_ecr_request(launch_options const& options, aws::json_client const& ecr,
                                     std::string_view operation, boost::json::value const& input) {
  auto request = ecr.describe_request(operation, input);
  if (!request) return at_stage(request.error(), failure_stage::push);
  options.emit({{"stage", "push"}, {"action", "aws api"}, {"operation", operation}, {"request", std::move(*request)}});
  return {};
}

/// The `registry_push` that pushes to `d` as `<repository>:<tag>`.
LIFTOFF_DECL registry_push ecr_registry_push(ecr_push const& p, ecr_destination const& d) {
  registry_push r = p.push;
  r.repository = d.prefix();
  r.append_image_name = false;
  return r;
}

}  // namespace detail

LIFTOFF_DECL result<ecr_repository> parse_ecr_repository(std::string_view repository, std::string_view origin) {
  auto fail = [&](std::string_view why) {
    return diagnostic(error::invalid_spec,
                      std::string(origin) + ": '" + std::string(repository) + "' is not an ECR repository (" +
                          std::string(why) + "): expected <account>.dkr.ecr.<region>.amazonaws.com/<name>, like " +
                          std::string(detail::ecr_repository_example) +
                          ", or host[:port]/<name> for a registry that stands in for ECR");
  };
  if (repository.find("://") != std::string_view::npos) return fail("it has a scheme; leave out https://");
  auto slash = repository.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == repository.size())
    return fail("it needs the registry host, a '/' and the repository name");
  ecr_repository r;
  r.host = std::string(repository.substr(0, slash));
  r.name = std::string(repository.substr(slash + 1));
  if (r.host.find_first_of(".:") == std::string::npos && r.host != "localhost")
    return fail("'" + r.host + "' is not a registry host");
  // An ECR repository name: lower-case path components separated by '/', '.', '_' or '-'.
  static boost::regex const name_pattern("(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*");
  if (r.name.size() < 2 || r.name.size() > 256 || !boost::regex_match(r.name, name_pattern))
    return fail("the name '" + r.name +
                "' is not a repository name: 2 to 256 lower-case letters, digits and . _ - / without a tag or digest");
  if (auto ref = docker::parse_image_reference(std::string(repository) + ":tag"); !ref || ref->domain != r.host)
    return fail("not an image repository" + (ref ? std::string() : ": " + ref.error().message));
  static boost::regex const ecr_host(R"((\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)");
  if (boost::smatch m; boost::regex_match(r.host, m, ecr_host)) {
    r.registry_id = m[1].str();
    r.region = m[2].str();
  }
  return r;
}

LIFTOFF_DECL result<void> ecr_push::validate(launch_spec const& spec) const {
  auto setting = detail::ecr_repository_setting(*this, spec);
  if (!setting) return setting.error();
  // An image job needs no push, and so no repository; one that is set must still make sense.
  if (kind_of(spec.source) == source_kind::image && !*setting) return {};
  auto d = detail::resolve_ecr_destination(*this, spec);
  if (!d) return d.error();
  return {};
}

LIFTOFF_DECL result<std::optional<artifact>> ecr_push::find(artifact const& planned, launch_spec const& spec,
                                                      launch_options const& options) const {
  if (options.dry_run() || planned.kind != artifact_kind::local_image) return std::optional<artifact>();
  auto tag = detail::content_tag_of(planned.digest);
  if (tag.empty()) return std::optional<artifact>();  // a tag that says nothing about content is always pushed
  auto d = detail::resolve_ecr_destination(*this, spec);
  if (!d) return detail::push_failure(d.error());
  auto ecr = detail::ecr_client(*this, *d);
  auto digest = detail::ecr_find_tag(ecr, *d, tag);
  if (!digest) return digest.error();
  if (!*digest) return std::optional<artifact>();
  options.log(log_stream::system, "image " + d->prefix() + ":" + tag + " is already in ECR (" + **digest +
                                      "); nothing to build or push");
  return std::optional<artifact>(
      artifact{artifact_kind::registry_image, {}, d->prefix() + "@" + **digest, planned.digest, planned.lifetime});
}

LIFTOFF_DECL result<artifact> ecr_push::deliver(artifact const& in, launch_spec const& spec,
                                          launch_options const& options) const {
  if (in.kind == artifact_kind::registry_image) return in;  // already pullable
  if (in.kind != artifact_kind::local_image)
    return detail::push_failure(diagnostic(error::invalid_spec, "ecr_push: cannot push a " +
                                                                    std::string(to_string(in.kind)) +
                                                                    "; it pushes images (build one with docker_builder)"));
  auto d = detail::resolve_ecr_destination(*this, spec);
  if (!d) return detail::push_failure(d.error());
  auto push_to = detail::ecr_registry_push(*this, *d);
  auto p = push_to.plan(in, spec);
  if (!p) return p.error();
  auto ecr = detail::ecr_client(*this, *d);

  if (options.dry_run()) {
    for (auto const& [operation, input] : {std::pair<std::string_view, boost::json::value>{
                                               "DescribeImages", detail::describe_images_input(*d, p->tag)},
                                           {"GetAuthorizationToken", boost::json::object()}})
      if (auto emitted = detail::emit_ecr_request(options, ecr, operation, input); !emitted) return emitted.error();
    // The engine shows X-Registry-Auth redacted; no password is asked for.
    push_to.auth = docker::registry_auth{"AWS", "<redacted>", {}, d->repository.host};
    return push_to.deliver(in, spec, options);
  }

  // Asked even for a tag that says nothing about content: a missing repository is then told plainly.
  auto digest = detail::ecr_find_tag(ecr, *d, p->tag);
  if (!digest) return digest.error();
  if (*digest && p->content_tag) {
    options.log(log_stream::system, "image " + p->reference() + " is already in ECR; no push needed");
    return artifact{artifact_kind::registry_image, {}, p->name + "@" + **digest, in.digest, in.lifetime};
  }
  auto login = detail::ecr_login(ecr, *d);
  if (!login) return login.error();
  push_to.auth = std::move(*login);
  return push_to.deliver(in, spec, options);
}

}  // namespace liftoff

#endif
