#ifndef LIFTOFF_DOCKER_SRC_HPP
#define LIFTOFF_DOCKER_SRC_HPP

/** Compiles liftoff's `docker` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/docker/impl/attach.ipp>
#include <liftoff/docker/impl/auth.ipp>
#include <liftoff/docker/impl/backend.ipp>
#include <liftoff/docker/impl/builder.ipp>
#include <liftoff/docker/impl/context.ipp>
#include <liftoff/docker/impl/engine.ipp>
#include <liftoff/docker/impl/reference.ipp>
#include <liftoff/docker/impl/registry_push.ipp>
#include <liftoff/docker/impl/target.ipp>

#endif
