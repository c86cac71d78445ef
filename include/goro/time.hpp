// time — the runtime's clock, sleeping and timer channels, driven by the
// runtime's timers (no thread is blocked: 10,000 goroutines sleeping 100 ms
// cost their stacks).
//
//   auto t0 = goro::now();           // Go: time.Now() (a steady_clock time point)
//   goro::sleep_for(100ms);          // Go: time.Sleep(100 * time.Millisecond)
//   auto timeout = goro::after(1s);  // Go: time.After(time.Second)
//   auto ticks = goro::tick(100ms);  // Go: time.Tick(100 * time.Millisecond)
//   goro::Timer t(2s);               // Go: time.NewTimer; t.c(), t.stop(), t.reset(d)
//
// From a plain thread, sleep_for/sleep_until sleep the thread; timer
// channels work from anywhere (they run on the default runtime if the caller
// is not a goroutine). A duration <= 0 returns at once (sleep) or fires at
// once (after, Timer), as in Go. Timer channels have capacity 1 and drop a
// tick nobody has received, as Go's do.
//
// Go 1.23's timers: after stop() or reset() returns, no value prepared
// before the call is ever received; and a timer or ticker nobody can
// receive from any more costs nothing: once the last handle on the channel
// of after(), tick() or a Timer (the Timer itself included) is gone, the
// timer is stopped and freed, however far away its deadline.
//
// Inside a goro::testing::synctest bubble all of this runs on the bubble's
// fake clock: goro::now() is the bubble's time, sleeps and timers wait for
// it (see synctest.hpp). Outside bubbles goro::now() is
// std::chrono::steady_clock::now().
#pragma once

#include <chrono>
#include <thread>

#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include "chan.hpp"
#include "detail/fatal.hpp"
#include "detail/processor.hpp"
#include "detail/race.hpp"
#include "detail/timers.hpp"
#include "detail/wait_queue.hpp"
#include "mutex.hpp"
#include "scheduler.hpp"

namespace goro {

using Clock = std::chrono::steady_clock;

namespace detail {

inline std::int64_t to_deadline(Clock::time_point t) noexcept {
  // steady_clock is CLOCK_MONOTONIC on Linux, the runtime's clock.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline Clock::time_point from_deadline(std::int64_t ns) noexcept {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

inline std::int64_t to_ns(Clock::duration d) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Parks the running goroutine until the runtime's clock (its bubble's, if
// bubble is not null) reaches `when`.
inline void sleep_goroutine(std::int64_t when, Bubble* bubble) {
  RuntimeTimer t;
  t.when = when;
  t.arg = current_g();
  t.fire = [](RuntimeTimer* self) {
    ready(static_cast<G*>(self->arg));
    return false;
  };
  // The timer is added once this goroutine's fiber is saved, so it cannot
  // fire (on another thread) before there is something to resume.
  if (bubble) {
    park([](G* g, void* arg) {
      bubble_add_timer(g->bubble, static_cast<RuntimeTimer*>(arg));
      return true;
    }, &t, WaitReason::sleep);
    tsan_acquire(bubble);  // the bubble was idle before its clock moved (see park)
    return;
  }
  park([](G*, void* arg) {
    M* m = current_m();
    add_timer(m->rt, m->p, static_cast<RuntimeTimer*>(arg));
    return true;
  }, &t, WaitReason::sleep);
}

}  // namespace detail

// The runtime's clock: std::chrono::steady_clock::now(), or, in a goroutine
// of a goro::testing::synctest bubble, the bubble's fake time. Use it where
// time matters to the code under test, so that a bubble controls it.
// Callable from anywhere. Go: time.Now().
inline Clock::time_point now() noexcept {
  if (detail::Bubble* b = detail::caller_bubble()) return detail::from_deadline(b->now_ns());
  return Clock::now();
}

inline void sleep_until(Clock::time_point t) {
  if (detail::Bubble* b = detail::caller_bubble()) {
    if (detail::to_deadline(t) <= b->now_ns()) return;
    detail::sleep_goroutine(detail::to_deadline(t), b);
    return;
  }
  if (t <= Clock::now()) return;
  if (detail::current_g()) {
    detail::sleep_goroutine(detail::to_deadline(t), nullptr);
  } else {
    std::this_thread::sleep_until(t);
  }
}

template <class OtherClock, class Duration>
void sleep_until(std::chrono::time_point<OtherClock, Duration> t) {
  if constexpr (std::is_same_v<OtherClock, Clock>) {
    sleep_until(std::chrono::ceil<Clock::duration>(t));
  } else {
    sleep_until(goro::now() + std::chrono::ceil<Clock::duration>(t - OtherClock::now()));
  }
}

template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  if (d <= d.zero()) return;
  sleep_until(goro::now() + std::chrono::ceil<Clock::duration>(d));
}

namespace detail {

// A runtime timer that sends the time on a channel (Go: the timer behind
// time.After, time.Tick and time.Timer), or calls a callback (context
// deadlines). A timer made in a synctest bubble belongs to the bubble: it
// runs on the bubble's clock and heap, and only the bubble may use it.
//
// Users hold the channel through handles made by user_channel(): when the
// last one is gone the timer is stopped, and freed with its channel (Go
// 1.23 collects unreferenced timers and tickers); `ch` is the runtime's own
// handle, which keeps the channel alive but not the timer.
//
// Invariants: `self` keeps the state alive while the timer is armed; it is
// taken (under `lock`) by exactly one of: the one-shot firing, a successful
// stop, or the runtime dropping the timer (discard: its runtime or bubble
// is ending). `firing` is true while a one-shot firing that took `self` is
// still sending its value. rt, bubble and callback are set by make() and
// then immutable.
//
// ThreadSanitizer: the bookkeeping under `lock` is hidden (RaceDisabled), so
// that goroutines that stop or reset the same timer are not ordered by it
// (Go's timers are runtime internals); what the timer sends is a channel
// send, with a channel's edges.
struct ChanTimer : std::enable_shared_from_this<ChanTimer> {
  RuntimeTimer timer;
  Chan<Clock::time_point> ch{1};
  Runtime* rt = nullptr;
  std::shared_ptr<Bubble> bubble;  // set: a timer of this synctest bubble
  std::function<void()> callback;  // set: call it instead of sending (context deadlines)
  Spinlock lock;
  std::shared_ptr<ChanTimer> self GORO_GUARDED_BY(lock);
  bool firing GORO_GUARDED_BY(lock) = false;

