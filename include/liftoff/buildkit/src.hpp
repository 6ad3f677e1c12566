#ifndef LIFTOFF_BUILDKIT_SRC_HPP
#define LIFTOFF_BUILDKIT_SRC_HPP

/** Compiles liftoff's `buildkit` definitions (the BuildKit builder), in the
    compiled library when it is built with gRPC (LIFTOFF_WITH_BUILDKIT). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/buildkit/impl/build.ipp>
#include <liftoff/buildkit/impl/filesync.ipp>
#include <liftoff/buildkit/impl/progress.ipp>

#endif
