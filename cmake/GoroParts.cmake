# GoroParts — the optional parts of goro's build (tests, examples,
# benchmarks) and what happens when their packages are missing.
#
#   goro_part_option(<var> <doc>)
#       option(<var> <doc> ${PROJECT_IS_TOP_LEVEL}), and <var>_EXPLICIT in the
#       caller's scope: TRUE when the value was given by the user (-D<var>=...
#       on any configure, cmake-gui, a parent project's set()), FALSE while it
#       is still goro's default.
#
#   goro_part_missing(<var> <part> <package> <debian-package>)
#       <part> cannot be built: <package> was not found. When <var> was asked
#       for explicitly this is a FATAL_ERROR naming the package; otherwise a
#       STATUS line says so and <var> is set OFF for this configure (only as
#       a normal variable: once the package is installed, the next configure
#       builds the part again).
#
# A plain `cmake -S goro -B build && cmake --install build` therefore needs
# only Boost.Context and threads (tests/package: package_minimal).
#
# How "explicit" is told apart: when goro puts its default into the cache it
# also records it in the internal _<var>_DEFAULT. A cache value that differs
# from that record, or a value present without the record, came from the
# user. (-D<var>=ON given later for a value that is already ON by default
# cannot be seen; it behaves like the default.)
include_guard(GLOBAL)

function(goro_part_option var doc)
  if(NOT DEFINED ${var})
    option(${var} "${doc}" ${PROJECT_IS_TOP_LEVEL})
    set(_${var}_DEFAULT "${${var}}" CACHE INTERNAL "goro: default of ${var}")
    set(${var}_EXPLICIT FALSE PARENT_SCOPE)
  elseif(DEFINED CACHE{_${var}_DEFAULT} AND "${${var}}" STREQUAL "$CACHE{_${var}_DEFAULT}")
    set(${var}_EXPLICIT FALSE PARENT_SCOPE)
  else()
    option(${var} "${doc}" ${PROJECT_IS_TOP_LEVEL})  # documents it in the cache
    unset(_${var}_DEFAULT CACHE)                      # the user's from now on
    set(${var}_EXPLICIT TRUE PARENT_SCOPE)
  endif()
endfunction()

# A macro: it sets <var> OFF in the caller's scope.
macro(goro_part_missing var part package debian_package)
  if(${var}_EXPLICIT)
    message(FATAL_ERROR
      "goro: ${var}=${${var}} but ${package} was not found; goro's ${part} need it.\n"
      "Install it (Debian/Ubuntu: apt-get install ${debian_package}, or point "
      "CMAKE_PREFIX_PATH at it), or configure with -D${var}=OFF.")
  endif()
  message(STATUS "goro: ${part} off: ${package} not found "
                 "(Debian/Ubuntu: apt-get install ${debian_package}; -D${var}=OFF silences this)")
  set(${var} OFF)
endmacro()
