#ifndef LIFTOFF_BUILDKIT_IMPL_FILESYNC_IPP
#define LIFTOFF_BUILDKIT_IMPL_FILESYNC_IPP

#include <liftoff/buildkit/detail/filesync.hpp>

#include <openssl/evp.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace liftoff::buildkit::detail {

LIFTOFF_DECL std::uint32_t go_file_mode(tree_entry_type type, std::uint32_t mode) noexcept {
  std::uint32_t out = mode & 0777;
  if (mode & S_ISUID) out |= 1u << 23;
  if (mode & S_ISGID) out |= 1u << 22;
  if (mode & S_ISVTX) out |= 1u << 20;
  if (type == tree_entry_type::directory) out |= 1u << 31;
  if (type == tree_entry_type::symlink) out |= 1u << 27;
  return out;
}

LIFTOFF_DECL result<std::vector<sync_entry>> entries_of(std::filesystem::path const& root,
                                                       std::vector<tree_entry> const& listed) {
  std::vector<sync_entry> out;
  out.reserve(listed.size());
  for (auto const& t : listed) {
    sync_entry e;
    e.path = t.path;
    e.type = t.type;
    e.mode = static_cast<std::uint32_t>(t.mode);
    e.size = t.type == tree_entry_type::regular ? static_cast<std::int64_t>(t.size) : 0;
    e.link_target = t.link_target;
    auto const full = root / t.path;
    struct ::stat st {};
    if (::lstat(full.c_str(), &st) != 0)
      return diagnostic(error::file_not_found, "the build context changed while it was sent: " + full.string() +
                                                   ": " + std::strerror(errno));
    e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (t.type == tree_entry_type::regular) e.source = full;
    out.push_back(std::move(e));
  }
  return out;
}

LIFTOFF_DECL sync_entry memory_file(std::string path, std::string content, std::uint32_t mode) {
  sync_entry e;
  e.path = std::move(path);
  e.mode = mode;
  e.size = static_cast<std::int64_t>(content.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(content.data(), content.size(), md, &len, EVP_sha256(), nullptr);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | md[i];
  // A time within the years 2001-2293, different for different contents.
  e.mtime_ns = static_cast<std::int64_t>(1000000000000000000ull + v % 8000000000000000000ull);
  e.content = std::move(content);
  return e;
}

namespace {

std::vector<std::string_view> components(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    auto slash = p.find('/');
    out.push_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

std::string clean_pattern(std::string_view p) {
  while (p.starts_with("./")) p.remove_prefix(2);
  while (p.starts_with('/')) p.remove_prefix(1);
  while (p.size() > 1 && p.ends_with('/')) p.remove_suffix(1);
  return std::string(p);
}

bool glob_match(std::string const& pattern, std::string const& path) {
  return ::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0;
}

/// Whether `path` or one of its parent directories matches `pattern`.
bool matches_or_below(std::string const& pattern, std::string_view path) {
  std::string prefix;
  for (auto c : components(path)) {
    if (!prefix.empty()) prefix += '/';
    prefix += c;
    if (glob_match(pattern, prefix)) return true;
  }
  return false;
}

}  // namespace

LIFTOFF_DECL void sort_for_walk(std::vector<sync_entry>& entries) {
  std::stable_sort(entries.begin(), entries.end(), [](sync_entry const& a, sync_entry const& b) {
    auto ca = components(a.path), cb = components(b.path);
    return std::lexicographical_compare(ca.begin(), ca.end(), cb.begin(), cb.end());
  });
}

LIFTOFF_DECL result<std::vector<sync_entry>> apply_filter(std::vector<sync_entry> const& entries,
                                                         sync_filter const& filter) {
  std::optional<ignore_rules> excludes;
  if (!filter.exclude_patterns.empty()) {
    std::string text;
    for (auto const& p : filter.exclude_patterns) text += p + "\n";
    excludes = ignore_rules::parse(text, ignore_syntax::dockerignore);
  }
  std::vector<std::string> includes, follows;
  for (auto const& p : filter.include_patterns) includes.push_back(clean_pattern(p));
  for (auto const& p : filter.follow_paths) follows.push_back(clean_pattern(p));

  // A file is kept by its own verdict; a directory is kept when it matches
  // itself, or when something below it is kept.
  std::vector<bool> keep(entries.size(), false);
  std::set<std::string> needed_dirs;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto const& e = entries[i];
    bool const dir = e.type == tree_entry_type::directory;
    bool ok = true;
    if (!includes.empty())
      ok = std::any_of(includes.begin(), includes.end(),
                       [&](std::string const& p) { return p == "." || matches_or_below(p, e.path); });
    if (ok && !follows.empty())
      ok = std::any_of(follows.begin(), follows.end(), [&](std::string const& f) {
        return f == "." || e.path == f || e.path.starts_with(f + "/");
      });
    if (ok && excludes) ok = !excludes->ignored(e.path, dir);
    if (!ok) continue;
    keep[i] = true;
    for (auto slash = e.path.rfind('/'); slash != std::string::npos && slash > 0;
         slash = e.path.rfind('/', slash - 1)) {
      needed_dirs.insert(e.path.substr(0, slash));
      if (slash == 0) break;
    }
  }
  std::vector<sync_entry> out;
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (keep[i] || (entries[i].type == tree_entry_type::directory && needed_dirs.contains(entries[i].path)))
      out.push_back(entries[i]);
  return out;
}

}  // namespace liftoff::buildkit::detail

#endif
