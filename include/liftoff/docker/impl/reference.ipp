#ifndef LIFTOFF_DOCKER_IMPL_REFERENCE_IPP
#define LIFTOFF_DOCKER_IMPL_REFERENCE_IPP

#include <liftoff/docker/reference.hpp>

#include <cctype>

namespace liftoff::docker {

namespace detail {

LIFTOFF_DECL bool is_lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
LIFTOFF_DECL bool is_alnum(char c) noexcept { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
LIFTOFF_DECL bool is_word(char c) noexcept { return is_alnum(c) || c == '_'; }

/// path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
LIFTOFF_DECL bool valid_path_component(std::string_view s) noexcept {
  std::size_t i = 0;
  auto run = [&] {
    std::size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    return i > start;
  };
  if (!run()) return false;
  while (i < s.size()) {
    if (s[i] == '.') ++i;
    else if (s[i] == '_') i += (i + 1 < s.size() && s[i + 1] == '_') ? 2 : 1;
    else if (s[i] == '-') while (i < s.size() && s[i] == '-') ++i;
    else return false;
    if (!run()) return false;
  }
  return true;
}

/// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
LIFTOFF_DECL bool valid_domain_component(std::string_view s) noexcept {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

/// host[:port], where host is dotted domain components or a bracketed IPv6 literal.
LIFTOFF_DECL bool valid_domain(std::string_view s) noexcept {
  std::string_view host = s;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':') return false;
    host = {};
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty()) return false;
  }
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  if (!host.empty() || s.front() != '[') {
    if (host.empty()) return false;
    for (std::size_t start = 0;;) {
      auto dot = host.find('.', start);
      if (!valid_domain_component(host.substr(start, dot == std::string_view::npos ? dot : dot - start))) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  return true;
}

/// tag := [\w][\w.-]{0,127}
LIFTOFF_DECL bool valid_tag(std::string_view s) noexcept {
  if (s.empty() || s.size() > 128 || !is_word(s.front())) return false;
  for (char c : s)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

/// digest := algorithm ":" hex{32,}; algorithm := [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)*
LIFTOFF_DECL bool valid_digest(std::string_view s) noexcept {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  auto algo = s.substr(0, colon);
  auto hex = s.substr(colon + 1);
  if (hex.size() < 32) return false;
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  bool component_start = true;
  for (char c : algo) {
    if (component_start) {
      if (!std::isalpha(static_cast<unsigned char>(c))) return false;
      component_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      component_start = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  return !algo.empty() && !component_start;
}

}  // namespace detail

LIFTOFF_DECL std::string image_reference::name() const { return domain + "/" + path; }

LIFTOFF_DECL std::string image_reference::familiar_name() const {
  if (domain != default_registry) return name();
  constexpr std::string_view library = "library/";
  if (path.starts_with(library) && path.find('/', library.size()) == std::string::npos)
    return path.substr(library.size());
  return path;
}

LIFTOFF_DECL std::string image_reference::normalized() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

LIFTOFF_DECL std::string image_reference::familiar() const {
  std::string out = familiar_name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

LIFTOFF_DECL result<image_reference> parse_image_reference(std::string_view text) {
  auto fail = [&](std::string why) -> diagnostic {
    return {error::invalid_spec, "invalid image reference '" + std::string(text) + "': " + why};
  };
  if (text.empty()) return fail("it is empty");

  image_reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    auto digest = rest.substr(at + 1);
    if (!detail::valid_digest(digest))
      return fail("invalid digest '" + std::string(digest) + "' (expected algorithm:hex, e.g. sha256: and 64 hex digits)");
    ref.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it belongs to the domain's port.
  auto colon = rest.rfind(':');
  auto slash = rest.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    auto tag = rest.substr(colon + 1);
    if (!detail::valid_tag(tag))
      return fail("invalid tag '" + std::string(tag) + "' (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')");
    ref.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return fail("the repository name is empty");
  if (rest.size() > 255) return fail("the repository name is longer than 255 characters");

  std::string_view remainder = rest;
  auto first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    auto first = rest.substr(0, first_slash);
    bool has_upper = false;
    for (char c : first) has_upper = has_upper || std::isupper(static_cast<unsigned char>(c));
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || has_upper) {
      if (!detail::valid_domain(first)) return fail("invalid registry host '" + std::string(first) + "'");
      ref.domain = std::string(first);
      remainder = rest.substr(first_slash + 1);
    }
  }
  if (ref.domain.empty() || ref.domain == "index.docker.io") ref.domain = std::string(default_registry);

  if (remainder.empty()) return fail("the repository path is empty");
  for (std::size_t start = 0;;) {
    auto end = remainder.find('/', start);
    auto component = remainder.substr(start, end == std::string_view::npos ? end : end - start);
    if (!detail::valid_path_component(component)) {
      for (char c : component)
        if (std::isupper(static_cast<unsigned char>(c))) return fail("repository name must be lowercase");
      return fail("invalid repository path component '" + std::string(component) +
                  "' (lower-case letters and digits, separated by '.', '_', '__' or '-')");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (remainder.size() == 64 && ref.domain == default_registry && remainder.find_first_not_of("0123456789abcdef") == std::string_view::npos)
    return fail("a 64-digit hexadecimal string is an image id, not a repository name");

  ref.path = std::string(remainder);
  if (ref.domain == default_registry && ref.path.find('/') == std::string::npos) ref.path = "library/" + ref.path;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace liftoff::docker

#endif
