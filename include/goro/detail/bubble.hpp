// bubble — the machinery of goro::testing::synctest (synctest.hpp): a
// bubble is a set of goroutines with a fake clock of its own, which moves
// only when every goroutine of the bubble is durably blocked, and then
// straight to the next timer. Go: runtime/synctest.go (synctestBubble).
//
// Membership: the bubble's root (the goroutine running synctest) starts the
// bubble's main goroutine, and every goroutine started by a member is a
// member (spawn, switch.hpp). G::bubble says which bubble a G belongs to.
//
// Counting: the bubble counts its members (`total`) and those not durably
// blocked (`running`: running, runnable, or waiting on something that could
// be released from outside, such as a Mutex or a blocking call). A park is
// durable or not by its WaitReason (is_durable, goroutine.hpp): the
// primitives pick a durable reason only when everything that can wake the
// goroutine belongs to the bubble (a channel made in the bubble, ...).
// `active` keeps the bubble from being taken for idle while a goroutine is
// between parking and its unlock function (Go: incActive in park_m), and
// while a goroutine that the bubble decided to wake has not yet run.
//
// When running == 0 and active == 0, every member is durably blocked and
// the bubble wakes one goroutine (maybe_wake_locked): its root if a timer
// is due, else the goroutine in goro::testing::wait, else its root, which
// advances the clock to the next timer and fires it — or, if there is none
// (or the main goroutine has returned: time stops then), ends the bubble,
// reporting a deadlock if any member is left.
//
// The hooks that switch.hpp calls are reached only for Gs with a bubble;
// outside bubbles each costs a null check. Bubble timers live in the
// bubble's own heap, not in the Ps' heaps: only the root fires them, so
// moving the clock is the bubble's own decision.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "diagnostics.hpp"
#include "fatal.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "runtime.hpp"
#include "sanitizer.hpp"
#include "spinlock.hpp"
#include "switch.hpp"
#include "timer_heap.hpp"

namespace goro::detail {

// Bubbles alive in the process, on any runtime. Code that treats goroutines
// of a bubble specially where they are not already known to be in one
// (making a channel or timer, WaitGroup::add, goro::now) loads this first,
// so that outside bubbles it costs one load of a rarely written word.
// Memory ordering: relaxed everywhere — a goroutine of a bubble can only
// run after its bubble was counted (the count happens before the root
// starts the bubble's main goroutine), and a stale non-zero only costs a
// look at the current goroutine.
inline std::atomic<int> live_bubbles{0};

// The start of every bubble's clock, in the runtime's nanoseconds: midnight
// UTC 2000-01-01 counted from the Unix epoch (Go: synctestBaseTime).
inline constexpr std::int64_t bubble_epoch_ns = 946'684'800'000'000'000;

inline std::atomic<std::uint64_t>& bubble_ids() noexcept {
  static std::atomic<std::uint64_t> ids{0};
  return ids;
}

// Invariants (Go's synctestBubble):
// - mu guards the counts, root/waiter/waiting/done/finished, the timers
//   and each member's G::durably_blocked; `now` is written under mu by the
//   root only, and read without it (goro::now) by members, which the root
//   has woken since (the run queue publishes it).
// - total = members not finished (the root included); running = members
//   not durably blocked (total - running are parked durably, each with
//   durably_blocked set); active > 0 keeps the bubble from being idle.
// - The bubble is idle iff running == 0 && active == 0; maybe_wake_locked
//   then wakes exactly one goroutine and counts it active until it runs.
// - A timer of the bubble is in `timers` (index != npos), or being fired
//   by the root (running), or not armed; only the root fires them, at the
//   bubble's `now`.
// - id: unique in the process (channels and WaitGroups remember it: a
//   bubble's address may be reused once it is gone).
struct Bubble : std::enable_shared_from_this<Bubble> {
  // Memory ordering: relaxed — the RMW alone makes ids unique.
  explicit Bubble(Runtime* r) : rt(r), id(bubble_ids().fetch_add(1, std::memory_order_relaxed) + 1) {}
  Bubble(const Bubble&) = delete;
  Bubble& operator=(const Bubble&) = delete;

