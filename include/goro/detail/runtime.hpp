// runtime — the runtime's types: P (a processor) and Runtime (Go's schedt
// plus everything a Scheduler owns), and the small operations on them that
// only move data under the scheduler lock: the global run queue, the idle P
// list, goroutine ids, stack caches. Go: runtime2.go's p and schedt.
//
// The runtime's headers, lowest first; each includes the ones above it:
//   runtime.hpp      types (this file)
//   diagnostics.hpp  goroutine snapshots and dump, deadlock check, crash reports
//   timers.hpp       per-P timers: arm, stop, run
//   switch.hpp       the goroutine switch, park/ready/yield, spawn and exit
//   bubble.hpp       synctest bubbles: fake clocks, durable blocking
//   processor.hpp    the schedule loop and the Ms' lifecycle — the heart
//   netpoll.hpp      the network poller: goroutines parked on file descriptors
//   monitor.hpp      the monitor thread (sysmon) and goro::blocking
// The schedule loop is reached from below through one forward declaration,
// wakep (a scheduler has to be able to wake itself up): code that uses
// these headers includes processor.hpp (or monitor.hpp), which brings the
// definitions.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../options.hpp"
#include "config.hpp"
#include "fatal.hpp"
#include "global_queue.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "options_check.hpp"
#include "parker.hpp"
#include "run_queue.hpp"
#include "sanitizer.hpp"
#include "spinlock.hpp"
#include "stack.hpp"
#include "timer_heap.hpp"
#include "trace.hpp"

namespace goro::detail {

enum class PStatus : std::uint8_t {
  idle,      // on the idle list, or being handed to an M
  running,   // held by an M that runs its goroutines
  blocking,  // its M is inside goro::blocking; the monitor may take it (Go: _Psyscall)
};

// Invariants:
// - runq: see RunQueue; pushes only by the M holding this P.
// - timers: under timer_lock. timer0_when mirrors the earliest deadline
//   (0: none) for lock-free peeking by other Ms.
// - stack_cache, schedtick, inherited, slice_start, goid_*: only the M
//   holding this P.
// - idle_link: under the scheduler lock (the idle list).
// - status and m: running → idle only in pidle_put_locked, under the
//   scheduler lock; idle → running (acquire_p) by the one M that took the P
//   off the idle list or was handed it (nextp), which no one else can reach
//   meanwhile; running → blocking by the holding M alone; blocking → running
//   or idle by one CAS, won by the returning M or the monitor (exit_blocking,
//   retake). status is atomic so the monitor can read it without the lock.
// - syscalltick: bumped by the holding M at each blocking call; read by the
//   monitor.
struct P {
  explicit P(int i) : id(i) {}

  int id;
  std::atomic<PStatus> status{PStatus::idle};
  M* m = nullptr;
  P* idle_link = nullptr;
  // Schedules that started a new time slice (Go: schedtick). Every 61st
  // looks at the global queue first, so it cannot starve.
  std::uint32_t schedtick = 0;
  // Time slices: a goroutine readied by the running one runs next and
  // inherits the slice (runnext). `inherited` counts such picks since the
  // slice began at `slice_start` (coarse ns), so that a chain of hand-offs
  // (a ping-pong pair) cannot keep the rest of the queue waiting for more
  // than a slice (next_g in switch.hpp).
  std::uint32_t inherited = 0;
  std::int64_t slice_start = 0;
  std::atomic<std::uint64_t> syscalltick{0};

  RunQueue runq;

  Spinlock timer_lock;
  TimerHeap timers GORO_GUARDED_BY(timer_lock);
  std::atomic<std::int64_t> timer0_when{0};

  std::vector<Stack> stack_cache;
  std::uint64_t goid_next = 0, goid_end = 0;

