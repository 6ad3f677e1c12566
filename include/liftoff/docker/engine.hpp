#ifndef LIFTOFF_DOCKER_ENGINE_HPP
#define LIFTOFF_DOCKER_ENGINE_HPP

/** `liftoff::docker::engine`: a client of the Docker Engine API (images,
    builds, containers, logs) over `liftoff::net`, at `DOCKER_HOST` or
    `unix:///var/run/docker.sock` as the docker CLI finds it, speaking the
    API version negotiated with the engine (API 1.41, Docker 20.10, or newer).

    Every call returns `liftoff::result`; `.value()` throws `liftoff::exception`.
    Failures carry the engine's or the registry's own message. */

#include <liftoff/detail/config.hpp>
#include <liftoff/core/error.hpp>
#include <liftoff/core/run_status.hpp>
#include <liftoff/docker/auth.hpp>
#include <liftoff/docker/detail/log_demux.hpp>
#include <liftoff/net/client.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::docker {

/// Where the engine is when neither `engine_options::host` nor `DOCKER_HOST` says.
inline constexpr std::string_view default_host = "unix:///var/run/docker.sock";
/// The oldest Engine API liftoff speaks (Docker 20.10, Debian 12's docker.io).
inline constexpr std::string_view min_api_version = "1.41";
/// The newest Engine API this client knows; a newer engine is spoken to in this version.
inline constexpr std::string_view max_api_version = "1.45";

/// Receives progress: a pull's per-layer status changes, a build's output lines.
using progress_fn = std::function<void(std::string_view line)>;

/// How to reach the engine, and whether to really send anything.
struct engine_options {
  /** `unix:///path` or `tcp://host[:port]` (port 2375 by default). Empty:
      `$DOCKER_HOST`, else `unix:///var/run/docker.sock`. TLS (`DOCKER_TLS_VERIFY`,
      `DOCKER_CERT_PATH`) and `ssh://` are not supported. */
  std::string host;
  /// The API version to speak, e.g. "1.41". Empty: negotiate with `GET /version`.
  std::string api_version;
  /// Connection, timeout and retry settings. Pulls, builds, waits and log follows are not limited by `request_timeout`.
  net::client_options net;
  /** When set, the engine is in dry-run mode: nothing is sent; each request is
      passed here as `{"method","path"[,"query"][,"headers"][,"body"]}` (`query`
      as an object of decoded parameters, `body` as JSON or a description of a
      stream, `X-Registry-Auth` shown as "REDACTED"). The API version is
      `api_version` or 1.41; reads find nothing (no image, no containers),
      writes succeed (a container id "dry-run", exit code 0). */
  std::function<void(boost::json::object const&)> on_request;
};

/// What `engine::build` builds.
struct build_request {
  std::vector<std::string> tags;               ///< `t`: names for the image ("app:abc123")
  std::string dockerfile;                      ///< path of the Dockerfile inside the context; empty: "Dockerfile"
  std::map<std::string, std::string> labels;   ///< labels on the image
  std::map<std::string, std::string> build_args;  ///< `ARG` values
  std::string platform;                        ///< "linux/amd64"; empty: the engine's
  bool pull = false;                           ///< pull a newer base image even when one is present
  bool no_cache = false;                       ///< do not use the build cache
  std::string network_mode;                    ///< `networkmode` of `RUN` steps ("host"); empty: the engine's default
  std::string target;                          ///< the stage to build; empty: the last
  // BuildKit (`version=2`, see `engine::open_build`):
  int version = 1;           ///< 1: the classic builder; 2: BuildKit
  std::string session;       ///< the id of the session (`POST /session`) that serves the context, for version 2
  std::string remote;        ///< "client-session": the context comes through the session
  std::string build_id;      ///< names the build for `cancel_build`
};

/// What a successful build made.
struct build_result {
  std::string image_id;           ///< "sha256:…"
  std::vector<std::string> tags;  ///< as requested
};

