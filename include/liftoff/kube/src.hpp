#ifndef LIFTOFF_KUBE_SRC_HPP
#define LIFTOFF_KUBE_SRC_HPP

/** Compiles liftoff's `kube` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/kube/impl/api.ipp>
#include <liftoff/kube/impl/backend.ipp>
#include <liftoff/kube/impl/config.ipp>
#include <liftoff/kube/impl/kaniko.ipp>
#include <liftoff/kube/impl/manifest.ipp>
#include <liftoff/kube/impl/schema.ipp>
#include <liftoff/kube/impl/status.ipp>
#include <liftoff/kube/impl/target.ipp>
#include <liftoff/kube/impl/watch_hub.ipp>

#endif
