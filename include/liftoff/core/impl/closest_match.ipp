#ifndef LIFTOFF_CORE_IMPL_CLOSEST_MATCH_IPP
#define LIFTOFF_CORE_IMPL_CLOSEST_MATCH_IPP

#include <liftoff/core/closest_match.hpp>

#include <algorithm>

namespace liftoff {

LIFTOFF_DECL std::size_t edit_distance(std::string_view a, std::string_view b, bool ignore_case) {
  auto fold = [ignore_case](char c) {
    return ignore_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      char const x = fold(a[i - 1]), y = fold(b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x == y ? 0 : 1)});
      if (i > 1 && j > 1 && x == fold(b[j - 2]) && fold(a[i - 2]) == y) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

LIFTOFF_DECL std::string closest_match(std::string_view word, std::vector<std::string_view> const& candidates,
                                       match_rules rules) {
  if (rules.ignore_case)
    for (auto c : candidates)
      if (c.size() == word.size() && edit_distance(c, word, true) == 0) return std::string(c);
  bool const nearest = rules.max_edits == std::string_view::npos;
  std::size_t const limit = nearest ? std::string_view::npos
                            : rules.max_edits ? rules.max_edits
                                              : std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_d = std::string_view::npos;
  for (auto c : candidates) {
    auto const d = edit_distance(word, c, rules.ignore_case);
    if (d > limit || (!nearest && d >= word.size()) || d >= best_d) continue;
    best_d = d;
    best = std::string(c);
  }
  return best;
}

}  // namespace liftoff

#endif
