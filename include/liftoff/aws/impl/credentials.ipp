#ifndef LIFTOFF_AWS_IMPL_CREDENTIALS_IPP
#define LIFTOFF_AWS_IMPL_CREDENTIALS_IPP

#include <liftoff/aws/credentials.hpp>

#include <liftoff/core/closest_match.hpp>

#include <liftoff/aws/detail/ini.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/regex.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <iterator>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

namespace liftoff::aws {

LIFTOFF_DECL std::string profile::get(std::string_view key) const {
  auto it = values.find(std::string(key));
  return it == values.end() ? std::string() : it->second;
}

LIFTOFF_DECL std::string credentials_options::env(std::string_view name) const {
  std::string n(name);
  if (environment) {
    auto it = environment->find(n);
    return it == environment->end() ? std::string() : it->second;
  }
  char const* v = std::getenv(n.c_str());
  return v ? std::string(v) : std::string();
}

LIFTOFF_DECL credentials_provider static_credentials(credentials c) {
  return [c = std::move(c)]() -> result<credentials> { return c; };
}

namespace detail {

/** Defined in impl/sts.hpp (which this header includes at its end): AssumeRole
    of `role_arn` with `source` through STS in `region`. */
result<credentials> assume_role_for_profile(credentials_options const& o, std::string const& region,
                                            credentials const& source, std::string const& role_arn,
                                            std::string const& session_name, std::string const& external_id,
                                            std::optional<std::chrono::seconds> duration);

LIFTOFF_DECL std::filesystem::path home_dir(credentials_options const& o) {
  if (!o.home.empty()) return o.home;
  return o.env("HOME");
}

LIFTOFF_DECL std::filesystem::path expand_home(std::string const& p, credentials_options const& o) {
  if (p == "~") return home_dir(o);
  if (p.starts_with("~/")) return home_dir(o) / p.substr(2);
  return p;
}

LIFTOFF_DECL std::filesystem::path credentials_file_path(credentials_options const& o) {
  auto e = o.env("AWS_SHARED_CREDENTIALS_FILE");
  return e.empty() ? home_dir(o) / ".aws" / "credentials" : expand_home(e, o);
}

LIFTOFF_DECL std::filesystem::path config_file_path(credentials_options const& o) {
  auto e = o.env("AWS_CONFIG_FILE");
  return e.empty() ? home_dir(o) / ".aws" / "config" : expand_home(e, o);
}

LIFTOFF_DECL std::string profile_name(credentials_options const& o) {
  if (!o.profile.empty()) return o.profile;
  auto p = o.env("AWS_PROFILE");
  return p.empty() ? std::string("default") : p;
}

/// Where the profile's name came from, for messages.
LIFTOFF_DECL std::string profile_origin(credentials_options const& o) {
  if (!o.profile.empty()) return "profile `" + o.profile + "`";
  if (!o.env("AWS_PROFILE").empty()) return "profile `" + o.env("AWS_PROFILE") + "` (AWS_PROFILE)";
  return "profile `default`";
}

/// The file's sections; nullopt when it does not exist.
LIFTOFF_DECL result<std::optional<ini_sections>> read_shared_file(std::filesystem::path const& p) {
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return std::optional<ini_sections>();
  std::ifstream in(p, std::ios::binary);
  if (!in)
    return diagnostic(error::file_unreadable, p.string() + ": the AWS shared file cannot be read; check its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse_ini(text.str(), p.string());
  if (!parsed) return parsed.error();
  return std::optional<ini_sections>(std::move(*parsed));
}

LIFTOFF_DECL bool is_key_setting(std::string_view k) noexcept {
  return k == "aws_access_key_id" || k == "aws_secret_access_key" || k == "aws_session_token";
}

LIFTOFF_DECL bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/** "2026-11-28T23:00:00Z", with optional fractional seconds and a "+01:00"
    offset, as AWS writes expirations. */
LIFTOFF_DECL std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  std::string_view rest = std::string_view(s).substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  }
  long offset = 0;
  if (rest == "Z" || rest == "z" || rest.empty()) {
    offset = 0;
  } else if ((rest.front() == '+' || rest.front() == '-') && rest.size() == 6 && rest[3] == ':') {
    int h = 0, m = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &h, &m) != 2) return std::nullopt;
    offset = (rest.front() == '+' ? 1 : -1) * (h * 3600L + m * 60L);
  } else {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto const t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t - offset);
}

