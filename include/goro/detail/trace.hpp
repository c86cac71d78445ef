// trace — the execution tracer's buffers and the hooks the runtime calls
// (Go: runtime/trace2*.go). The public API is goro/trace.hpp; the JSON
// writer is trace_json.hpp.
//
// Each thread that records an event owns a chunk (~64 KiB, 1170 events) and
// appends to it with no lock and no allocation: one relaxed load of the
// chunk's count, a plain write of the event, one release store of the new
// count (which publishes the event to a concurrent snapshot). Only when the
// chunk is full does the thread take the tracer's mutex to hand it in and
// get the next one (from a free list; a new one is allocated only when the
// list is empty, i.e. off the per-event path).
//
// Off (the default), every hook is behind `tracing()`: one relaxed load of
// a process-wide flag, predicted not taken, and an out-of-line call only
// when it is on. Hooks are GORO_NOINLINE so that the switch path they sit
// in does not grow.
//
// Flight recorder (Go 1.25 trace.FlightRecorder): with a ring size, the
// oldest full chunks are reused once the full ones exceed it, so memory
// stays at ring size + one chunk per thread; a snapshot writes what is left.
//
// Events and their fields (names as Go's go122 event.go):
//   GoCreate        g = new goroutine, arg = parent (0: a plain thread), site
//   GoStart         g started/resumed on p
//   GoStop          g yielded (runnable again)
//   GoBlock         g parked; reason = WaitReason
//   GoUnblock       g made runnable; arg = the waker (0: none — a timer, a thread)
//   GoDestroy       g ended
//   GoSyscallBegin / GoSyscallEnd / GoSyscallEndBlocked   goro::blocking
//   ProcStart / ProcStop     p taken / given up; arg = Ms spinning (sampled)
//   ProcSteal       the monitor took p from an M inside goro::blocking
//   RunqSteal       m (on p) stole g from the run queue of P arg
//   TimerFired      a timer of P arg fired
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "clock.hpp"
#include "config.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "sanitizer.hpp"

