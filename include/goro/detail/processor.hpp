// processor — the heart of goro's runtime: the schedule loop and the life
// of the OS threads that run it, modelled on Go's runtime/proc.go. Read
// this file to understand how goroutines run.
//
// Vocabulary (as in Go):
//   G  a goroutine (goroutine.hpp)
//   M  an OS thread (machine.hpp)
//   P  a processor: the right to run Gs. There are exactly `procs` Ps; an M
//      runs Gs only while it holds one. Each P owns a local run queue (256
//      slots + runnext), its timers and a cache of free stacks (runtime.hpp).
//
// The schedule loop (find_runnable, as Go's findRunnable): the P's due
// timers → every 61st slice, one G from the global queue → the local queue
// (runnext first) → the global queue → the network poller, without
// blocking (netpoll.hpp) → stealing: other Ps' due timers and half of a
// random victim's queue → a last look at the global queue → give up the P
// and park the M — or, for one M at a time, block in the network poller. A goroutine that blocks, yields or ends picks its
// successor itself when its P's local queue has one (switch.hpp); only an
// empty queue sends it through this loop.
//
// Spinning: an M without work that looks for some is "spinning". At most
// half of the busy Ps' count of Ms spin; the rest park on their futex. When
// a G is readied and no M spins, wakep starts (or unparks) one M, which in
// turn wakes another only if it finds work (Go's rule: no thundering herd,
// and no lost wake-up — see wakep and the "delicate dance" below). An idle
// runtime uses no CPU: the last M to go idle with timers pending sleeps
// until the earliest one (in epoll_wait, if goroutines wait on file
// descriptors); the others sleep until handed a P.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "../options.hpp"
#include "bubble.hpp"  // synctest bubbles: defines the hooks switch.hpp calls
#include "clock.hpp"
#include "config.hpp"
#include "diagnostics.hpp"
#include "fatal.hpp"
#include "netpoll.hpp"
#include "options_check.hpp"
#include "runtime.hpp"
#include "sanitizer.hpp"
#include "spinlock.hpp"
#include "switch.hpp"
#include "timers.hpp"

#if GORO_DEFINE_RUNTIME  // the scheduling loop's bodies (config.hpp)
#include <algorithm>
#endif

namespace goro::detail {

GORO_DECL void start_m(Runtime* rt, P* p, bool spinning);

// Adds one more M to run Gs if there is an idle P and nobody is already
// spinning (that one will find the work and call wakep in turn). Go: wakep.
#if !GORO_DEFINE_RUNTIME
void wakep(Runtime* rt);
#else
GORO_DECL void wakep(Runtime* rt) {
  // Memory ordering: seq_cst pairs with the seq_cst decrement of
  // nmspinning and re-check of the run queues in find_runnable (the
  // "delicate dance"): either we see a spinner, or it sees our G.
  // The fence orders the caller's publication of the G (a release store,
  // or a spinlock unlock) before these loads: without it x86 may satisfy
  // the loads first (store-load reordering) and both sides miss each other
  // (seen: a G left in the global queue, every P idle, every M parked).
  // It is the right barrier on arm64 too: a seq_cst fence is DMB ISH there,
  // which orders every earlier store (STLR of a run queue's tail or of the
  // spinlock word, STLXR of runnext) before every later load. The spinner's
  // side needs no fence: its decrement and its re-check's loads (RunQueue::
  // empty, global_runq_size) are all seq_cst, which the C++ model orders.
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
#endif

// The rest of this file, the scheduling loop and the runtime's lifetime, is
// called only from the runtime's entry points (GORO_DECL): a TU compiled
// with GORO_SEPARATE_COMPILATION does not even parse it (config.hpp).
#if GORO_DEFINE_RUNTIME

// Runs g on m (from m's scheduling context) until g switches back to it.
// Go: execute.
inline void execute(M* m, G* g) {
  m->prev = nullptr;
  m->pending = Pending::none;
  switch_prepare(m, nullptr, g);
  Fiber from = switch_jump(m, nullptr, g);
  // Back on the scheduling stack of the same M (only this M resumes its g0).
  sanitizer_after_switch(m->g0_san);
  if (!do_pending(m, std::move(from))) fatal("goro: scheduler resumed without a pending switch");
}

// The spinning M found work: it stops spinning, and if it was the last
// spinner, wakes another M to look for more (Go: resetspinning).
inline void reset_spinning(M* m) {
  m->spinning = false;
  // Memory ordering: seq_cst — part of the wakep protocol (see wakep).
  if (m->rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) wakep(m->rt);
}

// Runs other Ps' due timers and steals half of a random victim's run queue
// (its runnext only on the last attempt). Go: stealWork.
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
      // Memory ordering: relaxed — only steers how patiently we steal runnext.
      const bool running = victim->status.load(std::memory_order_relaxed) == PStatus::running;
      if (G* g = self->runq.steal_from(victim->runq, last, running)) {
        if (tracing()) trace_runq_steal(m, victim, g);
        P::Counters::bump(self->counters.steals);
        return g;
      }
    }
  }
  return nullptr;
}

