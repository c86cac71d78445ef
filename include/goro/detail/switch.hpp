// switch — the goroutine switch and what is built directly on it: making a
// goroutine runnable (Go: ready/runqput), parking it (gopark), yielding
// (Gosched), starting one (newproc) and ending one (goexit).
//
// Every switch in goro is the same two steps, switch_prepare then
// switch_jump (below): park, yield, a goroutine's end, the scheduling loop
// starting a goroutine, and a blocking call returning to find no P. A
// goroutine that blocks, yields or ends switches directly to the next G of
// its P when there is one (one context switch), and to its M's scheduling
// context (g0, processor.hpp) only when the P has nothing queued. The work
// that must happen after the old context is saved — releasing the
// primitive's lock (Go's gopark unlockf), requeueing a yielding G, freeing
// a finished G's stack — is left in M::pending and done by whichever
// context runs next (after_switch), so that a waker can never resume a G
// whose context is not yet saved.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "clock.hpp"
#include "config.hpp"
#include "diagnostics.hpp"
#include "fiber.hpp"
#include "runtime.hpp"
#include "sanitizer.hpp"
#include "source_location.hpp"
#include "timers.hpp"

namespace goro::detail {

// ---------------------------------------------------------------------------
// synctest bubbles (bubble.hpp, included by processor.hpp). A goroutine of a
// bubble has G::bubble set; only such goroutines reach these hooks, so
// outside bubbles each costs one null check. Each calls an out-of-line
// function, so that the switch path they sit in stays as small as it was.

inline void bubble_spawned(Bubble* b);  // a goroutine was started in b
inline void bubble_ready(G* g);         // g is being made runnable
inline void bubble_park(M* m, G* g);    // do_pending's park, with the bubble's counts
inline void bubble_exited(G* g);        // g has finished

// ---------------------------------------------------------------------------
// Making Gs runnable. Go: runqput / ready.

inline void runq_put(Runtime* rt, P* p, G* g, bool next) {
  p->runq.put(
      g, next,
      [rt](G** batch, std::uint32_t n) {
        SpinGuard guard(rt->lock);
        for (std::uint32_t i = 0; i < n; ++i) global_put_locked(rt, batch[i]);
      },
      rt->nprocs == 1);
}

// goro::metrics: counts a ready (or a yield) on p and samples one in 64 for
// the scheduler-latency histogram (switch_prepare records it).
GORO_ALWAYS_INLINE void count_runnable(std::atomic<std::uint64_t>& counter, G* g) noexcept {
  const std::uint64_t n = counter.load(std::memory_order_relaxed) + 1;
  counter.store(n, std::memory_order_relaxed);
  if (GORO_UNLIKELY((n & 63) == 0)) g->ready_at = nanotime();
}

GORO_NOINLINE inline void record_sched_latency(Runtime* rt, G* g) noexcept {
  rt->sched_latency.record(nanotime() - g->ready_at);
  g->ready_at = 0;
}

// Makes a parked G runnable. From a goroutine (or M) of the same runtime it
// goes to this P's runnext, so it runs next (a hand-off, like Go); from a
// plain thread it goes to the global queue.
#if !GORO_DEFINE_RUNTIME
void ready(G* g);
#else
GORO_DECL void ready(G* g) {
  TsanIgnore tsan_ignore;  // runtime internals (see sanitizer.hpp)
  if (GORO_UNLIKELY(g->bubble != nullptr)) bubble_ready(g);
  if (tracing()) trace_go_unblock(g);
  Runtime* rt = g->rt;
  // Memory ordering: the run queue's release publishes the G; status is
  // informational (dump, deadlock check).
  g->status.store(GStatus::runnable, std::memory_order_relaxed);
  M* m = current_m();
  if (m && m->rt == rt && m->p) {
    count_runnable(m->p->counters.readies, g);
    runq_put(rt, m->p, g, !chaos(rt, 2));
    // With one P, which we hold, no P is idle: wakep would only pay its
    // fence to find that out (measured: ~10% of a channel round trip).
    if (rt->nprocs == 1) return;
  } else {
    rt->readies_no_p.fetch_add(1, std::memory_order_relaxed);
    SpinGuard guard(rt->lock);
    global_put_locked(rt, g);
  }
  wakep(rt);
}
#endif

// ---------------------------------------------------------------------------
// Time slices. Go gives a goroutine 10 ms (forcePreemptNS) before sysmon
// preempts it; a G readied into runnext inherits the running slice, which is
// what makes a channel ping-pong fast. goro cannot preempt, but it can stop
// a chain of hand-offs from keeping the rest of a P's queue waiting forever:
// once a chain has lasted a slice, the G at the head of the queue runs
// first and the readied one goes to the tail.

inline constexpr std::int64_t time_slice_ns = 10'000'000;

// p starts a new time slice (its next G did not inherit one).
inline void start_slice(P* p) noexcept {
  ++p->schedtick;
  p->inherited = 0;
}

// The next G to run from p's own queue (runnext, else the ring), or null.
// runq_next, next_local and do_pending are always inlined: each is on every
// switch, and a call there cost a prologue and epilogue as long as its body
// (see yield_current for the figures).
GORO_ALWAYS_INLINE G* runq_next(Runtime* rt, P* p) {
  const bool sole = rt->nprocs == 1;
  bool inherit;
  G* g = p->runq.get(&inherit, sole);
  if (!g) return nullptr;
  if (!inherit) {
    start_slice(p);
    return g;
  }
  // A hand-off. Every 16 in a row look at the clock (the coarse one, ~6 ns):
  // the chain's slice is timed from its first look, so a slice lasts at most
  // 10 ms plus 16 hand-offs.
  if ((++p->inherited & 15) != 0) return g;
  const std::int64_t now = coarse_nanotime();
  if (p->inherited == 16) {
    p->slice_start = now;
    return g;
  }
  if (now - p->slice_start < time_slice_ns) return g;
  if (G* head = p->runq.get_ring(sole)) {
    runq_put(rt, p, g, false);
    start_slice(p);
    return head;
  }
  p->inherited = 0;  // nobody else is waiting: a new slice for the chain
  return g;
}

// ---------------------------------------------------------------------------
// The switch.

// do_pending's rarer cases: prev finished, returned from a blocking call
// to find no P, or parked inside a synctest bubble. Out of line, so that
// the common ones (a yield's requeue, a park) do not pay for their
// registers in every switch's prologue (see do_pending).
#if !GORO_DEFINE_RUNTIME
void do_pending_rare(M* m, G* prev, Pending pending);
#else
GORO_NOINLINE GORO_DECL void do_pending_rare(M* m, G* prev, Pending pending) {
  switch (pending) {
    case Pending::exited:
      // prev's context, now in prev->ctx, is parked in goroutine_entry's
      // loop and stays with the stack for the next goroutine to use it.
      sanitizer_destroy_fiber(prev->san);
      put_stack(m->rt, m->p, prev->stack);
      return;
    case Pending::global:
      {
        SpinGuard guard(m->rt->lock);
        global_put_locked(m->rt, prev);
      }
      wakep(m->rt);
      return;
    case Pending::park:
      bubble_park(m, prev);
      return;
    case Pending::none:
    case Pending::requeue:
      break;
  }
  fatal("goro: do_pending_rare: unexpected pending switch");
}
#endif

// After a switch: does the work the previous context left in m->pending
// (see M::pending), `from` being its saved fiber. Returns false if nothing
// was pending (the switch came from the scheduling loop). The two cases on
// the switch paths that matter — a yield's requeue and a park — are tested
// first and inline; with all five in one `switch` the compiler made a jump
// table and saved six registers for the rare cases' sake on every switch
// (together 19% of a yield switch's samples under perf).
GORO_ALWAYS_INLINE bool do_pending(M* m, Fiber&& from) {
  const Pending pending = m->pending;
  if (pending == Pending::none) return false;
  G* prev = m->prev;
  m->prev = nullptr;
  m->pending = Pending::none;
  prev->ctx = std::move(from);
  if (pending == Pending::requeue) {
    runq_put(m->rt, m->p, prev, false);
  } else if (pending == Pending::park && GORO_LIKELY(prev->bubble == nullptr)) {
    // Runtime-internal here: TSan does not see this unlock; the primitive
    // that parked states its own edges (race.hpp).
    if (!m->unlockf(prev, m->unlock_arg)) ready(prev);
  } else {
    do_pending_rare(m, prev, pending);
  }
  return true;
}

// The first thing a goroutine does when it runs again (or for the first
// time, when the trampoline has already finished the sanitizer switch).
#if !GORO_DEFINE_RUNTIME
void after_switch(Fiber&& from, bool first_run = false);
#else
GORO_DECL void after_switch(Fiber&& from, bool first_run = false) {
  M* m = current_m();
  if (!first_run) sanitizer_after_switch(m->curg()->san);
  if (!do_pending(m, std::move(from))) m->g0 = std::move(from);  // resumed by the scheduling loop
}
#endif

// Step 1 of every switch: the bookkeeping. `from` is the goroutine leaving
// (null: m's scheduling context, g0); `to` the goroutine to run (null: g0).
// The caller has set m->pending for what the next context must finish.
GORO_ALWAYS_INLINE void switch_prepare(M* m, G* from, G* to) {
  if (from) {
    // An unguarded stack's canary (see StackPool) is checked every time its
    // goroutine switches away, its final switch included, so an overflow is
    // reported for the goroutine that made it, at its next switch at latest.
    if (GORO_UNLIKELY(!StackPool::canary_intact(from->stack))) stack_overflow_detected(from);
    m->prev = from;
  }
  // Memory ordering: relaxed — status is informational here; the fiber
  // itself is published to other Ms by the run queues.
  if (to) to->status.store(GStatus::running, std::memory_order_relaxed);
  if (to && tracing()) trace_go_start(m, to);
  if (to && GORO_UNLIKELY(to->ready_at != 0)) record_sched_latency(m->rt, to);
  m->set_curg(to);
  eh_switch(m, from ? from->eh : m->g0_eh, to ? to->eh : m->g0_eh);
}

// Step 2: the sanitizer hand-over and the jump. Always inlined, so the jump
// lands in the frame of the function that switches (see yield_current).
// Returns, once this context runs again, the fiber that switched back to
// it; the caller passes that to after_switch (or, on g0, to do_pending).
// `exiting`: from has finished — ASan may free its fake stack, and its TSan
// ignored region ends here (TSan refuses to destroy a fiber inside one; the
// next context destroys it, in do_pending).
GORO_ALWAYS_INLINE Fiber switch_jump(M* m, G* from, G* to, bool exiting = false) {
  Fiber target = std::move(to ? to->ctx : m->g0);  // before the sanitizer switch
  const bool fresh = to && std::exchange(to->fresh, false);
  SanitizerFiber* from_san = exiting ? nullptr : from ? &from->san : &m->g0_san;
  // A copy, read while still in the runtime's ignored region: an exiting
  // goroutine leaves that region below, and from then on TSan would count
  // a read of the M's or the G's memory as the goroutine's own. (Without
  // sanitizers the copy is dead and compiled away.)
  const SanitizerFiber to_san = to ? to->san : m->g0_san;
  if (exiting) tsan_ignore_end();
  // Nothing shared is touched between the sanitizer switch and the jump:
  // TSan already attributes it to `to`, which may be a fresh fiber.
  sanitizer_before_switch(from_san, to_san);
  if (fresh) tsan_ignore_begin();  // for `to`: see goroutine_entry
  return std::move(target).jump();
}

// A goroutine switches away (m->pending set) and, once it runs again,
// finishes the switch that resumed it.
inline void switch_away(M* m, G* from, G* to) {
  switch_prepare(m, from, to);
  after_switch(switch_jump(m, from, to));
}

// Runs p's due timers from a goroutine's stack (next_local). The timers are
// not the goroutine's doing: they run as if on the scheduling stack (Go:
// checkTimers on g0), so that nothing they start or wake is taken for an act
// of the goroutine (or of its synctest bubble).
GORO_NOINLINE inline void check_timers_on_g(M* m, P* p, std::int64_t now) {
  G* cur = m->curg();
  m->curg_.store(nullptr, std::memory_order_relaxed);
  check_timers(p, now);
  m->curg_.store(cur, std::memory_order_relaxed);
}

// Picks the next G for a goroutine that is giving up its P, without leaving
// the goroutine's stack: runnext or the local queue. Returns null when the
// scheduling loop must decide (queue empty, or it is time to look at the
// global queue for fairness). A parking G passes run_timers = false: it may
// still hold the lock that a due timer's fire needs (the channel it waits on,
// released by unlockf only after the switch), so due timers send it through
// the scheduling loop, which runs them after the switch.
GORO_ALWAYS_INLINE G* next_local(M* m, bool run_timers = true) {
  P* p = m->p;
  // Memory ordering: relaxed — a peek; check_timers re-reads with acquire.
  const std::int64_t t0 = p->timer0_when.load(std::memory_order_relaxed);
  if (t0 != 0) {
    const std::int64_t now = nanotime();
    if (t0 <= now) {
      if (!run_timers) return nullptr;
      check_timers_on_g(m, p, now);
    }
  }
  // Every 61st slice looks at the global queue first (find_runnable does).
  if (p->schedtick % 61 == 0 && m->rt->global_runq_size.load(std::memory_order_relaxed) != 0) return nullptr;
  if (m->spinning) return nullptr;
  return runq_next(m->rt, p);
}

// Parks the running goroutine (Go: gopark). unlockf(g, arg) runs once g's
// context is saved; it typically releases the lock that protects the wait
// queue g was put on. If it returns false, g is made runnable again.
//
// Split as yield is (see yield_current, below): park_begin and
// switch_resumed are out of line, and the jump between them is inlined
// into park's caller — Waiter::block is always inlined too, so a channel
// operation, a semaphore acquire or a Cond wait jumps in its own frame and,
// once resumed, has no frames of the switch machinery to return through
// (each such `ret` after a switch is a return-stack misprediction).
//
// park_begin: the bookkeeping; returns the goroutine to switch to (null:
// the scheduling context).
#if !GORO_DEFINE_RUNTIME
G* park_begin(M* m, G* g, bool (*unlockf)(G*, void*), void* arg, WaitReason reason);
#else
GORO_NOINLINE GORO_DECL G* park_begin(M* m, G* g, bool (*unlockf)(G*, void*), void* arg,
                                   WaitReason reason) {
#if GORO_TSAN
  // A bubble's goroutines blocking happen before goro::testing::wait
  // returns and before the bubble's clock moves (Go: racereleasemergeg),
  // also when they park inside a sync primitive's RaceDisabled scope.
  if (Bubble* b = g->bubble) tsan_release_through(b, g->race_hidden);
#endif
  // Runtime internals (see sanitizer.hpp); this fiber resumes inside them
  // (switch_resumed ends the region).
  tsan_ignore_begin();
  // Memory ordering: relaxed — informational (dump, deadlock check).
  g->wait_reason.store(reason, std::memory_order_relaxed);
  g->wait_since.store(coarse_nanotime(), std::memory_order_relaxed);
  g->status.store(GStatus::waiting, std::memory_order_relaxed);
  if (tracing()) trace_go_block(m, g, reason);
  if (m->p) P::Counters::bump(m->p->counters.parks);
  m->pending = Pending::park;
  m->unlockf = unlockf;
  m->unlock_arg = arg;
  G* next = next_local(m, false);
  switch_prepare(m, g, next);
  return next;
}
#endif

// Back in a goroutine that parked or yielded, on whichever M resumed it:
// finishes the switch and ends the ignored region its *_begin started.
#if !GORO_DEFINE_RUNTIME
void switch_resumed(Fiber&& from);
#else
GORO_NOINLINE GORO_DECL void switch_resumed(Fiber&& from) {
  after_switch(std::move(from));
  tsan_resume(&current_m()->tsan_token);
}
#endif

GORO_ALWAYS_INLINE void park(bool (*unlockf)(G*, void*), void* arg, WaitReason reason) {
  M* m = current_m();
  G* g = m->curg();
  G* next = park_begin(m, g, unlockf, arg, reason);
  switch_resumed(switch_jump(m, g, next));
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
// boost::context switch is 4 ns. Instructions per yield switch (callgrind,
// procs 1): 236, of which jump_fcontext 24; 176 once runq_next, next_local
// and do_pending were inlined (they were three more calls per switch).
//
// yield_begin: picks the goroutine to switch to and prepares the switch, or
// returns null (nothing else to run; g carries on).
#if !GORO_DEFINE_RUNTIME
G* yield_begin(M* m, G* g);
#else
GORO_NOINLINE GORO_DECL G* yield_begin(M* m, G* g) {
  // Runtime internals (see sanitizer.hpp); this fiber resumes inside them
  // (switch_resumed ends the region).
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
    start_slice(m->p);
  }
  g->status.store(GStatus::runnable, std::memory_order_relaxed);
  if (tracing()) trace_go_stop(m, g);
  count_runnable(m->p->counters.yields, g);
  m->pending = Pending::requeue;
  switch_prepare(m, g, next);
  return next;
}
#endif

// Then switch_resumed (above): back in g, on whichever M resumed it.
GORO_ALWAYS_INLINE void yield_current(M* m) {
  G* g = m->curg();
  if (G* next = yield_begin(m, g)) switch_resumed(switch_jump(m, g, next));
}

inline void yield_current() { yield_current(current_m()); }

// With Options::randomize, sometimes yields at a primitive operation, so
// that other interleavings get their turn. Free otherwise.
inline void chaos_point() {
  M* m = current_m();
  if (m && m->curg() && GORO_UNLIKELY(m->rt->opts.randomize != 0) && chaos(m->rt, 3)) yield_current();
}

// ---------------------------------------------------------------------------
// Starting and ending goroutines. Go: newproc / goexit.

inline void run_body(G* g) noexcept {
  try {
    g->invoke(g->fn);
  } catch (...) {
    uncaught_exception(g, std::current_exception());
  }
  g->destroy(g->fn);
}

#if GORO_TSAN
// Not inlined: its frame (and run_body's) must lie below the boundary that
// run_body_below_page sets.
GORO_NOINLINE inline void run_body_out_of_line(G* g) noexcept { run_body(g); }

// Under TSan: runs g's body with the stack pointer moved below a page
// boundary, and returns that boundary. Every frame of the goroutine then
// lies in [stack base, boundary), which goroutine_entry makes TSan forget
// when the goroutine ends (sanitizer_forget_stack needs whole pages).
GORO_NOINLINE inline char* run_body_below_page(G* g) noexcept {
  const auto frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  const std::uintptr_t boundary = frame & ~std::uintptr_t{4095};
  // The stack pointer is below `frame`: this moves it below `boundary`.
  void* pad = __builtin_alloca(frame - boundary + 64);
  asm volatile("" : : "r"(pad) : "memory");
  run_body_out_of_line(g);
  return reinterpret_cast<char*>(boundary);
}
#endif

// Every goroutine stack runs this loop: run the goroutine, then switch away
// leaving the fiber suspended here until a later spawn reuses the stack.
// The final switch is inlined into this frame (see Fiber).
#if !GORO_DEFINE_RUNTIME
void goroutine_entry(Fiber from) noexcept;
#else
GORO_DECL void goroutine_entry(Fiber from) noexcept {
  for (bool first = true;; first = false) {
    // Each time round, this is a new goroutine's fresh TSan fiber, which the
    // context that switched to it has already put in an ignored region (so
    // that even the store of `from` on resumption is runtime-internal).
    after_switch(std::move(from), first);
    M* m = current_m();
    G* g = m->curg();
    tsan_resume(&m->tsan_token);
    tsan_acquire(g->fn);  // Go: the go statement happens before the goroutine starts
#if GORO_TSAN
    char* const frames_end = run_body_below_page(g);
#else
    run_body(g);
#endif
    tsan_release(&g->rt->live);  // ... and its end before ~Scheduler returns
    if (g->bubble) tsan_release(g->bubble);  // ... and before its synctest returns
    tsan_ignore_begin();  // ended just before the final switch (switch_jump)
#if GORO_TSAN
    // The next goroutine to get this stack starts afresh: not ordered after
    // us, and not racing with our dead frames.
    sanitizer_forget_stack(g->stack.base, frames_end);
#endif

    m = current_m();
    Runtime* rt = g->rt;
    // Memory ordering: release — a dump that reads `dead` (acquire) sees
    // the goroutine's last writes to its G.
    g->status.store(GStatus::dead, std::memory_order_release);
    if (GORO_UNLIKELY(g->bubble != nullptr)) bubble_exited(g);
    // Memory ordering: seq_cst — pairs with Runtime::shutdown, which stores
    // `closer` and then reads `live`: either it sees live == 0 or we see
    // its closer (store–load on both sides). The destructor that sees
    // live == 0 also sees everything the goroutines did.
    if (rt->live.fetch_sub(1, std::memory_order_seq_cst) == 1) {
      if (Parker* c = rt->closer.load(std::memory_order_seq_cst)) c->unpark();
    }
    if (tracing()) trace_go_destroy(m, g);
    m->pending = Pending::exited;
    G* next = next_local(m);
    switch_prepare(m, g, next);
    from = switch_jump(m, g, next, /*exiting=*/true);
  }
}
#endif

// Creates a G running f, a member of `bubble` if not null. Does not make it
// runnable. Throws std::bad_alloc when no stack can be had, or what moving f
// throws; then nothing is left behind (the stack goes back, no id is taken,
// nothing is counted, the bubble is not told).
template <class F>
G* new_g(Runtime* rt, P* p, F&& f, SourceLocation loc, bool is_main, Bubble* bubble = nullptr) {
  using Fn = std::decay_t<F>;
  Stack s = get_stack(rt, p);  // may throw std::bad_alloc
  // The G lives near the top of its stack (g_at; built with the slab).
  G* g = g_at(s.top(), s.slot);
  char* gmem = reinterpret_cast<char*>(g);
  try {
    // Under TSan always on the heap: a fresh object per goroutine, whose
    // address is the go statement's happens-before edge (spawn) and whose
    // memory no earlier goroutine touched (G::fn_storage is reused).
    if constexpr (!GORO_TSAN && sizeof(Fn) <= G::inline_fn_size && alignof(Fn) <= 16) {
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
    // First use of this stack: make its fiber.
    const std::size_t size = static_cast<std::size_t>(gmem - s.base) & ~std::size_t{63};
    g->ctx = Fiber::create<&goroutine_entry>(s.base + size, size);
  }
  g->rt = rt;
  g->bubble = bubble;
  g->stack = s;
  g->set_created(loc);
  g->id.store(new_goid(rt, p), std::memory_order_relaxed);
  g->is_main.store(is_main, std::memory_order_relaxed);
  g->fresh = true;
  g->race_hidden = 0;
  g->wait_reason.store(WaitReason::none, std::memory_order_relaxed);
  g->eh = {};
  g->invoke = [](void* fn) { (*static_cast<Fn*>(fn))(); };
  sanitizer_create_fiber(g->san, s.base, static_cast<std::size_t>(gmem - s.base));
  // Memory ordering: release publishes id and created to goro::dump,
  // which reads status with acquire first.
  g->status.store(GStatus::runnable, std::memory_order_release);
  // Memory ordering: relaxed — the count only needs to be exact by the time
  // the destructor reads it, which the spawner's own synchronization with
  // the destructor (it returned before) orders.
  rt->live.fetch_add(1, std::memory_order_relaxed);
  return g;
}

// Makes g, just made by new_g, runnable: to p's runnext (p: the P of m, the
// spawning thread's M, when that runs `parent`, one of rt's goroutines), or
// with p null to the global queue. spawn's part that does not depend on
// the goroutine's function. Throws std::bad_alloc (no room in the global
// queue) with g undone.
#if !GORO_DEFINE_RUNTIME
void start_g(Runtime* rt, M* m, P* p, G* g, G* parent);
#else
GORO_DECL void start_g(Runtime* rt, M* m, P* p, G* g, G* parent) {
  if (GORO_UNLIKELY(g->bubble != nullptr)) bubble_spawned(g->bubble);
  if (tracing()) trace_go_create(m, g, parent);
  if (p) P::Counters::bump(p->counters.created);
  else rt->created_no_p.fetch_add(1, std::memory_order_relaxed);
  tsan_ignore_end();
  tsan_release(g->fn);  // Go: the go statement happens before the goroutine starts
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
      // Memory ordering: seq_cst, as at a goroutine's end (goroutine_entry).
      if (rt->live.fetch_sub(1, std::memory_order_seq_cst) == 1)
        if (Parker* c = rt->closer.load(std::memory_order_seq_cst)) c->unpark();
      put_stack(rt, nullptr, g->stack);
      throw;
    }
  }
  wakep(rt);
}
#endif

// Spawns f on rt. From one of rt's goroutines the new G goes to runnext
// (Go: newproc); from elsewhere to the global queue. A goroutine started by
// a goroutine of a synctest bubble joins the bubble (Go: newproc1). Throws
// std::bad_alloc (no stack, or no room in the global queue) or what moving f
// throws, with nothing half-done.
template <class F>
void spawn(Runtime* rt, F&& f, SourceLocation loc, bool is_main = false) {
  tsan_ignore_begin();  // runtime internals (see sanitizer.hpp); start_g ends it
  M* m = current_m();
  P* p = (m && m->rt == rt) ? m->p : nullptr;
  G* parent = p ? m->curg() : nullptr;
  Bubble* bubble = parent ? parent->bubble : nullptr;  // the global-queue path has none
  G* g;
  try {
    g = new_g(rt, p, std::forward<F>(f), loc, is_main, bubble);
  } catch (...) {
    tsan_ignore_end();
    throw;
  }
  start_g(rt, m, p, g, parent);
}

}  // namespace goro::detail
