#ifndef LIFTOFF_AWS_SRC_HPP
#define LIFTOFF_AWS_SRC_HPP

/** Compiles liftoff's `aws` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/aws/impl/credentials.ipp>
#include <liftoff/aws/impl/json_client.ipp>
#include <liftoff/aws/impl/model.ipp>
#include <liftoff/aws/impl/sigv4.ipp>
#include <liftoff/aws/impl/sts.ipp>

#endif
