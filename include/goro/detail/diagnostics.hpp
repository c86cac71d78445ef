// diagnostics — what goro prints when a program goes wrong: an exception
// escaping a goroutine, a stack overflow. (The goroutine dump and deadlock
// detection live in dump.hpp.)
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "source_location.hpp"
#include "processor.hpp"

namespace goro::detail {

template <class F>
void spawn_main(Runtime* rt, F&& f, SourceLocation loc) {
  spawn(rt, std::forward<F>(f), loc, true);
}

inline void print_created(std::FILE* out, const G* g) {
  std::fprintf(out, "created by goroutine at %s:%u (%s)\n", g->created.file_name(),
               static_cast<unsigned>(g->created.line()), g->created.function_name());
}

// An exception escaped a goroutine (Go: an unrecovered panic).
[[noreturn]] inline void uncaught_exception(G* g, std::exception_ptr e) {
  const char* what = "unknown exception (not derived from std::exception)";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    what = ex.what();
    std::fprintf(stderr, "goroutine %llu [running]: uncaught exception: %s\n",
                 static_cast<unsigned long long>(g->id), what);
    print_created(stderr, g);
    std::fflush(stderr);
    std::terminate();
  } catch (...) {
  }
  std::fprintf(stderr, "goroutine %llu [running]: uncaught exception: %s\n",
               static_cast<unsigned long long>(g->id), what);
  print_created(stderr, g);
  std::fflush(stderr);
  std::terminate();
}

[[noreturn]] inline void report_stack_overflow(std::uint64_t id, std::size_t size) noexcept {
  // Async-signal-safe formatting: this may run in a SIGSEGV handler.
  char buf[128];
  int n = 0;
  auto put = [&](const char* s) {
    while (*s && n < static_cast<int>(sizeof buf) - 1) buf[n++] = *s++;
  };
  auto put_num = [&](unsigned long long v) {
    char tmp[24];
    int k = 0;
    do {
      tmp[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (k > 0 && n < static_cast<int>(sizeof buf) - 1) buf[n++] = tmp[--k];
  };
  put("goroutine ");
  put_num(id);
  put(": stack overflow (stack size ");
  put_num(size);
  put(")\n");
  [[maybe_unused]] ssize_t w = ::write(2, buf, static_cast<std::size_t>(n));
  // Do not run atexit handlers or unwind: the process state is suspect.
  ::signal(SIGABRT, SIG_DFL);
  ::abort();
}

// The canary at the base of an unguarded stack was overwritten.
inline void stack_overflow_detected(G* g) { report_stack_overflow(g->id, g->stack.size); }

inline void install_process_hooks(Runtime*) {}

}  // namespace goro::detail
