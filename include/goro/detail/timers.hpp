// timers — the runtime's timers: each P has a heap of them (timer_heap.hpp);
// the M holding a P runs its due timers whenever it schedules, and an idle M
// sleeps until the earliest timer of all Ps (processor.hpp: stop_m), so
// nothing polls. Sleeps, goro::after/tick/Timer and context deadlines are
// built on these. Go: time.go (addtimer, deltimer, runtimer, checkTimers).
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "runtime.hpp"
#include "sanitizer.hpp"
#include "spinlock.hpp"
#include "timer_heap.hpp"

namespace goro::detail {

inline void update_timer0_locked(P* p) GORO_REQUIRES(p->timer_lock) {
  // Memory ordering: release — a peeking M (earliest_timer, check_timers'
  // fast path) that sees the new earliest deadline also sees the heap
  // change once it takes the lock; a stale value only costs an early or
  // late look.
  p->timer0_when.store(p->timers.earliest(), std::memory_order_release);
}

// Runs p's due timers, each on this thread, one at a time. Called by an M
// holding some P; p may be another's (timer stealing, Go: stealWork's
// checkTimers on other Ps). Returns the number fired. Go: checkTimers +
// runtimer.
inline int check_timers(P* p, std::int64_t now) {
  // Memory ordering: acquire pairs with update_timer0_locked's release.
  const std::int64_t next = p->timer0_when.load(std::memory_order_acquire);
  if (next == 0 || next > now) return 0;
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  int fired = 0;
  for (;;) {
    RuntimeTimer* t;
    {
      SpinGuard g(p->timer_lock);
      t = p->timers.pop_due(now);
      if (t) {
        // Memory ordering (owner, here and below): relaxed — owner is read
        // and written under the timer lock; remove_timer's unlocked acquire
        // load only finds the lock to take and re-checks under it.
        if (t->period > 0) t->running = true;                   // Go: timerRunning
        else t->owner.store(nullptr, std::memory_order_relaxed);  // fired: no longer armed
      }
      update_timer0_locked(p);
    }
    if (!t) return fired;
    ++fired;
    // Counted before it fires: whoever its firing wakes (a sleeper, a
    // channel receiver) and then reads goro::metrics sees it counted.
    // Memory ordering: relaxed — the wake-up (ready's release, the woken
    // goroutine's acquire) orders it before anything that goroutine does.
    p->counters.timers_fired.fetch_add(1, std::memory_order_relaxed);
    if (tracing()) trace_timer_fired(p);
    // No lock held: fire may ready goroutines or arm timers.
    if (t->period == 0) {
      t->fire(t);  // t may be gone once this returns
      continue;
    }
    // A periodic timer is out of the heap while it runs, so no other thread
    // can fire it meanwhile, and remove_timer waits for it (its owner may
    // free it once it is stopped).
    const bool keep = t->fire(t);
    {
      SpinGuard g(p->timer_lock);
      t->running = false;
      if (keep) {
        t->when += t->period;
        if (t->when <= now) t->when = now + t->period;  // fell behind: skip ticks, like Go's Ticker
        p->timers.push(t);
        update_timer0_locked(p);
      } else {
        t->owner.store(nullptr, std::memory_order_relaxed);
      }
    }
    if (!keep && t->discard) t->discard(t);  // t may be gone once this returns
  }
}

// Tells the Ms that a timer due at `when` was just added: wakes the idle M
// waiting for a later one, or an idle P's M. Go: wakeNetPoller.
inline void timer_added(Runtime* rt, std::int64_t when) {
  M* wake = nullptr;
  bool polling = false;  // the sleeper waits in the netpoller, not on its futex
  {
    SpinGuard g(rt->lock);
    if (rt->sleeper) {
      if (when < rt->sleeper_until) wake = rt->sleeper;
      polling = wake != nullptr && wake == rt->poller;
    } else if (rt->npidle.load(std::memory_order_relaxed) == 0) {  // relaxed: rt->lock orders every change
      return;  // every P is busy: their Ms run due timers as they schedule
    }
  }
  if (polling) {
    // Once out of the poller it looks at the timers again (stop_m), so a
    // break that lands after it left is harmless. Go: wakeNetPoller.
    netpoll_break(rt);
  } else if (wake) {
    wake->parker.unpark();
  } else {
    wakep(rt);
  }
}

// Arms t (with t->when set; not armed now) on p. Go: addtimer.
inline void add_timer(Runtime* rt, P* p, RuntimeTimer* t) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  // Read t only under the lock: once it is released another M may fire t,
  // and its owner (e.g. a sleeping goroutine's frame) may be gone.
  const std::int64_t when = t->when;
  bool earliest;
  {
    SpinGuard g(p->timer_lock);
    t->owner.store(p, std::memory_order_relaxed);
    p->timers.push(t);
    earliest = t->index == 0;
    update_timer0_locked(p);
  }
  if (earliest) timer_added(rt, when);
}

// Disarms t. Returns true if it was armed and will not fire again (a
// periodic timer being fired on another thread is waited for); false if it
// was not armed (never added, a one-shot that has fired or is firing, or
// stopped already). Must not be called from t's own fire (a periodic timer
// stops itself by returning false). Go: deltimer.
inline bool remove_timer(RuntimeTimer* t) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  for (;;) {
    // Memory ordering: acquire pairs with add_timer's store under the lock
    // (which its unlock publishes); re-checked under the lock below.
    P* p = t->owner.load(std::memory_order_acquire);
    if (!p) return false;
    {
      SpinGuard g(p->timer_lock);
      if (t->owner.load(std::memory_order_relaxed) != p) continue;  // fired or moved meanwhile
      if (!t->running) {
        p->timers.remove(t);  // armed and not running: in p's heap
        update_timer0_locked(p);
        t->owner.store(nullptr, std::memory_order_relaxed);
        return true;
      }
    }
    // Being fired by another thread, which touches t again when fire
    // returns: wait for it. Brief: fire never blocks or switches.
    ::sched_yield();
  }
}

// Disarms every timer of p without firing it and lets each owner release
// what it holds (discard): the runtime is being destroyed, its Ms are gone.
inline void discard_timers(P* p) {
  std::vector<RuntimeTimer*> left;
  {
    SpinGuard g(p->timer_lock);
    while (RuntimeTimer* t = p->timers.pop_due(INT64_MAX)) {
      t->owner.store(nullptr, std::memory_order_relaxed);
      left.push_back(t);
    }
    update_timer0_locked(p);
  }
  for (RuntimeTimer* t : left)
    if (t->discard) t->discard(t);
}

}  // namespace goro::detail
