#ifndef LIFTOFF_LOCAL_HPP
#define LIFTOFF_LOCAL_HPP

/// The `local` backend's launchers: see <liftoff/local/launchers.hpp>.
#include <liftoff/local/launchers.hpp>

#endif
