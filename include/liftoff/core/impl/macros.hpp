#ifndef LIFTOFF_CORE_IMPL_MACROS_HPP
#define LIFTOFF_CORE_IMPL_MACROS_HPP

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <cstdlib>

namespace liftoff {

inline std::string substitute_macros(std::string_view text, macro_values const& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto open = text.find("${", i);
    if (open == std::string_view::npos) break;
    auto close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    auto name = text.substr(open + 2, close - open - 2);
    std::optional<std::string> value;
    if (name == "project_name") value = values.project_name;
    else if (name == "run_id") value = values.run_id;
    else if (name == "run_name") value = values.run_name;
    else if (name == "image_uri") value = values.image_uri;
    else if (name == "author") value = values.author;
    else if (!name.empty()) {
      if (values.lookup_env) value = values.lookup_env(name);
      else if (char const* e = std::getenv(std::string(name).c_str())) value = std::string(e);
    }
    if (value) out.append(*value);
    else out.append(text.substr(open, close - open + 1));
    i = close + 1;
  }
  out.append(text.substr(i));
  return out;
}

inline void substitute_macros(boost::json::object& o, macro_values const& values) {
  for (auto& kv : o) substitute_macros(kv.value(), values);
}

inline void substitute_macros(boost::json::value& v, macro_values const& values) {
  if (auto* s = v.if_string()) {
    if (s->find("${") != boost::json::string::npos) *s = substitute_macros(std::string_view(*s), values);
  } else if (auto* a = v.if_array()) {
    for (auto& e : *a) substitute_macros(e, values);
  } else if (auto* o = v.if_object()) {
    substitute_macros(*o, values);
  }
}

}  // namespace liftoff

#endif
