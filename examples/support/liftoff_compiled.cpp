// The one translation unit of liftoff's own programs that compiles Boost.JSON,
// Boost.URL, Asio and Beast (see liftoff/src.hpp).
#include <liftoff/src.hpp>