  // goro::metrics counters. Written only by the M holding this P (a relaxed
  // load and store: no locked instruction), read racily by metrics();
  // timers_fired by any M running this P's timers (fetch_add).
  struct Counters {
    std::atomic<std::uint64_t> created{0}, parks{0}, readies{0}, yields{0}, steals{0}, timers_fired{0};
    static void bump(std::atomic<std::uint64_t>& c) noexcept {
      c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  } counters;
};

// The scheduler-latency histogram (Go: /sched/latencies:seconds): time from
// a goroutine being readied (or yielding) to its running, sampled at one
// in 64 per P. Buckets: 4 per power of two of nanoseconds. Atomics, relaxed: counts.
struct LatencyHistogram {
  static constexpr int buckets = 4 * 48;
  std::atomic<std::uint64_t> count[buckets] = {};
  std::atomic<std::int64_t> max{0};
  static int bucket(std::int64_t ns) noexcept {
    if (ns < 4) return ns < 0 ? 0 : static_cast<int>(ns);
    const int log = 63 - __builtin_clzll(static_cast<unsigned long long>(ns));
    const int sub = static_cast<int>((ns >> (log - 2)) & 3);
    const int b = 4 * (log - 1) + sub;
    return b < buckets ? b : buckets - 1;
  }
  // The largest value in bucket b.
  static std::int64_t upper(int b) noexcept {
    if (b < 4) return b;
    const int log = b / 4 + 1;
    const int sub = b % 4;
    return (std::int64_t{4 + sub + 1} << (log - 2)) - 1;
  }
  void record(std::int64_t ns) noexcept {
    count[bucket(ns)].fetch_add(1, std::memory_order_relaxed);
    std::int64_t m = max.load(std::memory_order_relaxed);
    while (ns > m && !max.compare_exchange_weak(m, ns, std::memory_order_relaxed)) {
    }
  }
};

// The monitor thread's state (Go: sysmon's variables). Its loop is in
// monitor.hpp; the thread starts with the first goro::blocking call (or with
// the runtime when Options::warn_long_running_ms is set).
//
// Invariants: `thread` is started once, under the scheduler lock, with
// `started` set; `seen`, `running` and `ms` belong to the monitor thread;
// the atomics are its handshake with blocking calls (see enter_blocking).
struct Monitor {
  std::thread thread;
  Parker parker;
  std::atomic<bool> started{false};
  std::atomic<bool> deep_sleep{false};
  std::atomic<bool> backed_off{false};  // sleeping longer than one 20 us tick
  std::atomic<bool> stop{false};

  // The monitor's view of each P's blocking call (Go: sysmontick).
  struct Seen {
    std::uint64_t tick = 0;
    std::int64_t since = 0;
  };
  std::vector<Seen> seen;

  // The monitor's view of each M's running goroutine (Go: sysmontick's
  // schedtick), indexed like Runtime::allm.
  struct Running {
    std::uint64_t resumes = 0;
    std::int64_t since = 0;
    bool warned = false;
  };
  std::vector<Running> running;
  std::vector<M*> ms;  // scratch: Runtime::allm, copied under its lock

  // Stops and joins the thread, if it was started.
  void stop_and_join() {
    if (!started.load(std::memory_order_acquire)) return;
    stop.store(true, std::memory_order_release);
    parker.unpark();
    if (thread.joinable()) thread.join();
  }
};

struct Netpoll;  // netpoll.hpp

// Where a runtime is in its life. Shared (Runtime::state) with what may
// outlive the runtime and would use it (goro::Timer), so misuse is reported.
enum class RuntimeState : std::uint8_t {
  running,   // goroutines may be started
  draining,  // the destructor waits for the goroutines to finish
  stopping,  // no goroutine is left; the Ms are told to exit
  stopped,   // the Ms are joined: only memory remains, until it is freed
};

// The runtime: Go's schedt plus everything a Scheduler owns.
//
// Invariants:
// - global_runq, pidle, midle, allm, nm_live, sleeper*: under `lock`.
//   global_runq_size and npidle are also atomics, written under the lock and
//   read without it for fast "anything there?" checks.
// - nmspinning: number of Ms with spinning == true.
// - live: goroutines created and not yet finished.
// - state: advanced only by shutdown(); Ms read it under `lock`.
// - netpoll: null until the first goroutine waits on a file descriptor,
//   then set once (netpoll.hpp); netpoll_owner keeps it alive. poller: the
//   one M blocked in the netpoller, under `lock`; lastpoll is 0 exactly
//   while there is one (Go: sched.lastpoll).
// Lock order: rt->lock may be taken with no other goro lock held, except a
// P's timer_lock is never held while taking it (and vice versa).
struct Runtime {
  explicit Runtime(const Options& o);  // processor.hpp
  ~Runtime() { shutdown(); }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Waits for every goroutine to finish, then stops the monitor and the Ms.
  // Idempotent. (processor.hpp)
  void shutdown();

