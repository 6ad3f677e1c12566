#ifndef LIFTOFF_AWS_DETAIL_INI_HPP
#define LIFTOFF_AWS_DETAIL_INI_HPP

// The AWS shared files (~/.aws/credentials, ~/.aws/config) through
// Boost.PropertyTree's INI parser. The files allow what that parser rejects:
// nested settings written as indented lines under an empty key
// ("s3 =\n  max_concurrent_requests = 20"), a key given twice (the last one
// counts), a section given twice (merged). The text is first rearranged so
// that each section appears once with each key once, every line keeping its
// original line number for messages.

#include <liftoff/detail/lines.hpp>

#include <liftoff/core/error.hpp>

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace liftoff::aws::detail {

/// Section name → key → value.
using ini_sections = std::map<std::string, std::map<std::string, std::string>>;

inline std::string_view ini_trim(std::string_view s) noexcept {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/** "[ profile  dev ]" → "profile dev": the name with its words separated by one space. */
inline std::string ini_section_name(std::string_view inner) {
  std::string out;
  bool space = false;
  for (char c : ini_trim(inner)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

/** Parses the text of a shared file named `file` (for messages). A line the
    parser rejects fails with error::parse_error naming the file and line. */
inline result<ini_sections> parse_ini(std::string_view text, std::string const& file) {
  struct line {
    std::string text;
    std::size_t number;
  };
  struct section {
    std::string header;  // "" for keys before any section
    std::size_t number = 0;
    std::vector<line> lines;
    std::map<std::string, std::size_t> key_index;  // key → index in lines
  };
  std::vector<section> sections(1);
  std::map<std::string, std::size_t> section_index;
  std::size_t current = 0;
  bool after_empty_key = false;  // indented lines under "key =" are nested settings

  std::size_t number = 0;
  for (std::string_view raw : liftoff::detail::lines_of(text)) {
    ++number;
    auto const t = ini_trim(raw);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    bool const indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented && (after_empty_key || !sections[current].lines.empty())) {
      // A nested setting or a continued value: not something liftoff reads.
      continue;
    }
    after_empty_key = false;
    if (t.front() == '[' && t.back() == ']') {
      auto name = ini_section_name(t.substr(1, t.size() - 2));
      auto [it, fresh] = section_index.try_emplace(name, sections.size());
      if (fresh) {
        sections.push_back(section{"[" + name + "]", number, {}, {}});
      }
      current = it->second;
      continue;
    }
    auto const eq = t.find('=');
    if (eq != std::string_view::npos) {
      auto const key = std::string(ini_trim(t.substr(0, eq)));
      after_empty_key = ini_trim(t.substr(eq + 1)).empty();
      auto& s = sections[current];
      auto [it, fresh] = s.key_index.try_emplace(key, s.lines.size());
      if (!fresh) {
        s.lines[it->second] = line{std::string(t), number};  // the last one counts
        continue;
      }
    }
    // Key lines, and lines the parser will reject with their line number.
    sections[current].lines.push_back(line{std::string(t), number});
  }

  std::string canonical;
  std::vector<std::size_t> numbers;  // canonical line (1-based) → original line
  numbers.push_back(0);
  for (auto const& s : sections) {
    if (!s.header.empty()) {
      canonical += s.header + "\n";
      numbers.push_back(s.number);
    }
    for (auto const& l : s.lines) {
      canonical += l.text + "\n";
      numbers.push_back(l.number);
    }
  }

  boost::property_tree::ptree tree;
  std::istringstream in(canonical);
  try {
    boost::property_tree::ini_parser::read_ini(in, tree);
  } catch (boost::property_tree::ini_parser_error const& e) {
    auto const at = e.line() < numbers.size() ? numbers[e.line()] : 0;
    return diagnostic(error::parse_error, file + (at ? ":" + std::to_string(at) : std::string()) + ": " +
                                              e.message() +
                                              "; AWS shared files hold [section] lines and key = value lines");
  }

  ini_sections out;
  for (auto const& [name, child] : tree) {
    if (!section_index.contains(name)) {
      out[""][name] = child.data();  // a key before any section
      continue;
    }
    auto& s = out[name];
    for (auto const& [key, value] : child) s[key] = value.data();
  }
  return out;
}

}  // namespace liftoff::aws::detail

#endif