  Runtime* const rt;
  const std::uint64_t id;
  std::atomic<std::int64_t> now{bubble_epoch_ns};

  Spinlock mu;
  TimerHeap timers GORO_GUARDED_BY(mu);
  G* root GORO_GUARDED_BY(mu) = nullptr;    // runs the clock (the caller of synctest, or a goroutine for it)
  G* waiter GORO_GUARDED_BY(mu) = nullptr;  // parked in goro::testing::wait
  bool waiting GORO_GUARDED_BY(mu) = false;   // a wait() is in progress
  bool done GORO_GUARDED_BY(mu) = false;      // the main goroutine has returned: time stops
  bool finished GORO_GUARDED_BY(mu) = false;  // the root has ended the bubble
  int total GORO_GUARDED_BY(mu) = 0;
  int running GORO_GUARDED_BY(mu) = 0;
  int active GORO_GUARDED_BY(mu) = 0;

  // Memory ordering: relaxed — see the invariants above (written by the
  // root under mu; members read it after the root woke them).
  std::int64_t now_ns() const noexcept { return now.load(std::memory_order_relaxed); }
};

// The bubble of the running goroutine, or null (a plain thread, an M's
// scheduling stack, timers run on a goroutine's behalf, or no bubble).
inline Bubble* current_bubble() noexcept {
  M* m = current_m();
  G* g = m ? m->curg() : nullptr;
  return g ? g->bubble : nullptr;
}

// current_bubble(), for code that runs outside bubbles too: one load when
// no bubble exists.
inline Bubble* caller_bubble() noexcept {
  // Memory ordering: relaxed — a goroutine in a bubble was started after its
  // bubble was counted (the spawn orders it); others read 0 or skip nothing.
  if (GORO_LIKELY(live_bubbles.load(std::memory_order_relaxed) == 0)) return nullptr;
  return current_bubble();
}

// The bubble's id of the caller, 0 if none (what channels remember).
inline std::uint64_t caller_bubble_id() noexcept {
  Bubble* b = caller_bubble();
  return b ? b->id : 0;
}

// When every member is durably blocked, picks the goroutine to wake and
// counts it running and active (it gives `active` back when it runs).
// Returns null if the bubble is not idle. Go: maybeWakeLocked.
inline G* maybe_wake_locked(Bubble* b) GORO_REQUIRES(b->mu) {
  if (b->running > 0 || b->active > 0 || b->finished) return nullptr;
  G* g;
  const std::int64_t next = b->timers.earliest();
  if (next != 0 && next <= b->now_ns()) {
    g = b->root;  // a timer is due: the root runs it
  } else if (b->waiter) {
    g = b->waiter;
  } else {
    g = b->root;  // advance the clock, or end the bubble
  }
  ++b->active;
  g->durably_blocked = false;
  ++b->running;
  return g;
}

// ---------------------------------------------------------------------------
// The hooks of switch.hpp.

GORO_NOINLINE inline void bubble_spawned_slow(Bubble* b) {
  SpinGuard guard(b->mu);
  ++b->total;
  ++b->running;
}

// A member is made runnable. If it was durably blocked, only its bubble may
// wake it (Go makes waking it from outside fatal, as using a bubble's
// channel from outside is): it counts as running again.
GORO_NOINLINE inline void bubble_ready_slow(G* g) {
  Bubble* b = g->bubble;
  SpinGuard guard(b->mu);
  if (!g->durably_blocked) return;  // a non-durable wait, or woken by the bubble itself
  if (current_bubble() != b)
    fatal("a goroutine of a synctest bubble, durably blocked, was woken from outside its bubble "
          "(a Cond, WaitGroup or Semaphore shared across bubbles?)");
  g->durably_blocked = false;
  ++b->running;
}

// do_pending's park for a member: g's context is saved; runs the primitive's
// unlock function with the bubble held active, so that it cannot be taken
// for idle before the park is confirmed. Go: park_m with a bubble.
GORO_NOINLINE inline void bubble_park_slow(M* m, G* g) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  Bubble* b = g->bubble;
  bool (*unlockf)(G*, void*) = m->unlockf;
  void* arg = m->unlock_arg;
  // Memory ordering: relaxed — written by g itself before it switched.
  const bool durable = is_durable(g->wait_reason.load(std::memory_order_relaxed));
  {
    SpinGuard guard(b->mu);
    ++b->active;
    if (durable) {
      g->durably_blocked = true;
      --b->running;
    }
  }
  // From here g may be woken, run and even finish on another M; b lives on
  // (its root cannot end it while we hold it active).
  if (!unlockf(g, arg)) {
    {
      SpinGuard guard(b->mu);
      if (g->durably_blocked) {
        g->durably_blocked = false;
        ++b->running;
      }
    }
    ready(g);
  }
  G* wake;
  {
    SpinGuard guard(b->mu);
    --b->active;
    wake = maybe_wake_locked(b);
  }
  if (wake) ready(wake);  // the last touch of b: it may end once wake runs
}

