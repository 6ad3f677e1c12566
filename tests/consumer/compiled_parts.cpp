// The one source file that compiles the parts of liftoff this program uses
// (the core), and the Boost libraries liftoff needs compiled.
#include <liftoff/boost_src.hpp>
#include <liftoff/core/src.hpp>
