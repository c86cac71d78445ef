// time — sleeping and timer channels, driven by the runtime's timers (no
// thread is blocked: 10,000 goroutines sleeping 100 ms cost their stacks).
//
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
#pragma once

#include <chrono>
#include <thread>

#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <stdexcept>

#include "chan.hpp"
#include "detail/fatal.hpp"
#include "detail/processor.hpp"
#include "detail/timers.hpp"
#include "detail/wait_queue.hpp"
#include "mutex.hpp"
#include "scheduler.hpp"

namespace goro {

namespace detail {

inline std::int64_t to_deadline(std::chrono::steady_clock::time_point t) noexcept {
  // steady_clock is CLOCK_MONOTONIC on Linux, the runtime's clock.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Parks the running goroutine until the monotonic clock reaches `when`.
inline void sleep_goroutine(std::int64_t when) {
  RuntimeTimer t;
  t.when = when;
  t.arg = current_g();
  t.fire = [](RuntimeTimer* self) {
    ready(static_cast<G*>(self->arg));
    return false;
  };
  // The timer is added once this goroutine's fiber is saved, so it cannot
  // fire (on another thread) before there is something to resume.
  park([](G*, void* arg) {
    M* m = current_m();
    add_timer(m->rt, m->p, static_cast<RuntimeTimer*>(arg));
    return true;
  }, &t, WaitReason::sleep);
}

}  // namespace detail

inline void sleep_until(std::chrono::steady_clock::time_point t) {
  if (t <= std::chrono::steady_clock::now()) return;
  if (detail::current_g()) {
    detail::sleep_goroutine(detail::to_deadline(t));
  } else {
    std::this_thread::sleep_until(t);
  }
}

template <class Clock, class Duration>
void sleep_until(std::chrono::time_point<Clock, Duration> t) {
  sleep_until(std::chrono::steady_clock::now() + (t - Clock::now()));
}

template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  if (d <= d.zero()) return;
  sleep_until(std::chrono::steady_clock::now() +
              std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}

using Clock = std::chrono::steady_clock;

namespace detail {

// A runtime timer that sends the time on a channel (Go: the timer behind
// time.After, time.Tick and time.Timer), or calls a callback (context
// deadlines).
//
// Invariants: `self` keeps the state alive while the timer is armed; it is
// taken (under `lock`) by exactly one of: the one-shot firing, a successful
// stop, or the runtime dropping the timer (discard: a ticker nobody can
// receive from, or a runtime being destroyed). `firing` is true while a
// one-shot firing that took `self` is still sending its value.
struct ChanTimer : std::enable_shared_from_this<ChanTimer> {
  RuntimeTimer timer;
  Chan<Clock::time_point> ch{1};
  Runtime* rt = nullptr;
  std::function<void()> callback;  // set: call it instead of sending (context deadlines)
  Spinlock lock;
  std::shared_ptr<ChanTimer> self GORO_GUARDED_BY(lock);
  bool firing GORO_GUARDED_BY(lock) = false;

