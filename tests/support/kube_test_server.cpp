#include "support/kube_test_server.hpp"

#include "support/net_test_server.hpp"
#include "support/test_support.hpp"

#include <liftoff/detail/base64.hpp>
#include <liftoff/kube/schema.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace liftoff::test {

namespace json = boost::json;
using clock_type = std::chrono::system_clock;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Scripts

namespace scripts {
namespace {
pod_step step(pod_step::action a, std::chrono::milliseconds delay, std::string reason = {}, std::string message = {},
              int exit_code = 0) {
  return pod_step{a, delay, std::move(reason), std::move(message), exit_code};
}
void add_lines(pod_script& s, std::vector<std::string> const& lines) {
  for (auto const& l : lines) s.push_back(step(pod_step::action::log, 5ms, {}, l));
}
}  // namespace

pod_script succeed(std::vector<std::string> lines, int exit_code) {
  pod_script s{step(pod_step::action::schedule, 10ms), step(pod_step::action::run, 20ms)};
  add_lines(s, lines);
  s.push_back(step(pod_step::action::terminate, 20ms, exit_code == 0 ? "Completed" : "Error", {}, exit_code));
  return s;
}

pod_script fail(int exit_code, std::vector<std::string> lines) { return succeed(std::move(lines), exit_code); }

pod_script image_pull_backoff(std::string image) {
  return {step(pod_step::action::schedule, 10ms),
          step(pod_step::action::waiting, 20ms, "ErrImagePull",
               "failed to pull and unpack image \"" + image + "\": not found"),
          step(pod_step::action::waiting, 20ms, "ImagePullBackOff", "Back-off pulling image \"" + image + "\"")};
}

pod_script oom_killed() {
  return {step(pod_step::action::schedule, 10ms), step(pod_step::action::run, 20ms),
          step(pod_step::action::terminate, 20ms, "OOMKilled", {}, 137)};
}

pod_script evicted() {
  return {step(pod_step::action::schedule, 10ms), step(pod_step::action::run, 20ms),
          step(pod_step::action::evict, 20ms, "EvictionByEvictionAPI", "Eviction API: evicting")};
}

pod_script unschedulable_then_run(std::string message) {
  pod_script s{step(pod_step::action::unschedulable, 10ms, "Unschedulable", std::move(message)),
               step(pod_step::action::hold, 100ms)};
  auto rest = succeed();
  s.insert(s.end(), rest.begin(), rest.end());
  return s;
}

pod_script run_forever(std::vector<std::string> lines) {
  pod_script s{step(pod_step::action::schedule, 10ms), step(pod_step::action::run, 20ms)};
  add_lines(s, lines);
  return s;
}
}  // namespace scripts

// ---------------------------------------------------------------------------
// The document, loaded once per process

namespace {

std::filesystem::path swagger_path() { return specs_dir() / "k8s" / "swagger.json"; }

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

struct operation {
  json::object const* op = nullptr;
  std::set<std::string> query;  ///< declared query parameters
  std::string kind;             ///< x-kubernetes-group-version-kind
};

struct path_template {
  std::string text;
  std::vector<std::string> segments;  ///< after the leading '/'
  std::map<std::string, operation> methods;
  int literals = 0;
};

struct spec_document {
  std::string text;
  json::value doc;
  std::optional<kube::schema> schema;
  std::vector<path_template> paths;
};

bool is_placeholder(std::string const& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

spec_document load_document() {
  spec_document d;
  d.text = read_file(swagger_path());
  d.doc = json::parse(d.text);
  auto parsed = kube::schema::parse(d.doc);
  if (!parsed) throw std::runtime_error("kube_test_server: " + swagger_path().string() + " is not a usable OpenAPI v2 document");
  d.schema.emplace(std::move(*parsed));
  auto const& root = d.doc.as_object();
  json::object const* shared = root.if_contains("parameters") ? root.at("parameters").if_object() : nullptr;
  auto query_names = [&](json::value const* params, std::set<std::string>& out) {
    if (!params || !params->is_array()) return;
    for (auto const& p : params->as_array()) {
      json::object const* param = p.if_object();
      if (!param) continue;
      if (auto const* ref = param->if_contains("$ref"); ref && ref->is_string() && shared) {
        std::string_view r = ref->as_string();
        constexpr std::string_view prefix = "#/parameters/";
        if (r.starts_with(prefix)) {
          auto const* target = shared->if_contains(r.substr(prefix.size()));
          param = target ? target->if_object() : nullptr;
        }
      }
      if (!param) continue;
      auto const* in = param->if_contains("in");
      auto const* name = param->if_contains("name");
      if (in && name && in->is_string() && name->is_string() && in->as_string() == "query")
        out.insert(std::string(name->as_string()));
    }
  };
  for (auto const& [path, item] : root.at("paths").as_object()) {
    path_template t;
    t.text = std::string(path);
    t.segments = split(std::string_view(path).substr(1), '/');
    for (auto const& s : t.segments) t.literals += is_placeholder(s) ? 0 : 1;
    auto const& ops = item.as_object();
    std::set<std::string> common;
    query_names(ops.if_contains("parameters"), common);
    for (auto const& [method, op] : ops) {
      if (method == "parameters" || !op.is_object()) continue;
      operation o;
      o.op = &op.as_object();
      o.query = common;
      query_names(op.as_object().if_contains("parameters"), o.query);
      if (auto const* gvk = op.as_object().if_contains("x-kubernetes-group-version-kind"); gvk && gvk->is_object())
        if (auto const* k = gvk->as_object().if_contains("kind"); k && k->is_string()) o.kind = std::string(k->as_string());
      t.methods.emplace(std::string(method), std::move(o));
    }
    d.paths.push_back(std::move(t));
  }
  // The most specific template first: literal segments win over placeholders.
  std::stable_sort(d.paths.begin(), d.paths.end(), [](auto const& a, auto const& b) { return a.literals > b.literals; });
  return d;
}

spec_document const& document() {
  static spec_document const d = load_document();
  return d;
}

bool template_matches(path_template const& t, std::vector<std::string> const& segs) {
  std::size_t i = 0;
  for (; i < t.segments.size(); ++i) {
    auto const& ts = t.segments[i];
    if (ts == "{path}") return i < segs.size();  // the rest of the path
    if (i >= segs.size()) return false;
    if (is_placeholder(ts)) {
      if (segs[i].empty()) return false;
    } else if (ts != segs[i]) {
      return false;
    }
  }
  return i == segs.size();
}

// ---------------------------------------------------------------------------
// Small helpers

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string rfc3339(clock_type::time_point t) {
  std::time_t tt = clock_type::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string rfc3339_nano(clock_type::time_point t) {
  auto s = rfc3339(t);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() % 1000000000;
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns));
  s.insert(s.size() - 1, frac);
  return s;
}

std::optional<clock_type::time_point> parse_rfc3339(std::string const& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto t = clock_type::from_time_t(timegm(&tm));
  std::string_view rest = std::string_view(s).substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    long long ns = 0;
    int digits = 0;
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      if (digits < 9) ns = ns * 10 + (rest.front() - '0'), ++digits;
      rest.remove_prefix(1);
    }
    for (; digits < 9; ++digits) ns *= 10;
    t += std::chrono::duration_cast<clock_type::duration>(std::chrono::nanoseconds(ns));
  }
  return t;
}