  // The timer's clock: its bubble's, or the runtime's.
  Clock::time_point now() const noexcept { return bubble ? from_deadline(bubble->now_ns()) : Clock::now(); }

  static bool fire(RuntimeTimer* t);

  static void discard(RuntimeTimer* t);

  // A timer firing after d, then every `period` if it is positive.
  static std::shared_ptr<ChanTimer> make(Clock::duration d, Clock::duration period,
                                         std::function<void()> callback = {});

  // A user's handle on s's channel: the last one to go stops the timer, and
  // the timer's state (channel included) is freed with it.
  static Chan<Clock::time_point> user_channel(std::shared_ptr<ChanTimer> s);

  // Arms the (stopped) timer to fire after d. Not concurrently with stop()
  // or another arm() of the same timer (goro::Timer serializes them).
  void arm(Clock::duration d);

  // True if the timer was armed and is now stopped before firing. False if
  // it already fired (or was never armed); a one-shot firing in flight on
  // another thread is waited for, so that its value is in the channel when
  // stop returns (Timer::stop then discards it).
  bool stop();

  // Fatal if the caller may not use this timer: a timer of a synctest
  // bubble is used from outside it. Go: "synctest timer accessed from
  // outside bubble".
  void check_bubble() const noexcept {
    if (GORO_UNLIKELY(bubble != nullptr) && current_bubble() != bubble.get())
      fatal("synctest timer accessed from outside bubble");
  }

