#ifndef LIFTOFF_DETAIL_LINES_HPP
#define LIFTOFF_DETAIL_LINES_HPP

// Views over text that liftoff reads line by line (ignore files, INI files,
// .dockerignore), and joining names for messages, with range-v3.

#include <range/v3/range/access.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/range/operations.hpp>
#include <range/v3/view/join.hpp>
#include <range/v3/view/split.hpp>
#include <range/v3/view/transform.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace liftoff::detail {

/** The lines of `text` as string views into it, split at '\n', each without
    a final '\r'. A view: nothing is copied, and `text` must outlive it. */
inline auto lines_of(std::string_view text) {
  return text | ranges::views::split('\n') | ranges::views::transform([](auto&& line) {
           auto const n = static_cast<std::size_t>(ranges::distance(line));
           std::string_view s(n ? &*ranges::begin(line) : nullptr, n);
           if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
           return s;
         });
}

/// The elements of `names` (strings or string views) joined with `separator`: "a, b, c".
template <class Range>
std::string join_names(Range const& names, std::string_view separator = ", ") {
  return names | ranges::views::join(separator) | ranges::to<std::string>();
}

}  // namespace liftoff::detail

#endif