  // Memory ordering: acquire pairs with shutdown's release stores.
  RuntimeState current_state() const noexcept { return state->load(std::memory_order_acquire); }

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
  // goro::metrics counters not kept per P: goroutines started and made
  // runnable from plain threads. Relaxed: counts.
  std::atomic<std::uint64_t> created_no_p{0}, readies_no_p{0};
  LatencyHistogram sched_latency;
  std::atomic<Parker*> closer{nullptr};  // the destructor, waiting for live == 0
  std::shared_ptr<std::atomic<RuntimeState>> state =
      std::make_shared<std::atomic<RuntimeState>>(RuntimeState::running);

  // TSan: the fiber Ms are started from. A new thread inherits its
  // creator's happens-before; goroutines resuming on an M acquire the M's
  // start (see tsan_resume), so Ms must not be created from a goroutine's
  // fiber, or every goroutine would be ordered after that one's past. This
  // fiber has no past (see sanitizer_create_spawner).
  SanitizerFiber tsan_spawner;
  // Held while an OS thread is created (an M, the monitor), outside the
  // scheduler's spinlock: creation takes tens of microseconds. Serializes
  // the use of tsan_spawner, and shutdown takes it to join no thread that
  // is still being created.
  std::mutex spawn_mu;

  Monitor monitor;

