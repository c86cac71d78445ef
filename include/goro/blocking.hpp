// blocking — run a blocking call (file I/O, DNS, a database driver, a C
// library) from a goroutine without stalling the other goroutines: Go's
// system-call hand-off of the processor.
//
//   std::string text = goro::blocking([&] { return read_file(path); });
//
// Contract: returns fn(args...)'s result or rethrows its exception. Inside a
// goroutine the thread keeps its processor (P) while the call is short (no
// thread hand-off: cheap for calls that return at once); if it lasts longer
// than ~20 µs the runtime's monitor gives the P to another thread so the
// other goroutines keep running. When the call returns, the goroutine gets
// a P back (possibly on another thread) or waits in the run queue. From a
// plain thread it simply calls fn. Inside fn the thread behaves as a plain
// thread: goro primitives called there block the thread, not a goroutine.
// Threads are created on demand up to Options::max_threads; idle ones exit
// after Options::idle_thread_timeout_ms. goro::sleep_for is not a blocking
// call (it is a timer) — don't wrap it.
#pragma once

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "detail/machine.hpp"
#include "detail/monitor.hpp"

namespace goro {

template <class F, class... Args>
std::invoke_result_t<F, Args...> blocking(F&& fn, Args&&... args) {
  detail::M* m = detail::current_m();
  if (!m || !m->curg()) return std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
  detail::enter_blocking(m);
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<F, Args...>>) {
      std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
      detail::exit_blocking(detail::current_m());
    } else {
      decltype(auto) result = std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
      detail::exit_blocking(detail::current_m());
      return static_cast<std::invoke_result_t<F, Args...>>(result);
    }
  } catch (...) {
    // exit_blocking may switch threads; the caught exception travels with
    // the goroutine (its exception state is swapped at every switch).
    detail::exit_blocking(detail::current_m());
    throw;
  }
}

}  // namespace goro
