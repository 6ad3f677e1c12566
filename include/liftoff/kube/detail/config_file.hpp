#ifndef LIFTOFF_KUBE_DETAIL_CONFIG_FILE_HPP
#define LIFTOFF_KUBE_DETAIL_CONFIG_FILE_HPP

// Reading kubeconfig files with yaml-cpp and merging them as kubectl does:
// the first file to define a cluster, user or context name wins, and the
// first file to set `current-context` wins. Each entry remembers its file,
// because relative paths in it are relative to that file's directory.

#include <liftoff/core/error.hpp>
#include <liftoff/kube/detail/config_exec.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::kube::detail {

/// One `clusters[]`, `users[]` or `contexts[]` entry.
struct kubeconfig_entry {
  std::string name;
  YAML::Node body;  ///< the `cluster` / `user` / `context` mapping
  std::filesystem::path file;
};

/// Several kubeconfig files merged.
struct kubeconfig_set {
  std::vector<std::filesystem::path> files;
  std::vector<kubeconfig_entry> clusters, users, contexts;
  std::string current_context;

  static kubeconfig_entry const* find(std::vector<kubeconfig_entry> const& in, std::string_view name) {
    for (auto const& e : in)
      if (e.name == name) return &e;
    return nullptr;
  }
};

/// "file:line:col" of a node.
inline std::string yaml_where(std::filesystem::path const& file, YAML::Mark const& m) {
  if (m.is_null()) return file.string();
  return file.string() + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

/** Parses one kubeconfig file into `doc`. An empty file is an empty
    configuration (kubectl accepts it). (`result<YAML::Node>` cannot be: a
    Node converts from anything, a diagnostic included.) */
inline result<void> read_kubeconfig(std::filesystem::path const& file, YAML::Node& doc) {
  auto text = read_small_file(file);
  if (!text) return diagnostic(error::file_unreadable, file.string() + ": cannot read the kubeconfig file");
  try {
    doc = YAML::Load(*text);
  } catch (YAML::Exception const& e) {
    return diagnostic(error::parse_error, yaml_where(file, e.mark) + ": invalid YAML in the kubeconfig: " + e.msg);
  }
  if (!doc || doc.IsNull()) {
    doc = YAML::Node(YAML::NodeType::Map);
    return {};
  }
  if (!doc.IsMap())
    return diagnostic(error::parse_error, yaml_where(file, doc.Mark()) +
                                              ": expected a kubeconfig (a mapping with clusters, users and contexts)");
  return {};
}

/// Adds the entries of `doc` (read from `file`) that earlier files did not define.
inline result<void> merge_kubeconfig(kubeconfig_set& set, YAML::Node const& doc, std::filesystem::path const& file) {
  struct section {
    char const* list;
    char const* item;
    std::vector<kubeconfig_entry>* out;
  };
  for (auto const& s : {section{"clusters", "cluster", &set.clusters}, section{"users", "user", &set.users},
                        section{"contexts", "context", &set.contexts}}) {
    YAML::Node const list = doc[s.list];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence())
      return diagnostic(error::invalid_spec, yaml_where(file, list.Mark()) + ": `" + s.list + "` must be a list");
    std::size_t index = 0;
    for (auto const& item : list) {
      std::string const at = std::string(s.list) + "[" + std::to_string(index++) + "]";
      if (!item.IsMap())
        return diagnostic(error::invalid_spec, yaml_where(file, item.Mark()) + ": " + at + " must be a mapping");
      YAML::Node const name = item["name"];
      if (!name || !name.IsScalar() || name.Scalar().empty())
        return diagnostic(error::invalid_spec, yaml_where(file, item.Mark()) + ": " + at + " has no `name`");
      YAML::Node const body = item[s.item];
      if (body && !body.IsNull() && !body.IsMap())
        return diagnostic(error::invalid_spec, yaml_where(file, body.Mark()) + ": " + s.list + "[" + name.Scalar() +
                                                   "]." + s.item + " must be a mapping");
      if (kubeconfig_set::find(*s.out, name.Scalar())) continue;  // an earlier file wins
      // An entry without its mapping is an empty one. (A missing key's node
      // cannot be assigned to: yaml-cpp throws InvalidNode.)
      s.out->push_back({name.Scalar(), body && !body.IsNull() ? body : YAML::Node(YAML::NodeType::Map), file});
    }
  }
  if (set.current_context.empty()) {
    YAML::Node const cc = doc["current-context"];
    if (cc && cc.IsScalar()) set.current_context = cc.Scalar();
  }
  set.files.push_back(file);
  return {};
}

/// Reads the fields of one entry, naming `users[alice].client-key (file:line)` in errors.
class entry_fields {
public:
  entry_fields(kubeconfig_entry const& e, std::string_view list) : e_(e), prefix_(std::string(list) + "[" + e.name + "]") {}

  /// "users[alice].token"
  std::string field(std::string_view key) const { return prefix_ + "." + std::string(key); }
  /// "users[alice].token (/home/u/.kube/config:12:5)"
  std::string where(std::string_view key) const {
    YAML::Node const n = e_.body[std::string(key)];
    return field(key) + " (" + yaml_where(e_.file, n ? n.Mark() : e_.body.Mark()) + ")";
  }

  bool has(std::string_view key) const {
    YAML::Node const n = e_.body[std::string(key)];
    return n && !n.IsNull();
  }

  /// A scalar field; "" when absent.
  result<std::string> str(std::string_view key) const {
    YAML::Node const n = e_.body[std::string(key)];
    if (!n || n.IsNull()) return std::string();
    if (!n.IsScalar()) return diagnostic(error::invalid_spec, where(key) + ": expected a string");
    return n.Scalar();
  }

  result<bool> boolean(std::string_view key) const {
    YAML::Node const n = e_.body[std::string(key)];
    if (!n || n.IsNull()) return false;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
      return diagnostic(error::invalid_spec, where(key) + ": expected true or false");
    return v;
  }

  /// A path field, made absolute against the entry's file; checked to be readable.
  result<std::string> path(std::string_view key) const {
    auto s = str(key);
    if (!s || s->empty()) return s;
    std::filesystem::path p(*s);
    if (p.is_relative()) p = (e_.file.parent_path() / p).lexically_normal();
    std::error_code ec;
    if (!std::filesystem::exists(p, ec))
      return diagnostic(error::file_not_found, where(key) + ": " + p.string() + " does not exist");
    if (!read_small_file(p)) return diagnostic(error::file_unreadable, where(key) + ": cannot read " + p.string());
    return p.string();
  }

  /// A base64 `*-data` field, decoded.
  result<std::string> data(std::string_view key) const {
    auto s = str(key);
    if (!s || s->empty()) return s;
    auto decoded = liftoff::detail::base64_decode(*s);
    if (!decoded || decoded->empty())
      return diagnostic(error::invalid_spec, where(key) + ": expected base64-encoded PEM data");
    return *decoded;
  }

  YAML::Node node(std::string_view key) const { return e_.body[std::string(key)]; }
  kubeconfig_entry const& entry() const noexcept { return e_; }

private:
  kubeconfig_entry const& e_;
  std::string prefix_;
};

}  // namespace liftoff::kube::detail

#endif
