# check_umbrella_header.cmake — every public header (include/goro/*.hpp) is
# reachable from <goro/goro.hpp>, which promises to include everything.
#
#   cmake -DCXX=<compiler> -DINCLUDE_DIR=<goro>/include -P check_umbrella_header.cmake
#
# The compiler lists what goro.hpp includes (-MM: not system headers; -MG:
# a header it cannot find, such as Boost's, is listed rather than an error),
# so #if'd-out includes do not count. Public headers are found by globbing
# include/goro/, so a new header is checked without editing this file.
cmake_minimum_required(VERSION 3.25)

foreach(var CXX INCLUDE_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "check_umbrella_header: -D${var}=... is required")
  endif()
endforeach()

set(umbrella "${INCLUDE_DIR}/goro/goro.hpp")
execute_process(
  COMMAND "${CXX}" -std=c++20 -x c++ -MM -MG "-I${INCLUDE_DIR}" "${umbrella}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE deps
  ERROR_VARIABLE errors)
if(NOT result STREQUAL "0")
  message(FATAL_ERROR "check_umbrella_header: ${CXX} -MM failed (${result}):\n${errors}")
endif()

# "goro.o: a.hpp b.hpp \<newline> c.hpp ..." -> a list of real paths.
string(REGEX REPLACE "^[^:]*:" "" deps "${deps}")
string(REPLACE "\\\n" " " deps "${deps}")
string(REGEX REPLACE "[ \t\r\n]+" ";" deps "${deps}")
set(reached "")
foreach(dep IN LISTS deps)
  if(dep STREQUAL "")
    continue()
  endif()
  if(NOT IS_ABSOLUTE "${dep}")
    set(dep "${INCLUDE_DIR}/${dep}")
  endif()
  file(REAL_PATH "${dep}" dep)
  list(APPEND reached "${dep}")
endforeach()

file(GLOB public_headers "${INCLUDE_DIR}/goro/*.hpp")
list(SORT public_headers)
set(missing "")
foreach(header IN LISTS public_headers)
  file(REAL_PATH "${header}" real)
  if(NOT real IN_LIST reached)
    get_filename_component(name "${header}" NAME)
    list(APPEND missing "${name}")
  endif()
endforeach()

list(LENGTH public_headers n)
if(missing)
  string(REPLACE ";" ", " missing "${missing}")
  message(FATAL_ERROR "check_umbrella_header: <goro/goro.hpp> does not include: ${missing}\n"
                      "Add #include \"<header>\" to include/goro/goro.hpp.")
endif()
message("PASS: all ${n} public headers are reachable from <goro/goro.hpp>")
