#ifndef LIFTOFF_CORE_IMPL_MACROS_IPP
#define LIFTOFF_CORE_IMPL_MACROS_IPP

#include <liftoff/core/macros.hpp>

#include <liftoff/core/spec.hpp>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <cstdlib>

namespace liftoff {

LIFTOFF_DECL std::optional<std::string> environment_macro(std::string_view name) {
  // Credentials of the program itself (the API token, cloud and cluster keys): a spec naming them gets nothing.
  static constexpr std::string_view withheld[] = {"LIFTOFF_API_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                  "AWS_SESSION_TOKEN", "SLURM_JWT"};
  if (name.empty()) return std::nullopt;
  for (auto w : withheld)
    if (name == w) return std::nullopt;
  if (char const* e = std::getenv(std::string(name).c_str())) return std::string(e);
  return std::nullopt;
}

LIFTOFF_DECL macro_values run_macro_values(launch_spec const& spec, std::optional<std::string> image_uri,
                                           macro_lookup lookup_env) {
  macro_values values;
  values.project_name = spec.project;
  values.run_id = spec.run_id;
  values.run_name = spec.name;
  values.image_uri = std::move(image_uri);
  values.author = spec.author;
  values.lookup_env = std::move(lookup_env);
  return values;
}

LIFTOFF_DECL std::string substitute_macros(std::string_view text, macro_values const& values) {
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
    else if (name == "image_uri") value = values.image_uri;  // nullopt: stays as written
    else if (name == "author") value = values.author;
    else if (!name.empty()) value = values.lookup_env ? values.lookup_env(name) : environment_macro(name);
    if (value) out.append(*value);
    else out.append(text.substr(open, close - open + 1));
    i = close + 1;
  }
  out.append(text.substr(i));
  return out;
}

LIFTOFF_DECL void substitute_macros(boost::json::object& o, macro_values const& values) {
  for (auto& kv : o) substitute_macros(kv.value(), values);
}

LIFTOFF_DECL void substitute_macros(boost::json::value& v, macro_values const& values) {
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
