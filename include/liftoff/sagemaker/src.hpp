#ifndef LIFTOFF_SAGEMAKER_SRC_HPP
#define LIFTOFF_SAGEMAKER_SRC_HPP

/** Compiles liftoff's `sagemaker` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/sagemaker/impl/backend.ipp>
#include <liftoff/sagemaker/impl/ecr_push.ipp>
#include <liftoff/sagemaker/impl/target.ipp>
#include <liftoff/sagemaker/impl/training_job.ipp>

#endif
