# check_output.cmake — runs a program and checks its exit status and output.
#
#   cmake -DEXE=<program> -DEXPECT_FILE=<file.expect> [-DTIMEOUT=<s>]
#         [-DNO_LEAK_CHECK=ON] [-DWORKING_DIRECTORY=<dir>]
#         [-DEMULATOR=<emulator>[|<arg>...]]
#         -P check_output.cmake [-- <program arguments>...]
#
# EMULATOR (cross builds: qemu-aarch64, see cmake/toolchain-aarch64.cmake)
# runs the program: `<emulator> <args> <program> <program arguments>`.
#
# The program's stdout and stderr are captured together and printed, then
# checked line by line against EXPECT_FILE.
#
# .expect format (tests/examples/<stem>.expect, and the files generated for
# death tests), one directive per line:
#
#   <regex>        must match (somewhere in) at least one output line
#   !<regex>       must match no output line
#   exit: <spec>   expected exit status, default 0. <spec> is one of
#                    N        exactly N
#                    nonzero  anything but a clean exit 0 (includes signals)
#                    abort    killed by a signal (abort(), std::terminate)
#                    any      not checked
#   args: <args>   arguments for the program, split like a shell line
#                  (only when none are given after `--`)
#   # ...          comment; blank lines are ignored too
#
# Order does not matter. Regexes are CMake regexes: `. * + ? [] [^] ^ $ () |`
# and a backslash escapes one character (`\[`, `\.`); there is no \d or {n},
# and `;` cannot be used. `^` and `$` anchor to the line. To match a line
# starting with `!` or `#`, write `[!]` or `[#]`. Leading spaces of a regex are
# kept; a trailing carriage return is dropped.
#
# Example (a WaitGroup program that prints 10 lines then "done"):
#   worker 9 finished
#   ^done$
#   !panic|fatal error
#   exit: 0
cmake_minimum_required(VERSION 3.25)

if(NOT EXE)
  message(FATAL_ERROR "check_output: -DEXE=<program> is required")
endif()

