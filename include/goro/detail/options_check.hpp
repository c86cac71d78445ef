// options_check — validating goro::Options and resolving `procs`, in one
// place: every runtime (a Scheduler, the default runtime, goro::run with
// options) is built through checked_options().
//
// A field out of range throws std::invalid_argument naming the field, the
// value and the limits (the constants in options.hpp):
//
//   goro::Options::stack_size = 8192 is out of range (16384 to 1073741824 bytes)
//
// rather than crashing later (a stack_size of 2^63 used to be a silent
// SIGSEGV) or quietly costing memory (100,000 procs held 248 MB while idle).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

#include "../options.hpp"
#include "config.hpp"
#if GORO_DEFINE_RUNTIME  // resolve_procs reads the environment
#include "env.hpp"
#endif

namespace goro::detail {

// Throws std::invalid_argument if a field of o is out of range.
#if !GORO_DEFINE_RUNTIME
void check_options(const Options& o);
#else
[[noreturn]] inline void options_out_of_range(const char* field, const std::string& value, const std::string& limits) {
  throw std::invalid_argument(std::string("goro::Options::") + field + " = " + value + " is out of range (" + limits +
                              ")");
}

GORO_DECL void check_options(const Options& o) {
  if (o.procs < 0 || o.procs > Options::max_procs)
    options_out_of_range("procs", std::to_string(o.procs),
                         "0 for the default, or 1 to " + std::to_string(Options::max_procs));
  if (o.stack_size < Options::min_stack_size || o.stack_size > Options::max_stack_size)
    options_out_of_range("stack_size", std::to_string(o.stack_size),
                         std::to_string(Options::min_stack_size) + " to " + std::to_string(Options::max_stack_size) +
                             " bytes");
  if (o.max_threads < 1) options_out_of_range("max_threads", std::to_string(o.max_threads), "at least 1");
  if (o.idle_thread_timeout_ms < 0)
    options_out_of_range("idle_thread_timeout_ms", std::to_string(o.idle_thread_timeout_ms), "at least 0");
  if (o.warn_long_running_ms < 0)
    options_out_of_range("warn_long_running_ms", std::to_string(o.warn_long_running_ms), "0 for off, or more");
}
#endif

// The number of CPUs the process may run on (at least 1). Go: ncpu.
inline int ncpu() noexcept {
  static const int n = [] {
    const unsigned hc = std::thread::hardware_concurrency();
    return hc > 0 ? static_cast<int>(hc) : 1;
  }();
  return n;
}

// The runtime's constructor's helpers (processor.hpp): a TU compiled with
// GORO_SEPARATE_COMPILATION does not parse them (config.hpp).
#if GORO_DEFINE_RUNTIME
// o, once checked: for a runtime's member initializer list.
inline const Options& checked_options(const Options& o) {
  check_options(o);
  return o;
}

// The number of Ps for Options::procs = `requested` (already checked):
// itself if positive, else $GORO_MAXPROCS, else $GOMAXPROCS, else the number
// of CPUs, at most Options::max_procs. Go: schedinit in proc.go (ncpu, then
// $GOMAXPROCS if it parses as a positive number).
inline int resolve_procs(int requested) {
  if (requested > 0) return requested;
  for (const char* name : {"GORO_MAXPROCS", "GOMAXPROCS"})
    if (std::optional<int> n = env_int(name, 1, Options::max_procs)) return *n;
  return ncpu() > Options::max_procs ? Options::max_procs : ncpu();
}
#endif  // GORO_DEFINE_RUNTIME

}  // namespace goro::detail