 private:
  // A P for a timer armed from outside the runtime (round robin).
  P* some_p() const;
};

// The timer's bodies: compiled once, in the runtime's TU, under
// GORO_SEPARATE_COMPILATION (config.hpp).
#if GORO_DEFINE_RUNTIME
GORO_DECL bool ChanTimer::fire(RuntimeTimer* t) {
  auto* s = static_cast<ChanTimer*>(t->arg);
  if (t->period > 0) {
    s->ch.try_send(s->now());  // full: drop the tick, like Go's sendTime
    return true;
  }
  std::shared_ptr<ChanTimer> release;  // destroyed last, after we are done with *s
  {
    SpinGuard g(s->lock);
    release = std::move(s->self);
    // stop() waits for a send in flight (see stop). Not for a callback:
    // the callback itself may stop its timer (a context cancelling itself).
    s->firing = !s->callback;
  }
  if (s->callback) {
    s->callback();
    return false;
  }
  s->ch.try_send(s->now());
  SpinGuard g(s->lock);
  s->firing = false;
  return false;
}

GORO_DECL void ChanTimer::discard(RuntimeTimer* t) {
  RaceDisabled hidden;
  auto* s = static_cast<ChanTimer*>(t->arg);
  std::shared_ptr<ChanTimer> release;  // destroyed after the guard
  SpinGuard g(s->lock);
  release = std::move(s->self);
}

GORO_DECL std::shared_ptr<ChanTimer> ChanTimer::make(Clock::duration d, Clock::duration period,
                                                  std::function<void()> callback) {
  auto s = std::make_shared<ChanTimer>();  // its channel belongs to the caller's bubble, if any
  s->callback = std::move(callback);
  s->rt = current_runtime();
  if (Bubble* b = caller_bubble()) s->bubble = b->shared_from_this();
  s->timer.fire = &fire;
  s->timer.discard = &discard;
  s->timer.arg = s.get();
  s->timer.period = to_ns(period);
  s->arm(d);
  return s;
}

GORO_DECL Chan<Clock::time_point> ChanTimer::user_channel(std::shared_ptr<ChanTimer> s) {
  ChanCore* core = s->ch.core();
  return Chan<Clock::time_point>(
      std::shared_ptr<ChanCore>(core, [s = std::move(s)](ChanCore*) mutable {
        s->stop();
        s.reset();
      }));
}

GORO_DECL void ChanTimer::arm(Clock::duration d) {
  if (d <= Clock::duration::zero() && timer.period == 0) {
    if (callback) callback();
    else ch.try_send(now());
    return;
  }
  RaceDisabled hidden;
  {
    SpinGuard g(lock);
    self = shared_from_this();
  }
  if (bubble) {
    timer.when = bubble->now_ns() + to_ns(d);
    bubble_add_timer(bubble.get(), &timer);
    return;
  }
  timer.when = nanotime() + to_ns(d);
  M* m = current_m();
  P* p = (m && m->rt == rt && m->p) ? m->p : some_p();
  add_timer(rt, p, &timer);
}

GORO_DECL bool ChanTimer::stop() {
  RaceDisabled hidden;
  for (;;) {
    if (bubble ? bubble_remove_timer(bubble.get(), &timer) : remove_timer(&timer)) {
      std::shared_ptr<ChanTimer> release;  // destroyed after the guard
      SpinGuard g(lock);
      release = std::move(self);
      return true;
    }
    {
      SpinGuard g(lock);
      // Armed but no longer in a heap: taken by a firing (or a discard)
      // that has not yet taken self, or is still sending.
      if (!self && !firing) return false;
    }
    ::sched_yield();
  }
}

GORO_DECL P* ChanTimer::some_p() const {
  static std::atomic<unsigned> next{0};
  const unsigned i = next.fetch_add(1, std::memory_order_relaxed) % static_cast<unsigned>(rt->nprocs);
  return rt->allp[i].get();
}
#endif  // GORO_DEFINE_RUNTIME

}  // namespace detail

// Go: time.After(d). A channel that receives the time once, after d. If
// every copy of the channel is dropped first, the timer goes with it.
inline Chan<Clock::time_point> after(Clock::duration d) {
  return detail::ChanTimer::user_channel(detail::ChanTimer::make(d, Clock::duration::zero()));
}

// Go: time.Tick(d). A channel that receives the time every d. The ticker
// stops, and is freed, when the last copy of the channel is dropped (Go
// 1.23). d must be positive.
inline Chan<Clock::time_point> tick(Clock::duration d) {
  if (d <= Clock::duration::zero()) throw std::invalid_argument("goro::tick: non-positive interval");
  return detail::ChanTimer::user_channel(detail::ChanTimer::make(d, d));
}

// Go: time.Timer. Sends the time on c() once, after the duration. With Go
// 1.23's semantics: after stop() or reset() returns, no stale value from
// before the call can be received (a value the timer sent that nobody
// received is discarded, and stop() and reset() then report the timer as
// having been active, as Go's do); and the timer is stopped and freed once
// the Timer and every copy of c() are gone (a copy of c() keeps it running,
// as in Go). Like Go's, stop() and reset() are safe to call from several
// goroutines and threads at once (they take turns). A Timer made in a
// synctest bubble may only be used from that bubble (else a fatal error).
class Timer {
 public:
  explicit Timer(Clock::duration d)
      : state_(detail::ChanTimer::make(d, Clock::duration::zero())),
        c_(detail::ChanTimer::user_channel(state_)),
        runtime_state_(state_->rt->state) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  const Chan<Clock::time_point>& c() const noexcept { return c_; }

  // Prevents the timer from firing. Returns true if this call stopped it
  // before its value was received, false if it had already been received,
  // or the timer was stopped before. Go: Timer.Stop (Go 1.23).
  bool stop() {
    state_->check_bubble();
    detail::RaceDisabled hidden;  // timer internals: no edge between stops and resets (see ChanTimer)
    std::lock_guard<Mutex> guard(mu_);
    return stop_locked();
  }

  // Re-arms the timer to fire after d. Returns true if it was still active
  // (as stop() would). The timer runs on the runtime it was created on:
  // resetting it after that Scheduler has been destroyed is a fatal error.
  bool reset(Clock::duration d) {
    state_->check_bubble();
    // Memory ordering: acquire pairs with Runtime::shutdown's release of the state.
    if (runtime_state_->load(std::memory_order_acquire) >= detail::RuntimeState::stopping)
      detail::fatal("goro::Timer::reset: the Scheduler this Timer was created on has been destroyed");
    detail::RaceDisabled hidden;  // timer internals: no edge between stops and resets (see ChanTimer)
    std::lock_guard<Mutex> guard(mu_);
    const bool was_active = stop_locked();
    state_->arm(d);
    return was_active;
  }

 private:
  bool stop_locked() {
    bool was_active = state_->stop();
    // A value sent before the stop and not received is discarded: it counts
    // as the timer stopped in time (Go 1.23: the channel is synchronous, so
    // such a value was never sent).
    if (state_->ch.try_recv()) was_active = true;
    return was_active;
  }

  std::shared_ptr<detail::ChanTimer> state_;
  Chan<Clock::time_point> c_;  // a user handle: the last one to go stops the timer
  std::shared_ptr<const std::atomic<detail::RuntimeState>> runtime_state_;
  Mutex mu_;  // serializes stop() and reset()
};

}  // namespace goro
