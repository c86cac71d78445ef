// go — starting goroutines and giving up the processor.
//
//   goro::go(f, args...);   // Go: go f(args...)
//   goro::yield();          // Go: runtime.Gosched()
//
// Arguments are decay-copied like std::thread's; pass std::ref to share.
// Called from a goroutine, the new goroutine belongs to the same runtime and
// is the next to run on this processor (as in Go); called from a plain thread
// it starts on the default runtime. Goroutines are scheduled cooperatively:
// one switches only when it blocks on a goro primitive, sleeps, yields, or
// finishes. A goroutine that computes for a long time without any of these
// keeps its processor (the other processors keep running the rest).
//
// An exception escaping a goroutine is fatal, as an unrecovered panic is in
// Go: goro prints `goroutine N [running]: uncaught exception: what()` with
// the place the goroutine was created, then calls std::terminate.
//
// Out of memory: when no stack can be had for the new goroutine, goro::go
// throws std::bad_alloc (as `new` would; Go would die) and nothing is
// started or counted; the runtime stays usable, and go works again once
// memory is freed or goroutines finish. Whatever copying the arguments or
// moving the callable throws reaches the caller the same way.
#pragma once

#include <utility>

#include "detail/source_location.hpp"
#include "scheduler.hpp"

namespace goro {

// goro::go(f, args...) — spawn. A class template only so that it can capture
// the caller's source location after a parameter pack (for goro::dump).
template <class F, class... Args>
struct go {
  explicit go(F&& f, Args&&... args, detail::SourceLocation loc = detail::SourceLocation::current()) {
    detail::spawn(detail::current_runtime(),
                  detail::bind_task(std::forward<F>(f), std::forward<Args>(args)...), loc);
  }
};
template <class F, class... Args>
go(F&&, Args&&...) -> go<F, Args...>;

// Lets the other runnable goroutines of this processor run first. From a
// plain thread it yields the thread (std::this_thread::yield). Always
// inlined: the switch itself belongs in the caller (see yield_current).
GORO_ALWAYS_INLINE void yield() {
  detail::M* m = detail::current_m();
  if (m && m->curg()) {
    detail::yield_current(m);
  } else {
    std::this_thread::yield();
  }
}

}  // namespace goro