// Parks m until it is handed a P (returns true with m->p set) or poked
// about a timer or woken at `until` (returns true, with m->p set if an idle
// P was there to take), or until the runtime stops or the monitor reaps m
// (returns false). With `until` (ns, 0: none), m is the timer sleeper unless
// another M waits for an earlier deadline. Go: stopm, and the timed sleep of
// findRunnable.
inline bool stop_m(M* m, std::int64_t until);

// Finds a runnable G for m (which holds a P). Returns null only when the
// runtime is stopping or m was reaped. Go: findRunnable.
inline G* find_runnable(M* m) {
  Runtime* rt = m->rt;
top:
  P* p = m->p;
  const std::int64_t now = nanotime();
  check_timers(p, now);

  auto found = [m](G* g) {
    if (m->spinning) reset_spinning(m);
    return g;
  };
  auto from_global = [rt, p](std::uint32_t max) -> G* {
    if (rt->global_runq_size.load(std::memory_order_relaxed) == 0) return nullptr;
    SpinGuard guard(rt->lock);
    return global_get_locked(rt, p, max);
  };
  // Fairness: every 61st slice looks at the global queue first.
  if (p->schedtick % 61 == 0) {
    if (G* g = from_global(1)) {
      start_slice(p);
      return found(g);
    }
  }
  if (G* g = runq_next(rt, p)) return found(g);
  if (G* g = from_global(0)) {
    start_slice(p);
    return found(g);
  }

  // Goroutines waiting on file descriptors that are ready now (Go: the
  // netpoll(0) "before we resort to stealing").
  if (GORO_UNLIKELY(rt->netpoll.load(std::memory_order_relaxed) != nullptr)) {
    if (G* g = netpoll_nonblocking(m, now)) {
      start_slice(p);
      return found(g);
    }
  }

  // Steal, unless enough Ms are already spinning: at most half of the busy
  // Ps' count (Go: 2*nmspinning >= gomaxprocs-npidle).
  const int busy = rt->nprocs - rt->npidle.load(std::memory_order_relaxed);
  if (m->spinning || 2 * rt->nmspinning.load(std::memory_order_relaxed) < busy) {
    if (!m->spinning) {
      m->spinning = true;
      rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
    }
    if (G* g = steal_work(m, now)) {
      start_slice(p);
      return found(g);
    }
  }

  // Nothing to do: give up the P (after a last look at the global queue,
  // under the lock that orders us with global_put_locked).
  G* last_chance = nullptr;
  {
    SpinGuard guard(rt->lock);
    if (rt->current_state() >= RuntimeState::stopping) return nullptr;
    last_chance = global_get_locked(rt, p, 0);
    if (!last_chance) {
      pidle_put_locked(rt, p);
      m->p = nullptr;
    }
  }
  if (last_chance) {
    start_slice(p);
    return found(last_chance);
  }

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
    if (!stop_m(m, earliest_timer(rt))) return nullptr;
    if (m->p) goto top;
  }
}

