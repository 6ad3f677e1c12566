// The same program in separate-compilation mode (LIFTOFF_SEPARATE_COMPILATION):
// liftoff's headers give declarations only, and the definitions come from
// liftoff::compiled (find_package) or from compiled_parts.cpp (a program that
// compiles only the parts it uses).
#include "program.hpp"

#if LIFTOFF_HEADER_ONLY
#error this program is built with LIFTOFF_SEPARATE_COMPILATION
#endif

int main() { return run_consumer(" (separate compilation)"); }