json::object* child(json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v ? v->if_object() : nullptr;
}
json::object const* child(json::object const& o, std::string_view k) {
  auto const* v = o.if_contains(k);
  return v ? v->if_object() : nullptr;
}
json::object& ensure(json::object& o, std::string_view k) {
  auto& v = o[k];
  if (!v.is_object()) v = json::object();
  return v.as_object();
}
json::array& ensure_array(json::object& o, std::string_view k) {
  auto& v = o[k];
  if (!v.is_array()) v = json::array();
  return v.as_array();
}
std::string text(json::object const& o, std::string_view k) {
  auto const* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
std::string meta(json::object const& o, std::string_view k) {
  auto const* m = child(o, "metadata");
  return m ? text(*m, k) : std::string();
}
std::int64_t number(json::object const& o, std::string_view k, std::int64_t fallback) {
  auto const* v = o.if_contains(k);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return fallback;
}

bool truthy(std::string const& v) { return v == "true" || v == "1"; }

std::optional<std::uint64_t> to_uint(std::string const& s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Label selectors: k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b).
struct requirement {
  enum class op { eq, neq, exists, not_exists, in, notin };
  std::string key;
  op what = op::exists;
  std::vector<std::string> values;
};
using selector = std::vector<requirement>;

std::optional<selector> parse_label_selector(std::string_view s) {
  selector out;
  std::vector<std::string> terms;
  int depth = 0;
  std::string current;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (depth != 0) return std::nullopt;
  terms.push_back(current);
  for (auto const& raw : terms) {
    auto t = trim(raw);
    if (t.empty()) {
      if (terms.size() == 1) return out;  // the empty selector matches everything
      return std::nullopt;
    }
    requirement r;
    if (auto open = t.find('('); open != std::string::npos) {
      if (t.back() != ')') return std::nullopt;
      std::istringstream head(t.substr(0, open));
      std::string op;
      head >> r.key >> op;
      if (op == "in") r.what = requirement::op::in;
      else if (op == "notin") r.what = requirement::op::notin;
      else return std::nullopt;
      for (auto const& v : split(std::string_view(t).substr(open + 1, t.size() - open - 2), ',')) r.values.push_back(trim(v));
    } else if (t.front() == '!') {
      r.key = trim(t.substr(1));
      r.what = requirement::op::not_exists;
    } else if (auto ne = t.find("!="); ne != std::string::npos) {
      r.key = trim(t.substr(0, ne));
      r.what = requirement::op::neq;
      r.values.push_back(trim(t.substr(ne + 2)));
    } else if (auto eq = t.find('='); eq != std::string::npos) {
      r.key = trim(t.substr(0, eq));
      r.what = requirement::op::eq;
      r.values.push_back(trim(t.substr(t.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1)));
    } else {
      r.key = t;
    }
    if (r.key.empty() || r.key.find_first_of(" =!()") != std::string::npos) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

bool labels_match(selector const& sel, json::object const& obj) {
  json::object const* labels = nullptr;
  if (auto const* m = child(obj, "metadata")) labels = child(*m, "labels");
  for (auto const& r : sel) {
    json::value const* v = labels ? labels->if_contains(r.key) : nullptr;
    std::optional<std::string> value;
    if (v && v->is_string()) value = std::string(v->as_string());
    bool in = value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    switch (r.what) {
      case requirement::op::eq:
      case requirement::op::in:
        if (!in) return false;
        break;
      case requirement::op::neq:
      case requirement::op::notin:
        if (in) return false;
        break;
      case requirement::op::exists:
        if (!value) return false;
        break;
      case requirement::op::not_exists:
        if (value) return false;
        break;
    }
  }
  return true;
}

// Field selectors: dotted paths with =, == or != (metadata.name=x, status.phase!=Running).
struct field_requirement {
  std::vector<std::string> path;
  bool equal = true;
  std::string value;
};

std::optional<std::vector<field_requirement>> parse_field_selector(std::string_view s) {
  std::vector<field_requirement> out;
  if (trim(s).empty()) return out;
  for (auto const& raw : split(s, ',')) {
    auto t = trim(raw);
    field_requirement r;
    std::size_t cut = 0, len = 0;
    if (auto ne = t.find("!="); ne != std::string::npos) r.equal = false, cut = ne, len = 2;
    else if (auto eq2 = t.find("=="); eq2 != std::string::npos) cut = eq2, len = 2;
    else if (auto eq = t.find('='); eq != std::string::npos) cut = eq, len = 1;
    else return std::nullopt;
    r.path = split(trim(t.substr(0, cut)), '.');
    r.value = trim(t.substr(cut + len));
    out.push_back(std::move(r));
  }
  return out;
}

bool fields_match(std::vector<field_requirement> const& sel, json::object const& obj) {
  for (auto const& r : sel) {
    json::object const* o = &obj;
    std::string value;
    for (std::size_t i = 0; o && i < r.path.size(); ++i) {
      if (i + 1 == r.path.size()) value = text(*o, r.path[i]);
      else o = child(*o, r.path[i]);
    }
    if ((value == r.value) != r.equal) return false;
  }
  return true;
}

// DNS-1123 subdomain (object names) and label (container names).
bool dns_subdomain(std::string const& s, std::size_t max = 253) {
  if (s.empty() || s.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}
bool dns_label(std::string const& s) { return dns_subdomain(s, 63) && s.find('.') == std::string::npos; }

bool label_value_ok(std::string const& v) {
  if (v.empty()) return true;
  if (v.size() > 63) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  if (!alnum(v.front()) || !alnum(v.back())) return false;
  return std::all_of(v.begin(), v.end(), [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}
bool label_key_ok(std::string const& k) {
  auto slash = k.find('/');
  if (slash == std::string::npos) return !k.empty() && label_value_ok(k);
  auto prefix = k.substr(0, slash), name = k.substr(slash + 1);
  return dns_subdomain(prefix) && !name.empty() && label_value_ok(name);
}

struct cause {
  std::string field;
  std::string message;
  std::string reason = "FieldValueInvalid";
};

void check_labels(json::object const& metadata, std::string const& where, std::vector<cause>& out) {
  auto const* labels = child(metadata, "labels");
  if (!labels) return;
  for (auto const& [k, v] : *labels) {
    std::string key(k);
    if (!label_key_ok(key))
      out.push_back({where, "Invalid value: \"" + key +
                                "\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
                                "and end with an alphanumeric character (at most 63 characters)"});
    if (v.is_string() && !label_value_ok(std::string(v.as_string())))
      out.push_back({where, "Invalid value: \"" + std::string(v.as_string()) +
                                "\": a valid label must be an empty string or consist of alphanumeric characters, '-', "
                                "'_' or '.', and must start and end with an alphanumeric character (at most 63 "
                                "characters)"});
  }
}

// The checks of the API server's own validation that the OpenAPI document cannot express.
void check_pod_spec(json::object const& spec, std::string const& where, std::vector<cause>& out) {
  auto const* containers = spec.if_contains("containers");
  if (!containers || !containers->is_array() || containers->as_array().empty()) {
    out.push_back({where + ".containers", "Required value", "FieldValueRequired"});
    return;
  }
  std::size_t i = 0;
  for (auto const& c : containers->as_array()) {
    auto at = where + ".containers[" + std::to_string(i++) + "]";
    auto const* o = c.if_object();
    if (!o) continue;
    auto name = text(*o, "name");
    if (!dns_label(name))
      out.push_back({at + ".name", "Invalid value: \"" + name +
                                       "\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
                                       "characters or '-', and must start and end with an alphanumeric character"});
    if (text(*o, "image").empty()) out.push_back({at + ".image", "Required value", "FieldValueRequired"});
  }
}

std::string random_suffix(std::mt19937_64& rng, std::size_t n = 5) {
  // The alphabet of the API server's generateName (no vowels, no confusable characters).
  static constexpr std::string_view alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[pick(rng)];
  return s;
}

std::string random_uid(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    int v = nibble(rng);
    if (i == 12) v = 4;
    if (i == 16) v = 8 | (v & 3);
    s += "0123456789abcdef"[v];
  }
  return s;
}

json::object make_status(unsigned code, std::string_view reason, std::string message, json::object details = {}) {
  json::object s{{"kind", "Status"},     {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
                 {"message", message}, {"reason", reason},   {"code", static_cast<std::int64_t>(code)}};
  if (!details.empty()) s["details"] = std::move(details);
  return s;
}

// A request's resource, read from the path and the template it matched.
struct route {
  path_template const* tmpl = nullptr;
  operation const* op = nullptr;
  std::string method;  ///< lower case
  std::string group;   ///< "" for the core group
  std::string version;
  std::string plural;
  std::string ns;  ///< "" for cluster-scoped or all-namespaces requests
  bool namespaced = false;
  std::string name;
  std::string sub;  ///< subresource ("log", "status") or ""
  bool watch_path = false;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  /// "jobs.batch", "pods": the store's key and the API server's name for messages.
  std::string resource() const { return group.empty() ? plural : plural + "." + group; }
};

std::optional<route> read_route(path_template const& t, std::vector<std::string> const& segs) {
  route r;
  r.tmpl = &t;
  std::size_t i = 0;
  if (t.segments.size() >= 2 && t.segments[0] == "api") {
    r.version = segs[1];
    i = 2;
  } else if (t.segments.size() >= 3 && t.segments[0] == "apis") {
    r.group = segs[1];
    r.version = segs[2];
    i = 3;
  } else {
    return std::nullopt;
  }
  if (i < t.segments.size() && t.segments[i] == "watch") r.watch_path = true, ++i;
  if (i + 1 < t.segments.size() && t.segments[i] == "namespaces" && t.segments[i + 1] == "{namespace}") {
    r.ns = segs[i + 1];
    r.namespaced = true;
    i += 2;
  }
  if (i >= t.segments.size() || is_placeholder(t.segments[i])) return std::nullopt;
  r.plural = t.segments[i++];
  if (i < t.segments.size() && t.segments[i] == "{name}") r.name = segs[i++];
  if (i < t.segments.size()) r.sub = t.segments[i];
  return r;
}

struct event {
  std::uint64_t rv = 0;
  std::string type;
  std::string resource;
  std::string ns;
  json::object object;
};

struct store_key {
  std::string resource, ns, name;
  auto operator<=>(store_key const&) const = default;
};

struct log_line {
  clock_type::time_point at;
  std::string text;
};

/// What a Pod's script produced so far, kept beside the Pod object.
struct pod_runtime {
  std::string container;
  std::vector<log_line> lines;
  bool scheduled = false;
  bool running = false;
  bool terminated = false;
  bool deleted = false;
  std::string waiting_reason;
};

std::string resource_kind_name(std::string const& resource) {
  auto dot = resource.find('.');
  return dot == std::string::npos ? resource : resource.substr(0, dot);
}

}  // namespace

// ---------------------------------------------------------------------------
// The server

struct kube_test_server::impl {
  options opts;
  test_ca server_ca;
  pem_pair server_cert;
  std::string client_ca;
  spec_document const& spec;

  mutable std::mutex mutex;
  std::condition_variable changed;  // store writes, log lines, stop, drop_streams
  bool stopping = false;
  std::uint64_t drop_generation = 0;
  std::uint64_t rv = 0;
  std::uint64_t floor = 0;  // every event after this resourceVersion is in `history`
  std::deque<event> history;
  std::map<store_key, json::object> store;
  std::map<std::string, std::shared_ptr<pod_runtime>> runtimes;  // "ns/name"
  std::vector<kube_request> reqs;
  std::vector<std::string> viols;
  std::function<pod_script(json::object const&)> script = [](json::object const&) { return scripts::succeed(); };
  std::vector<std::thread> job_threads;
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<net_test_server> net;

  explicit impl(options o) : opts(std::move(o)), spec(document()) {
    server_cert = server_ca.issue_server({"localhost"}, {"127.0.0.1"});
    if (opts.client_ca_pem) client_ca = opts.client_ca_pem->empty() ? server_ca.cert_pem() : *opts.client_ca_pem;
  }

  // --- store (all under `mutex`) ---------------------------------------

  std::string next_rv() { return std::to_string(++rv); }

  void emit(std::string type, std::string const& resource, std::string const& ns, json::object const& obj) {
    history.push_back({rv, std::move(type), resource, ns, obj});
    while (history.size() > opts.history) {
      floor = history.front().rv;
      history.pop_front();
    }
    changed.notify_all();
  }

  void self_check(json::object const& obj) {
#ifndef NDEBUG
    auto problems = spec.schema->validate(obj);
    if (!problems.empty())
      viols.push_back("kube_test_server made an invalid " + text(obj, "kind") + " \"" + meta(obj, "name") +
                      "\" (a bug of the test server): " + problems.front().path + ": " + problems.front().message);
#else
    (void)obj;
#endif
  }

  /// Stores a new version of `obj` under `k` and emits `type`.
  void write(store_key const& k, json::object obj, std::string const& type) {
    ensure(obj, "metadata")["resourceVersion"] = next_rv();
    self_check(obj);
    auto& slot = store[k];
    slot = std::move(obj);
    emit(type, k.resource, k.ns, slot);
  }

  void erase(store_key const& k) {
    auto it = store.find(k);
    if (it == store.end()) return;
    auto obj = std::move(it->second);
    store.erase(it);
    ensure(obj, "metadata")["resourceVersion"] = next_rv();
    emit("DELETED", k.resource, k.ns, obj);
    if (k.resource == "pods")
      if (auto rt = runtimes.find(k.ns + "/" + k.name); rt != runtimes.end()) {
        rt->second->deleted = true;
        runtimes.erase(rt);
      }
  }

  void add_namespace_locked(std::string const& name) {
    store_key k{"namespaces", "", name};
    if (store.count(k)) return;
    json::object ns{{"kind", "Namespace"},
                    {"apiVersion", "v1"},
                    {"metadata",
                     {{"name", name},
                      {"uid", random_uid(rng)},
                      {"creationTimestamp", rfc3339(clock_type::now())},
                      {"labels", {{"kubernetes.io/metadata.name", name}}}}},
                    {"spec", {{"finalizers", json::array{"kubernetes"}}}},
                    {"status", {{"phase", "Active"}}}};
    write(k, std::move(ns), "ADDED");
  }

  bool namespace_exists(std::string const& ns) const { return store.count({"namespaces", "", ns}) != 0; }

  // --- authentication and authorisation ---------------------------------

  /// The user, or "" when the request carries no accepted credentials.
  std::string authenticate(net_server_request const& req, std::string& identity) const {
    if (!req.client_cert_subject.empty() && !client_ca.empty()) {
      // "/CN=carol/O=…" from X509_NAME_oneline; the TLS layer has verified it against the client CA.
      auto const& s = req.client_cert_subject;
      if (auto pos = s.find("CN="); pos != std::string::npos) {
        auto end = s.find('/', pos);
        auto cn = s.substr(pos + 3, end == std::string::npos ? std::string::npos : end - pos - 3);
        identity = "cert:" + cn;
        return cn;
      }
    }
    auto auth = req.header("authorization");
    constexpr std::string_view bearer = "Bearer ";
    if (auth.size() > bearer.size() && std::string_view(auth).substr(0, bearer.size()) == bearer) {
      auto token = auth.substr(bearer.size());
      for (auto const& [t, user] : opts.tokens)
        if (t == token) {
          identity = "token:" + user;
          return user;
        }
    }
    return {};
  }

  static std::string verb_of(route const& r, bool watch) {
    if (r.method == "get") return r.name.empty() ? (watch ? "watch" : "list") : "get";
    if (r.method == "post") return "create";
    if (r.method == "delete") return r.name.empty() ? "deletecollection" : "delete";
    if (r.method == "put") return "update";
    return r.method;
  }

  static json::object forbidden(route const& r, std::string const& user, bool watch) {
    auto resource = r.plural + (r.sub.empty() ? "" : "/" + r.sub);
    std::string msg = r.resource();
    if (!r.name.empty()) msg += " \"" + r.name + "\"";
    msg += " is forbidden: User \"" + user + "\" cannot " + verb_of(r, watch) + " resource \"" + resource +
           "\" in API group \"" + r.group + "\"";
    msg += r.ns.empty() ? " at the cluster scope" : " in the namespace \"" + r.ns + "\"";
    json::object details{{"group", r.group}, {"kind", r.plural}};
    if (!r.name.empty()) details["name"] = r.name;
    return make_status(403, "Forbidden", msg, std::move(details));
  }

  // --- responses -----------------------------------------------------------

  static void send_json(net_exchange& ex, unsigned code, json::object const& body, net_header_list extra = {}) {
    extra.emplace_back("Content-Type", "application/json");
    ex.respond(code, json::serialize(body) + "\n", extra);
  }

  static void send_status(net_exchange& ex, json::object const& status) {
    send_json(ex, static_cast<unsigned>(status.at("code").as_int64()), status);
  }

  static json::object not_found(route const& r, std::string const& name) {
    return make_status(404, "NotFound", r.resource() + " \"" + name + "\" not found",
                       {{"name", name}, {"group", r.group}, {"kind", r.plural}});
  }

  static json::object namespace_not_found(std::string const& ns) {
    return make_status(404, "NotFound", "namespaces \"" + ns + "\" not found", {{"name", ns}, {"kind", "namespaces"}});
  }

  // --- the handler -------------------------------------------------------

  void handle(net_exchange& ex) {
    auto const& req = ex.request();
    auto parsed = boost::urls::parse_origin_form(req.target);
    if (!parsed) {
      ex.respond(400, "bad request target");
      return;
    }
    boost::urls::url_view u = *parsed;
    std::string path = u.path();
    std::string query(u.encoded_query());
    std::map<std::string, std::string> params;
    for (auto const& p : u.params()) params[std::string(p.key)] = std::string(p.value);

    std::string identity;
    auto user = authenticate(req, identity);
    {
      std::lock_guard lock(mutex);
      reqs.push_back({req.method, path, query, req.body, identity});
    }
    if (user.empty()) {
      send_status(ex, make_status(401, "Unauthorized", "Unauthorized"));
      return;
    }

    auto method = lower(req.method);
    if (path == "/openapi/v2" && method == "get") {
      ex.respond(200, spec.text, {{"Content-Type", "application/json"}});
      return;
    }

    // The path and query against the document.
    auto segs = split(std::string_view(path).substr(path.empty() ? 0 : 1), '/');
    path_template const* tmpl = nullptr;
    for (auto const& t : spec.paths)
      if (template_matches(t, segs)) {
        tmpl = &t;
        break;
      }
    auto violation = [&](std::string sentence) {
      std::lock_guard lock(mutex);
      viols.push_back(req.method + " " + path + ": " + std::move(sentence));
    };
    if (!tmpl) {
      violation("no path of the Kubernetes OpenAPI document matches");
      send_status(ex, make_status(404, "NotFound", "the server could not find the requested resource",
                                  {{"causes", json::array{{{"reason", "UnexpectedServerResponse"},
                                                           {"message", "404 page not found"}}}}}));
      return;
    }
    auto op = tmpl->methods.find(method);
    if (op == tmpl->methods.end()) {
      violation("the document declares no " + upper(method) + " operation for " + tmpl->text);
      send_status(ex, make_status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
      return;
    }
    for (auto const& [k, v] : params) {
      // `sinceTime` is a PodLogOptions field the API server accepts although the document omits it.
      bool known = op->second.query.count(k) != 0 || (k == "sinceTime" && tmpl->text.ends_with("/log"));
      if (!known) {
        std::string declared;
        for (auto const& q : op->second.query) declared += (declared.empty() ? "" : ", ") + q;
        violation("query parameter \"" + k + "\" is not declared by " + upper(method) + " " + tmpl->text +
                  " (declared: " + declared + ")");
        send_status(ex, make_status(400, "BadRequest", "unknown query parameter \"" + k + "\""));
        return;
      }
    }
    for (auto const* k : {"timeoutSeconds", "sinceSeconds", "tailLines", "limitBytes", "limit", "gracePeriodSeconds", "resourceVersion"})
      if (auto it = params.find(k); it != params.end() && !it->second.empty() && !to_uint(it->second)) {
        send_status(ex, make_status(400, "BadRequest", std::string(k) + ": Invalid value: \"" + it->second + "\": expected a non-negative integer"));
        return;
      }
    auto r = read_route(*tmpl, segs);
    if (!r) {
      send_status(ex, make_status(404, "NotFound", "the server could not find the requested resource"));
      return;
    }
    r->op = &op->second;
    r->method = method;
    bool watch = r->watch_path || truthy(params["watch"]);

    if (std::find(opts.forbidden_users.begin(), opts.forbidden_users.end(), user) != opts.forbidden_users.end()) {
      send_status(ex, forbidden(*r, user, watch));
      return;
    }

    if (r->sub == "log" && r->plural == "pods" && method == "get") return serve_log(ex, *r, params);
    if (!r->sub.empty()) {
      send_status(ex, make_status(405, "MethodNotAllowed",
                                  "kube_test_server does not implement the " + r->sub + " subresource"));
      return;
    }
    if (method == "get" && r->name.empty() && watch) return serve_watch(ex, *r, params);
    if (method == "get" && r->name.empty()) return serve_list(ex, *r, params);
    if (method == "get") return serve_get(ex, *r);
    if (method == "post" && r->name.empty()) return serve_create(ex, *r, params, violation);
    if (method == "delete" && !r->name.empty()) return serve_delete(ex, *r, params);
    if (method == "delete") return serve_delete_collection(ex, *r, params);
    send_status(ex, make_status(405, "MethodNotAllowed",
                                "kube_test_server does not implement " + upper(method) + " " + tmpl->text));
  }

  std::optional<selector> selector_param(net_exchange& ex, std::map<std::string, std::string>& params) {
    auto sel = parse_label_selector(params["labelSelector"]);
    if (!sel)
      send_status(ex, make_status(400, "BadRequest",
                                  "unable to parse requirement: invalid label selector \"" + params["labelSelector"] + "\""));
    return sel;
  }

  bool in_scope(route const& r, store_key const& k) const {
    return k.resource == r.resource() && (r.ns.empty() || k.ns == r.ns);
  }

  void serve_get(net_exchange& ex, route const& r) {
    std::unique_lock lock(mutex);
    auto it = store.find({r.resource(), r.ns, r.name});
    if (it == store.end()) {
      lock.unlock();
      return send_status(ex, not_found(r, r.name));
    }
    auto obj = it->second;
    lock.unlock();
    send_json(ex, 200, obj);
  }

  void serve_list(net_exchange& ex, route const& r, std::map<std::string, std::string>& params) {
    auto sel = selector_param(ex, params);
    if (!sel) return;
    auto fields = parse_field_selector(params["fieldSelector"]);
    if (!fields) return send_status(ex, make_status(400, "BadRequest", "invalid field selector"));
    json::array items;
    std::string current;
    {
      std::lock_guard lock(mutex);
      for (auto const& [k, obj] : store)
        if (in_scope(r, k) && labels_match(*sel, obj) && fields_match(*fields, obj)) {
          auto item = obj;
          // The API server leaves these out of a typed list's items.
          item.erase("kind");
          item.erase("apiVersion");
          items.push_back(std::move(item));
        }
      current = std::to_string(rv);
    }
    json::object list{{"kind", r.op->kind.empty() ? "List" : r.op->kind + "List"},
                      {"apiVersion", r.api_version()},
                      {"metadata", {{"resourceVersion", current}}},
                      {"items", std::move(items)}};
    send_json(ex, 200, list);
  }

  void serve_watch(net_exchange& ex, route const& r, std::map<std::string, std::string>& params) {
    auto sel = selector_param(ex, params);
    if (!sel) return;
    auto fields = parse_field_selector(params["fieldSelector"]);
    if (!fields) return send_status(ex, make_status(400, "BadRequest", "invalid field selector"));
    bool bookmarks = truthy(params["allowWatchBookmarks"]);
    std::optional<clock_type::time_point> deadline;
    if (auto t = params["timeoutSeconds"]; !t.empty()) deadline = clock_type::now() + std::chrono::seconds(*to_uint(t));
    auto kind = r.op->kind;
    auto line = [](std::string_view type, json::object const& obj) {
      return json::serialize(json::object{{"type", type}, {"object", obj}}) + "\n";
    };
    auto matches = [&](json::object const& obj) { return labels_match(*sel, obj) && fields_match(*fields, obj); };
    auto expired = [&](std::uint64_t requested) {
      return line("ERROR", make_status(410, "Expired",
                                       "too old resource version: " + std::to_string(requested) + " (" +
                                           std::to_string(floor + 1) + ")"));
    };

    std::string out;
    std::uint64_t last = 0;
    std::uint64_t generation = 0;
    bool gone = false;
    {
      std::lock_guard lock(mutex);
      generation = drop_generation;
      auto from = params["resourceVersion"];
      if (from.empty() || from == "0") {
        for (auto const& [k, obj] : store)
          if (in_scope(r, k) && matches(obj)) out += line("ADDED", obj);
        last = rv;
      } else {
        last = *to_uint(from);
        if (last < floor) {
          out = expired(last);
          gone = true;
        }
      }
    }
    ex.begin_chunked(200, {{"Content-Type", "application/json"}});
    if (!out.empty()) ex.send_chunk(out);
    if (gone) return ex.end_chunked();

    bool caught_up_bookmark = false;
    auto last_bookmark = clock_type::now();
    for (;;) {
      out.clear();
      bool dropped = false, timed_out = false;
      {
        std::unique_lock lock(mutex);
        auto collect = [&] {
          if (last < floor) {
            out = expired(last);
            gone = true;
            return;
          }
          auto it = std::upper_bound(history.begin(), history.end(), last,
                                     [](std::uint64_t v, event const& e) { return v < e.rv; });
          for (; it != history.end(); ++it) {
            if (it->resource == r.resource() && (r.ns.empty() || it->ns == r.ns) && matches(it->object))
              out += line(it->type, it->object);
            last = it->rv;
          }
          last = std::max(last, rv);
        };
        collect();
        if (out.empty() && !gone) {
          if (bookmarks && (!caught_up_bookmark || clock_type::now() - last_bookmark >= 1s)) {
            json::object bm{{"kind", kind}, {"apiVersion", r.api_version()}, {"metadata", {{"resourceVersion", std::to_string(last)}}}};
            out = line("BOOKMARK", bm);
            caught_up_bookmark = true;
            last_bookmark = clock_type::now();
          } else {
            auto until = clock_type::now() + 1s;
            if (deadline && *deadline < until) until = *deadline;
            changed.wait_until(lock, until, [&] { return stopping || drop_generation != generation || rv > last; });
            if (!stopping && drop_generation == generation) collect();
          }
        }
        dropped = stopping || drop_generation != generation;
        timed_out = deadline && clock_type::now() >= *deadline;
      }
      if (dropped) {
        // A dropped connection: no last chunk.
        ex.close_after();
        return;
      }
      if (!out.empty()) ex.send_chunk(out);
      if (gone || timed_out) return ex.end_chunked();
    }
  }

  template <class Violation>
  void serve_create(net_exchange& ex, route const& r, std::map<std::string, std::string>& params, Violation&& violation) {
    auto const& body = ex.request().body;
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (ec || !parsed.is_object())
      return send_status(ex, make_status(400, "BadRequest", "the request body is not a JSON object"));
    auto obj = std::move(parsed.as_object());
    auto dry_run = params.count("dryRun") ? params["dryRun"] : std::string();
    if (!dry_run.empty() && dry_run != "All")
      return send_status(ex, make_status(400, "BadRequest", "Invalid dry run value \"" + dry_run + "\": valid values: All"));

    auto api_version = text(obj, "apiVersion");
    auto kind = text(obj, "kind");
    if (api_version != r.api_version() || kind != r.op->kind)
      return send_status(ex, make_status(400, "BadRequest",
                                         "the API version in the data (" + api_version + ") and kind (" + kind +
                                             ") do not match the expected " + r.api_version() + " " + r.op->kind));
    auto& metadata = ensure(obj, "metadata");
    if (auto body_ns = text(metadata, "namespace"); r.namespaced && !body_ns.empty() && body_ns != r.ns)
      return send_status(ex, make_status(400, "BadRequest",
                                         "the namespace of the provided object does not match the namespace sent on "
                                         "the request"));
    bool secret = kind == "Secret";

    // Strict validation: the document, then the API server's own rules it cannot express.
    std::vector<cause> causes;
    for (auto const& p : spec.schema->validate(obj)) {
      auto message = p.message;
      if (secret)  // a Secret's values never reach a message
        if (auto q = message.find('"'); q != std::string::npos && message.find("unknown field") == std::string::npos)
          message = message.substr(0, q) + "(value withheld)";
      causes.push_back({p.path, message});
    }
    auto name = text(metadata, "name");
    auto generate = text(metadata, "generateName");
    if (name.empty() && generate.empty())
      causes.push_back({"metadata.name", "Required value: name or generateName is required", "FieldValueRequired"});
    else if (!name.empty() && !dns_subdomain(name, kind == "Job" ? 63 : 253))
      causes.push_back({"metadata.name", "Invalid value: \"" + name +
                                             "\": a lowercase RFC 1123 subdomain must consist of lower case "
                                             "alphanumeric characters, '-' or '.', and must start and end with an "
                                             "alphanumeric character" + (kind == "Job" ? " (at most 63 characters)" : "")});
    check_labels(metadata, "metadata.labels", causes);
    if (kind == "Pod")
      if (auto const* spec_obj = child(obj, "spec")) check_pod_spec(*spec_obj, "spec", causes);
    if (kind == "Job") {
      auto const* spec_obj = child(obj, "spec");
      auto const* tmpl = spec_obj ? child(*spec_obj, "template") : nullptr;
      if (tmpl) {
        if (auto const* tm = child(*tmpl, "metadata")) check_labels(*tm, "spec.template.metadata.labels", causes);
        if (auto const* ps = child(*tmpl, "spec")) {
          check_pod_spec(*ps, "spec.template.spec", causes);
          auto policy = text(*ps, "restartPolicy");
          if (policy != "Never" && policy != "OnFailure")
            causes.push_back({"spec.template.spec.restartPolicy",
                              (policy.empty() ? std::string("Required value")
                                              : "Unsupported value: \"" + policy + "\"") +
                                  ": supported values: \"OnFailure\", \"Never\"",
                              policy.empty() ? "FieldValueRequired" : "FieldValueNotSupported"});
        }
      }
    }
    if (secret)
      if (auto const* data = child(obj, "data"))
        for (auto const& [k, v] : *data)
          if (v.is_string() && !liftoff::detail::base64_decode(v.as_string()))
            causes.push_back({"data[" + std::string(k) + "]", "Invalid value: the value is not valid base64"});
    if (!causes.empty()) {
      std::string listing;
      json::array cause_array;
      for (auto const& c : causes) {
        listing += (listing.empty() ? "" : ", ") + c.field + ": " + c.message;
        cause_array.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
      }
      violation("the " + kind + " is not valid: " + listing);
      auto qualified = r.group.empty() ? kind : kind + "." + r.group;
      auto shown = name.empty() ? generate : name;
      auto message = qualified + " \"" + shown + "\" is invalid: " + (causes.size() > 1 ? "[" + listing + "]" : listing);
      return send_status(ex, make_status(422, "Invalid", message,
                                         {{"name", shown}, {"group", r.group}, {"kind", kind}, {"causes", std::move(cause_array)}}));
    }

    std::unique_lock lock(mutex);
    if (r.namespaced && !namespace_exists(r.ns)) {
      lock.unlock();
      return send_status(ex, namespace_not_found(r.ns));
    }
    if (name.empty()) {
      do name = generate + random_suffix(rng);
      while (store.count({r.resource(), r.ns, name}));
      metadata["name"] = name;
    }
    store_key k{r.resource(), r.ns, name};
    if (store.count(k)) {
      lock.unlock();
      return send_status(ex, make_status(409, "AlreadyExists", r.resource() + " \"" + name + "\" already exists",
                                         {{"name", name}, {"group", r.group}, {"kind", r.plural}}));
    }
    if (r.namespaced) metadata["namespace"] = r.ns;
    metadata["uid"] = random_uid(rng);
    metadata["creationTimestamp"] = rfc3339(clock_type::now());
    metadata.erase("resourceVersion");
    if (kind == "Job") default_job(obj);
    if (kind == "Pod") ensure(obj, "status")["phase"] = "Pending";
    if (dry_run == "All") {
      lock.unlock();
      return send_json(ex, 201, obj);
    }
    write(k, std::move(obj), "ADDED");
    auto stored = store.at(k);
    if (kind == "Job" && !stopping) job_threads.emplace_back([this, k] { run_job(k); });
    lock.unlock();
    send_json(ex, 201, stored);
  }

  /// The defaults the API server fills in a Job.
  void default_job(json::object& job) {
    auto uid = meta(job, "uid");
    auto name = meta(job, "name");
    auto& spec_obj = ensure(job, "spec");
    for (auto const* field : {"parallelism", "completions"})
      if (!spec_obj.contains(field)) spec_obj[field] = 1;
    if (!spec_obj.contains("backoffLimit")) spec_obj["backoffLimit"] = 6;
    if (!spec_obj.contains("completionMode")) spec_obj["completionMode"] = "NonIndexed";
    if (!spec_obj.contains("suspend")) spec_obj["suspend"] = false;
    if (!spec_obj.contains("selector"))
      spec_obj["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
    auto& labels = ensure(ensure(ensure(spec_obj, "template"), "metadata"), "labels");
    labels["batch.kubernetes.io/controller-uid"] = uid;
    labels["batch.kubernetes.io/job-name"] = name;
    labels["controller-uid"] = uid;
    labels["job-name"] = name;
    job["status"] = json::object();
  }

  std::string propagation(std::map<std::string, std::string>& params, std::string const& body, std::string fallback) {
    if (auto p = params["propagationPolicy"]; !p.empty()) return p;
    if (auto o = params["orphanDependents"]; !o.empty()) return truthy(o) ? "Orphan" : "Background";
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec && v.is_object()) {
      if (auto p = text(v.as_object(), "propagationPolicy"); !p.empty()) return p;
      if (auto const* o = v.as_object().if_contains("orphanDependents"); o && o->is_bool())
        return o->as_bool() ? "Orphan" : "Background";
    }
    return fallback;
  }

  /// Gracefully deletes a Pod: a MODIFIED with deletionTimestamp, then DELETED.
  void delete_pod(store_key const& k) {
    auto it = store.find(k);
    if (it == store.end()) return;
    auto pod = it->second;
    auto& m = ensure(pod, "metadata");
    m["deletionTimestamp"] = rfc3339(clock_type::now());
    m["deletionGracePeriodSeconds"] = 0;
    write(k, std::move(pod), "MODIFIED");
    erase(k);
  }

  std::vector<store_key> pods_of(std::string const& ns, std::string const& job_uid) const {
    std::vector<store_key> out;
    for (auto const& [k, obj] : store) {
      if (k.resource != "pods" || k.ns != ns) continue;
      auto const* m = child(obj, "metadata");
      auto const* refs = m ? m->if_contains("ownerReferences") : nullptr;
      if (!refs || !refs->is_array()) continue;
      for (auto const& ref : refs->as_array())
        if (ref.is_object() && text(ref.as_object(), "uid") == job_uid) out.push_back(k);
    }
    return out;
  }

  void serve_delete(net_exchange& ex, route const& r, std::map<std::string, std::string>& params) {
    bool job = r.resource() == "jobs.batch";
    // batch/v1 Jobs orphan their Pods unless told otherwise, as the API server does.
    auto policy = propagation(params, ex.request().body, job ? "Orphan" : "Background");
    if (policy != "Orphan" && policy != "Background" && policy != "Foreground")
      return send_status(ex, make_status(400, "BadRequest", "propagationPolicy \"" + policy + "\" is not one of Orphan, Background, Foreground"));
    bool explicit_policy = !params["propagationPolicy"].empty() || ex.request().body.find("propagationPolicy") != std::string::npos ||
                           !params["orphanDependents"].empty();
    std::unique_lock lock(mutex);
    store_key k{r.resource(), r.ns, r.name};
    auto it = store.find(k);
    if (it == store.end()) {
      lock.unlock();
      return send_status(ex, not_found(r, r.name));
    }
    if (params["dryRun"] == "All") {
      auto obj = it->second;
      lock.unlock();
      return send_json(ex, 200, obj);
    }
    auto obj = it->second;
    auto uid = meta(obj, "uid");
    auto dependents = pods_of(r.ns, uid);
    json::object answer{{"kind", "Status"},
                        {"apiVersion", "v1"},
                        {"metadata", json::object()},
                        {"status", "Success"},
                        {"details", {{"name", r.name}, {"group", r.group}, {"kind", r.plural}, {"uid", uid}}}};
    if (r.plural == "pods") {
      delete_pod(k);
      answer = obj;
    } else if (policy == "Foreground") {
      auto& m = ensure(obj, "metadata");
      m["deletionTimestamp"] = rfc3339(clock_type::now());
      m["finalizers"] = json::array{"foregroundDeletion"};
      write(k, obj, "MODIFIED");
      answer = store.at(k);
      for (auto const& p : dependents) delete_pod(p);
      erase(k);
    } else {
      erase(k);
      if (policy == "Background") {
        for (auto const& p : dependents) delete_pod(p);
      } else {
        for (auto const& p : dependents) {
          auto pod = store.at(p);
          ensure(pod, "metadata").erase("ownerReferences");
          write(p, std::move(pod), "MODIFIED");
        }
      }
    }
    lock.unlock();
    net_header_list headers;
    if (job && !explicit_policy)
      headers.emplace_back("Warning",
                           "299 - \"child pods are preserved by default when jobs are deleted; set "
                           "propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress "
                           "this warning\"");
    send_json(ex, 200, answer, headers);
  }

  void serve_delete_collection(net_exchange& ex, route const& r, std::map<std::string, std::string>& params) {
    auto sel = selector_param(ex, params);
    if (!sel) return;
    json::array items;
    {
      std::lock_guard lock(mutex);
      std::vector<store_key> doomed;
      for (auto const& [k, obj] : store)
        if (in_scope(r, k) && labels_match(*sel, obj)) doomed.push_back(k), items.push_back(obj);
      for (auto const& k : doomed) r.plural == "pods" ? delete_pod(k) : erase(k);
    }
    send_json(ex, 200, {{"kind", r.op->kind.empty() ? "List" : r.op->kind + "List"},
                        {"apiVersion", r.api_version()},
                        {"metadata", json::object()},
                        {"items", std::move(items)}});
  }

  // --- logs ----------------------------------------------------------------

  void serve_log(net_exchange& ex, route const& r, std::map<std::string, std::string>& params) {
    bool follow = truthy(params["follow"]);
    bool timestamps = truthy(params["timestamps"]);
    std::optional<clock_type::time_point> since;
    if (auto s = params["sinceTime"]; !s.empty()) {
      since = parse_rfc3339(s);
      if (!since) return send_status(ex, make_status(400, "BadRequest", "sinceTime \"" + s + "\" is not an RFC 3339 time"));
    }
    if (auto s = params["sinceSeconds"]; !s.empty()) since = clock_type::now() - std::chrono::seconds(*to_uint(s));
    std::optional<std::size_t> tail;
    if (auto t = params["tailLines"]; !t.empty()) tail = *to_uint(t);

    std::shared_ptr<pod_runtime> rt;
    std::uint64_t generation = 0;
    {
      std::unique_lock lock(mutex);
      auto it = store.find({"pods", r.ns, r.name});
      if (it == store.end()) {
        lock.unlock();
        return send_status(ex, not_found(r, r.name));
      }
      std::vector<std::string> names;
      if (auto const* spec_obj = child(it->second, "spec"))
        if (auto const* cs = spec_obj->if_contains("containers"); cs && cs->is_array())
          for (auto const& c : cs->as_array())
            if (c.is_object()) names.push_back(text(c.as_object(), "name"));
      auto container = params["container"];
      if (container.empty() && names.size() > 1) {
        std::string all;
        for (auto const& n : names) all += (all.empty() ? "" : " ") + n;
        lock.unlock();
        return send_status(ex, make_status(400, "BadRequest", "a container name must be specified for pod " + r.name +
                                                                  ", choose one of: [" + all + "]"));
      }
      if (container.empty() && !names.empty()) container = names.front();
      if (std::find(names.begin(), names.end(), container) == names.end()) {
        lock.unlock();
        return send_status(ex, make_status(400, "BadRequest", "container " + container + " is not valid for pod " + r.name));
      }
      auto found = runtimes.find(r.ns + "/" + r.name);
      rt = found == runtimes.end() ? std::make_shared<pod_runtime>() : found->second;
      if (rt->container != container && !rt->container.empty()) rt = std::make_shared<pod_runtime>();  // a container without a script: no output
      if (!rt->scheduled) {
        lock.unlock();
        return send_status(ex, make_status(400, "BadRequest", "pod " + r.name + " does not have a host assigned"));
      }
      if (!rt->running && !rt->terminated) {
        auto reason = rt->waiting_reason.empty() ? std::string("ContainerCreating") : rt->waiting_reason;
        if (reason == "ImagePullBackOff" || reason == "ErrImagePull") reason = "trying and failing to pull image";
        lock.unlock();
        return send_status(ex, make_status(400, "BadRequest", "container \"" + container + "\" in pod \"" + r.name +
                                                                  "\" is waiting to start: " + reason));
      }
      generation = drop_generation;
    }
    auto format = [&](log_line const& l) { return (timestamps ? rfc3339_nano(l.at) + " " : std::string()) + l.text + "\n"; };

    std::string out;
    std::size_t next = 0;
    {
      std::lock_guard lock(mutex);
      std::vector<log_line const*> chosen;
      for (auto const& l : rt->lines)
        if (!since || l.at >= *since) chosen.push_back(&l);
      if (tail && chosen.size() > *tail) chosen.erase(chosen.begin(), chosen.end() - static_cast<std::ptrdiff_t>(*tail));
      for (auto const* l : chosen) out += format(*l);
      next = rt->lines.size();
    }
    if (!follow) return ex.respond(200, out, {{"Content-Type", "text/plain"}});

    ex.begin_chunked(200, {{"Content-Type", "text/plain"}});
    if (!out.empty()) ex.send_chunk(out);
    for (;;) {
      out.clear();
      bool ended = false, dropped = false;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] {
          return stopping || drop_generation != generation || rt->lines.size() > next || rt->terminated || rt->deleted;
        });
        for (; next < rt->lines.size(); ++next) out += format(rt->lines[next]);
        dropped = stopping || drop_generation != generation;
        ended = rt->terminated || rt->deleted;
      }
      if (dropped) {
        ex.close_after();
        return;
      }
      if (!out.empty()) ex.send_chunk(out);
      if (ended) return ex.end_chunked();
    }
  }

  // --- Jobs and their Pods ------------------------------------------------

  enum class pod_outcome { succeeded, failed, stalled, interrupted };

  static void set_condition(json::object& status, std::string const& type, std::string const& value,
                            std::string const& reason = {}, std::string const& message = {}) {
    auto& conds = ensure_array(status, "conditions");
    json::object c{{"type", type}, {"status", value}, {"lastProbeTime", nullptr}, {"lastTransitionTime", rfc3339(clock_type::now())}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    for (auto& existing : conds)
      if (existing.is_object() && text(existing.as_object(), "type") == type) {
        if (text(existing.as_object(), "status") == value) c["lastTransitionTime"] = existing.as_object().at("lastTransitionTime");
        existing = std::move(c);
        return;
      }
    conds.push_back(std::move(c));
  }

  static json::object container_status(json::object const& pod, json::object state, bool ready) {
    json::object const* container = nullptr;
    if (auto const* s = child(pod, "spec"))
      if (auto const* cs = s->if_contains("containers"); cs && cs->is_array() && !cs->as_array().empty())
        container = cs->as_array().front().if_object();
    return {{"name", container ? text(*container, "name") : std::string("main")},
            {"image", container ? text(*container, "image") : std::string()},
            {"imageID", ""},
            {"ready", ready},
            {"started", ready},
            {"restartCount", 0},
            {"state", std::move(state)}};
  }

  /// Creates the Job's next Pod; its key, or nullopt when the Job is gone.
  std::optional<store_key> create_pod(store_key const& job_key) {
    auto it = store.find(job_key);
    if (it == store.end() || stopping) return std::nullopt;
    auto const& job = it->second;
    auto job_name = job_key.name;
    auto uid = meta(job, "uid");
    json::object tmpl;
    if (auto const* s = child(job, "spec"))
      if (auto const* t = child(*s, "template")) tmpl = *t;
    std::string name;
    do name = job_name + "-" + random_suffix(rng);
    while (store.count({"pods", job_key.ns, name}));
    json::object metadata;
    if (auto const* tm = child(tmpl, "metadata")) metadata = *tm;
    metadata.erase("name");
    metadata.erase("namespace");
    auto& labels = ensure(metadata, "labels");
    labels["job-name"] = job_name;
    labels["batch.kubernetes.io/job-name"] = job_name;
    labels["controller-uid"] = uid;
    labels["batch.kubernetes.io/controller-uid"] = uid;
    metadata["name"] = name;
    metadata["generateName"] = job_name + "-";
    metadata["namespace"] = job_key.ns;
    metadata["uid"] = random_uid(rng);
    metadata["creationTimestamp"] = rfc3339(clock_type::now());
    metadata["ownerReferences"] = json::array{{{"apiVersion", "batch/v1"},
                                               {"kind", "Job"},
                                               {"name", job_name},
                                               {"uid", uid},
                                               {"controller", true},
                                               {"blockOwnerDeletion", true}}};
    json::object pod{{"kind", "Pod"},
                     {"apiVersion", "v1"},
                     {"metadata", std::move(metadata)},
                     {"spec", tmpl.contains("spec") ? tmpl.at("spec") : json::object()},
                     {"status", {{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
    auto rt = std::make_shared<pod_runtime>();
    if (auto const* cs = pod.at("spec").as_object().if_contains("containers"); cs && cs->is_array() && !cs->as_array().empty())
      if (auto const* c = cs->as_array().front().if_object()) rt->container = text(*c, "name");
    store_key k{"pods", job_key.ns, name};
    runtimes[job_key.ns + "/" + name] = rt;
    write(k, std::move(pod), "ADDED");

    auto updated = store.at(job_key);
    auto& status = ensure(updated, "status");
    status["active"] = 1;
    status["ready"] = 0;
    if (!status.contains("startTime")) status["startTime"] = rfc3339(clock_type::now());
    status["uncountedTerminatedPods"] = json::object();
    write(job_key, std::move(updated), "MODIFIED");
    return k;
  }

  /// Applies one step to the Pod (under the lock). Returns an outcome when the Pod has finished.
  std::optional<pod_outcome> apply(store_key const& k, pod_runtime& rt, pod_step const& s) {
    auto it = store.find(k);
    if (it == store.end()) return pod_outcome::interrupted;
    if (s.what == pod_step::action::hold) return std::nullopt;
    if (s.what == pod_step::action::log) {
      rt.lines.push_back({clock_type::now(), s.message});
      changed.notify_all();
      return std::nullopt;
    }
    auto pod = it->second;
    auto& status = ensure(pod, "status");
    auto now = rfc3339(clock_type::now());
    std::optional<pod_outcome> outcome;
    switch (s.what) {
      case pod_step::action::schedule:
        ensure(pod, "spec")["nodeName"] = "liftoff-test-node";
        status["phase"] = "Pending";
        status["hostIP"] = "10.0.0.1";
        if (!status.contains("startTime")) status["startTime"] = now;
        set_condition(status, "PodScheduled", "True");
        set_condition(status, "Initialized", "True");
        set_condition(status, "Ready", "False", "ContainersNotReady", "containers with unready status: [" + rt.container + "]");
        status["containerStatuses"] = json::array{container_status(pod, {{"waiting", {{"reason", "ContainerCreating"}}}}, false)};
        rt.scheduled = true;
        rt.waiting_reason = "ContainerCreating";
        break;
      case pod_step::action::unschedulable:
        status["phase"] = "Pending";
        set_condition(status, "PodScheduled", "False", s.reason.empty() ? "Unschedulable" : s.reason, s.message);
        break;
      case pod_step::action::waiting: {
        json::object waiting{{"reason", s.reason}};
        if (!s.message.empty()) waiting["message"] = s.message;
        status["containerStatuses"] = json::array{container_status(pod, {{"waiting", std::move(waiting)}}, false)};
        rt.waiting_reason = s.reason;
        break;
      }
      case pod_step::action::run:
        status["phase"] = "Running";
        status["podIP"] = "10.1.0.2";
        set_condition(status, "PodScheduled", "True");
        set_condition(status, "Initialized", "True");
        set_condition(status, "ContainersReady", "True");
        set_condition(status, "Ready", "True");
        status["containerStatuses"] = json::array{container_status(pod, {{"running", {{"startedAt", now}}}}, true)};
        rt.scheduled = rt.running = true;
        break;
      case pod_step::action::terminate:
      case pod_step::action::evict: {
        bool evict = s.what == pod_step::action::evict;
        int code = evict ? 143 : s.exit_code;
        std::string started = now;
        if (auto const* cs = status.if_contains("containerStatuses"); cs && cs->is_array() && !cs->as_array().empty())
          if (auto const* st = child(cs->as_array().front().as_object(), "state"))
            if (auto const* running = child(*st, "running")) started = text(*running, "startedAt");
        json::object terminated{{"exitCode", code},
                                {"reason", evict || s.reason.empty() ? (code == 0 ? "Completed" : "Error") : s.reason},
                                {"startedAt", started},
                                {"finishedAt", now}};
        if (!s.message.empty() && !evict) terminated["message"] = s.message;
        bool ok = code == 0 && !evict;
        status["phase"] = ok ? "Succeeded" : "Failed";
        if (evict)
          set_condition(status, "DisruptionTarget", "True", s.reason.empty() ? "EvictionByEvictionAPI" : s.reason,
                        s.message.empty() ? "Eviction API: evicting" : s.message);
        set_condition(status, "ContainersReady", "False", ok ? "PodCompleted" : "PodFailed");
        set_condition(status, "Ready", "False", ok ? "PodCompleted" : "PodFailed");
        status["containerStatuses"] = json::array{container_status(pod, {{"terminated", std::move(terminated)}}, false)};
        rt.running = false;
        rt.scheduled = true;
        rt.terminated = true;
        outcome = ok ? pod_outcome::succeeded : pod_outcome::failed;
        break;
      }
      default:
        break;
    }
    write(k, std::move(pod), "MODIFIED");
    if (s.what == pod_step::action::run) {
      // The Job counts its ready Pods.
      if (auto const* owner = owner_job(k)) {
        auto job = store.at(*owner);
        ensure(job, "status")["ready"] = 1;
        write(*owner, std::move(job), "MODIFIED");
      }
    }
    return outcome;
  }

  /// The Job that owns a Pod, if it still exists.
  store_key const* owner_job(store_key const& pod_key) {
    auto it = store.find(pod_key);
    if (it == store.end()) return nullptr;
    auto const* m = child(it->second, "metadata");
    auto const* refs = m ? m->if_contains("ownerReferences") : nullptr;
    if (!refs || !refs->is_array()) return nullptr;
    for (auto const& ref : refs->as_array()) {
      if (!ref.is_object() || text(ref.as_object(), "kind") != "Job") continue;
      auto j = store.find({"jobs.batch", pod_key.ns, text(ref.as_object(), "name")});
      if (j != store.end() && meta(j->second, "uid") == text(ref.as_object(), "uid")) return &j->first;
    }
    return nullptr;
  }

  pod_outcome run_pod(store_key const& k, std::shared_ptr<pod_runtime> const& rt, pod_script const& script) {
    std::unique_lock lock(mutex);
    for (auto const& s : script) {
      auto until = clock_type::now() + s.delay;
      if (changed.wait_until(lock, until, [&] { return stopping || rt->deleted; })) return pod_outcome::interrupted;
      if (auto outcome = apply(k, *rt, s)) return *outcome;
    }
    return pod_outcome::stalled;
  }

  void run_job(store_key job_key) {
    for (;;) {
      std::function<pod_script(json::object const&)> make_script;
      json::object job;
      std::optional<store_key> pod_key;
      std::shared_ptr<pod_runtime> rt;
      {
        std::lock_guard lock(mutex);
        pod_key = create_pod(job_key);
        if (!pod_key) return;
        job = store.at(job_key);
        make_script = script;
        rt = runtimes.at(pod_key->ns + "/" + pod_key->name);
      }
      auto outcome = run_pod(*pod_key, rt, make_script(job));
      if (outcome == pod_outcome::stalled) return;
      std::lock_guard lock(mutex);
      if (stopping) return;
      auto it = store.find(job_key);
      if (it == store.end() || meta(it->second, "uid") != meta(job, "uid")) return;  // deleted (its Pods orphaned)
      auto updated = it->second;
      auto& status = ensure(updated, "status");
      status.erase("active");
      status["ready"] = 0;
      auto now = rfc3339(clock_type::now());
      if (outcome == pod_outcome::succeeded) {
        status["succeeded"] = number(status, "succeeded", 0) + 1;
        set_condition(status, "SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods");
        set_condition(status, "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods");
        status["completionTime"] = now;
        write(job_key, std::move(updated), "MODIFIED");
        return;
      }
      // Failed, or deleted before it finished: both count against the backoff limit.
      auto failed = number(status, "failed", 0) + 1;
      status["failed"] = failed;
      auto limit = number(*child(updated, "spec"), "backoffLimit", 6);
      if (failed > limit) {
        set_condition(status, "FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
        set_condition(status, "Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
        write(job_key, std::move(updated), "MODIFIED");
        return;
      }
      write(job_key, std::move(updated), "MODIFIED");
    }
  }

  void shut_down() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
      changed.notify_all();
    }
    if (net) net->stop();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex);
      threads = std::move(job_threads);
    }
    for (auto& t : threads) t.join();
  }
};

// ---------------------------------------------------------------------------
// The public interface

bool kube_test_server::available() { return std::filesystem::exists(swagger_path()); }

std::string kube_test_server::why_not() {
  return "the Kubernetes OpenAPI document " + swagger_path().string() +
         " is not present (set LIFTOFF_SPECS_DIR to the directory holding k8s/swagger.json)";
}

kube_test_server::kube_test_server(options o) : impl_(std::make_unique<impl>(std::move(o))) {
  auto* i = impl_.get();
  {
    std::lock_guard lock(i->mutex);
    for (auto const& ns : i->opts.namespaces) i->add_namespace_locked(ns);
  }
  net_test_server::tls_config tls{i->server_cert.cert, i->server_cert.key, i->client_ca};
  tls.client_cert_optional = true;  // a token alone still authenticates, as on a real API server
  i->net = net_test_server::tls([i](net_exchange& ex) { i->handle(ex); }, std::move(tls));
}

kube_test_server::~kube_test_server() { impl_->shut_down(); }

std::string kube_test_server::url() const { return impl_->net->url(); }
std::string const& kube_test_server::ca_pem() const { return impl_->server_ca.cert_pem(); }
test_ca const& kube_test_server::ca() const { return impl_->server_ca; }

void kube_test_server::write_kubeconfig(std::filesystem::path const& file, std::string const& user_yaml) const {
  YAML::Node user;
  if (user_yaml.empty()) user["token"] = "test-token";
  else user = YAML::Load(user_yaml);
  YAML::Node config;
  config["apiVersion"] = "v1";
  config["kind"] = "Config";
  YAML::Node cluster;
  cluster["name"] = "test";
  cluster["cluster"]["server"] = url();
  cluster["cluster"]["certificate-authority-data"] = liftoff::detail::base64_encode(ca_pem());
  config["clusters"].push_back(cluster);
  YAML::Node context;
  context["name"] = "test";
  context["context"]["cluster"] = "test";
  context["context"]["user"] = "alice";
  context["context"]["namespace"] = "default";
  config["contexts"].push_back(context);
  config["current-context"] = "test";
  YAML::Node u;
  u["name"] = "alice";
  u["user"] = user;
  config["users"].push_back(u);
  YAML::Emitter out;
  out << config;
  write_file(file, std::string(out.c_str()) + "\n");
}

void kube_test_server::set_script(std::function<pod_script(boost::json::object const& job)> f) {
  std::lock_guard lock(impl_->mutex);
  impl_->script = std::move(f);
}

void kube_test_server::add_namespace(std::string const& name) {
  std::lock_guard lock(impl_->mutex);
  impl_->add_namespace_locked(name);
}

void kube_test_server::compact() {
  std::lock_guard lock(impl_->mutex);
  impl_->floor = impl_->rv;
  impl_->history.clear();
  impl_->changed.notify_all();
}

void kube_test_server::drop_streams() {
  std::lock_guard lock(impl_->mutex);
  ++impl_->drop_generation;
  impl_->changed.notify_all();
}

std::vector<kube_request> kube_test_server::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->reqs;
}

std::vector<std::string> kube_test_server::violations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->viols;
}

std::optional<boost::json::object> kube_test_server::find(std::string const& plural, std::string const& ns,
                                                          std::string const& name) const {
  std::lock_guard lock(impl_->mutex);
  for (auto const& [k, obj] : impl_->store)
    if (resource_kind_name(k.resource) == plural && k.ns == ns && k.name == name) return obj;
  return std::nullopt;
}

std::vector<boost::json::object> kube_test_server::objects(std::string const& plural, std::string const& ns) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<boost::json::object> out;
  for (auto const& [k, obj] : impl_->store)
    if (resource_kind_name(k.resource) == plural && k.ns == ns) out.push_back(obj);
  return out;
}

}  // namespace liftoff::test
