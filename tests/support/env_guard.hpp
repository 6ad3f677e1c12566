#ifndef LIFTOFF_TESTS_SUPPORT_ENV_GUARD_HPP
#define LIFTOFF_TESTS_SUPPORT_ENV_GUARD_HPP

#include <cstdlib>
#include <optional>
#include <string>

namespace liftoff::test {

/// Sets (or, with nullptr, unsets) an environment variable for the scope, restoring the previous value after.
class env_guard {
public:
  env_guard(char const* name, char const* value) : name_(name) {
    if (char const* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~env_guard() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  env_guard(env_guard const&) = delete;
  env_guard& operator=(env_guard const&) = delete;

private:
  char const* name_;
  std::optional<std::string> old_;
};

}  // namespace liftoff::test

#endif
