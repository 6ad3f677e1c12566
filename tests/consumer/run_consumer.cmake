cmake_minimum_required(VERSION 3.20)
# Builds and runs the consumer program in MODE (find_package or
# add_subdirectory), in WORK_DIR. Fails on the first step that fails.

function(run_step what)
  message(STATUS "consumer (${MODE}): ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer (${MODE}): ${what} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
string(REPLACE "|" ";" PREFIX_PATH "${PREFIX_PATH}")

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(common -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
if(CXX_COMPILER_LAUNCHER)
  list(APPEND common "-DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER}")
endif()

if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run_step("configure liftoff" ${CMAKE_COMMAND} -S "${LIFTOFF_SOURCE_DIR}" -B "${WORK_DIR}/liftoff-build" ${common}
    "-DCMAKE_INSTALL_PREFIX=${prefix}"
    -DLIFTOFF_BUILD_TESTS=OFF -DLIFTOFF_BUILD_EXAMPLES=OFF -DLIFTOFF_BUILD_BENCHMARKS=OFF)
  run_step("install liftoff" ${CMAKE_COMMAND} --install "${WORK_DIR}/liftoff-build")
  if(NOT EXISTS "${prefix}/include/liftoff/core/launcher.hpp")
    message(FATAL_ERROR "consumer (${MODE}): the install has no include/liftoff/core/launcher.hpp")
  endif()
  set(prefix_path "${prefix}")
  if(PREFIX_PATH)
    list(APPEND prefix_path ${PREFIX_PATH})
  endif()
  run_step("configure the consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}/find_package" -B "${WORK_DIR}/build"
    ${common} "-DCMAKE_PREFIX_PATH=${prefix_path}")
elseif(MODE STREQUAL "add_subdirectory")
  run_step("configure the consumer" ${CMAKE_COMMAND} -S "${CONSUMER_DIR}/add_subdirectory" -B "${WORK_DIR}/build"
    ${common} "-DLIFTOFF_DIR=${LIFTOFF_SOURCE_DIR}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

run_step("build the consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run_step("run the consumer" "${WORK_DIR}/build/consumer")
message("${step_output}")
set(expected "consumer ok: run id consumer-check, command python3 job.py --steps 2")
string(FIND "${step_output}" "${expected}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "consumer (${MODE}): expected the program to print\n  ${expected}")
endif()
