# Runs one fuzzer once over every kept input (ctest's "fuzz: <name>" tests):
# libFuzzer given files, not directories, runs each once and exits, failing
# on the first input that crashes, leaks or trips a sanitizer or an assertion.
#   cmake -DFUZZER=<program> -DINPUTS=<dir>|<dir> -DWORK_DIR=<dir> -P replay.cmake
string(REPLACE "|" ";" _dirs "${INPUTS}")
set(_files)
foreach(_dir ${_dirs})
  file(GLOB _found LIST_DIRECTORIES false "${_dir}/*")
  list(FILTER _found EXCLUDE REGEX "/(README[^/]*|\\.[^/]*)$")
  list(APPEND _files ${_found})
endforeach()
list(LENGTH _files _count)
if(_count EQUAL 0)
  message(FATAL_ERROR "no inputs in ${INPUTS}: a fuzzer's corpus must hold at least one seed")
endif()
# Artifacts of a failure (crash-…) go here, not into the source tree.
file(MAKE_DIRECTORY "${WORK_DIR}")
message(STATUS "${FUZZER}: ${_count} inputs")
execute_process(COMMAND "${FUZZER}" "-artifact_prefix=${WORK_DIR}/" ${_files}
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${_rc}) on one of the inputs above")
endif()
