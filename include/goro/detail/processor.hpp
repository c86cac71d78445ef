// P and the scheduler — the heart of goro's runtime, modelled on Go's
// runtime/proc.go. Read this file to understand how goroutines run.
//
// Vocabulary (as in Go):
//   G  a goroutine (goroutine.hpp)
//   M  an OS thread (machine.hpp)
//   P  a processor: the right to run Gs. There are exactly `procs` Ps; an M
//      runs Gs only while it holds one. Each P owns a local run queue (256
//      slots + runnext), its timers and a cache of free stacks.
//
// The schedule loop (find_runnable): runnext → local queue → (every 61
// ticks) global queue → timers → global queue → steal half of a random
// victim's queue → park the M. At most half of the busy Ps' count of Ms spin
// looking for work; the rest park. When work appears and no M spins, exactly
// one parked M is woken (wakep). An idle runtime uses no CPU: the last M to
// go idle with timers pending sleeps until the earliest one.
//
// Switching. A goroutine that blocks (park), yields or finishes switches
// directly to the next G of its P when there is one (one context switch),
// and to its M's scheduling context only when the P has nothing to run.
// The work that must happen after the old context is saved — releasing the
// primitive's lock (Go's gopark unlockf), requeueing a yielding G — is left
// in M::pending and done by whichever context runs next (after_switch), so
// that a waker can never resume a G whose context is not yet saved.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "source_location.hpp"
#include "../options.hpp"
#include "config.hpp"
#include "fatal.hpp"
#include "context.hpp"
#include "global_queue.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "options_check.hpp"
#include "parker.hpp"
#include "run_queue.hpp"
#include "spinlock.hpp"
#include "stack.hpp"
#include "timer_heap.hpp"

namespace goro::detail {

inline std::int64_t nanotime() noexcept { return Parker::monotonic_ns(); }

// The monotonic clock at tick resolution (a few ms), for when a goroutine
// started waiting (the dump's "for how long"): it is read at every park and
// blocking call, where the precise clock's vDSO read (~17 ns on the
// project's VM) was the largest single cost after the switch itself. Same
// timeline as nanotime(), a tick behind at most.
inline std::int64_t coarse_nanotime() noexcept { return Parker::clock_ns(CLOCK_MONOTONIC_COARSE); }

enum class PStatus : std::uint8_t { idle, running, blocking };

// Invariants:
// - runq: see RunQueue; pushes only by the M holding this P.
// - timers, timer_count: under timer_lock. timer0_when mirrors the earliest
//   deadline (0: none) for lock-free peeking by other Ms.
// - stack_cache, schedtick, goid_*: only the M holding this P.
// - status, m, idle_link: under the scheduler lock (status is atomic so the
//   monitor can read it without the lock).
struct P {
  explicit P(int i) : id(i) {}

  int id;
  std::atomic<PStatus> status{PStatus::idle};
  M* m = nullptr;
  P* idle_link = nullptr;
  std::uint32_t schedtick = 0;
  std::atomic<std::uint64_t> syscalltick{0};  // bumped at each blocking call (read by the monitor)

  RunQueue runq;

  Spinlock timer_lock;
  TimerHeap timers GORO_GUARDED_BY(timer_lock);
  std::atomic<std::int64_t> timer0_when{0};

  std::vector<Stack> stack_cache;
  std::uint64_t goid_next = 0, goid_end = 0;
};

// The runtime: Go's schedt plus everything a Scheduler owns.
//
// Invariants:
// - global_runq (head/tail/size), pidle, midle, sleeper*: under `lock`.
//   global_runq_size and npidle are also atomics, written under the lock and
//   read without it for fast "anything there?" checks.
// - nmspinning: number of Ms with spinning == true.
// - live: goroutines created and not yet finished.
struct Runtime {
  explicit Runtime(const Options& o);
  ~Runtime() { shutdown(); }

  // Waits for every goroutine to finish, then stops and joins the Ms.
  // Idempotent.
  void shutdown();
  bool shut_down = false;

  Options opts;
  int nprocs;
  std::vector<std::unique_ptr<P>> allp;
  StackPool stacks;

  Spinlock lock;
  GlobalQueue global_runq GORO_GUARDED_BY(lock);
  std::atomic<std::uint32_t> global_runq_size{0};
  P* pidle GORO_GUARDED_BY(lock) = nullptr;
  std::atomic<int> npidle{0};
  std::vector<M*> midle GORO_GUARDED_BY(lock);
  std::vector<std::unique_ptr<M>> allm GORO_GUARDED_BY(lock);
  int nm_live GORO_GUARDED_BY(lock) = 0;  // Ms whose thread has not been reaped
  M* sleeper GORO_GUARDED_BY(lock) = nullptr;  // idle M waiting for the next timer
  std::int64_t sleeper_until GORO_GUARDED_BY(lock) = 0;
  bool stopping GORO_GUARDED_BY(lock) = false;

  std::atomic<int> nmspinning{0};
  std::atomic<int> nblocking{0};  // goroutines inside goro::blocking
  std::atomic<int> nmain{0};      // goroutines running goro::run's function (deadlock detection)
  std::atomic<std::uint64_t> chaos_counter{0};  // Options::randomize decisions drawn so far
  // Seeds the Ms' fastrand (victim order, select's choice): Options::randomize
  // when set, so a run is reproducible; otherwise different in every run, as
  // Go seeds its fastrand, so no program comes to rely on one select order.
  std::uint64_t rand_seed = 0;
  std::atomic<std::int64_t> live{0};
  std::atomic<std::uint64_t> goid_gen{0};
  std::atomic<Parker*> closer{nullptr};  // the destructor, waiting for live == 0
  // False once shutdown is complete. Held by what may outlive the runtime
  // and would use it (goro::Timer, for reset), so that misuse is reported.
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);

