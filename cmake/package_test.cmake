# package_test.cmake — builds a small consumer of goro, the way users will.
#
#   cmake -DMODE=find_package|add_subdirectory -DGORO_SOURCE_DIR=<goro>
#         -DCONSUMER_DIR=<tests/package/MODE> -DWORK_DIR=<scratch dir>
#         [-DGENERATOR=<g>] [-DMAKE_PROGRAM=<p>] [-DCXX_COMPILER=<c++>]
#         [-DBUILD_TYPE=<t>] [-DPREFIX_PATH=<a|b|...>] -P package_test.cmake
#
# find_package:     configure goro alone (tests/examples/bench OFF), build,
#                   `cmake --install` it into WORK_DIR/prefix, then configure
#                   the consumer with CMAKE_PREFIX_PATH=WORK_DIR/prefix.
# add_subdirectory: configure the consumer with -DGORO_ROOT=GORO_SOURCE_DIR.
# Both then build the consumer and run its `app`, which must exit 0.
# Registered by tests/CMakeLists.txt as package_find_package and
# package_add_subdirectory (label `package`).
cmake_minimum_required(VERSION 3.25)

foreach(var MODE GORO_SOURCE_DIR CONSUMER_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "package_test: -D${var}=... is required")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

set(common_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
if(GENERATOR)
  list(APPEND common_args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND common_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND common_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
string(REPLACE "|" ";" prefix_path "${PREFIX_PATH}")

function(run_step what)
  message("---- ${what}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "package_test (${MODE}): ${what} failed (${rc})")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumer_build "${WORK_DIR}/consumer-build")

if(MODE STREQUAL "find_package")
  set(goro_build "${WORK_DIR}/goro-build")
  set(prefix "${WORK_DIR}/prefix")
  run_step("configure goro" "${CMAKE_COMMAND}" -S "${GORO_SOURCE_DIR}" -B "${goro_build}"
    ${common_args} "-DCMAKE_INSTALL_PREFIX=${prefix}"
    -DGORO_BUILD_TESTS=OFF -DGORO_BUILD_EXAMPLES=OFF -DGORO_BUILD_BENCH=OFF)
  run_step("build goro" "${CMAKE_COMMAND}" --build "${goro_build}")
  run_step("install goro" "${CMAKE_COMMAND}" --install "${goro_build}")
  foreach(f include/goro/goro.hpp share/cmake/goro/goroConfig.cmake
            share/cmake/goro/goroConfigVersion.cmake share/cmake/goro/goroTargets.cmake)
    if(NOT EXISTS "${prefix}/${f}")
      message(FATAL_ERROR "package_test: ${prefix}/${f} was not installed")
    endif()
  endforeach()
  list(PREPEND prefix_path "${prefix}")
  # A list cannot travel through execute_process arguments: use a cache file.
  file(WRITE "${WORK_DIR}/init.cmake" "set(CMAKE_PREFIX_PATH [==[${prefix_path}]==] CACHE STRING \"\")\n")
  run_step("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${consumer_build}"
    ${common_args} -C "${WORK_DIR}/init.cmake")
elseif(MODE STREQUAL "add_subdirectory")
  file(WRITE "${WORK_DIR}/init.cmake" "set(CMAKE_PREFIX_PATH [==[${prefix_path}]==] CACHE STRING \"\")\n")
  run_step("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${consumer_build}"
    ${common_args} -C "${WORK_DIR}/init.cmake" "-DGORO_ROOT=${GORO_SOURCE_DIR}")
else()
  message(FATAL_ERROR "package_test: MODE must be find_package or add_subdirectory, not ${MODE}")
endif()

run_step("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}")
run_step("run consumer" "${consumer_build}/app")
message("PASS (${MODE})")
