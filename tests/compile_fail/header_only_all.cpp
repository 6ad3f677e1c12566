// Header-only use of the whole library: every backend (through the list of
// backends), the agent, the server and the client, with no separately
// compiled definitions. Must compile.
#include <liftoff/agent/agent.hpp>
#include <liftoff/backends.hpp>
#include <liftoff/client/client.hpp>
#include <liftoff/server/http_server.hpp>
#include <liftoff/src.hpp>

#if !LIFTOFF_HEADER_ONLY
#error this check is for header-only use
#endif

int main() {
  auto registry = liftoff::make_registry();
  return registry.resources().size() == liftoff::backend_names().size() ? 0 : 1;
}
