#ifndef LIFTOFF_AGENT_SRC_HPP
#define LIFTOFF_AGENT_SRC_HPP

/** Compiles liftoff's `agent` definitions: include it in one source file of a program built with
    LIFTOFF_SEPARATE_COMPILATION (<liftoff/src.hpp> includes it with all the others). */

#include <liftoff/detail/config.hpp>

#if LIFTOFF_HEADER_ONLY
#error Define LIFTOFF_SEPARATE_COMPILATION for every source file of the program to compile liftoff once
#endif

#include <liftoff/agent/impl/agent.ipp>
#include <liftoff/agent/impl/dispatcher.ipp>
#include <liftoff/agent/impl/heartbeat.ipp>
#include <liftoff/agent/impl/lease.ipp>
#include <liftoff/agent/impl/recovery.ipp>
#include <liftoff/agent/impl/registration.ipp>
#include <liftoff/agent/impl/run_worker.ipp>
#include <liftoff/agent/impl/shared.ipp>
#include <liftoff/agent/impl/state_file.ipp>

#endif
