#ifndef LIFTOFF_CORE_SRC_HPP
#define LIFTOFF_CORE_SRC_HPP

/** Compiles liftoff's `core` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/builder/impl/noop.ipp>
#include <liftoff/core/impl/closest_match.ipp>
#include <liftoff/core/impl/launcher.ipp>
#include <liftoff/core/impl/macros.ipp>
#include <liftoff/core/impl/parse.ipp>
#include <liftoff/core/impl/registry.ipp>
#include <liftoff/core/impl/spec.ipp>
#include <liftoff/detail/impl/process.ipp>
#include <liftoff/source/impl/git.ipp>
#include <liftoff/source/impl/ignore.ipp>
#include <liftoff/source/impl/image.ipp>
#include <liftoff/source/impl/local_dir.ipp>
#include <liftoff/transport/impl/local_daemon.ipp>

#endif