  // TSan: the fiber Ms are started from. A new thread inherits its
  // creator's happens-before; goroutines resuming on an M acquire the M's
  // start (see tsan_resume), so Ms must not be created from a goroutine's
  // fiber, or every goroutine would be ordered after that one's past.
  SanitizerFiber tsan_spawner;

  // The monitor (blocking.hpp); created on first use of goro::blocking.
  std::atomic<void*> monitor{nullptr};
  void (*destroy_monitor)(Runtime*) = nullptr;
};

// ---------------------------------------------------------------------------
// Global run queue (under rt->lock). Go: globrunqput / globrunqget.

inline void global_put_locked(Runtime* rt, G* g) GORO_REQUIRES(rt->lock) {
  rt->global_runq.push_back(g);
  rt->global_runq_size.store(static_cast<std::uint32_t>(rt->global_runq.size()), std::memory_order_release);
}

inline G* global_pop_locked(Runtime* rt) GORO_REQUIRES(rt->lock) {
  G* g = rt->global_runq.pop_front();
  rt->global_runq_size.store(static_cast<std::uint32_t>(rt->global_runq.size()), std::memory_order_release);
  return g;
}

// Takes a fair share of the global queue into p's local queue; returns one
// G to run. max == 1 takes just one (the every-61-ticks fairness check).
inline G* global_get_locked(Runtime* rt, P* p, std::uint32_t max) GORO_REQUIRES(rt->lock) {
  const std::uint32_t size = rt->global_runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  std::uint32_t n = size / static_cast<std::uint32_t>(rt->nprocs) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > RunQueue::capacity / 2) n = RunQueue::capacity / 2;
  // The local queue need not be empty (yield_current comes here when the
  // fairness tick sends it to the global queue): take no more than fits.
  // Only we push to p's queue, so its free room can only grow meanwhile.
  const std::uint32_t room = RunQueue::capacity - p->runq.size();
  if (n > room + 1) n = room + 1;
  G* g = global_pop_locked(rt);
  for (std::uint32_t i = 1; i < n; ++i) {
    G* extra = global_pop_locked(rt);
    p->runq.put(extra, false, [](G**, std::uint32_t) { fatal("goro: run queue overflow while refilling"); });
  }
  return g;
}

// ---------------------------------------------------------------------------
// Idle Ps and Ms (under rt->lock). Go: pidleput / pidleget / mput / mget.

inline void pidle_put_locked(Runtime* rt, P* p) GORO_REQUIRES(rt->lock) {
  p->status.store(PStatus::idle, std::memory_order_relaxed);
  p->m = nullptr;
  p->idle_link = rt->pidle;
  rt->pidle = p;
  rt->npidle.fetch_add(1, std::memory_order_seq_cst);
}

inline P* pidle_get_locked(Runtime* rt) GORO_REQUIRES(rt->lock) {
  P* p = rt->pidle;
  if (p) {
    rt->pidle = p->idle_link;
    p->idle_link = nullptr;
    rt->npidle.fetch_sub(1, std::memory_order_seq_cst);
  }
  return p;
}

