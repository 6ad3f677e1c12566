#ifndef LIFTOFF_SRC_HPP
#define LIFTOFF_SRC_HPP

/** Include this header in exactly one source file of a program that uses
    liftoff. It compiles Boost.JSON and Boost.URL, and, when the program
    defines BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION
    for all its sources, Asio (with its SSL support) and Beast. */

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
