# GoroWarnings — the warning flags goro's own tests and examples build with.
#
# `goro_warnings` is an INTERFACE target: link it PRIVATE to a test, example or
# benchmark. It is never attached to `goro` itself, so consumers of the library
# keep their own warning settings.
#
#   -Wall -Wextra -Wpedantic [-Werror]   g++ and clang++
#   -Wthread-safety                     clang++ only: checks the GORO_GUARDED_BY /
#                                       GORO_REQUIRES annotations (STYLE.md)
#
# GORO_WERROR (default OFF): adds -Werror (/WX). A user's build must never
# fail on a warning — a newer compiler or another build type finds new ones
# (GCC 12 at -O3 reports -Wrestrict inside libstdc++'s own headers). goro's
# CI turns it ON (scripts/test passes -DGORO_WERROR=ON), so warnings in goro's
# code are still caught.
include_guard(GLOBAL)

option(GORO_WERROR "Treat warnings as errors in goro's tests and examples" OFF)

if(NOT TARGET goro_warnings)
  add_library(goro_warnings INTERFACE)
  target_compile_options(goro_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<BOOL:${GORO_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang,AppleClang>>:-Werror>
    $<$<CXX_COMPILER_ID:Clang,AppleClang>:-Wthread-safety>
    $<$<CXX_COMPILER_ID:MSVC>:/W4 $<$<BOOL:${GORO_WERROR}>:/WX>>)
endif()