/// What `POST /containers/{id}/wait` waits for.
enum class wait_condition {
  not_running,  ///< the container is not running: returns at once for a container that has exited (or not started)
  next_exit,    ///< the container's next exit: ask before starting it, so a fast exit is not missed
  removed,      ///< the container is removed (with auto-remove)
};

/** The lines of a container's output, as they arrive: the engine's
    stdout/stderr frames demultiplexed (or a TTY container's raw stream), each
    line tagged with its stream. Independent of the engine it came from: it
    may be read on another thread. */
class log_reader {
public:
  log_reader(log_reader&&) noexcept = default;
  log_reader& operator=(log_reader&&) noexcept = default;

  /** The next line, waiting for it when following.
      @return the line (without its "\n"), nullopt at the end of the logs (the
      container stopped, for a follow), or a diagnostic when the stream broke. */
  result<std::optional<log_line>> next();

  /// True when the container has a TTY (its output is one raw stream, all stdout).
  bool tty() const noexcept { return !demux_.multiplexed(); }

  /// Stops reading and closes the connection.
  void close() noexcept;

private:
  friend class engine;
  log_reader(std::optional<net::response_stream> stream, bool multiplexed)
      : stream_(std::move(stream)), demux_(multiplexed) {}

  std::optional<net::response_stream> stream_;  // none in dry-run mode
  detail::log_demuxer demux_;
  bool ended_ = false;
};

/** A wait registered with the engine (see `engine::begin_wait`); `get` blocks
    until the condition holds. Independent of the engine it came from. */
class container_wait {
public:
  container_wait(container_wait&&) noexcept = default;
  container_wait& operator=(container_wait&&) noexcept = default;

  /** Waits for the container. @return its exit code, or a diagnostic with the
      engine's message (the wait failed, the container was removed first…). */
  result<int> get();

private:
  friend class engine;
  container_wait(std::optional<net::response_stream> stream, std::string id)
      : stream_(std::move(stream)), id_(std::move(id)) {}

  std::optional<net::response_stream> stream_;  // none in dry-run mode
  std::string id_;
};

namespace detail {
struct api_call;
/// "1.41" as (1, 41); nullopt when it is not MAJOR.MINOR.
std::optional<std::pair<int, int>> parse_api_version(std::string_view v);
}  // namespace detail

/** A connection to one Docker engine, in one negotiated API version.
    Used from one thread at a time; the streams it hands out (`log_reader`,
    `container_wait`) have connections of their own. */
class engine {
public:
  /** Finds the engine (`options.host`, else `DOCKER_HOST`, else the default
      socket) and negotiates the API version: the `Api-Version` header of
      `HEAD /_ping`, or `GET /version`'s `ApiVersion` when the ping has none,
      then the older of the engine's version and `max_api_version`.
      @return the engine, or a diagnostic: the engine cannot be reached (naming
      the address, where it came from and how to start an engine), it speaks an
      API older than 1.41 (`error::unsupported`), the host is malformed or uses
      an unsupported scheme (`error::invalid_spec`), or the peer is not a
      Docker engine (`error::protocol_error`). */
  static result<engine> connect(engine_options options = {});

  engine(engine&&) noexcept = default;
  engine& operator=(engine&&) noexcept = default;

  /// The negotiated API version, e.g. "1.41".
  std::string const& api_version() const noexcept { return api_version_; }
  /// The engine's address, e.g. "unix:///var/run/docker.sock".
  std::string const& host() const noexcept { return host_; }
  /// True in dry-run mode (`engine_options::on_request` set).
  bool dry_run() const noexcept { return static_cast<bool>(options_.on_request); }

  // ---- images ----------------------------------------------------------------

  /** `GET /images/{name}/json`. @return the engine's image record, nullopt
      when the engine does not have the image, or a diagnostic. */
  result<std::optional<boost::json::object>> inspect_image(std::string_view image);

