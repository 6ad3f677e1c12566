#ifndef LIFTOFF_SOURCE_IMPL_IGNORE_IPP
#define LIFTOFF_SOURCE_IMPL_IGNORE_IPP

#include <liftoff/source/ignore.hpp>

#include <liftoff/detail/lines.hpp>

#include <liftoff/detail/process.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace liftoff {

namespace detail {

LIFTOFF_DECL std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    auto slash = p.find('/');
    auto seg = p.substr(0, slash);
    if (!seg.empty() && seg != ".") out.push_back(seg);
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace detail

LIFTOFF_DECL ignore_rules ignore_rules::parse(std::string_view text, ignore_syntax syntax) {
  ignore_rules r;
  r.syntax_ = syntax;
  for (auto line : detail::lines_of(text)) r.add(line);
  return r;
}

LIFTOFF_DECL result<ignore_rules> ignore_rules::load(std::filesystem::path const& file, ignore_syntax syntax) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    ignore_rules r;
    r.syntax_ = syntax;
    return r;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in || std::filesystem::is_directory(file, ec))
    return diagnostic(error::file_unreadable, file.string() + ": cannot read the ignore file");
  std::ostringstream text;
  text << in.rdbuf();  // an empty file sets failbit on `text`, which is fine
  return parse(text.str(), syntax);
}

LIFTOFF_DECL void ignore_rules::add(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  // Trailing blanks are not part of a pattern, unless escaped.
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t') &&
         !(line.size() >= 2 && line[line.size() - 2] == '\\'))
    line.remove_suffix(1);
  if (syntax_ == ignore_syntax::dockerignore)
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.empty() || line.front() == '#') return;

  rule r;
  if (line.front() == '!') {
    r.negate = true;
    line.remove_prefix(1);
  } else if (line.size() >= 2 && line[0] == '\\' && (line[1] == '!' || line[1] == '#')) {
    line.remove_prefix(1);
  }
  if (line.empty()) return;
  if (line.back() == '/') r.directory_only = true;
  while (!line.empty() && line.back() == '/') line.remove_suffix(1);
  if (line.empty()) return;
  r.anchored = syntax_ == ignore_syntax::dockerignore || line.find('/') != std::string_view::npos;
  for (auto seg : detail::split_path(line)) {
    // `**` counts only as a whole segment; anywhere else it is an ordinary `*`.
    std::string s(seg);
    if (s != "**")
      for (std::size_t i; (i = s.find("**")) != std::string::npos;) s.erase(i, 1);
    r.segments.push_back(std::move(s));
  }
  if (r.segments.empty()) return;
  negations_ = negations_ || r.negate;
  rules_.push_back(std::move(r));
}

LIFTOFF_DECL bool ignore_rules::match_segments(std::vector<std::string> const& pattern, std::size_t pi,
                                         std::vector<std::string_view> const& path, std::size_t si) {
  if (pi == pattern.size()) return si == path.size();
  if (pattern[pi] == "**") {
    // A trailing `**` is everything inside: at least one more segment.
    if (pi + 1 == pattern.size()) return si < path.size();
    for (std::size_t k = si; k <= path.size(); ++k)
      if (match_segments(pattern, pi + 1, path, k)) return true;
    return false;
  }
  if (si == path.size()) return false;
  std::string segment(path[si]);
  if (::fnmatch(pattern[pi].c_str(), segment.c_str(), FNM_PATHNAME) != 0) return false;
  return match_segments(pattern, pi + 1, path, si + 1);
}

LIFTOFF_DECL bool ignore_rules::rule_matches(rule const& r, std::vector<std::string_view> const& path,
                                       bool is_directory) const {
  if (path.empty()) return false;
  if (syntax_ == ignore_syntax::dockerignore) {
    // Docker excludes a path when a pattern matches it or any of its parent directories.
    for (std::size_t len = 1; len <= path.size(); ++len) {
      bool dir = len < path.size() || is_directory;
      if (r.directory_only && !dir) continue;
      std::vector<std::string_view> prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(len));
      if (match_segments(r.segments, 0, prefix, 0)) return true;
    }
    return false;
  }
  if (r.directory_only && !is_directory) return false;
  if (r.anchored) return match_segments(r.segments, 0, path, 0);
  for (std::size_t start = 0; start < path.size(); ++start)
    if (match_segments(r.segments, 0, path, start)) return true;
  return false;
}

