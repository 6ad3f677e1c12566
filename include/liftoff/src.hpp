#ifndef LIFTOFF_SRC_HPP
#define LIFTOFF_SRC_HPP

/** Include this header in exactly one source file of a program that uses
    liftoff.

    It always compiles Boost.JSON and Boost.URL and, when the program defines
    BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION for
    all its sources, Asio (with its SSL support) and Beast.

    When the program defines LIFTOFF_SEPARATE_COMPILATION for all its sources,
    it also compiles every non-template definition of liftoff, once. A
    program may instead include the parts (`<liftoff/core/src.hpp>`,
    `<liftoff/docker/src.hpp>`, …) from several source files, to compile them
    in parallel, and <liftoff/boost_src.hpp> for the Boost parts. */

#include <liftoff/boost_src.hpp>
#include <liftoff/detail/config.hpp>

#if !LIFTOFF_HEADER_ONLY
#include <liftoff/core/src.hpp>
#include <liftoff/net/src.hpp>
#include <liftoff/client/src.hpp>
#include <liftoff/server/src.hpp>
#include <liftoff/agent/src.hpp>
#include <liftoff/local/src.hpp>
#include <liftoff/docker/src.hpp>
#include <liftoff/kube/src.hpp>
#include <liftoff/aws/src.hpp>
#include <liftoff/sagemaker/src.hpp>
#if LIFTOFF_WITH_BUILDKIT
#include <liftoff/buildkit/src.hpp>
#endif
#include <liftoff/backends_src.hpp>
#endif

#endif
