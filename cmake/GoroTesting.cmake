# GoroTesting — functions that register goro's tests with CTest.
#
#   goro_add_test(<name> [SOURCE <file.cpp>] [LABELS <label>...] [TIMEOUT <s>])
#       Executable test_<name> from <file.cpp> (default: <name>.cpp in the
#       calling directory), linked with goro::goro, goro_catch_main,
#       goro_warnings and goro_test_flags (and the precompiled header of
#       cmake/GoroPch.cmake). Every Catch2 TEST_CASE becomes its
#       own ctest, named "<name>/<TEST_CASE name>", with TIMEOUT <s> (default
#       120) so a hung test fails instead of hanging. Default label: unit.
#
#   goro_add_death_test(<name> SOURCE <file.cpp> PASS_REGULAR_EXPRESSION <re>...
#                       [EXIT <code|nonzero|abort|any>] [ARGS <arg>...]
#                       [TIMEOUT <s>] [LABELS <label>...])
#       Plain executable death_<name> (no Catch2) and a ctest death_<name> that
#       passes iff every <re> matches some line of the output (stdout+stderr)
#       and the exit status fits EXIT (default: nonzero, i.e. the program did
#       not exit 0: a non-zero code or a signal such as abort()). Leak checking
#       is off for it (a program that dies on purpose leaks). Default label:
#       death.
#
#   goro_add_exit_test(<name> SOURCE <file.cpp> EXIT_CODE <n>
#                      [PASS_REGULAR_EXPRESSION <re>...] [ARGS <arg>...]
#                      [TIMEOUT <s>] [LABELS <label>...])
#       Like goro_add_death_test, but the program must exit with exactly <n>
#       (e.g. 2 for Go's "all goroutines are asleep - deadlock!").
#
#   goro_add_output_test(<test-name> TARGET <exe-target> EXPECT_FILE <f>
#                        [TIMEOUT <s>] [LABELS <label>...])
#       Runs <exe-target> and checks its output against a .expect file (format
#       at the top of cmake/check_output.cmake).
#
# Regexes are CMake regexes (https://cmake.org/cmake/help/latest/command/string.html#regex-specification):
# `. * + ? [] [^] ^ $ () |`, backslash escapes a character; no \d, no {n}.
# A regex given to these functions cannot hold ";" (CMake's list separator);
# in a `// expect:` line or a .expect file it can. Under GORO_SANITIZE every
# TIMEOUT is multiplied by 4.
#
# Why not CTest's own PASS_REGULAR_EXPRESSION: CTest fails a test killed by a
# signal ("Subprocess aborted") whatever its output, and cannot check an exit
# code and a regex together. cmake/check_output.cmake does both.
include_guard(GLOBAL)

set(_GORO_CHECK_OUTPUT_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/check_output.cmake"
    CACHE INTERNAL "goro: output checker script")

# _goro_timeout(<out-var> <seconds>): <seconds> scaled for sanitizer builds.
function(_goro_timeout out seconds)
  if(NOT GORO_TEST_TIMEOUT_FACTOR)
    set(GORO_TEST_TIMEOUT_FACTOR 1)
  endif()
  math(EXPR t "${seconds} * ${GORO_TEST_TIMEOUT_FACTOR}")
  set(${out} ${t} PARENT_SCOPE)
endfunction()

# _goro_link_test_target(<target>): what every goro test/example links.
function(_goro_link_test_target target)
  target_link_libraries(${target} PRIVATE ${GORO_TEST_LIBRARY} goro_warnings goro_test_flags)
endfunction()

