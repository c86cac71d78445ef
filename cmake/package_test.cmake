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
# minimal:          the README's install line on a machine with only
#                   Boost.Context: configure goro with its defaults while
#                   Catch2, Google Benchmark and Boost.Fiber cannot be found
#                   (CMAKE_DISABLE_FIND_PACKAGE_*); the configure must succeed
#                   and say which parts it turned off and what to install;
#                   `cmake --install` (no build step), then the find_package
#                   consumer (CONSUMER_DIR) against that install. Also checks
#                   that -DGORO_BUILD_TESTS=ON without Catch2 is an error
#                   naming Catch2.
# All then build the consumer and run its `app` (header-only goro::goro) and
# `app_separate` (goro::runtime), which must exit 0.
# Registered by tests/CMakeLists.txt as package_find_package,
# package_add_subdirectory and package_minimal (label `package`).
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
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# expect_output(<what> <output> <substring>...): each substring must occur.
function(expect_output what output)
  foreach(needle IN LISTS ARGN)
    string(FIND "${output}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "package_test (${MODE}): the output of ${what} does not say \"${needle}\"")
    endif()
  endforeach()
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
            share/cmake/goro/goroConfigVersion.cmake share/cmake/goro/goroTargets.cmake
            share/cmake/goro/goro_runtime.cpp share/cmake/goro/GoroRuntime.cmake
            include/goro/impl/src.hpp)
    if(NOT EXISTS "${prefix}/${f}")
      message(FATAL_ERROR "package_test: ${prefix}/${f} was not installed")
    endif()
  endforeach()
  list(PREPEND prefix_path "${prefix}")
  # A list cannot travel through execute_process arguments: use a cache file.
  file(WRITE "${WORK_DIR}/init.cmake" "set(CMAKE_PREFIX_PATH [==[${prefix_path}]==] CACHE STRING \"\")\n")
  run_step("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${consumer_build}"
    ${common_args} -C "${WORK_DIR}/init.cmake")
elseif(MODE STREQUAL "minimal")
  set(goro_build "${WORK_DIR}/goro-build")
  set(prefix "${WORK_DIR}/prefix")
  set(only_boost_context
    -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=TRUE
    -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=TRUE
    -DCMAKE_DISABLE_FIND_PACKAGE_boost_fiber=TRUE)
  # No -DGORO_BUILD_*: the defaults of a top-level project.
  run_step("configure goro with only Boost.Context" "${CMAKE_COMMAND}" -S "${GORO_SOURCE_DIR}" -B "${goro_build}"
    ${common_args} "-DCMAKE_INSTALL_PREFIX=${prefix}" ${only_boost_context})
  expect_output("the configure" "${step_output}"
    "goro: tests off: Catch2 2.x not found" "apt-get install catch2"
    "goro: benchmarks off: Google Benchmark not found" "apt-get install libbenchmark-dev"
    "goro: tests OFF, examples ON, benchmarks OFF")
  run_step("install goro" "${CMAKE_COMMAND}" --install "${goro_build}")
  if(NOT EXISTS "${prefix}/include/goro/goro.hpp" OR NOT EXISTS "${prefix}/share/cmake/goro/goroConfig.cmake")
    message(FATAL_ERROR "package_test (minimal): goro was not installed into ${prefix}")
  endif()

  # Asked for explicitly, a missing package is an error that names it.
  set(explicit_build "${WORK_DIR}/goro-build-explicit")
  message("---- configure goro with -DGORO_BUILD_TESTS=ON and no Catch2 (must fail)")
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${GORO_SOURCE_DIR}" -B "${explicit_build}"
                    ${common_args} ${only_boost_context} -DGORO_BUILD_TESTS=ON
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(rc STREQUAL "0")
    message(FATAL_ERROR "package_test (minimal): -DGORO_BUILD_TESTS=ON without Catch2 configured successfully")
  endif()
  string(REGEX REPLACE "[ \t\r\n]+" " " out_flat "${out}")  # CMake wraps error text
  expect_output("the failing configure" "${out_flat}"
    "GORO_BUILD_TESTS=ON but Catch2 2.x was not found" "apt-get install catch2")

  list(PREPEND prefix_path "${prefix}")
  file(WRITE "${WORK_DIR}/init.cmake" "set(CMAKE_PREFIX_PATH [==[${prefix_path}]==] CACHE STRING \"\")\n")
  run_step("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${consumer_build}"
    ${common_args} -C "${WORK_DIR}/init.cmake")
elseif(MODE STREQUAL "add_subdirectory")
  file(WRITE "${WORK_DIR}/init.cmake" "set(CMAKE_PREFIX_PATH [==[${prefix_path}]==] CACHE STRING \"\")\n")
  run_step("configure consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${consumer_build}"
    ${common_args} -C "${WORK_DIR}/init.cmake" "-DGORO_ROOT=${GORO_SOURCE_DIR}")
else()
  message(FATAL_ERROR "package_test: MODE must be find_package, add_subdirectory or minimal, not ${MODE}")
endif()

run_step("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}")
run_step("run consumer" "${consumer_build}/app")
run_step("run consumer (goro::runtime)" "${consumer_build}/app_separate")
message("PASS (${MODE})")
