#ifndef LIFTOFF_CORE_CLOSEST_MATCH_HPP
#define LIFTOFF_CORE_CLOSEST_MATCH_HPP

/** "Did you mean …?": the one edit distance and nearest-name search behind
    every suggestion liftoff makes (unknown fields, resources, regions,
    OpenAPI and service-model members). */

#include <liftoff/detail/config.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff {

/// How close a candidate must be to be suggested.
struct match_rules {
  /// Compare letters ignoring ASCII case; a candidate differing only in case is then the answer.
  bool ignore_case = false;
  /** The most edits a suggestion may be away; 0: two, or a third of the
      word's length when that is more. `npos`: the nearest, however far. */
  std::size_t max_edits = 0;
};

/** The optimal string alignment distance between `a` and `b`: insertions,
    deletions, substitutions and swaps of two adjacent characters count one
    edit each. */
std::size_t edit_distance(std::string_view a, std::string_view b, bool ignore_case = false);

/** The candidate closest to `word` when it is close enough to suggest (and,
    unless `max_edits` is `npos`, fewer edits away than `word` has
    characters, so "x" does not suggest "id"), else empty. Ties go to the
    earlier candidate. */
std::string closest_match(std::string_view word, std::vector<std::string_view> const& candidates,
                          match_rules rules = {});

}  // namespace liftoff

#if LIFTOFF_HEADER_ONLY
#include <liftoff/core/impl/closest_match.ipp>
#endif

#endif
