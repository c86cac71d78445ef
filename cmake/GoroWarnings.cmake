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
# GORO_WERROR (default ON, OFF under GORO_SANITIZE: GCC documents that
# sanitizers raise false positives such as -Wmaybe-uninitialized, so sanitizer
# builds report warnings without failing on them; the plain g++ and clang++
# builds enforce -Werror).
include_guard(GLOBAL)

if(GORO_SANITIZE)
  set(_goro_werror_default OFF)
else()
  set(_goro_werror_default ON)
endif()
option(GORO_WERROR "Treat warnings as errors in goro's tests and examples" ${_goro_werror_default})
unset(_goro_werror_default)

if(NOT TARGET goro_warnings)
  add_library(goro_warnings INTERFACE)
  target_compile_options(goro_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<BOOL:${GORO_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang,AppleClang>>:-Werror>
    $<$<CXX_COMPILER_ID:Clang,AppleClang>:-Wthread-safety>
    $<$<CXX_COMPILER_ID:MSVC>:/W4 $<$<BOOL:${GORO_WERROR}>:/WX>>)
endif()
