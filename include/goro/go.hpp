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
// finishes — and when it unlocks a Mutex in starvation mode (it yields to the
// waiter it hands the lock to, as Go's Unlock does), returns from
// goro::blocking (possibly on another thread), or, with Options::randomize,
// at a try_send/try_recv/select. The README's "Guarantees" has the exact
// list. A goroutine that computes for a long time without any of these
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

#include <thread>
#include <utility>

#include "detail/source_location.hpp"
#include "scheduler.hpp"

namespace goro {

// goro::go(f, args...) — starts f(args...) as a goroutine (Go: newproc).
// Every form Go's `go worker(1, "x")` suggests compiles:
//   goro::go(worker);  goro::go(&worker);  goro::go(lambda);
//   goro::go(worker, 1, "x");  goro::go([=] { worker(1, "x"); });
// One overload per argument count (up to 8; more: capture them in a lambda),
// each ending in a defaulted SourceLocation: a default argument cannot follow
// a parameter pack, and the caller's file and line are what goro::dump and
// crash reports show as "created at". An argument that cannot be copied into
// the goroutine (a goro::WaitGroup, a goro::Mutex) is a compile error that
// says to pass std::ref.
template <class F>
void go(F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f));
}
template <class F, class A1>
void go(F&& f, A1&& a1, detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1));
}
template <class F, class A1, class A2>
void go(F&& f, A1&& a1, A2&& a2, detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2));
}
template <class F, class A1, class A2, class A3>
void go(F&& f, A1&& a1, A2&& a2, A3&& a3, detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3));
}
template <class F, class A1, class A2, class A3, class A4>
void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4));
}
template <class F, class A1, class A2, class A3, class A4, class A5>
void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5,
        detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5));
}
template <class F, class A1, class A2, class A3, class A4, class A5, class A6>
void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6,
        detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6));
}
template <class F, class A1, class A2, class A3, class A4, class A5, class A6, class A7>
void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7,
        detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7));
}
template <class F, class A1, class A2, class A3, class A4, class A5, class A6, class A7, class A8>
void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7, A8&& a8,
        detail::SourceLocation loc = detail::SourceLocation::current()) {
  detail::go_on(detail::current_runtime(), loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2),
                std::forward<A3>(a3), std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6),
                std::forward<A7>(a7), std::forward<A8>(a8));
}
template <class F, class... Args>
  requires(sizeof...(Args) > 8)
void go(F&&, Args&&...) {
  static_assert(detail::too_many_go_arguments<Args...>,
                "goro::go takes at most 8 arguments after the function; capture more in a lambda: "
                "goro::go([=] { f(a, b, c, ...); })");
}

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