  // The network poller (netpoll.hpp). Go: the netpoll* globals and
  // sched.lastpoll. netpoll_waiters counts goroutines parked on a file
  // descriptor (Go: netpollWaiters): they are not a deadlock.
  std::atomic<Netpoll*> netpoll{nullptr};
  std::shared_ptr<Netpoll> netpoll_owner;  // set with netpoll, under spawn_mu
  std::atomic<int> netpoll_waiters{0};
  std::atomic<std::int64_t> lastpoll{1};
  M* poller GORO_GUARDED_BY(lock) = nullptr;
};

// Defined in processor.hpp: adds an M to run Gs if a P is idle and no M is
// looking for work (Go: wakep).
GORO_DECL void wakep(Runtime* rt);

// Defined in netpoll.hpp: interrupts the M blocked in the netpoller (Go:
// netpollBreak), e.g. when a timer is set earlier than it waits for.
inline void netpoll_break(Runtime* rt);

// ---------------------------------------------------------------------------
// Global run queue (under rt->lock). Go: globrunqput / globrunqget.

inline void global_put_locked(Runtime* rt, G* g) GORO_REQUIRES(rt->lock) {
  rt->global_runq.push_back(g);
  // Memory ordering: relaxed would do for the size (it is only a hint; the
  // queue itself is read under the lock), release keeps the hint no older
  // than the queue for a reader that then takes the lock.
  rt->global_runq_size.store(static_cast<std::uint32_t>(rt->global_runq.size()), std::memory_order_release);
}

inline G* global_pop_locked(Runtime* rt) GORO_REQUIRES(rt->lock) {
  G* g = rt->global_runq.pop_front();
  // Memory ordering: release, as in global_put_locked.
  rt->global_runq_size.store(static_cast<std::uint32_t>(rt->global_runq.size()), std::memory_order_release);
  return g;
}

// Takes a fair share of the global queue into p's local queue; returns one
// G to run. max == 1 takes just one (the every-61-ticks fairness check).
inline G* global_get_locked(Runtime* rt, P* p, std::uint32_t max) GORO_REQUIRES(rt->lock) {
  const std::uint32_t size = rt->global_runq_size.load(std::memory_order_relaxed);  // relaxed: under rt->lock
  if (size == 0) return nullptr;
  std::uint32_t n = size / static_cast<std::uint32_t>(rt->nprocs) + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > RunQueue::capacity / 2) n = RunQueue::capacity / 2;
  // The local queue need not be empty (a yield comes here when its own
  // queue is empty but runnext is not, or for fairness): take no more than
  // fits. Only we push to p's queue, so its free room can only grow meanwhile.
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
// Idle Ps (under rt->lock). Go: pidleput / pidleget.

inline void pidle_put_locked(Runtime* rt, P* p) GORO_REQUIRES(rt->lock) {
  if (tracing()) trace_proc_stop(rt, p);
  // Memory ordering: relaxed — status is read unlocked only as a hint
  // (steal_work's patience, the monitor's retake); the P itself is handed
  // over under rt->lock.
  p->status.store(PStatus::idle, std::memory_order_relaxed);
  p->m = nullptr;
  p->idle_link = rt->pidle;
  rt->pidle = p;
  // Memory ordering: seq_cst — wakep's check of npidle and an M going idle
  // must not miss each other (see wakep).
  rt->npidle.fetch_add(1, std::memory_order_seq_cst);
}

inline P* pidle_get_locked(Runtime* rt) GORO_REQUIRES(rt->lock) {
  P* p = rt->pidle;
  if (p) {
    rt->pidle = p->idle_link;
    p->idle_link = nullptr;
    rt->npidle.fetch_sub(1, std::memory_order_seq_cst);  // seq_cst: as in pidle_put_locked
  }
  return p;
}

// Go: acquirep.
inline void acquire_p(M* m, P* p) {
  m->p = p;
  p->m = m;
  p->status.store(PStatus::running, std::memory_order_relaxed);
  if (tracing()) trace_proc_start(m, p);
}

// ---------------------------------------------------------------------------
// Looking at every P without locks (deadlock check, idle Ms).

// The earliest timer of any P, 0 if none. Go: timeSleepUntil.
inline std::int64_t earliest_timer(Runtime* rt) {
  std::int64_t t = 0;
  for (auto& p : rt->allp) {
    // Memory ordering: acquire pairs with the timer lock holder's release
    // store; a stale value only makes an idle M wake early or be poked.
    const std::int64_t w = p->timer0_when.load(std::memory_order_acquire);
    if (w != 0 && (t == 0 || w < t)) t = w;
  }
  return t;
}

// Whether any P's local queue holds a G. Go: checkRunqsNoP.
inline bool any_local_work(Runtime* rt) {
  for (auto& p : rt->allp)
    if (!p->runq.empty()) return true;
  return false;
}

// ---------------------------------------------------------------------------
// Schedule randomization for tests (Options::randomize). Each decision is
// drawn from a counter hashed with the seed: with procs = 1 the program runs
// on one P, so the same seed makes the same decisions.

inline bool chaos(Runtime* rt, std::uint64_t one_in) noexcept {
  if (GORO_LIKELY(rt->opts.randomize == 0)) return false;
  // Memory ordering: relaxed — a counter; only its uniqueness matters.
  std::uint64_t x = rt->chaos_counter.fetch_add(1, std::memory_order_relaxed) + rt->opts.randomize;
  // splitmix64
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x % one_in == 0;
}

// ---------------------------------------------------------------------------
// Stacks and goroutine ids.

#if !GORO_DEFINE_RUNTIME
Stack get_stack(Runtime* rt, P* p);
#else
GORO_DECL Stack get_stack(Runtime* rt, P* p) {
  if (!p) return rt->stacks.get_global();
  if (p->stack_cache.empty()) rt->stacks.refill(p->stack_cache);
  Stack s = p->stack_cache.back();
  p->stack_cache.pop_back();
  return s;
}
#endif

#if !GORO_DEFINE_RUNTIME
void put_stack(Runtime* rt, P* p, Stack s);
#else
GORO_DECL void put_stack(Runtime* rt, P* p, Stack s) {
  if (!p) return rt->stacks.put_global(s);
  p->stack_cache.push_back(s);
  if (p->stack_cache.size() > 2 * StackPool::batch) rt->stacks.drain(p->stack_cache);
}
#endif

inline std::uint64_t new_goid(Runtime* rt, P* p) {
  // Go: goidcache — ids are handed to Ps in batches to avoid contention.
  // Memory ordering: relaxed — only uniqueness matters.
  if (!p) return rt->goid_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (p->goid_next == p->goid_end) {
    p->goid_next = rt->goid_gen.fetch_add(16, std::memory_order_relaxed) + 1;
    p->goid_end = p->goid_next + 16;
  }
  return p->goid_next++;
}

}  // namespace goro::detail
