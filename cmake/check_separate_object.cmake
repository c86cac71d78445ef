# check_separate_object.cmake — a TU compiled with GORO_SEPARATE_COMPILATION
# must not contain goro's runtime: the scheduling loop, the monitor, the
# netpoller, the dump and metrics writers, the tracer's JSON writer, the
# stack pool's trimmer, the leak report and the Runtime itself are compiled
# once, in goro::runtime's TU (README "Compile time"). Fails if the object
# defines any of them.
#
#   cmake -DNM=<nm> -DOBJECTS=<a.o|b.o> -P check_separate_object.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var NM OBJECTS)
  if(NOT ${var})
    message(FATAL_ERROR "check_separate_object: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "|" ";" objects "${OBJECTS}")
set(runtime_functions
  "goro::detail::find_runnable(" "goro::detail::m_main(" "goro::detail::stop_m(" "goro::detail::start_m("
  "goro::detail::monitor_main(" "goro::detail::netpoll_block(" "goro::detail::Runtime::Runtime("
  "goro::detail::snapshot(" "goro::detail::write_dump(" "goro::detail::read_metrics("
  "goro::detail::TraceJsonWriter::" "goro::detail::run_bubble_clock(" "goro::detail::ready("
  "goro::detail::park_begin(" "goro::detail::goroutine_entry(" "goro::detail::trace_collect("
  "goro::detail::StackPool::trim_loop(" "goro::detail::uncaught_exception("
  "goro::testing::detail_leak::leak_report(" "goro::testing::detail_leak::count_leaked(")
foreach(object IN LISTS objects)
  execute_process(COMMAND "${NM}" -C --defined-only "${object}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE symbols ERROR_VARIABLE err)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "check_separate_object: ${NM} ${object} failed: ${err}")
  endif()
  string(LENGTH "${symbols}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "check_separate_object: ${object} defines no symbols")
  endif()
  # One defined symbol per line: "<address> <type> <demangled name>". A
  # runtime function is defined when a name starts with it (a template
  # instantiated with its address, Fiber::create<&goroutine_entry>, is not).
  string(REPLACE ";" "\\;" symbols "${symbols}")
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] " "" name "${line}")
    foreach(fn IN LISTS runtime_functions)
      string(FIND "${name}" "${fn}" at)
      if(at EQUAL 0)
        message(FATAL_ERROR "check_separate_object: ${object} defines ${name}: under GORO_SEPARATE_COMPILATION "
                            "the runtime must be compiled only in goro::runtime's TU")
      endif()
    endforeach()
  endforeach()
endforeach()
message("check_separate_object: none of the runtime in ${OBJECTS}")