/// What one source of the chain found: credentials, or a description of where it looked.
struct lookup {
  std::optional<credentials> found;
  std::string looked;  ///< "not in the environment (AWS_ACCESS_KEY_ID)"
};

LIFTOFF_DECL result<lookup> environment_source(credentials_options const& o) {
  auto const id = o.env("AWS_ACCESS_KEY_ID");
  auto const secret = o.env("AWS_SECRET_ACCESS_KEY");
  if (id.empty() && secret.empty()) return lookup{std::nullopt, "not in the environment (AWS_ACCESS_KEY_ID)"};
  if (id.empty() || secret.empty())
    return diagnostic(error::unauthorized,
                      std::string("the environment sets ") + (id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                          " but not " + (id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                          "; set both, or unset it to use the shared files");
  credentials c;
  c.access_key_id = id;
  c.secret_access_key = secret;
  c.session_token = o.env("AWS_SESSION_TOKEN");
  c.source = "environment (AWS_ACCESS_KEY_ID)";
  return lookup{std::move(c), {}};
}

/// Client settings for the container and instance metadata endpoints: short, so a machine without them fails fast.
LIFTOFF_DECL net::client_options metadata_client_options(credentials_options const& o) {
  auto c = o.client;
  c.signer = nullptr;
  c.connect_timeout = o.metadata_timeout;
  c.request_timeout = 2 * o.metadata_timeout;
  c.max_attempts = 2;
  c.backoff_base = std::min<std::chrono::milliseconds>(c.backoff_base, std::chrono::milliseconds(100));
  return c;
}

/** Reads the credentials JSON of the container endpoint and instance
    metadata: AccessKeyId, SecretAccessKey, Token, Expiration. */
LIFTOFF_DECL result<credentials> parse_credentials_json(std::string const& body, std::string const& where) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  auto const* obj = ec ? nullptr : v.if_object();
  if (!obj)
    return diagnostic(error::protocol_error, where + " answered with something that is not a JSON object of credentials");
  auto str = [&](char const* key) -> std::string {
    auto const* f = obj->if_contains(key);
    return f && f->is_string() ? std::string(f->as_string()) : std::string();
  };
  if (auto code = str("Code"); !code.empty() && code != "Success")
    return diagnostic(error::unauthorized, where + " refused to give credentials: " + code + " " + str("Message"));
  credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return diagnostic(error::protocol_error,
                      where + " answered without AccessKeyId or SecretAccessKey (strings expected)");
  if (auto e = str("Expiration"); !e.empty()) {
    c.expiration = parse_iso8601(e);
    if (!c.expiration)
      return diagnostic(error::protocol_error,
                        where + " answered with Expiration `" + e + "`, not an ISO 8601 time such as 2026-01-01T00:00:00Z");
  }
  c.source = where;
  return c;
}

LIFTOFF_DECL bool allowed_container_host(std::string_view host) {
  return host == "127.0.0.1" || host.starts_with("127.") || host == "localhost" || host == "::1" ||
         host == "[::1]" || host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]" ||
         host == "fd00:ec2::23";
}

