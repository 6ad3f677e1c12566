#ifndef LIFTOFF_DETAIL_QUOTE_HPP
#define LIFTOFF_DETAIL_QUOTE_HPP

/** Showing text that came from outside in a message or a log line: a short,
    escaped excerpt, so that a 10 KB name does not make a 10 KB error and a
    newline or an escape sequence in a value cannot forge a line of its own;
    and the checks that keep control characters out of names. */

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace liftoff::detail {

/// One decoded UTF-8 sequence: its code point and length in bytes; `length` 0 when the bytes are not valid UTF-8.
struct utf8_sequence {
  char32_t code_point = 0;
  std::size_t length = 0;
};

/** Decodes the UTF-8 sequence that `s` starts with (shortest form only, no
    surrogates, at most U+10FFFF). An empty `s` or an invalid first sequence
    gives `length` 0. */
inline utf8_sequence decode_utf8(std::string_view s) noexcept {
  if (s.empty()) return {};
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char const b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  std::size_t n = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) n = 2, cp = b0 & 0x1f;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3, cp = b0 & 0x0f;
    if (b0 == 0xe0) lo = 0xa0;       // no overlong forms
    else if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4, cp = b0 & 0x07;
    if (b0 == 0xf0) lo = 0x90;
    else if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else
    return {};
  if (s.size() < n) return {};
  for (std::size_t i = 1; i < n; ++i) {
    unsigned char const b = byte(i);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return {};
    cp = (cp << 6) | (b & 0x3f);
  }
  return {cp, n};
}

/// U+0000–U+001F, U+007F and U+0080–U+009F: the Unicode control characters (category Cc).
constexpr bool is_control_character(char32_t c) noexcept { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

/// Where text stops being printable: the byte offset, and the control character there (none: invalid UTF-8).
struct unprintable_at {
  std::size_t offset = 0;
  std::optional<char32_t> control;
};

/// The first control character or invalid UTF-8 sequence in `s`; none when `s` is printable text.
inline std::optional<unprintable_at> find_unprintable(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    auto seq = decode_utf8(s.substr(i));
    if (seq.length == 0) return unprintable_at{i, std::nullopt};
    if (is_control_character(seq.code_point)) return unprintable_at{i, seq.code_point};
    i += seq.length;
  }
  return std::nullopt;
}

/// "U+000A": a code point as a message names it.
inline std::string code_point_name(char32_t c) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string hex;
  for (char32_t v = c; v != 0 || hex.size() < 4; v >>= 4) hex.insert(hex.begin(), digits[v & 0xf]);
  return "U+" + hex;
}

/** What keeps `s` from being a name people read, as the end of a sentence
    about the field: "contains a control character (U+000A) at byte 3" or
    "is not valid UTF-8 at byte 5"; empty when `s` is printable text. The
    caller names the field and says what is expected. */
inline std::string describe_unprintable(std::string_view s) {
  auto at = find_unprintable(s);
  if (!at) return {};
  if (!at->control) return "is not valid UTF-8 at byte " + std::to_string(at->offset);
  return "contains a control character (" + code_point_name(*at->control) + ") at byte " + std::to_string(at->offset);
}

/** Where `s` holds a NUL character, which exec, the environment and file
    paths cannot carry (the string would end there); none when it has none. */
inline std::optional<std::size_t> find_nul(std::string_view s) noexcept {
  auto pos = s.find('\0');
  if (pos == std::string_view::npos) return std::nullopt;
  return pos;
}

/** Whether a code point is escaped when quoted, though printable: the
    characters that break a line or turn the direction of text around, with
    which a quoted value could pass for something else (U+061C, U+200E,
    U+200F, U+2028–U+202E, U+2066–U+2069, U+FEFF). */
constexpr bool is_deceptive_character(char32_t c) noexcept {
  return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0xfeff;
}

/** `s` as a message or a log line shows it: in double quotes, with `"` and
    `\` escaped, control characters written JSON-style (`\n`, `\t`, `\u001b`),
    as are the line and direction marks of `is_deceptive_character`, and each
    byte of invalid UTF-8 as `\xff`. At most `max` bytes of `s` are shown, cut
    before a UTF-8 sequence, never inside one; a cut value ends with "…" inside
    the quotes and gives its whole length after them:
    `"aaaa…" (10240 bytes)`. Whatever `s` holds, the result is one line of
    valid UTF-8 whose quotes are its own. */
inline std::string quote_excerpt(std::string_view s, std::size_t max = 64) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "\"";
  std::size_t i = 0;
  while (i < s.size()) {
    auto seq = decode_utf8(s.substr(i));
    std::size_t const len = seq.length == 0 ? 1 : seq.length;
    if (i + len > max) break;
    if (seq.length == 0) {
      auto b = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out += digits[b >> 4];
      out += digits[b & 0xf];
    } else if (char32_t c = seq.code_point; c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\b') out += "\\b";
    else if (c == '\f') out += "\\f";
    else if (is_control_character(c) || is_deceptive_character(c)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += digits[(c >> shift) & 0xf];
    } else
      out.append(s.substr(i, len));
    i += len;
  }
  if (i == s.size()) return out + '"';
  return out + "\xe2\x80\xa6\" (" + std::to_string(s.size()) + " bytes)";
}

/** `s` in single quotes, as liftoff's messages name fields and values
    (`'local-process'`), when it is at most `max` bytes of printable ASCII
    with neither `'` nor `\`; anything else as `quote_excerpt(s, max)` gives
    it. Messages about well-formed names read as they always did, and the
    rest cannot run long or forge a line. */
inline std::string quote_plain(std::string_view s, std::size_t max = 64) {
  bool plain = s.size() <= max;
  for (std::size_t i = 0; plain && i < s.size(); ++i)
    plain = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\'' && s[i] != '\\';
  if (plain) return "'" + std::string(s) + "'";
  return quote_excerpt(s, max);
}

}  // namespace liftoff::detail

#endif
