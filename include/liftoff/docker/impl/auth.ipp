#ifndef LIFTOFF_DOCKER_IMPL_AUTH_IPP
#define LIFTOFF_DOCKER_IMPL_AUTH_IPP

#include <liftoff/docker/auth.hpp>

#include <liftoff/detail/base64.hpp>
#include <liftoff/docker/reference.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace liftoff::docker {

LIFTOFF_DECL std::filesystem::path docker_config_file() {
  if (char const* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::filesystem::path(dir) / "config.json";
  char const* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".docker" / "config.json";
}

LIFTOFF_DECL std::string registry_of_auth_key(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"})
    if (key.starts_with(scheme)) key.remove_prefix(scheme.size());
  key = key.substr(0, key.find('/'));
  std::string host(key);
  if (host == "index.docker.io" || host == "registry-1.docker.io" || host == "registry.hub.docker.com")
    return std::string(default_registry);
  return host;
}

LIFTOFF_DECL result<std::optional<registry_auth>> find_registry_auth(std::string_view registry,
                                                               std::filesystem::path const& config_file) {
  auto const path = config_file.empty() ? docker_config_file() : config_file;
  std::error_code fs_ec;
  if (!std::filesystem::exists(path, fs_ec)) return std::optional<registry_auth>{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return diagnostic(error::file_unreadable, "cannot read the Docker config " + path.string());
  std::ostringstream text;
  text << in.rdbuf();

  boost::system::error_code ec;
  auto doc = boost::json::parse(text.str(), ec);
  if (ec || !doc.is_object())
    return diagnostic(error::parse_error, "the Docker config " + path.string() + " is not a JSON object" +
                                              (ec ? ": " + ec.message() : std::string()));
  auto const* auths = doc.as_object().if_contains("auths");
  if (!auths) return std::optional<registry_auth>{};
  if (!auths->is_object())
    return diagnostic(error::parse_error, "the Docker config " + path.string() + ": 'auths' is not an object");

  // An exact key first (what `docker login <registry>` writes), then any key naming the same host.
  boost::json::object const* entry = nullptr;
  std::string key;
  for (auto const& kv : auths->as_object())
    if (kv.key() == registry && kv.value().is_object()) {
      entry = &kv.value().as_object();
      key = kv.key();
    }
  if (!entry)
    for (auto const& kv : auths->as_object())
      if (kv.value().is_object() && registry_of_auth_key(kv.key()) == registry) {
        entry = &kv.value().as_object();
        key = kv.key();
        break;
      }
  if (!entry) return std::optional<registry_auth>{};

  auto field = [&](char const* name) -> std::string {
    auto const* v = entry->if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  registry_auth auth;
  auth.server_address = key;
  auth.identity_token = field("identitytoken");
  if (auto encoded = field("auth"); !encoded.empty()) {
    auto decoded = liftoff::detail::base64_decode(encoded);
    auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return diagnostic(error::parse_error, "the Docker config " + path.string() + ": auths." + key +
                                                ".auth is not base64 of \"user:password\"");
    auth.username = decoded->substr(0, colon);
    auth.password = decoded->substr(colon + 1);
  } else {
    auth.username = field("username");
    auth.password = field("password");
  }
  // An entry without credentials is what a credential helper leaves behind: anonymous to us.
  if (auth.username.empty() && auth.password.empty() && auth.identity_token.empty())
    return std::optional<registry_auth>{};
  return std::optional<registry_auth>(std::move(auth));
}

LIFTOFF_DECL result<std::optional<registry_auth>> find_image_auth(std::string_view image,
                                                            std::filesystem::path const& config_file) {
  auto ref = parse_image_reference(image);
  if (!ref) return ref.error();
  return find_registry_auth(ref->domain, config_file);
}

LIFTOFF_DECL std::string registry_auth_header(registry_auth const& auth) {
  boost::json::object o;
  if (!auth.identity_token.empty()) {
    o["identitytoken"] = auth.identity_token;
  } else {
    o["username"] = auth.username;
    o["password"] = auth.password;
  }
  o["serveraddress"] = auth.server_address;
  return liftoff::detail::base64url_encode(boost::json::serialize(o));
}

}  // namespace liftoff::docker

#endif