  static bool fire(RuntimeTimer* t) {
    auto* s = static_cast<ChanTimer*>(t->arg);
    if (t->period > 0) {
      // A ticker whose channel nobody can receive from any more stops: the
      // runtime drops it and calls discard.
      if (s->ch.use_count() == 1) return false;
      s->ch.try_send(Clock::now());  // full: drop the tick, like Go's sendTime
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
    s->ch.try_send(Clock::now());
    SpinGuard g(s->lock);
    s->firing = false;
    return false;
  }

  static void discard(RuntimeTimer* t) {
    auto* s = static_cast<ChanTimer*>(t->arg);
    std::shared_ptr<ChanTimer> release;  // destroyed after the guard
    SpinGuard g(s->lock);
    release = std::move(s->self);
  }

  // ch_out, if given, receives a handle to the channel before the timer is
  // armed: a ticker that fired before its caller held the channel would
  // see nobody holding it and stop itself.
  static std::shared_ptr<ChanTimer> make(Clock::duration d, Clock::duration period,
                                         std::function<void()> callback = {},
                                         Chan<Clock::time_point>* ch_out = nullptr) {
    auto s = std::make_shared<ChanTimer>();
    s->callback = std::move(callback);
    s->rt = current_runtime();
    s->timer.fire = &fire;
    s->timer.discard = &discard;
    s->timer.arg = s.get();
    s->timer.period = std::chrono::duration_cast<std::chrono::nanoseconds>(period).count();
    if (ch_out) *ch_out = s->ch;
    s->arm(d);
    return s;
  }

  // Arms the (stopped) timer to fire after d. Not concurrently with stop()
  // or another arm() of the same timer (goro::Timer serializes them).
  void arm(Clock::duration d) {
    if (d <= Clock::duration::zero() && timer.period == 0) {
      if (callback) callback();
      else ch.try_send(Clock::now());
      return;
    }
    {
      SpinGuard g(lock);
      self = shared_from_this();
    }
    timer.when = nanotime() + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    M* m = current_m();
    P* p = (m && m->rt == rt && m->p) ? m->p : some_p();
    add_timer(rt, p, &timer);
  }

  // True if the timer was armed and is now stopped before firing. False if
  // it already fired (or was never armed); a one-shot firing in flight on
  // another thread is waited for, so that its value is in the channel when
  // stop returns (Timer::stop then discards it).
  bool stop() {
    for (;;) {
      if (remove_timer(&timer)) {
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

 private:
  // A P for a timer armed from outside the runtime (round robin).
  P* some_p() const {
    static std::atomic<unsigned> next{0};
    const unsigned i = next.fetch_add(1, std::memory_order_relaxed) % static_cast<unsigned>(rt->nprocs);
    return rt->allp[i].get();
  }
};

}  // namespace detail

// Go: time.After(d). A channel that receives the time once, after d.
inline Chan<Clock::time_point> after(Clock::duration d) {
  return detail::ChanTimer::make(d, Clock::duration::zero())->ch;
}

// Go: time.Tick(d). A channel that receives the time every d. The ticker
// stops by itself once nobody holds the channel. d must be positive.
inline Chan<Clock::time_point> tick(Clock::duration d) {
  if (d <= Clock::duration::zero()) throw std::invalid_argument("goro::tick: non-positive interval");
  Chan<Clock::time_point> ch;
  detail::ChanTimer::make(d, d, {}, &ch);
  return ch;
}

// Go: time.Timer. Sends the time on c() once, after the duration. With Go
// 1.23's semantics: after stop() or reset() returns, no stale value from
// before the call can be received. Like Go's, stop() and reset() are safe
// to call from several goroutines and threads at once (they take turns).
class Timer {
 public:
  explicit Timer(Clock::duration d)
      : state_(detail::ChanTimer::make(d, Clock::duration::zero())), runtime_state_(state_->rt->state) {}
  ~Timer() { state_->stop(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  const Chan<Clock::time_point>& c() const noexcept { return state_->ch; }

  // Prevents the timer from firing. Returns false if it already fired or was stopped.
  bool stop() {
    std::lock_guard<Mutex> guard(mu_);
    return stop_locked();
  }

  // Re-arms the timer to fire after d. Returns true if it was still active.
  // The timer runs on the runtime it was created on: resetting it after that
  // Scheduler has been destroyed is a fatal error.
  bool reset(Clock::duration d) {
    // Memory ordering: acquire pairs with Runtime::shutdown's release of the state.
    if (runtime_state_->load(std::memory_order_acquire) >= detail::RuntimeState::stopping)
      detail::fatal("goro::Timer::reset: the Scheduler this Timer was created on has been destroyed");
    std::lock_guard<Mutex> guard(mu_);
    const bool was_active = stop_locked();
    state_->arm(d);
    return was_active;
  }

 private:
  bool stop_locked() {
    const bool was_active = state_->stop();
    state_->ch.try_recv();  // discard a value sent before the stop
    return was_active;
  }

  std::shared_ptr<detail::ChanTimer> state_;
  std::shared_ptr<const std::atomic<detail::RuntimeState>> runtime_state_;
  Mutex mu_;  // serializes stop() and reset()
};

}  // namespace goro