LIFTOFF_DECL result<lookup> container_source(credentials_options const& o) {
  auto const full = o.env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  auto const relative = o.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  if (full.empty() && relative.empty())
    return lookup{std::nullopt, "no container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI and "
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI are unset)"};
  std::string const var =
      relative.empty() ? "AWS_CONTAINER_CREDENTIALS_FULL_URI" : "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
  std::string const url = relative.empty() ? full : "http://169.254.170.2" + relative;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || !parsed->has_authority())
    return diagnostic(error::invalid_spec, var + " is not an http(s) URL; set it to the container credentials endpoint");
  if (parsed->scheme() == "http" && !allowed_container_host(parsed->encoded_host()))
    return diagnostic(error::invalid_spec,
                      var + " points at " + std::string(parsed->encoded_host()) +
                          " over plain http; only the loopback address and the ECS/EKS agent addresses "
                          "(169.254.170.2, 169.254.170.23) may be used without https");
  std::string const origin = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_authority());
  std::string target = std::string(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
  std::string const where = "container credentials at " + origin + std::string(parsed->encoded_path()) + " (" + var + ")";

  std::string token;
  if (auto file = o.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      return diagnostic(error::file_unreadable,
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names " + file + ", which cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  } else {
    token = o.env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }

  auto client = net::client::create(origin, metadata_client_options(o));
  if (!client) return diagnostic(client.error().code, where + ": " + client.error().what());
  net::request req;
  req.target = target;
  req.headers.set(boost::beast::http::field::accept, "application/json");
  if (!token.empty()) req.headers.set(boost::beast::http::field::authorization, token);
  auto resp = client->send(std::move(req));
  if (!resp)
    return diagnostic(resp.error().code == make_error_code(error::http_status) ? make_error_code(error::unauthorized)
                                                                               : resp.error().code,
                      where + " could not give credentials: " + resp.error().what());
  auto c = parse_credentials_json(resp->body, where);
  if (!c) return c.error();
  return lookup{std::move(*c), {}};
}

LIFTOFF_DECL result<lookup> instance_metadata_source(credentials_options const& o) {
  if (!o.use_instance_metadata) return lookup{std::nullopt, "instance metadata not tried"};
  if (iequals_ascii(o.env("AWS_EC2_METADATA_DISABLED"), "true"))
    return lookup{std::nullopt, "instance metadata disabled (AWS_EC2_METADATA_DISABLED=true)"};
  auto endpoint = o.env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  while (endpoint.size() > 1 && endpoint.back() == '/') endpoint.pop_back();

  auto client = net::client::create(endpoint, metadata_client_options(o));
  if (!client)
    return diagnostic(error::invalid_spec,
                      "AWS_EC2_METADATA_SERVICE_ENDPOINT: " + client.error().what() + "; set it to an http URL");

  net::request token_req;
  token_req.method = boost::beast::http::verb::put;
  token_req.target = "/latest/api/token";
  token_req.headers.set("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  token_req.idempotent = false;  // one attempt: most machines have no metadata service
  auto token = client->send(std::move(token_req));
  if (!token) return lookup{std::nullopt, "no instance metadata at " + endpoint + " (" + token.error().what() + ")"};

  auto get = [&](std::string target) {
    net::request r;
    r.target = std::move(target);
    r.headers.set("X-aws-ec2-metadata-token", token->body);
    r.check_status = false;
    return client->send(std::move(r));
  };
  std::string const base = "/latest/meta-data/iam/security-credentials/";
  auto roles = get(base);
  if (!roles)
    return diagnostic(roles.error().code, "instance metadata at " + endpoint + ": " + roles.error().what());
  if (roles->status == 404 || (roles->ok() && detail::ini_trim(roles->body).empty()))
    return lookup{std::nullopt, "the instance metadata at " + endpoint + " has no IAM role (attach an instance profile)"};
  if (!roles->ok()) return diagnostic(error::unauthorized, "instance metadata at " + endpoint + ": " + net::http_status_error(*roles).what());
  auto role = std::string(detail::ini_trim(std::string_view(roles->body).substr(0, roles->body.find('\n'))));

  auto const where = "instance metadata at " + endpoint + ", role `" + role + "`";
  auto creds = get(base + role);
  if (!creds) return diagnostic(creds.error().code, where + ": " + creds.error().what());
  if (!creds->ok()) return diagnostic(error::unauthorized, where + ": " + net::http_status_error(*creds).what());
  auto c = parse_credentials_json(creds->body, where);
  if (!c) return c.error();
  return lookup{std::move(*c), {}};
}

/// The region STS is called in for a profile's AssumeRole.
LIFTOFF_DECL std::string sts_region(credentials_options const& o, profile const& p) {
  for (auto const& r : {o.env("AWS_REGION"), o.env("AWS_DEFAULT_REGION"), p.get("region")})
    if (!r.empty()) return r;
  return "us-east-1";
}

LIFTOFF_DECL std::string profile_file(profile const& p) {
  return (p.credentials_file.empty() ? p.config_file : p.credentials_file).string();
}

LIFTOFF_DECL result<lookup> profile_credentials(credentials_options const& o, profile const& p, int depth);

/// The credentials a role profile assumes the role with.
LIFTOFF_DECL result<credentials> role_source(credentials_options const& o, profile const& p, int depth) {
  auto const where = "profile `" + p.name + "` in " + p.config_file.string();
  if (auto sp = p.get("source_profile"); !sp.empty()) {
    if (depth >= 5)
      return diagnostic(error::invalid_spec, where + ": its source_profile chain is longer than 5 profiles or loops; "
                                                     "end it at a profile with keys");
    if (sp == p.name) {
      // A profile may name itself: its own keys assume its role.
      if (p.get("aws_access_key_id").empty() || p.get("aws_secret_access_key").empty())
        return diagnostic(error::unauthorized, where + " names itself as source_profile but has no "
                                                       "aws_access_key_id and aws_secret_access_key");
      credentials c;
      c.access_key_id = p.get("aws_access_key_id");
      c.secret_access_key = p.get("aws_secret_access_key");
      c.session_token = p.get("aws_session_token");
      c.source = "profile `" + p.name + "` in " + profile_file(p);
      return c;
    }
    auto source = load_profile(o, sp);
    if (!source) return source.error();
    if (!*source)
      return diagnostic(error::invalid_spec, where + " names source_profile `" + sp + "`, which is in neither " +
                                                 credentials_file_path(o).string() + " nor " +
                                                 config_file_path(o).string() + "; add that profile");
    auto r = profile_credentials(o, **source, depth + 1);
    if (!r) return r.error();
    if (!r->found)
      return diagnostic(error::unauthorized, where + " names source_profile `" + sp +
                                                 "`, which has no credentials (aws_access_key_id, "
                                                 "aws_secret_access_key); add them");
    return *r->found;
  }
  auto const cs = p.get("credential_source");
  if (cs.empty())
    return diagnostic(error::invalid_spec, where + " has role_arn but neither source_profile nor credential_source; "
                                                   "add one of them");
  result<lookup> r = lookup{};
  if (cs == "Environment") r = environment_source(o);
  else if (cs == "Ec2InstanceMetadata") r = instance_metadata_source(o);
  else if (cs == "EcsContainer") r = container_source(o);
  else
    return diagnostic(error::invalid_spec, where + " has credential_source `" + cs +
                                               "`; expected Environment, Ec2InstanceMetadata or EcsContainer");
  if (!r) return r.error();
  if (!r->found)
    return diagnostic(error::unauthorized,
                      where + " takes its credentials from " + cs + ", which has none: " + r->looked);
  return *r->found;
}

LIFTOFF_DECL result<lookup> profile_credentials(credentials_options const& o, profile const& p, int depth) {
  auto const where = "profile `" + p.name + "` in " + profile_file(p);
  if (auto role = p.get("role_arn"); !role.empty()) {
    auto source = role_source(o, p, depth);
    if (!source) return source.error();
    auto session_name = p.get("role_session_name");
    if (session_name.empty()) session_name = "liftoff";
    std::optional<std::chrono::seconds> duration;
    if (auto d = p.get("duration_seconds"); !d.empty()) {
      char* end = nullptr;
      long secs = std::strtol(d.c_str(), &end, 10);
      if (!end || *end != '\0' || secs <= 0)
        return diagnostic(error::invalid_spec,
                          where + ": duration_seconds is `" + d + "`; expected a number of seconds such as 3600");
      duration = std::chrono::seconds(secs);
    }
    auto c = assume_role_for_profile(o, sts_region(o, p), *source, role, session_name, p.get("external_id"), duration);
    if (!c) return c.error();
    c->source += " (profile `" + p.name + "`)";
    return lookup{std::move(*c), {}};
  }
  auto const id = p.get("aws_access_key_id");
  auto const secret = p.get("aws_secret_access_key");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty())
      return diagnostic(error::unauthorized, where + " has " + (id.empty() ? "aws_secret_access_key" : "aws_access_key_id") +
                                                 " but no " + (id.empty() ? "aws_access_key_id" : "aws_secret_access_key") +
                                                 "; add it (`aws configure --profile " + p.name + "`)");
    credentials c;
    c.access_key_id = id;
    c.secret_access_key = secret;
    c.session_token = p.get("aws_session_token");
    c.source = (p.credentials_file.empty() ? "config file " : "shared credentials file ") + profile_file(p) +
               ", profile `" + p.name + "`";
    return lookup{std::move(c), {}};
  }
  for (auto const* key : {"credential_process", "sso_session", "sso_start_url", "web_identity_token_file"}) {
    if (!p.get(key).empty())
      return diagnostic(error::unsupported,
                        where + " gets its credentials through " + key +
                            ", which liftoff does not run; export them first (`eval \"$(aws configure "
                            "export-credentials --profile " + p.name + " --format env)\"`)");
  }
  return lookup{std::nullopt, "not in " + credentials_file_path(o).string() + " or " + config_file_path(o).string() +
                                  " (profile `" + p.name + "` has no aws_access_key_id)"};
}