// g (a member, never the root) has finished: it is already marked dead.
GORO_NOINLINE inline void bubble_exited_slow(G* g) {
  Bubble* b = g->bubble;
  G* wake;
  {
    SpinGuard guard(b->mu);
    --b->total;
    --b->running;
    wake = maybe_wake_locked(b);
  }
  if (wake) ready(wake);
}

// The hooks declared in switch.hpp.
inline void bubble_spawned(Bubble* b) { bubble_spawned_slow(b); }
inline void bubble_ready(G* g) { bubble_ready_slow(g); }
inline void bubble_park(M* m, G* g) { bubble_park_slow(m, g); }
inline void bubble_exited(G* g) { bubble_exited_slow(g); }

// ---------------------------------------------------------------------------
// The bubble's timers. Same contract as add_timer/remove_timer (timers.hpp),
// with the bubble's lock and heap.

inline void bubble_add_timer(Bubble* b, RuntimeTimer* t) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  {
    SpinGuard guard(b->mu);
    if (!b->finished) {
      b->timers.push(t);
      return;
    }
  }
  // The bubble has ended and its clock never moves again: let the owner go.
  // (Unreachable by correct use: no goroutine of an ended bubble runs, and
  // its Timers may not be used from outside.)
  if (t->discard) t->discard(t);
}

inline bool bubble_remove_timer(Bubble* b, RuntimeTimer* t) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  for (;;) {
    {
      SpinGuard guard(b->mu);
      if (t->index != RuntimeTimer::npos) {
        b->timers.remove(t);
        return true;
      }
      if (!t->running) return false;
    }
    // A periodic timer being fired by the root, which touches it again when
    // fire returns: wait for it. Brief: fire never blocks or switches.
    ::sched_yield();
  }
}

// The root fires the timers due at the bubble's `now`, one at a time, with
// no lock held. Go: timers.check in synctestRun.
inline void bubble_fire_due(Bubble* b) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  for (;;) {
    RuntimeTimer* t;
    {
      SpinGuard guard(b->mu);
      t = b->timers.pop_due(b->now_ns());
      if (t && t->period > 0) t->running = true;
    }
    if (!t) return;
    if (t->period == 0) {
      t->fire(t);  // t may be gone once this returns
      continue;
    }
    const bool keep = t->fire(t);
    {
      SpinGuard guard(b->mu);
      t->running = false;
      if (keep) {
        t->when += t->period;  // the root fires each tick on time: none is skipped
        b->timers.push(t);
      }
    }
    if (!keep && t->discard) t->discard(t);
  }
}

// ---------------------------------------------------------------------------
// The root.

// What ending a bubble found: its members all finished (empty), or a
// deadlock, described with the dump of the members left.
struct BubbleEnd {
  std::string deadlock;
};

// Bubbles that ended in a deadlock: their goroutines are abandoned, parked
// forever, and still point at them, so they are never freed (waking one of
// those goroutines from outside must still be reported, not crash).
inline void keep_forever(std::shared_ptr<Bubble> b) {
  static std::mutex mu;
  static std::vector<std::shared_ptr<Bubble>> kept;
  std::lock_guard<std::mutex> guard(mu);
  kept.push_back(std::move(b));
}

