#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

// What the sanitizers of a sanitized build (LIFTOFF_SANITIZE) do unless
// ASAN_OPTIONS / UBSAN_OPTIONS say otherwise: report leaks at exit, and the
// stack of any undefined behaviour (which stops the program). Unused in
// other builds.
extern "C" char const* __asan_default_options() { return "detect_leaks=1"; }
extern "C" char const* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