inline bool stop_m(M* m, std::int64_t until) {
  Runtime* rt = m->rt;
  const std::int64_t now = nanotime();
  bool suspect_deadlock = false;
  bool poll = false;
  {
    SpinGuard guard(rt->lock);
    if (rt->current_state() >= RuntimeState::stopping) return false;
    m->idle_since = now;
    // Wait for the earliest timer, unless another M waits for an earlier
    // one, or the timer is already due and no P is free: then the Ms that
    // hold the Ps run it as they schedule, and waking for it could only find
    // no P and come back (a spin that burnt a core). A P that goes idle
    // later is given up by an M that looks at the timers itself.
    if (until != 0 && (rt->sleeper == nullptr || until < rt->sleeper_until) &&
        (until > now || rt->pidle != nullptr)) {
      rt->sleeper = m;
      rt->sleeper_until = until;
    } else {
      until = 0;
    }
    // One idle M waits in the network poller instead of its futex, when
    // goroutines wait on file descriptors (netpoll.hpp). It is not on midle:
    // start_m hands it a P only when no other idle M is left.
    poll = netpoll_claim_locked(rt, m, until);
    if (!poll) {
      rt->midle.push_back(m);
      suspect_deadlock = deadlock_suspected_locked(rt);  // the last M to go idle may find everyone asleep
    }
  }
  if (poll) return netpoll_block(m, until);
  if (suspect_deadlock) check_dead(rt);
  if (until != 0) {
    m->parker.park_until(until);
  } else {
    m->parker.park();
  }
  bool hand_over_timer_wait = false;
  {
    SpinGuard guard(rt->lock);
    const bool was_sleeper = rt->sleeper == m;
    if (was_sleeper) rt->sleeper = nullptr;
    if (m->exiting) return false;  // reaped by the monitor (it took us off midle)
    if (m->nextp) {
      // Handed a P by start_m (which took us off midle). If we were waiting
      // for the earliest timer, that wait must not lapse while we run other
      // work (handoff_p hands Ps to non-spinning Ms, so no spinner follows
      // us): wakep has an M look for work, and finding none it goes idle
      // waiting for the timer, or steals it once due.
      acquire_p(m, m->nextp);
      m->nextp = nullptr;
      hand_over_timer_wait = was_sleeper;
    } else {
      // Timed out, or poked about a new timer: take ourselves off the idle
      // list and, if a P is free, go run the timers.
      auto it = std::find(rt->midle.begin(), rt->midle.end(), m);
      if (it != rt->midle.end()) rt->midle.erase(it);
      if (rt->current_state() >= RuntimeState::stopping) return false;
      if (P* p = pidle_get_locked(rt)) {
        acquire_p(m, p);
        m->spinning = true;
        rt->nmspinning.fetch_add(1, std::memory_order_seq_cst);
      }
    }
  }
  if (hand_over_timer_wait) wakep(rt);
  return true;
}