inline void acquire_p(M* m, P* p) {
  m->p = p;
  p->m = m;
  p->status.store(PStatus::running, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Timers. Go: checkTimers / runtimer.

inline void update_timer0_locked(P* p) GORO_REQUIRES(p->timer_lock) {
  p->timer0_when.store(p->timers.earliest(), std::memory_order_release);
}

// Runs p's due timers. Called by the M holding some P (p may be another's:
// that is timer stealing). Returns the number fired.
inline int check_timers(P* p, std::int64_t now) {
  const std::int64_t next = p->timer0_when.load(std::memory_order_acquire);
  if (next == 0 || next > now) return 0;
  TsanIgnore tsan_ignore;  // runtime internals (see context.hpp)
  int fired = 0;
  for (;;) {
    Timer* t;
    {
      SpinGuard g(p->timer_lock);
      t = p->timers.pop_due(now);
      if (t && t->period > 0) {
        t->when += t->period;
        if (t->when <= now) t->when = now + t->period;  // fell behind: skip ticks, like Go's Ticker
        p->timers.push(t);
      } else if (t) {
        t->owner.store(nullptr, std::memory_order_relaxed);
      }
      update_timer0_locked(p);
    }
    if (!t) return fired;
    // No lock held: fire may ready goroutines or add timers.
    t->fire(t);
    ++fired;
  }
}

void timer_added(Runtime* rt, std::int64_t when);

// Adds t (with t->when set) to p's heap.
inline void add_timer(Runtime* rt, P* p, Timer* t) {
  TsanIgnore tsan_ignore;  // runtime internals (see context.hpp)
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

// Removes t if it is still pending. Returns false if it already fired (or was
// never added). Go: deltimer.
inline bool remove_timer(Timer* t) {
  TsanIgnore tsan_ignore;  // runtime internals (see context.hpp)
  for (;;) {
    P* p = t->owner.load(std::memory_order_acquire);
    if (!p) return false;
    SpinGuard g(p->timer_lock);
    if (t->owner.load(std::memory_order_relaxed) != p) continue;  // moved or fired meanwhile
    if (t->index != Timer::npos) {
      p->timers.remove(t);
      update_timer0_locked(p);
    }
    t->owner.store(nullptr, std::memory_order_relaxed);
    return true;
  }
}

// ---------------------------------------------------------------------------
// Waking Ms. Go: wakep / startm / newm / stopm.

void start_m(Runtime* rt, P* p, bool spinning);

// Tries to add one more M to run Gs if there is an idle P and nobody is
// already spinning (who will find the work and call wakep in turn).
inline void wakep(Runtime* rt) {
  // Memory ordering: seq_cst pairs with the seq_cst decrement of
  // nmspinning and re-check of the run queues in find_runnable (the
  // "delicate dance"): either we see a spinner, or it sees our G.
  // The fence orders the caller's publication of the G (a release store,
  // or a spinlock unlock) before these loads: without it x86 may satisfy
  // the loads first (store-load reordering) and both sides miss each other
  // (seen: a G left in the global queue, every P idle, every M parked).
  // GCC's TSan does not support fences; there a locked read-modify-write
  // of npidle is the same full barrier on the hardware.
#if GORO_TSAN
  if (rt->npidle.fetch_add(0, std::memory_order_seq_cst) == 0) return;
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (rt->npidle.load(std::memory_order_seq_cst) == 0) return;
#endif
  int expected = 0;
  if (rt->nmspinning.load(std::memory_order_seq_cst) != 0 ||
      !rt->nmspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst))
    return;
  start_m(rt, nullptr, true);
}

// A timer earlier than everything the Ms are waiting for was added.
// Go: wakeNetPoller.
inline void timer_added(Runtime* rt, std::int64_t when) {
  M* wake = nullptr;
  {
    SpinGuard g(rt->lock);
    if (rt->sleeper) {
      if (when < rt->sleeper_until) wake = rt->sleeper;
    } else if (rt->npidle.load(std::memory_order_relaxed) == 0) {
      return;  // every P is busy; their Ms check timers as they schedule
    }
  }
  if (wake) {
    wake->parker.unpark();
  } else {
    wakep(rt);
  }
}

// ---------------------------------------------------------------------------
// Schedule randomization for tests (Options::randomize). Each decision is
// drawn from a counter hashed with the seed: with procs = 1 the program runs
// on one P, so the same seed makes the same decisions.

inline bool chaos(Runtime* rt, std::uint64_t one_in) noexcept {
  if (GORO_LIKELY(rt->opts.randomize == 0)) return false;
  std::uint64_t x = rt->chaos_counter.fetch_add(1, std::memory_order_relaxed) + rt->opts.randomize;
  // splitmix64
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x % one_in == 0;
}

// ---------------------------------------------------------------------------
// Making Gs runnable. Go: runqput / ready.

inline void runq_put(Runtime* rt, P* p, G* g, bool next) {
  p->runq.put(g, next, [rt](G** batch, std::uint32_t n) {
    SpinGuard guard(rt->lock);
    for (std::uint32_t i = 0; i < n; ++i) global_put_locked(rt, batch[i]);
  });
}

// Makes a parked G runnable. From a goroutine (or M) of the same runtime it
// goes to this P's runnext, so it runs next (a hand-off, like Go); from a
// plain thread it goes to the global queue.
inline void ready(G* g) {
  TsanIgnore tsan_ignore;  // runtime internals (see context.hpp)
  Runtime* rt = g->rt;
  // Memory ordering: the run queue's release publishes the G; status is
  // informational (dump) except for the waiting→runnable check.
  g->status.store(GStatus::runnable, std::memory_order_relaxed);
  M* m = current_m();
  if (m && m->rt == rt && m->p) {
    runq_put(rt, m->p, g, !chaos(rt, 2));
  } else {
    SpinGuard guard(rt->lock);
    global_put_locked(rt, g);
  }
  wakep(rt);
}

// ---------------------------------------------------------------------------
// Stacks and goroutine ids.

inline Stack get_stack(Runtime* rt, P* p) {
  if (!p) return rt->stacks.get_global();
  if (p->stack_cache.empty()) rt->stacks.refill(p->stack_cache);
  Stack s = p->stack_cache.back();
  p->stack_cache.pop_back();
  return s;
}

inline void put_stack(Runtime* rt, P* p, Stack s) {
  if (!p) return rt->stacks.put_global(s);
  p->stack_cache.push_back(s);
  if (p->stack_cache.size() > 2 * StackPool::batch) rt->stacks.drain(p->stack_cache);
}

inline std::uint64_t new_goid(Runtime* rt, P* p) {
  // Go: goidcache — ids are handed to Ps in batches to avoid contention.
  if (!p) return rt->goid_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (p->goid_next == p->goid_end) {
    p->goid_next = rt->goid_gen.fetch_add(16, std::memory_order_relaxed) + 1;
    p->goid_end = p->goid_next + 16;
  }
  return p->goid_next++;
}

// ---------------------------------------------------------------------------
// Context switching.

inline void stack_overflow_detected(G* g);

// Does the work a switch left in m->pending (see M::pending), with `from`
// the context the switch came from. Returns false if nothing was pending
// (the switch came from the scheduling loop).
inline bool do_pending(M* m, Context&& from) {
  G* prev = m->prev;
  const Pending pending = m->pending;
  m->prev = nullptr;
  m->pending = Pending::none;
  switch (pending) {
    case Pending::none:
      return false;
    case Pending::exited:
      // prev finished; `from` is its context, parked in goroutine_entry's
      // loop, kept with the stack for the next goroutine to use it.
      prev->ctx = std::move(from);
      sanitizer_destroy_fiber(prev->san);
      put_stack(m->rt, m->p, prev->stack);
      return true;
    case Pending::requeue:
      prev->ctx = std::move(from);
      runq_put(m->rt, m->p, prev, false);
      return true;
    case Pending::global: {
      prev->ctx = std::move(from);
      {
        SpinGuard guard(m->rt->lock);
        global_put_locked(m->rt, prev);
      }
      wakep(m->rt);
      return true;
    }
    case Pending::park: {
      prev->ctx = std::move(from);
      // Runtime-internal here: the parked goroutine already released the
      // lock's synchronization for TSan before it switched (Waiter::block).
      if (!m->unlockf(prev, m->unlock_arg)) ready(prev);
      return true;
    }
  }
  return true;
}

// The first thing a goroutine does when it runs again (or for the first
// time, when the trampoline has already finished the sanitizer switch).
inline void after_switch(Context&& from, bool first_run = false) {
  M* m = current_m();
  if (!first_run) sanitizer_after_switch(m->curg()->san);
  if (!do_pending(m, std::move(from))) m->g0 = std::move(from);  // resumed by the scheduling loop
}

// Switches from the running G `g` to `next` (or to the scheduling loop if
// next is null). The caller has set m->pending.
// What every switch away from the running G does first.
inline void leave_g(M* m, G* g) {
  if (GORO_UNLIKELY(!StackPool::canary_intact(g->stack))) stack_overflow_detected(g);
  m->prev = g;
}

// The part of a switch from g to next (not null) before the jump.
inline void prepare_switch(M* m, G* g, G* next) {
  leave_g(m, g);
  next->status.store(GStatus::running, std::memory_order_relaxed);
  m->set_curg(next);
  eh_switch(m, g->eh, next->eh);
}

// The jump from g to next, after prepare_switch; returns once g is resumed,
// with what the resuming context left to do still pending (after_switch).
GORO_ALWAYS_INLINE Context jump_to(G* g, G* next) {
  // Nothing shared is touched between the sanitizer switch and the jump:
  // TSan already attributes it to `next`, which may be a fresh fiber.
  Context target = std::move(next->ctx);
  const bool fresh = std::exchange(next->fresh, false);
  sanitizer_before_switch(&g->san, next->san);
  if (fresh) tsan_ignore_begin();  // for `next`: see goroutine_entry
  return std::move(target).jump();
}

inline void switch_from(M* m, G* g, G* next) {
  if (next) {
    prepare_switch(m, g, next);
    after_switch(jump_to(g, next));
  } else {
    leave_g(m, g);
    m->set_curg(nullptr);
    eh_switch(m, g->eh, m->g0_eh);
    Context target = std::move(m->g0);
    sanitizer_before_switch(&g->san, m->g0_san);
    after_switch(std::move(target).jump());
  }
}

// Picks the next G for a goroutine that is giving up its P, without leaving
// the goroutine's stack: runnext or the local queue. Returns null when the
// scheduling loop must decide (queue empty, or it is time to look at the
// global queue for fairness). A parking G passes run_timers = false: it may
// still hold the lock that a due timer's fire needs (the channel it waits on,
// released by unlockf only after the switch), so due timers send it through
// the scheduling loop, which runs them after the switch.
inline G* next_local(M* m, bool run_timers = true) {
  P* p = m->p;
  const std::int64_t t0 = p->timer0_when.load(std::memory_order_relaxed);
  if (t0 != 0 && t0 <= nanotime()) {
    if (!run_timers) return nullptr;
    check_timers(p, nanotime());
  }
  if (m->rt->global_runq_size.load(std::memory_order_relaxed) != 0 && ++p->schedtick % 61 == 0)
    return nullptr;
  if (m->spinning) return nullptr;
  bool inherit;
  G* g = p->runq.get(&inherit, m->rt->nprocs == 1);
  if (g && !inherit) ++p->schedtick;
  return g;
}

// Parks the running goroutine (Go: gopark). unlockf(g, arg) runs once g's
// context is saved; it typically releases the lock that protects the wait
// queue g was put on. If it returns false, g is made runnable again.
inline void park(bool (*unlockf)(G*, void*), void* arg, WaitReason reason) {
  tsan_leave(&current_m()->tsan_token);
  tsan_ignore_begin();  // runtime internals (see context.hpp); ended when we resume
  M* m = current_m();
  G* g = m->curg();
  g->wait_reason.store(reason, std::memory_order_relaxed);
  g->wait_since.store(coarse_nanotime(), std::memory_order_relaxed);
  g->status.store(GStatus::waiting, std::memory_order_relaxed);
  m->pending = Pending::park;
  m->unlockf = unlockf;
  m->unlock_arg = arg;
  switch_from(m, g, next_local(m, false));
  tsan_resume(&current_m()->tsan_token);  // ends the region begun above, in this fiber
}

// The running G yields its P (goro::yield). Go: Gosched.
//
// Split in three so that the jump itself lands in the caller's frame
// (goro::yield is always inlined): a switch leaves the CPU's return-stack
// predictor holding the *other* goroutine's return addresses, so every `ret`
// a resumed goroutine executes before its next call is mispredicted. Around
// an inlined jump there are only balanced call/ret pairs, and a loop of
// yields mispredicts nothing. Measured (switch benchmark, Intel Xeon VM):
// 21 ns per switch with the jump out of line, 9 ns inlined; a raw
// boost::context switch is 4 ns.
//
// yield_begin: picks the goroutine to switch to and prepares the switch, or
// returns null (nothing else to run; g carries on).
GORO_NOINLINE inline G* yield_begin(M* m, G* g) {
  // Runtime internals (see context.hpp); this fiber resumes inside them
  // (yield_end ends the region).
  tsan_leave(&m->tsan_token);
  tsan_ignore_begin();
  G* next = next_local(m);
  if (!next) {
    Runtime* rt = m->rt;
    if (rt->global_runq_size.load(std::memory_order_relaxed) != 0) {
      SpinGuard guard(rt->lock);
      next = global_get_locked(rt, m->p, 0);
    }
    if (!next) {
      // Nothing else to run: g carries on, but it did offer its processor
      // (the long-running check counts this as a switch).
      m->set_curg(g);
      tsan_resume(&m->tsan_token);
      return nullptr;
    }
  }
  g->status.store(GStatus::runnable, std::memory_order_relaxed);
  m->pending = Pending::requeue;
  prepare_switch(m, g, next);
  return next;
}

// yield_end: back in g, on whichever M resumed it.
GORO_NOINLINE inline void yield_end(Context&& from) {
  after_switch(std::move(from));
  tsan_resume(&current_m()->tsan_token);
}

GORO_ALWAYS_INLINE void yield_current(M* m) {
  G* g = m->curg();
  if (G* next = yield_begin(m, g)) yield_end(jump_to(g, next));
}

inline void yield_current() { yield_current(current_m()); }

// With Options::randomize, sometimes yields at a primitive operation, so
// that other interleavings get their turn. Free otherwise.
inline void chaos_point() {
  M* m = current_m();
  if (m && m->curg() && GORO_UNLIKELY(m->rt->opts.randomize != 0) && chaos(m->rt, 3)) yield_current();
}

// ---------------------------------------------------------------------------
// Active spinning for sync.Mutex. Go: sync_runtime_canSpin / doSpin.

inline int ncpu() noexcept {
  static const int n = [] {
    const unsigned hc = std::thread::hardware_concurrency();
    return hc > 0 ? static_cast<int>(hc) : 1;
  }();
  return n;
}

// Spinning makes sense only on a multicore machine, when other Ps are
// running (one of them may release the lock soon), and when this P has no
// other work; and only a few times.
inline bool can_spin(int iter) noexcept {
  if (iter >= 4 || ncpu() <= 1) return false;
  M* m = current_m();
  if (!m || !m->p) return true;  // a plain thread: a few short spins
  Runtime* rt = m->rt;
  if (rt->nprocs <= rt->npidle.load(std::memory_order_relaxed) +
                        rt->nmspinning.load(std::memory_order_relaxed) + 1)
    return false;
  return m->p->runq.empty();
}

inline void do_spin() noexcept {
  for (int i = 0; i < 30; ++i) cpu_relax();
}

// ---------------------------------------------------------------------------
// Creating and finishing goroutines. Go: newproc / goexit.

[[noreturn]] void uncaught_exception(G* g, std::exception_ptr e);

inline void run_body(G* g) noexcept {
  try {
    g->invoke(g->fn);
  } catch (...) {
    uncaught_exception(g, std::current_exception());
  }
  g->destroy(g->fn);
}

// Every goroutine stack runs this loop: run the goroutine, then switch away
// leaving the context suspended here until a later spawn reuses the stack.
// The exit switch is inlined into this frame (see Context).
inline void goroutine_entry(Context from) noexcept {
  for (bool first = true;; first = false) {
    // Each time round, this is a new goroutine's fresh TSan fiber, which the
    // context that switched to it has already put in an ignored region (so
    // that even the store of `from` on resumption is runtime-internal).
    after_switch(std::move(from), first);
    M* m = current_m();
    G* g = m->curg();
    tsan_resume(&m->tsan_token);
    tsan_acquire(g);  // Go: the go statement happens before the goroutine starts
    run_body(g);
    tsan_release(&g->rt->live);  // ... and its end before ~Scheduler returns
    // The next goroutine to get this stack (which acquires g when it starts)
    // must not see our frames' accesses as racing with its own. The cost: a
    // finished goroutine is ordered before the one that reuses its stack.
    tsan_release(g);
    tsan_leave(&current_m()->tsan_token);
    tsan_ignore_begin();  // ended just before the final switch (see below)

    m = current_m();
    Runtime* rt = g->rt;
    g->status.store(GStatus::dead, std::memory_order_release);
    // Memory ordering: acq_rel — the destructor that sees live == 0 also
    // sees everything the goroutines did.
    if (rt->live.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if (Parker* c = rt->closer.load(std::memory_order_acquire)) c->unpark();
    }
    m->prev = g;
    m->pending = Pending::exited;
    G* next = next_local(m);
    EhState dead_eh;
    // TSan refuses to destroy a fiber inside an ignored region; only the
    // switch itself (which writes nothing shared) runs outside it.
    if (next) {
      next->status.store(GStatus::running, std::memory_order_relaxed);
      m->set_curg(next);
      eh_switch(m, dead_eh, next->eh);
      Context target = std::move(next->ctx);
      SanitizerFiber target_san = next->san;
      const bool fresh = std::exchange(next->fresh, false);
      tsan_ignore_end();
      sanitizer_before_switch(nullptr, target_san);
      if (fresh) tsan_ignore_begin();  // for `next`: see the top of this loop
      from = std::move(target).jump();
    } else {
      m->set_curg(nullptr);
      eh_switch(m, dead_eh, m->g0_eh);
      Context target = std::move(m->g0);
      SanitizerFiber target_san = m->g0_san;
      tsan_ignore_end();
      sanitizer_before_switch(nullptr, target_san);
      from = std::move(target).jump();
    }
  }
}

// Creates a G running f. Does not make it runnable. Throws std::bad_alloc
// when no stack can be had, or what moving f throws; then nothing is left
// behind (the stack goes back, no id is taken, nothing is counted).
template <class F>
G* new_g(Runtime* rt, P* p, F&& f, SourceLocation loc, bool is_main) {
  using Fn = std::decay_t<F>;
  Stack s = get_stack(rt, p);  // may throw std::bad_alloc
  // The G lives at the very top of its stack (built with the slab).
  G* g = g_at(s.top());
  char* gmem = reinterpret_cast<char*>(g);
  try {
    if constexpr (sizeof(Fn) <= G::inline_fn_size && alignof(Fn) <= 16) {
      g->fn = new (g->fn_storage) Fn(std::forward<F>(f));
      g->destroy = [](void* fn) noexcept { static_cast<Fn*>(fn)->~Fn(); };
    } else {
      g->fn = new Fn(std::forward<F>(f));
      g->destroy = [](void* fn) noexcept { delete static_cast<Fn*>(fn); };
    }
  } catch (...) {
    put_stack(rt, p, s);
    throw;
  }
  if (!g->ctx) {
    // First use of this stack: make its context.
    const std::size_t size = static_cast<std::size_t>(gmem - s.base) & ~std::size_t{63};
    g->ctx = Context::create<&goroutine_entry>(s.base + size, size);
  }
  g->rt = rt;
  g->stack = s;
  g->set_created(loc);
  g->id.store(new_goid(rt, p), std::memory_order_relaxed);
  g->is_main.store(is_main, std::memory_order_relaxed);
  g->fresh = true;
  g->wait_reason.store(WaitReason::none, std::memory_order_relaxed);
  g->param = 0;
  g->eh = {};
  g->invoke = [](void* fn) { (*static_cast<Fn*>(fn))(); };
  sanitizer_create_fiber(g->san, s.base, static_cast<std::size_t>(gmem - s.base));
  // Memory ordering: release publishes id and created to goro::dump,
  // which reads status with acquire first.
  g->status.store(GStatus::runnable, std::memory_order_release);
  rt->live.fetch_add(1, std::memory_order_relaxed);
  return g;
}

// Spawns f on rt. From one of rt's goroutines the new G goes to runnext
// (Go: newproc); from elsewhere to the global queue.
// Throws std::bad_alloc (no stack, or no room in the global queue) or what
// moving f throws, with nothing half-done.
template <class F>
void spawn(Runtime* rt, F&& f, SourceLocation loc, bool is_main = false) {
  tsan_ignore_begin();  // runtime internals (see context.hpp)
  M* m = current_m();
  P* p = (m && m->rt == rt) ? m->p : nullptr;
  G* g;
  try {
    g = new_g(rt, p, std::forward<F>(f), loc, is_main);
  } catch (...) {
    tsan_ignore_end();
    throw;
  }
  tsan_ignore_end();
  tsan_release(g);  // Go: the go statement happens before the goroutine starts
  TsanIgnore tsan_ignore;
  if (p) {
    runq_put(rt, p, g, !chaos(rt, 2));
  } else {
    try {
      SpinGuard guard(rt->lock);
      global_put_locked(rt, g);  // may grow the queue: std::bad_alloc
    } catch (...) {
      // Undo new_g: the G never ran.
      g->destroy(g->fn);
      sanitizer_destroy_fiber(g->san);
      g->status.store(GStatus::dead, std::memory_order_release);
      if (rt->live.fetch_sub(1, std::memory_order_acq_rel) == 1)
        if (Parker* c = rt->closer.load(std::memory_order_acquire)) c->unpark();
      put_stack(rt, nullptr, g->stack);
      throw;
    }
  }
  wakep(rt);
}

// ---------------------------------------------------------------------------
// The scheduling loop (runs on each M's own stack). Go: schedule /
// findRunnable / stopm.

// Runs g on m until g switches back to the scheduling loop.
inline void execute(M* m, G* g) {
  g->status.store(GStatus::running, std::memory_order_relaxed);
  m->set_curg(g);
  m->prev = nullptr;
  m->pending = Pending::none;
  eh_switch(m, m->g0_eh, g->eh);
  Context target = std::move(g->ctx);  // before the sanitizer switch (see switch_from)
  const bool fresh = std::exchange(g->fresh, false);
  sanitizer_before_switch(&m->g0_san, g->san);
  if (fresh) tsan_ignore_begin();  // for g: see goroutine_entry
  Context from = std::move(target).jump();
  // Back on the scheduling stack of the same M (only this M resumes its g0).
  sanitizer_after_switch(m->g0_san);
  if (!do_pending(m, std::move(from))) fatal("goro: scheduler resumed without a pending switch");
}

// The spinning M found work: it stops spinning, and if it was the last
// spinner, wakes another M to look for more (Go: resetspinning).
inline void reset_spinning(M* m) {
  m->spinning = false;
  if (m->rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) wakep(m->rt);
}

inline G* steal_work(M* m, std::int64_t now) {
  Runtime* rt = m->rt;
  P* self = m->p;
  const int n = rt->nprocs;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const bool last = attempt == 3;
    const int start = static_cast<int>(m->fastrand() % static_cast<std::uint32_t>(n));
    for (int i = 0; i < n; ++i) {
      P* victim = rt->allp[static_cast<std::size_t>((start + i) % n)].get();
      if (victim == self) continue;
      if (check_timers(victim, now) > 0) {
        bool inherit;
        if (G* g = self->runq.get(&inherit)) return g;
      }
      const bool running = victim->status.load(std::memory_order_relaxed) == PStatus::running;
      if (G* g = self->runq.steal_from(victim->runq, last, running)) return g;
    }
  }
  return nullptr;
}

inline std::int64_t earliest_timer(Runtime* rt) {
  std::int64_t t = 0;
  for (auto& p : rt->allp) {
    const std::int64_t w = p->timer0_when.load(std::memory_order_acquire);
    if (w != 0 && (t == 0 || w < t)) t = w;
  }
  return t;
}

inline bool any_local_work(Runtime* rt) {
  for (auto& p : rt->allp)
    if (!p->runq.empty()) return true;
  return false;
}

void check_dead_locked(Runtime* rt) GORO_REQUIRES(rt->lock);
void thread_started(M* m);
void thread_exiting(M* m);

// Parks m until it is handed a P (returns true) or the runtime stops.
// With a deadline, m is the timer sleeper and also wakes at `until`.
inline bool stop_m(M* m, std::int64_t until);

// Finds a runnable G for m (which holds a P). Returns null only when the
// runtime is stopping.
inline G* find_runnable(M* m) {
  Runtime* rt = m->rt;
top:
  P* p = m->p;
  const std::int64_t now = nanotime();
  check_timers(p, now);

  // Fairness: now and then look at the global queue first.
  auto found = [m, p](G* g, bool inherit) {
    if (!inherit) ++p->schedtick;
    if (m->spinning) reset_spinning(m);
    return g;
  };
  auto from_global = [rt, p](std::uint32_t max) -> G* {
    if (rt->global_runq_size.load(std::memory_order_relaxed) == 0) return nullptr;
    SpinGuard guard(rt->lock);
    return global_get_locked(rt, p, max);
  };
  if (p->schedtick % 61 == 0) {
    if (G* g = from_global(1)) return found(g, false);
  }
  bool inherit;
  if (G* g = p->runq.get(&inherit)) return found(g, inherit);
  if (G* g = from_global(0)) return found(g, false);

  // Steal, unless enough Ms are already spinning: at most half of the busy
  // Ps' count (Go: 2*nmspinning >= gomaxprocs-npidle).
  const int busy = rt->nprocs - rt->npidle.load(std::memory_order_relaxed);
  if (m->spinning || 2 * rt->nmspinning.load(std::memory_order_relaxed) < busy) {
    if (!m->spinning) {
      m->spinning = true;
      rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
    }
    if (G* g = steal_work(m, now)) return found(g, false);
  }

  // Nothing to do: give up the P.
  G* last_chance = nullptr;
  {
    SpinGuard guard(rt->lock);
    if (rt->stopping) return nullptr;
    last_chance = global_get_locked(rt, p, 0);
    if (!last_chance) {
      pidle_put_locked(rt, p);
      m->p = nullptr;
    }
  }
  if (last_chance) return found(last_chance, false);

  // The delicate dance (Go: findRunnable). A G readied after we looked, by a
  // wakep that saw us still spinning, would be stranded: so stop spinning
  // first, then look at every queue once more.
  if (m->spinning) {
    m->spinning = false;
    rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    if (any_local_work(rt) || rt->global_runq_size.load(std::memory_order_seq_cst) > 0) {
      P* np;
      {
        SpinGuard guard(rt->lock);
        np = pidle_get_locked(rt);
      }
      if (np) {
        acquire_p(m, np);
        m->spinning = true;
        rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
        goto top;
      }
    }
  }

  // Sleep until handed a P, or until the earliest timer.
  for (;;) {
    const std::int64_t until = earliest_timer(rt);
    if (!stop_m(m, until)) return nullptr;
    if (m->p) goto top;
  }
}

inline bool stop_m(M* m, std::int64_t until) {
  Runtime* rt = m->rt;
  {
    SpinGuard guard(rt->lock);
    if (rt->stopping) return false;
    rt->midle.push_back(m);
    m->idle_since = nanotime();
    check_dead_locked(rt);  // the last M to go idle may find everyone asleep
    if (until != 0 && (rt->sleeper == nullptr || until < rt->sleeper_until)) {
      rt->sleeper = m;
      rt->sleeper_until = until;
    } else {
      until = 0;
    }
  }
  if (until != 0) {
    m->parker.park_until(until);
  } else {
    m->parker.park();
  }
  SpinGuard guard(rt->lock);
  if (rt->sleeper == m) rt->sleeper = nullptr;
  if (m->exiting) return false;  // reaped by the monitor (it took us off midle)
  if (m->nextp) {
    // Handed a P by start_m (which took us off midle).
    acquire_p(m, m->nextp);
    m->nextp = nullptr;
    return true;
  }
  // Timed out or poked about a new timer: take ourselves off the idle list
  // and, if a P is free, go run the timers.
  auto it = std::find(rt->midle.begin(), rt->midle.end(), m);
  if (it != rt->midle.end()) rt->midle.erase(it);
  if (rt->stopping) return false;
  if (P* p = pidle_get_locked(rt)) {
    acquire_p(m, p);
    m->spinning = true;
    rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
  }
  return true;
}

inline void m_main(M* m) {
  set_current_m(m);
  tsan_release(&m->tsan_token);  // goroutines resumed here see this thread's setup
  tsan_ignore_begin();  // the scheduling loop is runtime internals (see context.hpp)
  m->eh_globals = thread_eh_globals();
  thread_started(m);
  sanitizer_init_thread(m->g0_san);
  m->rand_state ^= (m->rt->rand_seed + static_cast<std::uint64_t>(m->id)) * 0x9E3779B97F4A7C15ULL;
  if (m->nextp) {
    acquire_p(m, m->nextp);
    m->nextp = nullptr;
  } else {
    // Started idle: wait for a P.
    if (!stop_m(m, 0)) {
      thread_exiting(m);
      tsan_ignore_end();
      return;
    }
  }
  for (;;) {
    if (!m->p) {
      if (!stop_m(m, earliest_timer(m->rt))) break;
      if (!m->p) continue;
    }
    G* g = find_runnable(m);
    if (!g) break;
    execute(m, g);
  }
  thread_exiting(m);
  set_current_m(nullptr);
  tsan_ignore_end();
}

inline void start_m(Runtime* rt, P* p, bool spinning) {
  M* nm = nullptr;
  {
    SpinGuard guard(rt->lock);
    if (!p) p = pidle_get_locked(rt);
    if (!p || rt->stopping) {
      if (p) pidle_put_locked(rt, p);
      if (spinning) rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
    if (!rt->midle.empty()) {
      nm = rt->midle.back();
      rt->midle.pop_back();
    } else {
      if (rt->nm_live >= rt->opts.max_threads) {
        std::fprintf(stderr, "runtime: program exceeds %d-thread limit\n", rt->opts.max_threads);
        fatal("thread exhaustion");
      }
      rt->allm.push_back(std::make_unique<M>());
      nm = rt->allm.back().get();
      nm->rt = rt;
      nm->id = static_cast<int>(rt->allm.size());
      nm->nextp = p;
      nm->spinning = spinning;
      ++rt->nm_live;
      tsan_run_as(rt->tsan_spawner, [nm] {
        TsanIgnoreAccesses ignore;  // the M's fields are runtime internals
        nm->thread = std::thread([nm] { m_main(nm); });
      });
      return;
    }
    nm->nextp = p;
    nm->spinning = spinning;
  }
  nm->parker.unpark();
}

// ---------------------------------------------------------------------------
// Runtime lifetime.

inline Runtime::Runtime(const Options& o)
    : opts(checked_options(o)), nprocs(resolve_procs(o.procs)), stacks(o.stack_size, o.guard_pages) {
  stacks.slot_init = &init_slot;
  sanitizer_create_spawner(tsan_spawner);
  rand_seed = opts.randomize != 0
                  ? opts.randomize
                  : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                        reinterpret_cast<std::uintptr_t>(this);
  if (opts.max_threads < nprocs + 1) opts.max_threads = nprocs + 1;
  allp.reserve(static_cast<std::size_t>(nprocs));
  for (int i = 0; i < nprocs; ++i) allp.push_back(std::make_unique<P>(i));
  SpinGuard guard(lock);
  for (int i = nprocs; i-- > 0;) pidle_put_locked(this, allp[static_cast<std::size_t>(i)].get());
}

inline void Runtime::shutdown() {
  if (shut_down) return;
  shut_down = true;
  {
    M* m = current_m();
    if (m && m->rt == this)
      fatal("goro: a Scheduler was destroyed from one of its own goroutines (it would wait for itself)");
  }
  Parker self;
  closer.store(&self, std::memory_order_release);
  while (live.load(std::memory_order_acquire) != 0) self.park_until(nanotime() + 100'000'000);
  tsan_acquire(&live);  // every goroutine's end happens before we return
  closer.store(nullptr, std::memory_order_release);
  if (destroy_monitor) destroy_monitor(this);
  std::vector<M*> ms;
  {
    SpinGuard guard(lock);
    stopping = true;
    for (auto& m : allm) ms.push_back(m.get());
  }
  for (M* m : ms) m->parker.unpark();
  for (M* m : ms)
    if (m->thread.joinable()) m->thread.join();
  // Timers still pending die with the runtime: clear their owner (a later
  // stop() finds them not armed instead of locking a freed P) and let their
  // owners release what they hold (a ChanTimer's self-reference).
  for (auto& p : allp) {
    std::vector<Timer*> left;
    {
      SpinGuard guard(p->timer_lock);
      while (Timer* t = p->timers.pop_due(INT64_MAX)) {
        t->owner.store(nullptr, std::memory_order_relaxed);
        left.push_back(t);
      }
      update_timer0_locked(p.get());
    }
    for (Timer* t : left)
      if (t->discard) t->discard(t);
  }
  sanitizer_destroy_fiber(tsan_spawner);
  alive->store(false, std::memory_order_release);
}

}  // namespace goro::detail

#include "diagnostics.hpp"  // definitions of the hooks declared above