  /** `POST /images/create?fromImage=…&tag=…[&platform=…]`: pulls `image`,
      with the credentials for its registry from the Docker config (`find_image_auth`).
      @param progress receives a line per layer status change ("a1b2: Pull complete")
      @param platform "os[/arch[/variant]]" to pull, as `docker pull --platform`;
      empty: the engine's own
      @return success, or a diagnostic with the registry's message ("pull access
      denied for …", "manifest unknown"; naming the platform when one was asked
      for) — never the credentials. */
  result<void> pull(std::string_view image, progress_fn progress = {}, std::string_view platform = {});

  /** As the other `pull`, with the credentials given: `auth` null pulls anonymously. */
  result<void> pull(std::string_view image, registry_auth const* auth, progress_fn progress = {},
                    std::string_view platform = {});

  /** `POST /images/{name}/tag`: gives image `source` the name `target` ("repo:tag"). */
  result<void> tag_image(std::string_view source, std::string_view target);

  /** `DELETE /images/{name}`: removes an image name (the image itself once no name is left).
      @param force also when containers use it */
  result<void> remove_image(std::string_view image, bool force = false);

  /** `POST /images/{name}/push?tag=…`: pushes `image` ("registry/repo:tag";
      the engine must have an image of that name) to its registry, that tag only.
      @param auth the credentials; nullopt pushes anonymously (an empty
      `X-Registry-Auth`, `{}`, as the docker CLI sends: the engine requires the header)
      @param progress receives a line per layer status change ("a1b2: Pushed")
      and the engine's other status lines
      @return the manifest digest the registry stored ("sha256:…", from the
      stream's final `aux`; empty in dry-run mode), or `error::push_failed`
      (stage push) naming the image with the registry's message ("unauthorized:
      authentication required", "An image does not exist locally with the tag: …")
      — never the credentials. An unreachable engine keeps its own code. */
  result<std::string> push_image(std::string_view image, std::optional<registry_auth> const& auth,
                                 progress_fn progress = {});

  /** `GET /distribution/{name}/json`: asks `image`'s registry, through the
      engine, for the manifest `image` ("registry/repo:tag" or "…@sha256:…") names.
      @param auth the credentials to ask with; nullopt: anonymously
      @return the manifest's descriptor digest ("sha256:…"); nullopt when the
      registry has no such manifest (the engine's 404, "manifest unknown"), and
      always in dry-run mode; or a diagnostic: `error::unauthorized` (401) or
      `error::forbidden` (403) naming the image and the registry's message,
      `error::http_status` with the engine's message otherwise (a registry that
      does not answer, say). */
  result<std::optional<std::string>> distribution_inspect(std::string_view image,
                                                          std::optional<registry_auth> const& auth = std::nullopt);

  /** `POST /build`: builds an image from a tar stream of the build context,
      sent chunked as `context` produces it (the classic builder; the
      Dockerfile is in the tar).
      @param progress receives each output line ("Step 1/2 : FROM …")
      @param stop when requested, the request is aborted (the engine stops
      the build) and `error::cancelled` returned
      @return the image id, or `error::build_failed` (stage build) naming the
      failing step, the engine's message and the step's last output lines. */
  result<build_result> build(build_request const& request, net::body_reader context, progress_fn progress = {},
                             std::stop_token stop = {});
  /** `POST /build` with `request`'s query and no body (a BuildKit build, whose
      context the session serves), returning once the engine answers 200: the
      body is the stream of JSON messages (`moby.buildkit.trace` with the
      progress, `moby.image.id`, `errorDetail`). An error status fails with
      `error::build_failed` and the engine's message. */
  result<net::response_stream> open_build(build_request const& request);
  /// `POST /build/cancel?id=…`: stops the build named `build_id` (BuildKit).
  result<void> cancel_build(std::string_view build_id);
  /// `GET /networks/{name}`: whether the engine has a network of that name ("bridge").
  result<bool> has_network(std::string_view name);
  /// The engine's address, parsed: where a caller opens a connection of its own (`POST /session`).
  net::endpoint const& endpoint() const noexcept { return endpoint_; }
  /// The connection settings the engine was made with.
  net::client_options const& connection_options() const noexcept { return options_.net; }

  // ---- containers ------------------------------------------------------------