LIFTOFF_DECL result<lookup> shared_files_source(credentials_options const& o) {
  auto const name = profile_name(o);
  auto p = load_profile(o, name);
  if (!p) return p.error();
  if (!*p) {
    if (name != "default")
      return diagnostic(error::invalid_spec, profile_origin(o) + " is in neither " +
                                                 credentials_file_path(o).string() + " nor " +
                                                 config_file_path(o).string() +
                                                 "; create it (`aws configure --profile " + name +
                                                 "`) or choose another profile");
    return lookup{std::nullopt, "not in " + credentials_file_path(o).string() + " or " +
                                    config_file_path(o).string() + " (profile `" + name + "`)"};
  }
  return profile_credentials(o, **p, 0);
}

LIFTOFF_DECL result<credentials> resolve_chain(credentials_options const& o) {
  std::vector<std::string> looked;
  using source_fn = result<lookup> (*)(credentials_options const&);
  std::vector<source_fn> sources;
  // A profile chosen by the program (as `aws --profile` does) is not overridden by the environment's keys.
  if (o.profile.empty()) sources.push_back(environment_source);
  sources.push_back(shared_files_source);
  if (o.use_container) sources.push_back(container_source);
  sources.push_back(instance_metadata_source);
  for (auto source : sources) {
    auto r = source(o);
    if (!r) return r.error();
    if (r->found) return std::move(*r->found);
    looked.push_back(std::move(r->looked));
  }
  std::string msg = "no AWS credentials: ";
  for (std::size_t i = 0; i < looked.size(); ++i) msg += (i ? ", " : "") + looked[i];
  msg += "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or choose a profile with AWS_PROFILE";
  return diagnostic(error::unauthorized, std::move(msg));
}