// An M's thread: its scheduling loop. Go: mstart and schedule.
inline void m_main(M* m) {
  set_current_m(m);
  sanitizer_thread_started();
  tsan_release(&m->tsan_token);  // goroutines resumed here see this thread's setup
  tsan_ignore_begin();  // the scheduling loop is runtime internals (see sanitizer.hpp)
  m->eh_globals = thread_eh_globals();
  thread_started(m);
  sanitizer_init_thread(m->g0_san);
  m->rand_state ^= (m->rt->rand_seed + static_cast<std::uint64_t>(m->id)) * 0x9E3779B97F4A7C15ULL;
  bool run = true;
  if (m->nextp) {
    acquire_p(m, m->nextp);
    m->nextp = nullptr;
  } else {
    run = stop_m(m, 0);  // started idle: wait for a P
  }
  while (run) {
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

// Gives p (or, if null, an idle P) to an M: an idle one, or a new thread.
// spinning: the M is counted in nmspinning (the caller incremented it).
// Go: startm / newm.
GORO_DECL void start_m(Runtime* rt, P* p, bool spinning) {
  M* nm = nullptr;
  M* poller_m = nullptr;
  bool fresh = false;
  {
    SpinGuard guard(rt->lock);
    if (!p) p = pidle_get_locked(rt);
    if (!p || rt->current_state() >= RuntimeState::stopping) {
      if (p) pidle_put_locked(rt, p);
      if (spinning) rt->nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
    if (!rt->midle.empty()) {
      nm = rt->midle.back();
      rt->midle.pop_back();
    } else if (rt->poller != nullptr && rt->poller->nextp == nullptr) {
      // The only idle M blocks in the network poller: break it out and
      // hand it the P rather than start a thread (netpoll_block takes it).
      rt->poller->nextp = p;
      rt->poller->spinning = spinning;
      poller_m = rt->poller;
    } else {
      if (rt->nm_live >= rt->opts.max_threads) {
        std::fprintf(stderr, "runtime: program exceeds %d-thread limit\n", rt->opts.max_threads);
        fatal("thread exhaustion");
      }
      rt->allm.push_back(std::make_unique<M>());
      nm = rt->allm.back().get();
      nm->rt = rt;
      nm->id = static_cast<int>(rt->allm.size());
      ++rt->nm_live;
      fresh = true;
    }
    if (poller_m == nullptr) {
      nm->nextp = p;
      nm->spinning = spinning;
    }
  }
  if (poller_m != nullptr) {
    netpoll_break(rt);
    return;
  }
  if (!fresh) {
    nm->parker.unpark();
    return;
  }
  // A new thread, created outside the scheduler's spinlock (it takes tens
  // of microseconds). spawn_mu serializes thread creation: the TSan
  // spawner fiber must never be current on two threads, and shutdown must
  // not join a thread being created.
  std::lock_guard<std::mutex> spawn_guard(rt->spawn_mu);
  tsan_run_as(rt->tsan_spawner, [nm] {
    TsanIgnoreAccesses ignore;  // the M's fields are runtime internals
    nm->thread = std::thread([nm] { m_main(nm); });
  });
}

// ---------------------------------------------------------------------------
// Runtime lifetime. Go: schedinit / procresize.

inline Runtime::Runtime(const Options& o)
    : opts(checked_options(o)), nprocs(resolve_procs(o.procs)), stacks(o.stack_size, o.guard_pages) {
  stacks.slot_init = &init_slot;
  sanitizer_create_spawner(tsan_spawner);
  rand_seed = opts.randomize != 0
                  ? opts.randomize
                  : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                        reinterpret_cast<std::uintptr_t>(this);
  if (opts.max_threads < nprocs + 1) opts.max_threads = nprocs + 1;
  monitor.seen.resize(static_cast<std::size_t>(nprocs));
  allp.reserve(static_cast<std::size_t>(nprocs));
  for (int i = 0; i < nprocs; ++i) allp.push_back(std::make_unique<P>(i));
  SpinGuard guard(lock);
  for (int i = nprocs; i-- > 0;) pidle_put_locked(this, allp[static_cast<std::size_t>(i)].get());
}

inline void Runtime::shutdown() {
  {
    M* m = current_m();
    if (m && m->rt == this && current_state() == RuntimeState::running)
      fatal("goro: a Scheduler was destroyed from one of its own goroutines (it would wait for itself)");
  }
  RuntimeState expected = RuntimeState::running;
  // Memory ordering: acq_rel — one caller wins; it sees what the runtime's
  // creator wrote, and the state is published to Timer::reset.
  if (!state->compare_exchange_strong(expected, RuntimeState::draining, std::memory_order_acq_rel)) return;

  // Wait for the goroutines. Memory ordering: seq_cst on both sides (see
  // goroutine_entry): either the last goroutine sees `closer` and unparks
  // it, or this load sees live == 0.
  Parker self;
  closer.store(&self, std::memory_order_seq_cst);
  while (live.load(std::memory_order_seq_cst) != 0) self.park();
  closer.store(nullptr, std::memory_order_seq_cst);
  tsan_acquire(&live);  // every goroutine's end happens before we return

  monitor.stop_and_join();
  std::vector<M*> ms;
  {
    SpinGuard guard(lock);
    state->store(RuntimeState::stopping, std::memory_order_release);
    for (auto& m : allm) ms.push_back(m.get());
  }
  for (M* m : ms) m->parker.unpark();
  netpoll_break(this);  // the M blocked in the poller, if any
  {
    std::lock_guard<std::mutex> spawn_guard(spawn_mu);  // no thread is being created
    for (M* m : ms)
      if (m->thread.joinable()) m->thread.join();
  }
  // Timers still pending die with the runtime: their owners release what
  // they hold (a ChanTimer's self-reference), and a later stop() finds them
  // not armed instead of locking a freed P.
  for (auto& p : allp) discard_timers(p.get());
  // Descriptors still registered keep the poller's epoll instance open (for
  // their EPOLL_CTL_DEL); a goroutine of another runtime may take them over.
  if (Netpoll* np = netpoll.load(std::memory_order_acquire)) np->alive.store(false, std::memory_order_release);
  netpoll_owner.reset();
  sanitizer_destroy_fiber(tsan_spawner);
  state->store(RuntimeState::stopped, std::memory_order_release);
}

#endif  // GORO_DEFINE_RUNTIME

}  // namespace goro::detail
