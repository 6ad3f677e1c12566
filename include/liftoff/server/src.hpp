#ifndef LIFTOFF_SERVER_SRC_HPP
#define LIFTOFF_SERVER_SRC_HPP

/** Compiles liftoff's `server` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/server/impl/config_template.ipp>
#include <liftoff/server/impl/service.ipp>
#include <liftoff/server/impl/sqlite_store.ipp>
#include <liftoff/server/impl/wire.ipp>

#endif