struct chain_state {
  explicit chain_state(credentials_options opts) : o(std::move(opts)) {}
  credentials_options o;
  std::mutex m;
  std::optional<credentials> cached;
};

// clang-format off
inline constexpr std::string_view known_regions[] = {
  "us-east-1", "us-east-2", "us-west-1", "us-west-2",
  "af-south-1",
  "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
  "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
  "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
  "ca-central-1", "ca-west-1",
  "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1",
  "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
  "cn-north-1", "cn-northwest-1",
  "us-gov-east-1", "us-gov-west-1",
};
// clang-format on

LIFTOFF_DECL std::string closest_region(std::string_view region) {
  auto best = closest_match(region, {std::begin(known_regions), std::end(known_regions)},
                            {.max_edits = std::string_view::npos});
  return best.empty() ? std::string("us-east-1") : best;
}

LIFTOFF_DECL std::string endpoint_variable(service_id const& s) {
  std::string v = "AWS_ENDPOINT_URL_";
  for (char c : s.name) v += c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return v;
}

LIFTOFF_DECL bool ignore_configured_endpoints(credentials_options const& o) {
  return iequals_ascii(o.env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true");
}

/// The endpoint configured for `s` (environment, then profile), or "".
LIFTOFF_DECL std::string configured_endpoint(credentials_options const& o, service_id const& s) {
  if (ignore_configured_endpoints(o)) return {};
  for (auto const& v : {o.env(endpoint_variable(s)), o.env("AWS_ENDPOINT_URL")})
    if (!v.empty()) return v;
  auto p = load_profile(o, profile_name(o));
  if (p && *p) return (*p)->get("endpoint_url");
  return {};
}

LIFTOFF_DECL bool has_endpoint_override(credentials_options const& o) {
  for (auto const* s : {&services::sagemaker(), &services::sts(), &services::ecr(), &services::logs()})
    if (!configured_endpoint(o, *s).empty()) return true;
  return false;
}

}  // namespace detail