  /** `POST /containers/create[?name=…][&platform=…]`: `config` is the Engine
      API's container config (`Image`, `Cmd`, `Env`, `Labels`, `HostConfig`, …).
      @param name the container's name; empty: the engine picks one
      @param platform "os[/arch[/variant]]" the image must be of, as `docker
      create --platform` (API 1.41); empty: the engine uses whatever image it has
      @return the container id; a missing image (or one the engine has only for
      another platform) fails with a sentence saying so and the engine's message. */
  result<std::string> create_container(boost::json::object const& config, std::string_view name = {},
                                       std::string_view platform = {});

  /// `POST /containers/{id}/start`; starting a running container succeeds.
  result<void> start_container(std::string_view id);

  /** Registers a wait (`POST /containers/{id}/wait?condition=…`) and returns
      once the engine has it, before it holds: `begin_wait(id, next_exit)`,
      then `start_container`, then `get()` cannot miss an exit however fast. */
  result<container_wait> begin_wait(std::string_view id, wait_condition condition = wait_condition::next_exit);

  /** Waits for the container and returns its exit code. With the default
      `not_running`, a container that has already exited answers at once. */
  result<int> wait_container(std::string_view id, wait_condition condition = wait_condition::not_running);

  /** `GET /containers/{id}/logs?stdout=1&stderr=1[&follow=1]`.
      @param follow keep streaming until the container stops
      @param tty whether the container was created with a TTY, when the
      caller knows: below API 1.42 the engine does not say whether the
      stream is multiplexed, and without it `logs` inspects the container
      (`GET /containers/{id}/json`) to learn it. Ignored from API 1.42.
      @return a reader of the lines, tagged stdout/stderr. */
  result<log_reader> logs(std::string_view id, bool follow, std::optional<bool> tty = std::nullopt);

  /** `POST /containers/{id}/stop?t=N`: SIGTERM (or the image's stop signal),
      then SIGKILL after `grace`. Stopping a stopped container succeeds. */
  result<void> stop_container(std::string_view id, std::chrono::seconds grace);

  /** `POST /containers/{id}/kill?signal=…`. @param signal "SIGKILL", "SIGTERM", "9" */
  result<void> kill_container(std::string_view id, std::string_view signal = "SIGKILL");

  /** `DELETE /containers/{id}?v=1[&force=1]`: removes the container and its anonymous volumes.
      @param force kill it first if it runs */
  result<void> remove_container(std::string_view id, bool force = false);

  /** `GET /containers/{id}/json`: the container's record (`State.ExitCode`,
      `State.OOMKilled`, `Config.Labels`, …). A missing container fails with
      `error::http_status` ("no such container"). */
  result<boost::json::object> inspect_container(std::string_view id);

  /** `GET /containers/json`: the containers carrying every label in `labels`
      ("liftoff.run-id=abc" or just "liftoff.run-id").
      @param all include stopped containers */
  result<std::vector<boost::json::object>> list_containers(std::vector<std::string> const& labels = {},
                                                           bool all = true);

private:
  engine() = default;

  std::string target(detail::api_call const& call) const;
  void record(detail::api_call const& call) const;
  net::request make_request(detail::api_call const& call) const;
  diagnostic unreachable(diagnostic const& d) const;
  diagnostic engine_error(net::response const& r, std::string const& what) const;
  result<net::response> send(detail::api_call const& call, net::client& c);
  result<net::response> send(detail::api_call const& call) { return send(call, *client_); }
  result<net::response_stream> open(detail::api_call const& call);
  net::client stream_client() const;
  diagnostic stream_error(net::response_stream& s, std::string const& what) const;

  engine_options options_;
  net::endpoint endpoint_;
  std::string host_;
  std::string host_origin_;  // "the default; …", "from DOCKER_HOST", or empty
  std::string api_version_;
  std::optional<net::client> client_;
};

}  // namespace liftoff::docker

#if LIFTOFF_HEADER_ONLY
#include <liftoff/docker/impl/engine.ipp>
#endif

#endif