namespace goro::detail {

struct P;
struct Runtime;

enum class TraceEv : std::uint8_t {
  go_create,
  go_start,
  go_stop,
  go_block,
  go_unblock,
  go_destroy,
  syscall_begin,
  syscall_end,
  syscall_end_blocked,
  proc_start,
  proc_stop,
  proc_steal,
  runq_steal,
  timer_fired,
};

inline const char* to_string(TraceEv e) noexcept {
  switch (e) {
    case TraceEv::go_create: return "GoCreate";
    case TraceEv::go_start: return "GoStart";
    case TraceEv::go_stop: return "GoStop";
    case TraceEv::go_block: return "GoBlock";
    case TraceEv::go_unblock: return "GoUnblock";
    case TraceEv::go_destroy: return "GoDestroy";
    case TraceEv::syscall_begin: return "GoSyscallBegin";
    case TraceEv::syscall_end: return "GoSyscallEnd";
    case TraceEv::syscall_end_blocked: return "GoSyscallEndBlocked";
    case TraceEv::proc_start: return "ProcStart";
    case TraceEv::proc_stop: return "ProcStop";
    case TraceEv::proc_steal: return "ProcSteal";
    case TraceEv::runq_steal: return "RunqSteal";
    case TraceEv::timer_fired: return "TimerFired";
  }
  return "?";
}

// One event, as recorded (56 bytes). ts is in clock ticks (trace_ticks).
struct TraceEvent {
  std::int64_t ts;
  std::uint64_t g;
  std::uint64_t arg;
  const char* file;      // GoCreate: the creation site
  const char* function;  // GoCreate
  std::int32_t p;        // the P the event happened on (-1: none)
  std::int32_t m;        // the M that recorded it (-1: a plain thread)
  std::uint32_t line;    // GoCreate
  TraceEv type;
  WaitReason reason;     // GoBlock
};

// Invariants: `n` is written only by the owning thread (release: publishes
// ev[0, n) to a snapshot, which loads it with acquire); the other fields
// and ev beyond n only by the owner, or under Tracer::mu once handed in.
struct TraceChunk {
  static constexpr std::uint32_t capacity = 1170;
  std::atomic<std::uint32_t> n{0};
  std::uint64_t gen = 0;
  TraceEvent ev[capacity];
};

struct TraceThread;

// The tracer (one per process: tracing covers every runtime).
//
// Invariants: everything but `on` and `gen` is under `mu`. `gen` (the
// session) is written under `mu` and read relaxed by writers to notice a
// new session (a stale read costs one event in the old session, which is
// discarded). `full` holds this session's handed-in chunks, oldest first;
// `bytes` their size. A chunk is in exactly one of: `full`, `free`, a
// thread's `cur`.
struct Tracer {
  std::atomic<bool> on{false};
  std::atomic<std::uint64_t> gen{1};
  std::mutex mu;
  std::deque<TraceChunk*> full;
  std::vector<TraceChunk*> free;
  std::vector<TraceThread*> threads;
  std::size_t bytes = 0;
  std::size_t ring_bytes = 0;           // 0: keep everything
  std::int64_t dropped_until = 0;       // ticks: the ring dropped events up to here
  std::int64_t tick0 = 0, ns0 = 0;      // clock calibration at start
  std::string path;                     // where stop() writes (may be empty)
  bool goroutine_tracks = false;
  std::size_t chunks_allocated = 0;
};

inline Tracer& tracer() {
  static Tracer* t = new Tracer;  // never destroyed: threads may record during exit
  return *t;
}

// The flag every hook checks. A plain global (not inside tracer()) so the
// check is one load with no guard.
inline std::atomic<bool> trace_flag{false};

// Memory ordering: relaxed — a hook that sees the flag late records one
// event less (or more) at the edge of a session; the events themselves are
// published by the chunk's count.
GORO_ALWAYS_INLINE bool tracing() noexcept { return GORO_UNLIKELY(trace_flag.load(std::memory_order_relaxed)); }

// The trace clock: the TSC where there is one (~7 ns to read, against
// ~20 ns for clock_gettime on a VM), mapped to nanoseconds when written.
// The builtin, not <x86intrin.h>'s __rdtsc: that header brings every AVX-512
// intrinsic, a third of the lines <goro/goro.hpp> made each program parse.
inline std::int64_t trace_ticks() noexcept {
#if defined(__x86_64__)
  return static_cast<std::int64_t>(__builtin_ia32_rdtsc());
#else
  return nanotime();
#endif
}

// A thread's recording state. Invariants: `cur` is written under Tracer::mu
// (read by its own thread without it, and by a snapshot under it).
struct TraceThread {
  TraceChunk* cur = nullptr;
  bool registered = false;
  ~TraceThread();
};

// Hands in a thread's chunk (under t.mu). Flight recorder: then reuses the
// oldest full chunks until the ring fits; everything up to their last event
// is gone, so a snapshot starts after it (for every thread alike).
inline void trace_retire_locked(Tracer& t, TraceChunk* c) {
  if (c->gen != t.gen.load(std::memory_order_relaxed)) {
    t.free.push_back(c);
    return;
  }
  t.full.push_back(c);
  t.bytes += sizeof(TraceChunk);
  while (t.ring_bytes != 0 && t.bytes > t.ring_bytes) {
    TraceChunk* old = t.full.front();
    t.full.pop_front();
    t.bytes -= sizeof(TraceChunk);
    const std::uint32_t n = old->n.load(std::memory_order_relaxed);
    if (n > 0 && old->ev[n - 1].ts > t.dropped_until) t.dropped_until = old->ev[n - 1].ts;
    t.free.push_back(old);
  }
}

// TSan: the tracer's own state is runtime internals, touched from ignored
// regions (the hooks run inside the scheduler's), so every access to it is
// (see sanitizer.hpp); its ordering is the mutex's and the chunks' counts.
inline TraceThread::~TraceThread() {
  TsanIgnore tsan_ignore;
  Tracer& t = tracer();
  std::lock_guard<std::mutex> guard(t.mu);
  if (cur) trace_retire_locked(t, cur);
  cur = nullptr;
  for (auto& th : t.threads)
    if (th == this) {
      th = t.threads.back();
      t.threads.pop_back();
      break;
    }
}

GORO_NOINLINE inline TraceThread& trace_thread() noexcept {
  asm volatile("" ::: "memory");
  static thread_local TraceThread th;
  return th;
}

// Hands in th's chunk and gives it a fresh one. Off the per-event path:
// once per TraceChunk::capacity events, or at a new session.
#if !GORO_DEFINE_RUNTIME
TraceChunk* trace_new_chunk(TraceThread& th);
#else
GORO_NOINLINE GORO_DECL TraceChunk* trace_new_chunk(TraceThread& th) {
  TsanIgnore tsan_ignore;  // see ~TraceThread
  Tracer& t = tracer();
  std::lock_guard<std::mutex> guard(t.mu);
  if (!th.registered) {
    t.threads.push_back(&th);
    th.registered = true;
  }
  if (th.cur) trace_retire_locked(t, th.cur);
  th.cur = nullptr;
  TraceChunk* c = nullptr;
  if (!t.free.empty()) {
    c = t.free.back();
    t.free.pop_back();
  } else {
    try {
      c = new TraceChunk;
      ++t.chunks_allocated;
    } catch (...) {
      return nullptr;  // out of memory: the event is dropped
    }
  }
  c->gen = t.gen.load(std::memory_order_relaxed);
  c->n.store(0, std::memory_order_relaxed);
  th.cur = c;
  return c;
}
#endif

// Records one event on the calling thread. No lock, no allocation (but
// once per chunk).
GORO_ALWAYS_INLINE void trace_emit(TraceEv type, std::int32_t p, std::int32_t m, std::uint64_t g, std::uint64_t arg,
                              WaitReason reason = WaitReason::none, const char* file = nullptr,
                       const char* function = nullptr, std::uint32_t line = 0) noexcept {
  TraceThread& th = trace_thread();
  TraceChunk* c = th.cur;
  // Memory ordering: relaxed — only this thread writes n; gen: see Tracer.
  if (GORO_UNLIKELY(c == nullptr || c->gen != tracer().gen.load(std::memory_order_relaxed) ||
                    c->n.load(std::memory_order_relaxed) == TraceChunk::capacity)) {
    c = trace_new_chunk(th);
    if (!c) return;
  }
  const std::uint32_t i = c->n.load(std::memory_order_relaxed);
  TraceEvent& e = c->ev[i];
  e.ts = trace_ticks();
  e.g = g;
  e.arg = arg;
  e.file = file;
  e.function = function;
  e.p = p;
  e.m = m;
  e.line = line;
  e.type = type;
  e.reason = reason;
  // Memory ordering: release publishes the event to a snapshot (acquire).
  c->n.store(i + 1, std::memory_order_release);
}

// ---------------------------------------------------------------------------
// The hooks. Each is called as `if (tracing()) trace_x(...)`, and is out of
// line. They are templates only so that they may read P and Runtime, which
// are defined after this header (runtime.hpp): the parameter types are
// always M, P, Runtime.

template <class Mach>
inline std::int32_t trace_p_of(const Mach* m) noexcept { return m && m->p ? m->p->id : -1; }
inline std::int32_t trace_m_of(const M* m) noexcept { return m ? m->id : -1; }

template <class Mach>
GORO_NOINLINE void trace_go_create(Mach* m, G* g, G* parent) {
  const SourceLocation site = g->created();
  trace_emit(TraceEv::go_create, trace_p_of(m), trace_m_of(m), g->goid(), parent ? parent->goid() : 0,
             WaitReason::none, site.file_name(), site.function_name(), site.line());
}

template <class Mach>
GORO_NOINLINE void trace_go_start(Mach* m, G* g) {
  trace_emit(TraceEv::go_start, trace_p_of(m), m->id, g->goid(), 0);
}

template <class Mach>
GORO_NOINLINE void trace_go_stop(Mach* m, G* g) {
  trace_emit(TraceEv::go_stop, trace_p_of(m), m->id, g->goid(), 0);
}

template <class Mach>
GORO_NOINLINE void trace_go_block(Mach* m, G* g, WaitReason reason) {
  trace_emit(TraceEv::go_block, trace_p_of(m), m->id, g->goid(), 0, reason);
}

// The waker is whatever runs on this thread: a goroutine, or nothing (a
// timer fired on the scheduling stack, a plain thread).
template <class Mach = M>
GORO_NOINLINE void trace_go_unblock(G* g) {
  Mach* m = current_m();
  G* waker = m ? m->curg() : nullptr;
  trace_emit(TraceEv::go_unblock, trace_p_of(m), trace_m_of(m), g->goid(), waker ? waker->goid() : 0);
}

template <class Mach>
GORO_NOINLINE void trace_go_destroy(Mach* m, G* g) {
  trace_emit(TraceEv::go_destroy, trace_p_of(m), m->id, g->goid(), 0);
}

template <class Mach, class Proc>
GORO_NOINLINE void trace_syscall_begin(Mach* m, G* g, Proc* p) {
  trace_emit(TraceEv::syscall_begin, p->id, m->id, g->goid(), 0);
}

template <class Mach, class Proc>
GORO_NOINLINE void trace_syscall_end(Mach* m, G* g, Proc* p) {
  if (p) trace_emit(TraceEv::syscall_end, p->id, m->id, g->goid(), 0);
  else trace_emit(TraceEv::syscall_end_blocked, -1, m->id, g->goid(), 0);
}

// Memory ordering (nmspinning): relaxed — a sample for the trace's counter.
template <class Mach, class Proc>
GORO_NOINLINE void trace_proc_start(Mach* m, Proc* p) {
  trace_emit(TraceEv::proc_start, p->id, m->id, 0,
             static_cast<std::uint64_t>(m->rt->nmspinning.load(std::memory_order_relaxed)));
}

template <class Proc, class Rt>
GORO_NOINLINE void trace_proc_stop(Rt* rt, Proc* p) {
  trace_emit(TraceEv::proc_stop, p->id, trace_m_of(current_m()), 0,
             static_cast<std::uint64_t>(rt->nmspinning.load(std::memory_order_relaxed)));
}

template <class Proc>
GORO_NOINLINE void trace_proc_steal(Proc* p) { trace_emit(TraceEv::proc_steal, p->id, -1, 0, 0); }

template <class Mach, class Proc>
GORO_NOINLINE void trace_runq_steal(Mach* m, Proc* victim, G* g) {
  trace_emit(TraceEv::runq_steal, trace_p_of(m), m->id, g->goid(), static_cast<std::uint64_t>(victim->id));
}

template <class Proc>
GORO_NOINLINE void trace_timer_fired(Proc* p) {
  M* m = current_m();
  trace_emit(TraceEv::timer_fired, trace_p_of(m), trace_m_of(m), 0, static_cast<std::uint64_t>(p->id));
}

}  // namespace goro::detail
