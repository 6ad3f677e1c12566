#ifndef LIFTOFF_BOOST_SRC_HPP
#define LIFTOFF_BOOST_SRC_HPP

/** The Boost libraries liftoff uses that are compiled, not header-only:
    Boost.JSON and Boost.URL always, Asio (with SSL) and Beast when the program
    defines BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION.
    <liftoff/src.hpp> includes it; include it in one source file. */

#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#if defined(BOOST_ASIO_SEPARATE_COMPILATION)
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#endif

#if defined(BOOST_BEAST_SEPARATE_COMPILATION)
#include <boost/beast/src.hpp>
#endif

#endif
