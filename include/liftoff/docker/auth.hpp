#ifndef LIFTOFF_DOCKER_AUTH_HPP
#define LIFTOFF_DOCKER_AUTH_HPP

/** Registry credentials as the docker CLI keeps them: the `auths` section of
    `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), and the
    `X-Registry-Auth` header value the Engine API takes them in.

    Credential helpers (`credsStore`, `credHelpers`) are not run: a registry
    whose credentials live only in a helper is treated as anonymous. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff::docker {

/** Credentials for one registry: a user name and password, or an identity
    token (an OAuth refresh token from `docker login` with a token service).
    Never printed: error messages name the registry, not the values. */
struct registry_auth {
  std::string username;
  std::string password;
  std::string identity_token;
  std::string server_address;  ///< the `auths` key they were found under, e.g. "https://index.docker.io/v1/"
};

/// `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set, else `$HOME/.docker/config.json`.
std::filesystem::path docker_config_file();

/** The registry host a `auths` key names: "https://index.docker.io/v1/" is
    "docker.io", "http://localhost:5000/v2/" is "localhost:5000". */
std::string registry_of_auth_key(std::string_view key);

/** Looks up the credentials for `registry` (a host as `image_reference::domain`
    spells it: "docker.io", "localhost:5000") in `config_file`'s `auths`.
    `auth` (base64 "user:password") is preferred; else `username`/`password`;
    `identitytoken` is taken alongside either.

    @param config_file empty: `docker_config_file()`
    @return the credentials, nullopt when the file or an entry for the registry
    does not exist, or `error::parse_error` naming the file (and the registry
    for a malformed `auth`) — never the values. */
result<std::optional<registry_auth>> find_registry_auth(std::string_view registry,
                                                        std::filesystem::path const& config_file = {});

/** As `find_registry_auth`, for the registry of image reference `image`
    (parsed with `parse_image_reference`; a malformed reference fails with
    `error::invalid_spec`). */
result<std::optional<registry_auth>> find_image_auth(std::string_view image,
                                                     std::filesystem::path const& config_file = {});

/** The value of the Engine API's `X-Registry-Auth` header: base64url (with
    padding) of `{"username","password","serveraddress"}`, or of
    `{"identitytoken","serveraddress"}` when there is an identity token. */
std::string registry_auth_header(registry_auth const& auth);

}  // namespace liftoff::docker

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/auth.ipp>
#endif

#endif
