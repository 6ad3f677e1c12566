// A program using liftoff the way a downstream project does, header-only:
// its headers, and liftoff/src.hpp in exactly one source file.
#include "program.hpp"

#include <liftoff/src.hpp>

#if !LIFTOFF_HEADER_ONLY
#error this program is built header-only
#endif

int main() { return run_consumer(""); }
