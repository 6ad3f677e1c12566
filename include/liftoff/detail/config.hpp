#ifndef LIFTOFF_DETAIL_CONFIG_HPP
#define LIFTOFF_DETAIL_CONFIG_HPP

/** Header-only or separately compiled, as Boost.Beast and Boost.JSON do it.

    By default liftoff is header-only: every public header ends by including
    its `.ipp` files (in `impl/`), whose non-template definitions are
    `inline`.

    A program that defines `LIFTOFF_SEPARATE_COMPILATION` for all of its
    sources (on the compiler's command line) gets declarations only from the
    headers, and compiles the definitions once by including
    `<liftoff/src.hpp>` in exactly one of its source files. */

#if defined(LIFTOFF_SEPARATE_COMPILATION)
#define LIFTOFF_HEADER_ONLY 0
/// Marks a non-template definition in an `.ipp`: `inline` when header-only, nothing when compiled once.
#define LIFTOFF_DECL
#else
#define LIFTOFF_HEADER_ONLY 1
#define LIFTOFF_DECL inline
#endif

#endif