# Arguments after `--`.
set(program_args "")
set(after_dashes FALSE)
math(EXPR last_arg "${CMAKE_ARGC} - 1")
foreach(i RANGE 0 ${last_arg})
  if(after_dashes)
    list(APPEND program_args "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()

# _split_lines(<text-var> <out-var>): <out-var> = a list of the lines of the
# text in <text-var>, in which the characters CMake lists treat specially
# (; [ ] \) are replaced by control characters; _decode(<var>) turns one
# entry back into the original line. (Functions, not macros: a macro would
# re-read backslashes in its arguments as escapes.)
string(ASCII 1 ENC_SEMI)
string(ASCII 2 ENC_LBR)
string(ASCII 3 ENC_RBR)
string(ASCII 4 ENC_BSL)
function(_split_lines text_var out_var)
  set(t "${${text_var}}")
  string(REPLACE "\\" "${ENC_BSL}" t "${t}")
  string(REPLACE ";" "${ENC_SEMI}" t "${t}")
  string(REPLACE "[" "${ENC_LBR}" t "${t}")
  string(REPLACE "]" "${ENC_RBR}" t "${t}")
  string(REPLACE "\r\n" "\n" t "${t}")
  string(REPLACE "\n" ";" t "${t}")
  set(${out_var} "${t}" PARENT_SCOPE)
endfunction()
function(_decode var)
  set(t "${${var}}")
  string(REPLACE "${ENC_BSL}" "\\" t "${t}")
  string(REPLACE "${ENC_SEMI}" ";" t "${t}")
  string(REPLACE "${ENC_LBR}" "[" t "${t}")
  string(REPLACE "${ENC_RBR}" "]" t "${t}")
  string(REGEX REPLACE "\r$" "" t "${t}")
  set(${var} "${t}" PARENT_SCOPE)
endfunction()

# ---- Read the expectations ---------------------------------------------------
set(expected_exit 0)
set(must_match "")
set(must_not_match "")
set(file_args "")
if(EXPECT_FILE)
  if(NOT EXISTS "${EXPECT_FILE}")
    message(FATAL_ERROR "check_output: ${EXPECT_FILE} does not exist")
  endif()
  file(READ "${EXPECT_FILE}" expect_text)
  _split_lines(expect_text expect_lines)
  foreach(encoded IN LISTS expect_lines)
    set(line "${encoded}")
    _decode(line)
    if(line STREQUAL "" OR line MATCHES "^#")
      continue()
    elseif(line MATCHES "^exit:[ \t]*([^ \t]+)[ \t]*$")
      set(expected_exit "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^args:[ \t]*(.*)$")
      separate_arguments(file_args UNIX_COMMAND "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^!")
      # Lists keep the encoded form; each regex is decoded where it is used.
      string(SUBSTRING "${encoded}" 1 -1 encoded)
      list(APPEND must_not_match "${encoded}")
    else()
      list(APPEND must_match "${encoded}")
    endif()
  endforeach()
endif()
if(NOT expected_exit MATCHES "^([0-9]+|nonzero|abort|any)$")
  message(FATAL_ERROR "check_output: bad `exit: ${expected_exit}` in ${EXPECT_FILE} (N, nonzero, abort or any)")
endif()
if(NOT program_args AND file_args)
  set(program_args "${file_args}")
endif()

# ---- Run ---------------------------------------------------------------------
if(NO_LEAK_CHECK)
  # A program that dies on purpose leaks by design; LeakSanitizer would turn
  # its exit status into 23.
  if(DEFINED ENV{ASAN_OPTIONS} AND NOT "$ENV{ASAN_OPTIONS}" STREQUAL "")
    set(ENV{ASAN_OPTIONS} "$ENV{ASAN_OPTIONS}:detect_leaks=0")
  else()
    set(ENV{ASAN_OPTIONS} "detect_leaks=0")
  endif()
endif()
set(run_options "")
if(TIMEOUT)
  list(APPEND run_options TIMEOUT ${TIMEOUT})
endif()
if(WORKING_DIRECTORY)
  list(APPEND run_options WORKING_DIRECTORY "${WORKING_DIRECTORY}")
endif()

string(TIMESTAMP started "%s")
string(REPLACE "|" ";" emulator "${EMULATOR}")
execute_process(
  COMMAND ${emulator} "${EXE}" ${program_args}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output
  ${run_options})
string(TIMESTAMP finished "%s")
math(EXPR elapsed "${finished} - ${started}")

message("---- output of ${EXE} ${program_args} ----")
message("${output}")
message("---- exit status: ${result} (after ${elapsed} s) ----")

# ---- Check -------------------------------------------------------------------
set(failures "")  # a string, one "FAIL: ..." line per failure

if(result MATCHES "timeout")
  string(APPEND failures "FAIL: timed out after ${TIMEOUT} s\n")
elseif(expected_exit STREQUAL "any")
elseif(expected_exit STREQUAL "nonzero")
  if(result STREQUAL "0")
    string(APPEND failures "FAIL: exit status 0, expected a failure (non-zero or a signal)\n")
  endif()
elseif(expected_exit STREQUAL "abort")
  if(result MATCHES "^[0-9]+$")
    string(APPEND failures "FAIL: exit status ${result}, expected death by a signal (abort)\n")
  endif()
elseif(NOT result STREQUAL expected_exit)
  string(APPEND failures "FAIL: exit status ${result}, expected ${expected_exit}\n")
endif()

_split_lines(output output_lines)
foreach(re IN LISTS must_match)
  _decode(re)
  set(found FALSE)
  foreach(line IN LISTS output_lines)
    _decode(line)
    if(line MATCHES "${re}")
      set(found TRUE)
      break()
    endif()
  endforeach()
  if(NOT found)
    string(APPEND failures "FAIL: no output line matches: ${re}\n")
  endif()
endforeach()
foreach(re IN LISTS must_not_match)
  _decode(re)
  foreach(line IN LISTS output_lines)
    _decode(line)
    if(line MATCHES "${re}")
      string(APPEND failures "FAIL: output line matches forbidden !${re}: ${line}\n")
      break()
    endif()
  endforeach()
endforeach()

if(failures)
  message("${failures}")
  message(FATAL_ERROR "check_output: ${EXE} did not meet ${EXPECT_FILE}")
endif()
message("PASS")
