cmake_minimum_required(VERSION 3.20)
# Runs the compiler over SOURCE (syntax only) with the flags in FLAGS_FILE.
# Without EXPECT, the source must compile. With EXPECT, compilation must fail
# and the compiler's first error must contain the sentence EXPECT; with ALSO,
# its output must name ALSO too (a type in an instantiation note, say).
foreach(v COMPILER FLAGS_FILE SOURCE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_compile.cmake: ${v} is not set")
  endif()
endforeach()

file(STRINGS "${FLAGS_FILE}" flags)
list(FILTER flags EXCLUDE REGEX "^[ \t]*$")
string(REPLACE "|" ";" IMPLICIT_INCLUDES "${IMPLICIT_INCLUDES}")
foreach(dir IN LISTS IMPLICIT_INCLUDES)
  list(REMOVE_ITEM flags "-I${dir}")
endforeach()
list(REMOVE_DUPLICATES flags)
execute_process(
  COMMAND "${COMPILER}" ${flags} -fsyntax-only "${SOURCE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)

if(EXPECT STREQUAL "")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "expected ${SOURCE} to compile, but the compiler failed (${rc}):\n${out}")
  endif()
  message(STATUS "compiled as expected: ${SOURCE}")
  return()
endif()

if(rc EQUAL 0)
  message(FATAL_ERROR "expected ${SOURCE} not to compile, but it compiled")
endif()
# The sentence must be the compiler's first error, not buried under others.
string(REGEX MATCH "error: [^\n]*" first_error "${out}")
string(FIND "${first_error}" "${EXPECT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${SOURCE} failed to compile, but its first error is not the sentence\n"
                      "  \"${EXPECT}\"\nfirst error: ${first_error}\ncompiler output:\n${out}")
endif()
message(STATUS "failed to compile as expected, saying: ${EXPECT}")
if(DEFINED ALSO AND NOT ALSO STREQUAL "")
  string(FIND "${out}" "${ALSO}" also_at)
  if(also_at EQUAL -1)
    message(FATAL_ERROR "${SOURCE} failed with the sentence, but the output does not name \"${ALSO}\":\n${out}")
  endif()
endif()
