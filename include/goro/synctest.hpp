// synctest — deterministic time for tests (Go 1.24/1.25's testing/synctest).
// goro::testing::synctest(fn) runs fn in a *bubble*: a set of goroutines
// with a fake clock of its own, which moves only when every goroutine of
// the bubble is blocked waiting for another one of them or for the clock.
// A test of a 30-second timeout, a retry loop with back-off or a ticker then
// runs in milliseconds, with exact times.
//
//   TEST_CASE("the request times out after 30 s") {
//     goro::testing::synctest([] {
//       auto start = goro::now();
//       auto [ctx, cancel] = goro::with_timeout(goro::background(), 30s);
//       goro::Chan<int> reply(0);            // nobody answers
//       goro::select(goro::on_recv(reply), goro::on_recv(ctx.done()));
//       assert(goro::now() - start == 30s);  // exactly; in a millisecond of real time
//     });
//   }
//
// The bubble. synctest runs fn in a new goroutine, its *main* goroutine;
// every goroutine started by a goroutine of the bubble belongs to it
// (transitively). synctest returns when all of them have finished, and
// rethrows fn's exception if it threw one. It may be called from a plain
// thread (fn runs on the default runtime, or on the given Scheduler) or
// from a goroutine (on its runtime), but not from inside a bubble. Several
// bubbles may run at once on one runtime, each with its own clock, next to
// goroutines that keep real time.
//
// Time. Inside the bubble goro::now() starts at bubble_epoch (Go: midnight
// UTC 2000-01-01, here counted as a steady_clock time point) and sleep_for,
// sleep_until, after, tick, Timer and Context deadlines all use the bubble's
// clock. The clock moves only when every goroutine of the bubble is durably
// blocked, and then jumps straight to the next timer: everything the bubble
// does in between takes no fake time at all. Time stops when fn returns.
//
// Durably blocked: blocked on something only the bubble can end —
//   - a send or receive on a channel made in the bubble (nil channels too),
//   - a select whose channels were all made in the bubble,
//   - Cond::wait, Semaphore::acquire,
//   - WaitGroup::wait, when add() was called in the bubble,
//   - sleep_for / sleep_until, and the timer channels made in the bubble.
// Anything else is not durable, because something outside may end it:
// Mutex and RWMutex (and Once), goro::blocking, I/O, a channel made outside
// the bubble. While a goroutine of the bubble waits on one of those, the
// bubble's clock does not move.
//
// wait() (Go: synctest.Wait) blocks until every other goroutine of the
// bubble is durably blocked (or finished): after it, whatever the bubble's
// goroutines were going to do without more time passing is done.
//
// Deadlock: when every goroutine of the bubble is durably blocked and no
// timer is left (or fn has returned, so time has stopped), nothing can ever
// wake them. synctest then throws goro::testing::deadlock_error, whose
// what() carries the dump of the bubble's goroutines; the process goes on.
// Those goroutines are abandoned: they stay parked forever (what they hold
// is never destroyed), are no longer counted as live, and a Scheduler's
// destructor does not wait for them.
//
// Isolation, as in Go (fatal errors, as since Go 1.25): a channel or Timer
// made in a bubble may only be used by goroutines of that bubble
// ("fatal error: receive on synctest channel from outside bubble",
// "synctest timer accessed from outside bubble"); a WaitGroup that add() was
// called on in a bubble belongs to it until its counter is zero again (add()
// from outside: "sync: WaitGroup.Add called from inside and outside synctest
// bubble"); waking a goroutine of a bubble that is durably blocked (a Cond,
// a Semaphore) from outside it is fatal too.
//
// Misuse that changes nothing throws std::logic_error: synctest called from
// inside a bubble, wait() called outside a bubble or by two goroutines of
// one bubble at once.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/bubble.hpp"
#include "detail/processor.hpp"
#include "detail/source_location.hpp"
#include "scheduler.hpp"
#include "time.hpp"
#include "wait_group.hpp"