function(goro_add_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE;TIMEOUT" "LABELS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "goro_add_test(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCE)
    set(arg_SOURCE "${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  if(NOT arg_LABELS)
    set(arg_LABELS unit)
  endif()
  if(NOT TARGET goro_catch_main)
    message(FATAL_ERROR "goro_add_test(${name}): goro_catch_main is not defined (tests/CMakeLists.txt defines it)")
  endif()
  _goro_timeout(timeout ${arg_TIMEOUT})

  set(target test_${name})
  add_executable(${target} "${arg_SOURCE}")
  target_link_libraries(${target} PRIVATE goro_catch_main)
  _goro_link_test_target(${target})
  goro_reuse_pch(${target} CATCH)

  # Catch2 v2 lists the TEST_CASEs after each build (POST_BUILD) and writes
  # one add_test per case. PROPERTIES are spliced into set_tests_properties
  # unquoted, so a list of labels cannot go through them: LABELS are set by a
  # second include file that runs after Catch2's.
  catch_discover_tests(${target}
    TEST_PREFIX "${name}/"
    TEST_LIST goro_${target}_TESTS
    PROPERTIES TIMEOUT ${timeout})
  set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  file(CONFIGURE OUTPUT "${labels_file}" CONTENT [==[
if(goro_@target@_TESTS)
  set_tests_properties(${goro_@target@_TESTS} PROPERTIES LABELS "@arg_LABELS@")
endif()
]==] @ONLY)
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
endfunction()

# _goro_add_checked_program(<name> SOURCE f EXIT spec [MATCH re...] [ARGS a...]
#                           [TIMEOUT s] [LABELS l...] [NO_LEAK_CHECK])
function(_goro_add_checked_program name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_LEAK_CHECK" "SOURCE;EXIT;TIMEOUT;KIND"
                        "MATCH;ARGS;LABELS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${arg_KIND}(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCE)
    message(FATAL_ERROR "${arg_KIND}(${name}): SOURCE is required")
  endif()
  if(NOT IS_ABSOLUTE "${arg_SOURCE}")
    set(arg_SOURCE "${CMAKE_CURRENT_SOURCE_DIR}/${arg_SOURCE}")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 60)
  endif()
  _goro_timeout(timeout ${arg_TIMEOUT})

  add_executable(${name} "${arg_SOURCE}")
  _goro_link_test_target(${name})
  goro_reuse_pch(${name})

  # The expectations go through a generated .expect file, so that no regex
  # has to survive command-line quoting.
  set(expect "# generated by ${arg_KIND}() from ${arg_SOURCE}\nexit: ${arg_EXIT}\n")
  foreach(re IN LISTS arg_MATCH)
    string(APPEND expect "${re}\n")
  endforeach()
  set(expect_file "${CMAKE_CURRENT_BINARY_DIR}/${name}.expect")
  _goro_write_if_changed("${expect_file}" "${expect}")

  _goro_add_check_test(${name} $<TARGET_FILE:${name}> "${expect_file}" ${timeout}
                       "${arg_LABELS}" ${arg_NO_LEAK_CHECK} ${arg_ARGS})
endfunction()

# _goro_add_check_test(<test> <exe> <expect-file> <timeout> <labels> <no-leak-check> [args...])
function(_goro_add_check_test test exe expect_file timeout labels no_leak_check)
  # The checker stops the program a little before CTest would, so that it can
  # still print what the program wrote.
  math(EXPR inner_timeout "${timeout} - (${timeout} / 10) - 1")
  if(inner_timeout LESS 1)
    set(inner_timeout 1)
  endif()
  if(no_leak_check)
    set(leak_flag ON)
  else()
    set(leak_flag OFF)
  endif()
  # Cross builds (cmake/toolchain-aarch64.cmake) run the program through the
  # emulator; "|" joins its list, as a ";" would split the argument.
  string(REPLACE ";" "|" emulator "${CMAKE_CROSSCOMPILING_EMULATOR}")
  add_test(NAME ${test}
    COMMAND "${CMAKE_COMMAND}"
      "-DEXE=${exe}"
      "-DEMULATOR=${emulator}"
      "-DEXPECT_FILE=${expect_file}"
      "-DTIMEOUT=${inner_timeout}"
      "-DNO_LEAK_CHECK=${leak_flag}"
      -P "${_GORO_CHECK_OUTPUT_SCRIPT}" -- ${ARGN})
  set_tests_properties(${test} PROPERTIES TIMEOUT ${timeout} LABELS "${labels}")
endfunction()

function(goro_add_death_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE;TIMEOUT;EXIT"
                        "PASS_REGULAR_EXPRESSION;ARGS;LABELS")
  if(NOT arg_PASS_REGULAR_EXPRESSION)
    message(FATAL_ERROR "goro_add_death_test(${name}): PASS_REGULAR_EXPRESSION is required")
  endif()
  if(NOT arg_EXIT)
    set(arg_EXIT nonzero)
  endif()
  if(NOT arg_LABELS)
    set(arg_LABELS death)
  endif()
  _goro_add_checked_program(death_${name} KIND goro_add_death_test NO_LEAK_CHECK
    SOURCE "${arg_SOURCE}" EXIT ${arg_EXIT} TIMEOUT "${arg_TIMEOUT}"
    MATCH ${arg_PASS_REGULAR_EXPRESSION} ARGS ${arg_ARGS} LABELS ${arg_LABELS}
    ${arg_UNPARSED_ARGUMENTS})
endfunction()

function(goro_add_exit_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SOURCE;TIMEOUT;EXIT_CODE"
                        "PASS_REGULAR_EXPRESSION;ARGS;LABELS")
  if(NOT arg_EXIT_CODE MATCHES "^[0-9]+$")
    message(FATAL_ERROR "goro_add_exit_test(${name}): EXIT_CODE <n> is required (got '${arg_EXIT_CODE}')")
  endif()
  if(NOT arg_LABELS)
    set(arg_LABELS death)
  endif()
  _goro_add_checked_program(death_${name} KIND goro_add_exit_test NO_LEAK_CHECK
    SOURCE "${arg_SOURCE}" EXIT ${arg_EXIT_CODE} TIMEOUT "${arg_TIMEOUT}"
    MATCH ${arg_PASS_REGULAR_EXPRESSION} ARGS ${arg_ARGS} LABELS ${arg_LABELS}
    ${arg_UNPARSED_ARGUMENTS})
endfunction()

function(goro_add_output_test test)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TARGET;EXPECT_FILE;TIMEOUT" "LABELS")
  if(NOT TARGET "${arg_TARGET}" OR NOT arg_EXPECT_FILE)
    message(FATAL_ERROR "goro_add_output_test(${test}): TARGET <exe> and EXPECT_FILE <file> are required")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  if(NOT arg_LABELS)
    set(arg_LABELS example)
  endif()
  _goro_timeout(timeout ${arg_TIMEOUT})
  _goro_add_check_test(${test} $<TARGET_FILE:${arg_TARGET}> "${arg_EXPECT_FILE}" ${timeout}
                       "${arg_LABELS}" OFF)
endfunction()

# goro_parse_test_header(<file> <prefix>): reads the `// key: value` comment
# lines at the very top of <file> (expect, exit, args, timeout, sanitize) into
# <prefix>_EXPECT (a list, one entry per `// expect:` line), <prefix>_EXIT,
# <prefix>_ARGS (split like a shell command line), <prefix>_TIMEOUT and
# <prefix>_SANITIZE (the builds the test belongs to: a list of thread,
# address, none; empty means all).
# Parsing stops at the first line that is not a `//` comment (at most 12).
function(goro_parse_test_header file prefix)
  # The header is configuration: editing it re-runs CMake on the next build.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
  # file(READ) rather than file(STRINGS): a regex holding "[" must not be
  # taken for a CMake list bracket.
  file(READ "${file}" text LIMIT 4096)
  set(expect "")
  set(exit "")
  set(args "")
  set(timeout "")
  set(sanitize "")
  string(ASCII 1 semicolon)
  foreach(i RANGE 1 12)
    string(FIND "${text}" "\n" nl)
    if(nl EQUAL -1)
      set(line "${text}")
      set(text "")
    else()
      string(SUBSTRING "${text}" 0 ${nl} line)
      math(EXPR nl "${nl} + 1")
      string(SUBSTRING "${text}" ${nl} -1 text)
    endif()
    string(REGEX REPLACE "[ \t\r]+$" "" line "${line}")
    if(NOT line MATCHES "^[ \t]*//")
      break()
    endif()
    if(line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*(.+)$")
      # A ";" would split the list: carry it as \x01, which
      # check_output.cmake reads back as ";".
      string(REPLACE ";" "${semicolon}" re "${CMAKE_MATCH_1}")
      list(APPEND expect "${re}")
    elseif(line MATCHES "^[ \t]*//[ \t]*exit:[ \t]*([^ \t]+)")
      set(exit "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^[ \t]*//[ \t]*args:[ \t]*(.*)$")
      separate_arguments(args UNIX_COMMAND "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^[ \t]*//[ \t]*timeout:[ \t]*([0-9]+)")
      set(timeout "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^[ \t]*//[ \t]*sanitize:[ \t]*(.+)$")
      string(REGEX REPLACE "[ \t,]+" ";" sanitize "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  set(${prefix}_EXPECT "${expect}" PARENT_SCOPE)
  set(${prefix}_EXIT "${exit}" PARENT_SCOPE)
  set(${prefix}_ARGS "${args}" PARENT_SCOPE)
  set(${prefix}_TIMEOUT "${timeout}" PARENT_SCOPE)
  set(${prefix}_SANITIZE "${sanitize}" PARENT_SCOPE)
endfunction()

# _goro_write_if_changed(<file> <content>): leaves the file (and its time
# stamp) alone when it already holds <content>; no @VAR@ or ${} substitution.
function(_goro_write_if_changed file content)
  if(EXISTS "${file}")
    file(READ "${file}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${file}" "${content}")
endfunction()