LIFTOFF_DECL result<std::optional<profile>> load_profile(credentials_options const& o, std::string_view name) {
  auto const cred_path = detail::credentials_file_path(o);
  auto const conf_path = detail::config_file_path(o);
  auto creds = detail::read_shared_file(cred_path);
  if (!creds) return creds.error();
  auto conf = detail::read_shared_file(conf_path);
  if (!conf) return conf.error();

  profile p;
  p.name = std::string(name);
  bool found = false;
  if (*conf) {
    auto const& sections = **conf;
    auto it = sections.find("profile " + p.name);
    if (it == sections.end() && name == "default") it = sections.find("default");
    if (it != sections.end()) {
      p.values = it->second;
      p.config_file = conf_path;
      found = true;
    }
  }
  if (*creds) {
    auto it = (**creds).find(p.name);
    if (it != (**creds).end()) {
      // The config file wins for settings, the credentials file for keys.
      for (auto const& [k, v] : it->second)
        if (detail::is_key_setting(k) || !p.values.contains(k)) p.values[k] = v;
      p.credentials_file = cred_path;
      found = true;
    }
  }
  if (!found) return std::optional<profile>();
  return std::optional<profile>(std::move(p));
}

LIFTOFF_DECL credentials_provider default_credentials_chain(credentials_options o) {
  auto st = std::make_shared<detail::chain_state>(std::move(o));
  return [st]() -> result<credentials> {
    std::lock_guard lock(st->m);
    if (st->cached && !st->cached->expires_within(std::chrono::minutes(5))) return *st->cached;
    auto r = detail::resolve_chain(st->o);
    if (!r) return r.error();
    st->cached = *r;
    return r;
  };
}

LIFTOFF_DECL bool known_region(std::string_view region) {
  return std::find(std::begin(detail::known_regions), std::end(detail::known_regions), region) !=
         std::end(detail::known_regions);
}