inline bool root_unlock(G*, void*) { return true; }

// The members still alive, as goro::dump shows them (the root left out).
// Every one of them is parked: the bubble is idle.
inline std::vector<G*> bubble_members(Bubble* b, G* root) {
  std::vector<G*> out;
  TsanIgnore tsan_ignore;  // reads other goroutines' Gs, as goro::dump does
  b->rt->stacks.for_each_slot([&](char* top, std::size_t slot) {
    G* g = g_at(top, slot);
    if (g->magic != G::initialized || g == root) return;
    // Memory ordering: acquire pairs with new_g's release of `runnable`.
    if (g->status.load(std::memory_order_acquire) == GStatus::dead) return;
    if (g->bubble == b) out.push_back(g);
  });
  return out;
}

// The root's loop: runs the bubble's timers, parks until the bubble is idle,
// then advances the clock to the next timer; ends when no timer is left or
// the main goroutine has returned. Runs on the root (a goroutine whose
// G::bubble is b, counted in total and running). Go: synctestRun.
#if !GORO_DEFINE_RUNTIME
BubbleEnd run_bubble_clock(const std::shared_ptr<Bubble>& bubble);
#else
GORO_DECL BubbleEnd run_bubble_clock(const std::shared_ptr<Bubble>& bubble) {
  Bubble* b = bubble.get();
  G* self = current_g();
  for (;;) {
    bubble_fire_due(b);
    park(&root_unlock, nullptr, WaitReason::synctest_run);
    tsan_acquire(b);  // what the members did before blocking happens before what comes next
    TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
    SpinGuard guard(b->mu);
    --b->active;  // given by the goroutine that woke us
    const std::int64_t next = b->timers.earliest();
    if (next == 0 || b->done) break;  // Go: time stops once main has returned
    // Memory ordering: relaxed — see Bubble's invariants.
    if (next > b->now_ns()) b->now.store(next, std::memory_order_relaxed);
  }

  // The bubble is idle and stays so: every member left is durably blocked.
  std::vector<RuntimeTimer*> left;
  int total;
  bool main_done;
  {
    TsanIgnore tsan_ignore;
    SpinGuard guard(b->mu);
    b->finished = true;
    while (RuntimeTimer* t = b->timers.pop_due(INT64_MAX)) left.push_back(t);
    total = b->total;
    main_done = b->done;
  }
  for (RuntimeTimer* t : left)
    if (t->discard) t->discard(t);  // lets a ChanTimer go (a sleep's timer has none)
  BubbleEnd end;
  if (total == 1) return end;  // only the root: everyone finished

  // Deadlock. Report the members and abandon them: they stay parked forever
  // (nothing may wake them), leave the runtime's count of live goroutines
  // (a Scheduler's destructor does not wait for them) and disappear from
  // goro::dump; their stacks are never reused.
  const std::vector<G*> members = bubble_members(b, self);
  std::vector<GoroutineInfo> infos;
  {
    TsanIgnore tsan_ignore;
    for (G* g : members)
      infos.push_back({g->goid(), g->status.load(std::memory_order_relaxed),
                       g->wait_reason.load(std::memory_order_relaxed),
                       g->wait_since.load(std::memory_order_relaxed), g->created(),
                       g->is_main.load(std::memory_order_relaxed)});
  }
  std::ostringstream os;
  os << (main_done ? "deadlock: main bubble goroutine has exited but blocked goroutines remain"
                   : "deadlock: all goroutines in bubble are blocked")
     << "\n\n";
  write_dump(os, infos);
  end.deadlock = os.str();
  {
    TsanIgnore tsan_ignore;
    for (G* g : members) {
      // Memory ordering: release, as a goroutine's own end (goroutine_entry).
      g->status.store(GStatus::dead, std::memory_order_release);
      // Memory ordering: seq_cst, as goroutine_entry's decrement; the root
      // is alive, so this never brings the count to zero.
      b->rt->live.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  keep_forever(bubble);
  return end;
}
#endif

}  // namespace goro::detail
