#ifndef LIFTOFF_AWS_DETAIL_PATTERN_HPP
#define LIFTOFF_AWS_DETAIL_PATTERN_HPP

// The `pattern` constraints of AWS service models: ECMAScript / Java regular
// expressions with Unicode classes (`\p{L}`), matched unanchored against the
// code points of a UTF-8 string with boost::wregex.
//
// Boost's character classes know ASCII only (the locale decides beyond it),
// so each Unicode class becomes its ASCII members plus every non-ASCII code
// point: permissive beyond ASCII, exact within it. The service checks the
// rest.

#include <boost/regex.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace liftoff::aws::detail {

/// Decodes UTF-8; malformed bytes become U+FFFD each.
inline std::wstring utf8_to_wide(std::string_view s) {
  std::wstring out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto const c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0xFFFD;
    std::size_t n = 1;
    if (c < 0x80) cp = c;
    else if ((c >> 5) == 0x6) n = 2, cp = c & 0x1F;
    else if ((c >> 4) == 0xE) n = 3, cp = c & 0x0F;
    else if ((c >> 3) == 0x1E) n = 4, cp = c & 0x07;
    else n = 0;
    if (n > 1) {
      bool ok = i + n <= s.size();
      for (std::size_t k = 1; ok && k < n; ++k) {
        auto const cc = static_cast<unsigned char>(s[i + k]);
        if ((cc >> 6) != 0x2) ok = false;
        else cp = (cp << 6) | (cc & 0x3F);
      }
      if (!ok) { cp = 0xFFFD; n = 1; }
    } else if (n == 0) {
      n = 1;
    }
    out.push_back(static_cast<wchar_t>(cp));
    i += n;
  }
  return out;
}

/// The number of code points of UTF-8 text (malformed bytes count one each).
inline std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (auto ch : s)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  return n;
}

/// The bracket-expression body standing for `\p{name}` (without the brackets), or "" when unknown.
inline std::wstring unicode_class_body(std::string_view name) {
  static constexpr wchar_t non_ascii[] = L"\\x{80}-\\x{10FFFF}";
  std::wstring body;
  if (name == "L" || name == "IsAlphabetic" || name == "IsLetter") body = L"[:alpha:]";
  else if (name == "Lu") body = L"[:upper:]";
  else if (name == "Ll") body = L"[:lower:]";
  else if (name == "M" || name == "Mn") body = L"";
  else if (name == "Z" || name == "Zs") body = L" ";
  else if (name == "N" || name == "Nd") body = L"[:digit:]";
  else if (name == "S") body = L"$+<=>^`|~";
  else if (name == "P") body = LR"(!"#%&'()*,\-./:;?@\[\\\]_{})";
  else if (name == "Alnum") return L"[:alnum:]";
  else if (name == "Alpha") return L"[:alpha:]";
  else if (name == "Digit") return L"[:digit:]";
  else if (name == "Punct") return L"[:punct:]";
  else if (name == "Upper") return L"[:upper:]";
  else if (name == "Lower") return L"[:lower:]";
  else if (name == "Space") return L"[:space:]";
  else if (name == "Print" || name == "Graph") return L"\\x{21}-\\x{7E}";
  else return {};
  return body + non_ascii;
}

/** Rewrites a model pattern for boost: `\p{X}` / `\P{X}` become bracket
    expressions, and a quantifier on `$` (`...)${1,128}`, found in real
    models) is dropped, as `$` matches no characters. */
inline std::wstring translate_pattern(std::string_view pattern) {
  auto const wide = utf8_to_wide(pattern);
  std::wstring out;
  bool in_set = false;
  bool in_range = false;   // in a set, after "x-": the next atom ends a range
  bool range_end = false;  // in a set, the last atom ended a range
  bool set_first = false;  // at the first atom of a set
  for (std::size_t i = 0; i < wide.size(); ++i) {
    wchar_t const c = wide[i];
    if (c == L'\\' && i + 1 < wide.size()) {
      wchar_t const n = wide[i + 1];
      if ((n == L'p' || n == L'P') && i + 2 < wide.size()) {
        std::string name;
        std::size_t end = i + 2;
        if (wide[end] == L'{') {
          auto const close = wide.find(L'}', end);
          if (close != std::wstring::npos) {
            for (auto k = end + 1; k < close; ++k) name.push_back(static_cast<char>(wide[k]));
            end = close;
          }
        } else {
          name.push_back(static_cast<char>(wide[end]));
        }
        if (name.starts_with("Is") && name.size() > 2 && name != "IsAlphabetic" && name != "IsLetter")
          name = name.substr(2);
        auto body = unicode_class_body(name);
        if (!body.empty()) {
          bool const negated = n == L'P';
          if (in_set && !negated) out += body;
          else out += (negated ? L"[^" : L"[") + body + L"]";
          i = end;
          range_end = in_range = set_first = false;
          continue;
        }
      }
      out += c;
      out += n;
      ++i;
      set_first = false;
      range_end = in_range;
      in_range = false;
      continue;
    }
    if (in_set) {
      bool const first = set_first;
      set_first = false;
      if (c == L']' && !first) {
        in_set = false;
      } else if (c == L'-' && !first && i + 1 < wide.size() && wide[i + 1] != L']') {
        // After a range ("0-9-_"), '-' is a literal in ECMAScript and Java; boost would read another range.
        if (range_end) {
          out += L"\\-";
          range_end = false;
          continue;
        }
        in_range = true;
        out += c;
        continue;
      }
      range_end = in_range;
      in_range = false;
      out += c;
      continue;
    }
    if (c == L'[') {
      in_set = true;
      range_end = in_range = false;
      set_first = true;
      out += c;
      // A ']' or '^]' first in a set is a literal.
      if (i + 1 < wide.size() && wide[i + 1] == L'^') out += wide[++i];
      if (i + 1 < wide.size() && wide[i + 1] == L']') {
        out += wide[++i];
        set_first = false;
      }
      continue;
    }
    if (c == L'$' && i + 1 < wide.size() && wide[i + 1] == L'{') {
      auto const close = wide.find(L'}', i + 1);
      out += c;
      if (close != std::wstring::npos) i = close;
      continue;
    }
    out += c;
  }
  return out;
}

/** The compiled form of `pattern`, compiled once per program (thread-safe);
    nullptr when boost cannot compile it (the constraint is then not checked). */
inline std::shared_ptr<boost::wregex const> compiled_pattern(std::string const& pattern) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<boost::wregex const>> cache;
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(pattern); it != cache.end()) return it->second;
  }
  std::shared_ptr<boost::wregex const> re;
  try {
    re = std::make_shared<boost::wregex const>(translate_pattern(pattern), boost::regex_constants::ECMAScript);
  } catch (std::exception const&) {
    re = nullptr;
  }
  std::lock_guard lock(mutex);
  return cache.emplace(pattern, std::move(re)).first->second;
}

/// Whether `value` contains a match of `pattern` (true when the pattern cannot be checked).
inline bool pattern_matches(std::string const& pattern, std::string_view value) {
  auto re = compiled_pattern(pattern);
  if (!re) return true;
  try {
    return boost::regex_search(utf8_to_wide(value), *re);
  } catch (std::exception const&) {
    return true;  // too complex to decide: leave it to the service
  }
}

}  // namespace liftoff::aws::detail

#endif