LIFTOFF_DECL result<std::string> resolve_region(credentials_options const& o, std::string_view explicit_region) {
  std::string region;
  std::string from;
  if (!explicit_region.empty()) {
    region = std::string(explicit_region);
    from = "the launch spec's resource_args";
  } else if (auto r = o.env("AWS_REGION"); !r.empty()) {
    region = r;
    from = "AWS_REGION";
  } else if (auto d = o.env("AWS_DEFAULT_REGION"); !d.empty()) {
    region = d;
    from = "AWS_DEFAULT_REGION";
  } else {
    auto p = load_profile(o, detail::profile_name(o));
    if (!p) return p.error();
    if (*p && !(*p)->get("region").empty()) {
      region = (*p)->get("region");
      from = "profile `" + (*p)->name + "` in " + detail::profile_file(**p);
    }
  }
  if (region.empty())
    return diagnostic(error::invalid_spec,
                      "no AWS region: none in the launch spec's resource_args, AWS_REGION and AWS_DEFAULT_REGION are "
                      "unset, and " + detail::profile_origin(o) + " in " + detail::config_file_path(o).string() +
                          " has no `region`; set AWS_REGION or the region in resource_args");
  if (known_region(region)) return region;
  if (detail::has_endpoint_override(o)) {
    static boost::regex const shape("[a-z]{2}(-[a-z]+)+-[0-9]+");
    if (boost::regex_match(region, shape)) return region;
    return diagnostic(error::invalid_spec, "AWS region `" + region + "` (from " + from +
                                               ") does not look like a region name such as us-east-1; fix it");
  }
  return diagnostic(error::invalid_spec,
                    "AWS region `" + region + "` (from " + from + ") is not one liftoff knows; did you mean `" +
                        std::string(detail::closest_region(region)) +
                        "`? To reach an endpoint liftoff does not know, set AWS_ENDPOINT_URL_<SERVICE> (such as "
                        "AWS_ENDPOINT_URL_SAGEMAKER) or AWS_ENDPOINT_URL; the region is then not checked");
}

LIFTOFF_DECL credentials_provider shared_credentials_chain(credentials_options const& o) {
  static std::mutex m;
  static std::map<std::string, credentials_provider> cache;
  std::string key = o.profile + "\n" + o.home.string() + "\n" + (o.use_container ? "1" : "0") +
                    (o.use_instance_metadata ? "1" : "0") + "\n" + std::to_string(o.metadata_timeout.count());
  if (o.environment) {
    key += "\nenv";
    for (auto const& [k, v] : *o.environment) key += "\n" + k + "=" + v;
  }
  std::lock_guard lock(m);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  return cache.emplace(key, default_credentials_chain(o)).first->second;
}

namespace services {
LIFTOFF_DECL service_id const& sagemaker() {
  static service_id const s{"SageMaker", "sagemaker", "api.sagemaker", "SageMaker"};
  return s;
}
LIFTOFF_DECL service_id const& sts() {
  static service_id const s{"STS", "sts", "sts", ""};
  return s;
}
LIFTOFF_DECL service_id const& ecr() {
  static service_id const s{"ECR", "ecr", "api.ecr", "AmazonEC2ContainerRegistry_V20150921"};
  return s;
}
LIFTOFF_DECL service_id const& logs() {
  static service_id const s{"CloudWatch Logs", "logs", "logs", "Logs_20140328"};
  return s;
}
}  // namespace services

LIFTOFF_DECL std::string endpoint_url(credentials_options const& o, service_id const& s, std::string_view region) {
  auto configured = detail::configured_endpoint(o, s);
  if (!configured.empty()) {
    while (configured.size() > 1 && configured.back() == '/') configured.pop_back();
    return configured;
  }
  std::string url = "https://" + s.endpoint_prefix + "." + std::string(region) + ".amazonaws.com";
  if (region.starts_with("cn-")) url += ".cn";
  return url;
}

}  // namespace liftoff::aws

#include <liftoff/aws/sts.hpp>

#endif
