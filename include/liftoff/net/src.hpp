#ifndef LIFTOFF_NET_SRC_HPP
#define LIFTOFF_NET_SRC_HPP

/** Compiles liftoff's `net` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/net/impl/client.ipp>
#include <liftoff/net/impl/endpoint.ipp>
#include <liftoff/net/impl/url.ipp>

#endif
