// Fuzzes kubeconfig reading (<liftoff/kube/config.hpp>, yaml-cpp beneath):
// the input is one kubeconfig file, or two separated by a NUL (merged as
// KUBECONFIG=a:b merges them), loaded for its current-context and for each
// context it names. Credentials are never asked for, so no exec plugin runs.
// Invariants: nothing throws; failures are liftoff errors with a message; a
// loaded connection has a server, the context asked for, and an identity.

#include <liftoff/kube/config.hpp>

#include "fuzz_support.hpp"

#include <liftoff/core/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using liftoff::fuzz::check_error;

void check_load(liftoff::kube::load_options const& o) {
  auto c = liftoff::kube::load_config(o);
  if (!c) {
    check_error(c.error());
    return;
  }
  LIFTOFF_FUZZ_CHECK(!c->server.empty(), c->identity());
  LIFTOFF_FUZZ_CHECK(!c->context.empty(), c->identity());
  if (!o.context.empty()) LIFTOFF_FUZZ_CHECK(c->context == o.context, c->context);
  LIFTOFF_FUZZ_CHECK(!c->namespace_name.empty(), c->identity());
  LIFTOFF_FUZZ_CHECK(!c->identity().empty());
}

/// Up to four of the context names the file's `contexts` list holds.
std::vector<std::string> context_names(std::string_view text) {
  std::vector<std::string> names;
  auto doc = liftoff::parse_yaml(text, "kubeconfig");
  if (!doc) return names;
  auto const* o = doc->if_object();
  auto const* contexts = o ? o->if_contains("contexts") : nullptr;
  if (!contexts || !contexts->is_array()) return names;
  for (auto const& e : contexts->get_array()) {
    auto const* eo = e.if_object();
    auto const* n = eo ? eo->if_contains("name") : nullptr;
    if (n && n->is_string() && !n->get_string().empty()) names.emplace_back(n->get_string());
    if (names.size() == 4) break;
  }
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const [first, second] = liftoff::fuzz::split_at_nul(liftoff::fuzz::text_of(data, size));
  auto const& dir = liftoff::fuzz::scratch_dir();

  liftoff::kube::load_options o;
  o.allow_in_cluster = false;
  o.service_account_dir = dir / "no-service-account";
  o.files.push_back(dir / "config");
  liftoff::fuzz::write_file(o.files.back(), first);
  if (second.data() != nullptr && !second.empty()) {
    o.files.push_back(dir / "config-2");
    liftoff::fuzz::write_file(o.files.back(), second);
  }

  check_load(o);
  for (auto const& name : context_names(first)) {
    o.context = name;
    check_load(o);
  }
  return 0;
}
