// Fuzzes the AWS shared files (<liftoff/aws/credentials.hpp>: ~/.aws/config
// and ~/.aws/credentials, INI through Boost.PropertyTree): the input is the
// config file, then a NUL, then the credentials file (none without a NUL).
// Profiles `default`, `dev` and those the files' section headers name are
// loaded, the region resolved and an endpoint built, with an empty
// environment and neither container credentials nor instance metadata, so
// nothing leaves the process. Invariants: nothing throws; failures are
// liftoff errors with a message; a loaded profile has the name asked for
// and names the files it came from; a resolved region is one liftoff knows
// or (with an endpoint override) has a region's shape.

#include <liftoff/aws/credentials.hpp>

#include "fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

using liftoff::fuzz::check_error;

/// "default", "dev", and up to four names of `[name]` / `[profile name]` lines.
std::vector<std::string> profile_names(std::string_view a, std::string_view b) {
  std::vector<std::string> names{"default", "dev"};
  for (auto text : {a, b}) {
    std::size_t at = 0;
    while (at < text.size() && names.size() < 6) {
      auto nl = text.find('\n', at);
      auto line = text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
      at = nl == std::string_view::npos ? text.size() : nl + 1;
      if (line.size() < 3 || line.front() != '[') continue;
      auto close = line.find(']');
      if (close == std::string_view::npos) continue;
      auto name = line.substr(1, close - 1);
      if (name.starts_with("profile ")) name.remove_prefix(8);
      if (!name.empty()) names.emplace_back(name);
    }
  }
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const [config, credentials] = liftoff::fuzz::split_at_nul(liftoff::fuzz::text_of(data, size));
  auto const home = liftoff::fuzz::scratch_dir() / "home";
  std::filesystem::create_directories(home / ".aws");
  liftoff::fuzz::write_file(home / ".aws" / "config", config);
  std::error_code ec;
  std::filesystem::remove(home / ".aws" / "credentials", ec);
  if (credentials.data() != nullptr) liftoff::fuzz::write_file(home / ".aws" / "credentials", credentials);

  liftoff::aws::credentials_options o;
  o.environment = std::map<std::string, std::string>{};
  o.home = home;
  o.use_container = false;
  o.use_instance_metadata = false;

  for (auto const& name : profile_names(config, credentials)) {
    auto p = liftoff::aws::load_profile(o, name);
    if (!p) {
      check_error(p.error());
      continue;
    }
    if (!*p) continue;
    LIFTOFF_FUZZ_CHECK((*p)->name == name, (*p)->name + " for " + name);
    LIFTOFF_FUZZ_CHECK(!(*p)->credentials_file.empty() || !(*p)->config_file.empty(), name);
    for (auto const& [key, value] : (*p)->values) LIFTOFF_FUZZ_CHECK((*p)->get(key) == value, key);
  }

  o.profile = "dev";
  auto region = liftoff::aws::resolve_region(o);
  // A region liftoff does not know is accepted only in a region's shape (with an endpoint override).
  static std::regex const shape("[a-z]{2}(-[a-z]+)+-[0-9]+");
  if (region) LIFTOFF_FUZZ_CHECK(liftoff::aws::known_region(*region) || std::regex_match(*region, shape), *region);
  else check_error(region.error());
  auto const url = liftoff::aws::endpoint_url(o, liftoff::aws::services::sagemaker(), region ? *region : "us-east-1");
  LIFTOFF_FUZZ_CHECK(!url.empty());
  return 0;
}
