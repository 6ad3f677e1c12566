#ifndef LIFTOFF_DETAIL_PATHS_HPP
#define LIFTOFF_DETAIL_PATHS_HPP

/// Relative paths inside a tree that is packed or unpacked (build contexts, code artifacts).

#include <string_view>
#include <vector>

namespace liftoff::detail {

/// The `/`-separated segments of `p`, empty ones included.
inline std::vector<std::string_view> path_segments(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    auto slash = p.find('/');
    out.push_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

/** Whether a symlink at the relative path `link_path` whose target is
    `target` points inside the tree: not absolute, and no `..` climbing
    above the top. */
inline bool link_stays_inside(std::string_view link_path, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  auto where = path_segments(link_path);
  if (!where.empty()) where.pop_back();  // the link's own name
  for (auto seg : path_segments(target)) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (where.empty()) return false;
      where.pop_back();
    } else {
      where.push_back(seg);
    }
  }
  return true;
}

}  // namespace liftoff::detail

#endif