LIFTOFF_DECL bool ignore_rules::matches(std::string_view relative_path, bool is_directory) const {
  auto path = detail::split_path(relative_path);
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it)
    if (rule_matches(*it, path, is_directory)) return !it->negate;
  return false;
}

LIFTOFF_DECL bool ignore_rules::ignored(std::string_view relative_path, bool is_directory) const {
  if (syntax_ == ignore_syntax::gitignore) {
    // An excluded directory hides everything beneath it.
    for (std::size_t slash = relative_path.find('/'); slash != std::string_view::npos;
         slash = relative_path.find('/', slash + 1))
      if (slash > 0 && matches(relative_path.substr(0, slash), true)) return true;
  }
  return matches(relative_path, is_directory);
}

namespace detail {

LIFTOFF_DECL diagnostic walk_error(std::filesystem::path const& root, std::string const& rel, int err,
                             char const* what) {
  std::string where = rel.empty() ? root.string() : (root / rel).string();
  auto code = err == ENOENT || err == ENOTDIR ? error::file_not_found : error::file_unreadable;
  std::string reason = err == ENOTDIR ? "not a directory" : ::strerror(err);
  return diagnostic(code, where + ": cannot " + what + ": " + reason);
}

LIFTOFF_DECL result<void> walk_directory(int dir_fd, std::filesystem::path const& root, std::string const& prefix,
                                   ignore_rules const& rules,
                                   std::function<result<void>(tree_entry const&)> const& visit) {
  int dup_fd = ::dup(dir_fd);
  if (dup_fd < 0) return walk_error(root, prefix, errno, "read directory");
  DIR* dir = ::fdopendir(dup_fd);
  if (!dir) {
    int e = errno;
    ::close(dup_fd);
    return walk_error(root, prefix, e, "read directory");
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    std::string_view n = d->d_name;
    if (n != "." && n != ".." && n != ".git") names.emplace_back(n);
  }
  int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) return walk_error(root, prefix, read_errno, "read directory");
  std::sort(names.begin(), names.end());

  for (auto const& name : names) {
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we walked
      return walk_error(root, rel, errno, "stat");
    }
    tree_entry e;
    if (S_ISREG(st.st_mode)) e.type = tree_entry_type::regular;
    else if (S_ISDIR(st.st_mode)) e.type = tree_entry_type::directory;
    else if (S_ISLNK(st.st_mode)) e.type = tree_entry_type::symlink;
    else continue;
    bool is_dir = e.type == tree_entry_type::directory;
    bool excluded = rules.matches(rel, is_dir);
    bool look_inside = is_dir && (!excluded || (rules.syntax() == ignore_syntax::dockerignore && rules.has_negations()));
    if (excluded && !look_inside) continue;

    e.path = rel;
    e.mode = st.st_mode & 07777;
    if (e.type == tree_entry_type::regular) e.size = static_cast<std::uint64_t>(st.st_size);
    if (e.type == tree_entry_type::symlink) {
      std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
      auto n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return walk_error(root, rel, errno, "read link");
      target.resize(static_cast<std::size_t>(n));
      e.link_target = std::move(target);
    }
    if (!excluded) {
      if (auto r = visit(e); !r) return r;
    }
    if (is_dir) {
      int sub = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) return walk_error(root, rel, errno, "open directory");
      detail::unique_fd guard(sub);
      if (auto r = walk_directory(sub, root, rel, rules, visit); !r) return r;
    }
  }
  return {};
}

}  // namespace detail

LIFTOFF_DECL result<void> walk_tree(std::filesystem::path const& root, ignore_rules const& rules,
                              std::function<result<void>(tree_entry const&)> const& visit) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return detail::walk_error(root, {}, errno, "open directory");
  detail::unique_fd guard(fd);
  return detail::walk_directory(fd, root, {}, rules, visit);
}

LIFTOFF_DECL result<std::vector<tree_entry>> list_tree(std::filesystem::path const& root, ignore_rules const& rules) {
  std::vector<tree_entry> entries;
  auto r = walk_tree(root, rules, [&](tree_entry const& e) -> result<void> {
    entries.push_back(e);
    return {};
  });
  if (!r) return r.error();
  return entries;
}

}  // namespace liftoff

#endif
