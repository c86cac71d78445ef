// fatal — goro's fatal errors, as Go's runtime.throw / fatal: a programming
// error the program cannot recover from (`sync: unlock of unlocked mutex`,
// `sync: negative WaitGroup counter`, thread exhaustion, …) ends the process.
//
//   if (v < 0) detail::fatal("sync: negative WaitGroup counter");
//
// What it prints, on stderr, after flushing stdout (what the program printed
// comes first, as in Go):
//
//   fatal error: sync: unlock of unlocked mutex
//
//   goroutine 7 [running]:
//           created at app.cpp:12 in int main()
//
// The goroutine block (goro::dump's format) names the goroutine that made the
// error; it is left out when the caller is not a goroutine (a plain thread).
// Then the process exits with status 2, as Go's fatal errors do: no
// destructors or atexit handlers run (the program's state is broken, and
// they could block on it).
//
// This header includes nothing of the runtime: the runtime registers the
// function that prints the current goroutine (fatal_goroutine_printer) when
// it starts. That function may be called with any runtime lock held, so it
// must not take one.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace goro::detail {

// Writes a blank line and the calling goroutine's dump block to stderr
// (nothing from a plain thread). Set by the runtime (diagnostics.hpp); null until one starts.
// Memory ordering: release/acquire publish the function (it is a plain
// function pointer to code, so relaxed would do; acquire costs nothing here).
inline std::atomic<void (*)() noexcept> fatal_goroutine_printer{nullptr};

// Writes the execution trace being recorded (GORO_TRACE, goro::trace),
// if any, so that a crashing program still leaves its trace. Set by the
// tracer (trace_json.hpp) when a trace with a path starts; never throws.
inline std::atomic<void (*)() noexcept> fatal_trace_writer{nullptr};

inline void write_trace_on_fatal() noexcept {
  // Memory ordering: acquire, as for fatal_goroutine_printer.
  if (auto write = fatal_trace_writer.load(std::memory_order_acquire)) write();
}

// The exit status of every fatal error (Go: `exit status 2`).
inline constexpr int fatal_exit_status = 2;

[[noreturn]] inline void fatal(const char* msg) noexcept {
  std::fflush(stdout);
  std::fprintf(stderr, "fatal error: %s\n", msg);
  // Memory ordering: acquire pairs with the release store that installed
  // the printer (its code and data are ready to run).
  if (auto print = fatal_goroutine_printer.load(std::memory_order_acquire)) print();
  std::fflush(stderr);
  write_trace_on_fatal();
  std::_Exit(fatal_exit_status);
}

}  // namespace goro::detail
