// blocking — run a blocking call (file I/O, DNS, a database driver, a C
// library) from a goroutine without stalling the other goroutines: Go's
// system-call hand-off of the processor.
//
//   std::string text = goro::blocking([&] { return read_file(path); });
//
// Contract: returns fn(args...)'s result, handed straight to the caller
// (never copied or moved on the way: move-only results, non-movable ones and
// references work), or lets fn's exception through to the caller. Inside a
// goroutine the thread keeps its processor (P) while the call is short (no
// thread hand-off: cheap for calls that return at once); if it lasts longer
// than ~20 µs the runtime's monitor gives the P to another thread so the
// other goroutines keep running. When the call returns (or throws), the
// goroutine gets a P back (possibly on another thread) or waits in the run
// queue. From a plain thread it simply calls fn. Inside fn the thread behaves
// as a plain thread: goro primitives called there block the thread, not a
// goroutine. Threads are created on demand up to Options::max_threads; idle
// ones exit after Options::idle_thread_timeout_ms. goro::sleep_for is not a
// blocking call (it is a timer) — don't wrap it.
#pragma once

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
  // Leaves the blocking state exactly once, however this frame is left: after
  // the result has been built in the caller's object (a prvalue result is
  // never copied or moved here, so move-only and non-movable results work,
  // and a reference result is passed through), or while an exception from fn
  // (or from building the result) unwinds to the caller. exit_blocking may
  // switch threads; the exception in flight travels with the goroutine (its
  // exception state, uncaught count included, is swapped at every switch).
  struct Exit {
    Exit() = default;
    Exit(const Exit&) = delete;
    Exit& operator=(const Exit&) = delete;
    ~Exit() { detail::exit_blocking(detail::current_m()); }
  } exit;
  return std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
}

}  // namespace goro
