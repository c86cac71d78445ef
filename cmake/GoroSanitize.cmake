# GoroSanitize — GORO_SANITIZE and the flags goro's tests and examples get.
#
# GORO_SANITIZE (cache string):
#   ""        no sanitizer (default)
#   "thread"  -fsanitize=thread
#   "address" -fsanitize=address,undefined -fno-omit-frame-pointer
#             -fno-sanitize-recover=undefined
#
# `goro_test_flags` is an INTERFACE target linked PRIVATE by every test and
# example. It carries the sanitizer compile and link flags and these
# definitions:
#   GORO_SANITIZER_BUILD=1   only when a sanitizer is on
#   GORO_TEST_SCALE=<n>      always: 20 under thread, 4 under address, 1
#                            otherwise. Tests divide their goroutine counts by
#                            it (GCC's TSan costs ms and ~800 KB per fiber).
#                            A -DGORO_TEST_SCALE=<n> cache entry overrides it.
#   -UNDEBUG                 when GORO_TEST_ASSERTS is ON (default): assert()
#                            stays live in tests even in RelWithDebInfo/Release.
#
# The library itself needs nothing from CMake: its headers detect
# __SANITIZE_THREAD__ / __has_feature(thread_sanitizer) and annotate fibers.
# Benchmarks are never built with a sanitizer (see the top-level CMakeLists).
include_guard(GLOBAL)

set(GORO_SANITIZE "" CACHE STRING "Sanitizer for goro's tests and examples: \"\", thread or address")
set_property(CACHE GORO_SANITIZE PROPERTY STRINGS "" thread address)
if(NOT GORO_SANITIZE STREQUAL "" AND NOT GORO_SANITIZE STREQUAL "thread"
   AND NOT GORO_SANITIZE STREQUAL "address")
  message(FATAL_ERROR "GORO_SANITIZE must be empty, \"thread\" or \"address\", not \"${GORO_SANITIZE}\"")
endif()

option(GORO_TEST_ASSERTS "Keep assert() enabled (-UNDEBUG) in goro's tests and examples" ON)

if(GORO_SANITIZE STREQUAL "thread")
  set(GORO_SANITIZER_FLAGS -fsanitize=thread)
  set(GORO_TEST_SCALE 20)
  set(GORO_TEST_TIMEOUT_FACTOR 4)
elseif(GORO_SANITIZE STREQUAL "address")
  set(GORO_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
                           -fno-sanitize-recover=undefined)
  set(GORO_TEST_SCALE 4)
  set(GORO_TEST_TIMEOUT_FACTOR 4)
else()
  set(GORO_SANITIZER_FLAGS "")
  set(GORO_TEST_SCALE 1)
  set(GORO_TEST_TIMEOUT_FACTOR 1)
endif()

# -DGORO_TEST_SCALE=<n> (cache) overrides the value above, e.g. for tests
# run under emulation (scripts/test_arm64).
if(NOT "$CACHE{GORO_TEST_SCALE}" STREQUAL "")
  set(GORO_TEST_SCALE "$CACHE{GORO_TEST_SCALE}")
endif()

if(NOT TARGET goro_test_flags)
  add_library(goro_test_flags INTERFACE)
  target_compile_definitions(goro_test_flags INTERFACE GORO_TEST_SCALE=${GORO_TEST_SCALE})
  if(GORO_SANITIZE)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
      message(FATAL_ERROR "GORO_SANITIZE needs g++ or clang++ (compiler: ${CMAKE_CXX_COMPILER_ID})")
    endif()
    target_compile_options(goro_test_flags INTERFACE ${GORO_SANITIZER_FLAGS})
    target_link_options(goro_test_flags INTERFACE ${GORO_SANITIZER_FLAGS})
    target_compile_definitions(goro_test_flags INTERFACE GORO_SANITIZER_BUILD=1)
    message(STATUS "goro: tests and examples built with ${GORO_SANITIZER_FLAGS} (GORO_TEST_SCALE=${GORO_TEST_SCALE})")
  endif()
  if(GORO_TEST_ASSERTS AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(goro_test_flags INTERFACE -UNDEBUG)
  endif()
endif()
