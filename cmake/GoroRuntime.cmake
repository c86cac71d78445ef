# GoroRuntime — defines goro::runtime, goro compiled separately (README
# "Compile time"): the runtime compiles once, into a static library, instead
# of in every TU that includes goro; each TU linked with it gets
# GORO_SEPARATE_COMPILATION. EXCLUDE_FROM_ALL: built only when something
# links it. Included by goro's own CMakeLists.txt and by the installed
# goroConfig.cmake, which builds it in the consumer's project from the
# installed source, so that it gets the consumer's compiler and flags (a
# sanitizer build needs the runtime built with the same sanitizer).
#
#   goro_define_runtime(<runtime source> <header-only target>)
include_guard(GLOBAL)

function(goro_define_runtime source goro_target)
  if(TARGET goro::runtime)
    return()
  endif()
  add_library(goro_runtime STATIC EXCLUDE_FROM_ALL "${source}")
  add_library(goro::runtime ALIAS goro_runtime)
  target_link_libraries(goro_runtime PUBLIC ${goro_target})
  target_compile_definitions(goro_runtime PUBLIC GORO_SEPARATE_COMPILATION)
endfunction()