namespace goro::testing {

// Every bubble's clock starts here: goro::now() in a new bubble returns
// bubble_epoch. It is Go's midnight UTC 2000-01-01, counted from the Unix
// epoch, on std::chrono::steady_clock's time line.
inline const Clock::time_point bubble_epoch = goro::detail::from_deadline(goro::detail::bubble_epoch_ns);

// Every goroutine of a bubble is blocked and nothing can wake them (Go:
// synctest's "deadlock: all goroutines in bubble are blocked"). what() holds
// the reason and the dump of the bubble's goroutines.
class deadlock_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail_synctest {

using goro::detail::Bubble;
using goro::detail::G;
using goro::detail::Runtime;
using goro::detail::SpinGuard;
using goro::detail::TsanIgnore;

// The root joins (b) or leaves (null) the bubble. A G is runtime state,
// which the next goroutine on its stack reuses: unseen by ThreadSanitizer,
// as new_g sets a member's (goroutines reusing a stack are not ordered).
inline void set_root_bubble(G* root, Bubble* b) noexcept {
  goro::detail::TsanIgnoreAccesses hidden;
  root->bubble = b;
}

// Runs a bubble with the calling goroutine (a goroutine of rt) as its root.
template <class F>
void run_as_root(Runtime* rt, F& fn, goro::detail::SourceLocation loc) {
  G* self = goro::detail::current_g();
  if (self->bubble) throw std::logic_error("goro::testing::synctest called from within a synctest bubble");
  auto bubble = std::make_shared<Bubble>(rt);
  Bubble* b = bubble.get();
  goro::detail::live_bubbles.fetch_add(1, std::memory_order_relaxed);  // see live_bubbles
  {
    TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
    SpinGuard guard(b->mu);
    b->root = self;
    b->total = 1;  // the root
    b->running = 1;
  }
  set_root_bubble(self, b);  // the root joins: what it starts (the main goroutine) is in the bubble
  std::exception_ptr error;
  goro::detail::BubbleEnd end;
  try {
    goro::detail::spawn(rt, [&fn, &error, b] {
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
      TsanIgnore tsan_ignore;
      SpinGuard guard(b->mu);
      b->done = true;  // time stops (Go: bubble.done when main exits)
    }, loc);
  } catch (...) {
    set_root_bubble(self, nullptr);
    goro::detail::live_bubbles.fetch_sub(1, std::memory_order_relaxed);
    throw;
  }
  end = goro::detail::run_bubble_clock(bubble);
  set_root_bubble(self, nullptr);  // the root leaves
  goro::detail::live_bubbles.fetch_sub(1, std::memory_order_relaxed);
  if (error) std::rethrow_exception(error);
  if (!end.deadlock.empty()) throw deadlock_error(end.deadlock);
}

template <class F>
void run(Runtime* rt, F& fn, goro::detail::SourceLocation loc) {
  goro::detail::M* m = goro::detail::current_m();
  G* g = m ? m->curg() : nullptr;
  if (g && g->bubble) throw std::logic_error("goro::testing::synctest called from within a synctest bubble");
  if (g && m->rt == rt) return run_as_root(rt, fn, loc);
  // From a plain thread (or another runtime's goroutine): a goroutine of rt
  // is the root, and the caller waits for it.
  std::exception_ptr error;
  WaitGroup wg;
  wg.add(1);
  goro::detail::spawn(rt, [&] {
    try {
      run_as_root(rt, fn, loc);
    } catch (...) {
      error = std::current_exception();
    }
    wg.done();
  }, loc);
  wg.wait();
  if (error) std::rethrow_exception(error);
}

}  // namespace detail_synctest

// Runs fn() as the main goroutine of a new bubble on the caller's runtime
// (the default one from a plain thread), and returns once every goroutine
// of the bubble has finished. Rethrows fn's exception; throws deadlock_error
// if the bubble's goroutines deadlock. Go: synctest.Test / synctest.Run.
template <class F>
void synctest(F&& fn, goro::detail::SourceLocation loc = goro::detail::SourceLocation::current()) {
  static_assert(std::is_invocable_v<F&>, "goro::testing::synctest: fn must be callable with no arguments");
  detail_synctest::run(goro::detail::current_runtime(), fn, loc);
}

// The same on the given Scheduler.
template <class F>
void synctest(Scheduler& s, F&& fn, goro::detail::SourceLocation loc = goro::detail::SourceLocation::current()) {
  static_assert(std::is_invocable_v<F&>, "goro::testing::synctest: fn must be callable with no arguments");
  detail_synctest::run(s.runtime(), fn, loc);
}

// Blocks until every other goroutine of the caller's bubble is durably
// blocked or finished. Must be called from a goroutine of a bubble, by one
// goroutine of the bubble at a time (else std::logic_error). Go:
// synctest.Wait.
inline void wait() {
  using namespace goro::detail;
  G* self = current_g();
  Bubble* b = self ? self->bubble : nullptr;
  if (!b) throw std::logic_error("goro::testing::wait: not called from a goroutine of a synctest bubble");
  {
    TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
    SpinGuard guard(b->mu);
    if (b->root == self) throw std::logic_error("goro::testing::wait: called by a bubble's root");
    if (b->waiting) throw std::logic_error("goro::testing::wait: called by two goroutines of one bubble at once");
    b->waiting = true;  // Go: bubble.waiting (set now: waiter is set only once we are parked)
  }
  park([](G* g, void*) {
    SpinGuard guard(g->bubble->mu);
    g->bubble->waiter = g;
    return true;
  }, nullptr, WaitReason::synctest_wait);
  tsan_acquire(b);  // what the others did before blocking happens before wait returns
  TsanIgnore tsan_ignore;
  SpinGuard guard(b->mu);
  --b->active;  // given by the goroutine that woke us
  b->waiter = nullptr;
  b->waiting = false;
}

}  // namespace goro::testing
