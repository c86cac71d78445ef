# check_compile_fails.cmake — a negative compile test: building a target must
# fail, and the compiler's output must say what the user should write.
#
#   cmake -DBUILD_DIR=<dir> -DTARGET=<target> -DSOURCE=<file.cpp>
#         [-DCONFIG=<config>] -P check_compile_fails.cmake
#
# <file.cpp> starts with comment lines (tests/compile/CMakeLists.txt):
#   // expect: <regex>   required, repeatable: each must match the output
#   // forbid: <regex>   optional, repeatable: none may match the output
# The output is flattened to one line first (compilers wrap long messages),
# so a regex may span what the compiler printed on several lines. Regexes
# are CMake regexes (no \d, no {n}; a backslash escapes one character).
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR TARGET SOURCE)
  if(NOT ${var})
    message(FATAL_ERROR "check_compile_fails: -D${var}=... is required")
  endif()
endforeach()

file(STRINGS "${SOURCE}" header_lines REGEX "^//[ \t]*(expect|forbid):")
set(expect "")
set(forbid "")
foreach(line IN LISTS header_lines)
  if(line MATCHES "^//[ \t]*expect:[ \t]*(.+)$")
    list(APPEND expect "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^//[ \t]*forbid:[ \t]*(.+)$")
    list(APPEND forbid "${CMAKE_MATCH_1}")
  endif()
endforeach()
if(NOT expect)
  message(FATAL_ERROR "check_compile_fails: ${SOURCE} has no `// expect: <regex>` line")
endif()

set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}" ${config_args}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
message("---- building ${TARGET} (must fail) ----")
message("${output}")
message("---- exit status: ${result} ----")

string(REGEX REPLACE "[ \t\r\n]+" " " flat "${output}")
set(failures "")
if(result STREQUAL "0")
  string(APPEND failures "FAIL: ${TARGET} compiled, but ${SOURCE} must not\n")
endif()
foreach(re IN LISTS expect)
  if(NOT flat MATCHES "${re}")
    string(APPEND failures "FAIL: the compiler's output does not match: ${re}\n")
  endif()
endforeach()
foreach(re IN LISTS forbid)
  if(flat MATCHES "${re}")
    string(APPEND failures "FAIL: the compiler's output matches the forbidden: ${re}\n")
  endif()
endforeach()
if(failures)
  message("${failures}")
  message(FATAL_ERROR "check_compile_fails: ${SOURCE}")
endif()
message("PASS")
