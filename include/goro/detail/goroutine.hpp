// G — a goroutine: its stack, saved context, status, id, wait reason and
// creation site. (The runtime's vocabulary, as in Go: G is a goroutine, M an
// OS thread, P a processor — the right to run Gs; see processor.hpp.)
//
// A G lives near the top of its own stack (g_at), with the goroutine's
// function object inside it (larger ones go to the heap), so spawning
// allocates nothing but a (usually warm, pooled) stack. When the goroutine
// finishes, the G is dead, its context is left suspended in
// goroutine_entry's loop, and stack, G and context are reused together by
// a later spawn.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>

#include "source_location.hpp"
#include "fiber.hpp"
#include "stack.hpp"

namespace goro::detail {

struct Runtime;
struct Bubble;  // a goro::testing::synctest bubble (bubble.hpp)

enum class GStatus : std::uint8_t {
  dead = 0,  // zero: a never-used stack slot reads as dead
  runnable,
  running,
  waiting,
  blocking,  // inside goro::blocking (Go: _Gsyscall)
};

// Why a goroutine waits; shown by goro::dump (Go: waitReason).
enum class WaitReason : std::uint8_t {
  none,
  sleep,
  chan_receive,
  chan_send,
  chan_receive_nil,
  chan_send_nil,
  select,
  select_no_cases,
  sync_mutex_lock,
  sync_rwmutex_lock,
  sync_rwmutex_rlock,
  sync_waitgroup_wait,
  sync_cond_wait,
  sync_once,
  semaphore,
  io_wait,  // on a file descriptor, through the netpoller (netpoll.hpp)
  blocking,
  // Durable waits inside a synctest bubble (bubble.hpp): only the bubble can
  // end them. Go: waitReasonSynctest*.
  chan_receive_durable,
  chan_send_durable,
  select_durable,
  sync_waitgroup_wait_durable,
  semaphore_durable,
  synctest_run,   // a bubble's root, waiting for its goroutines to block
  synctest_wait,  // goro::testing::wait
};

inline const char* to_string(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::none: return "runnable";
    case WaitReason::sleep: return "sleep";
    case WaitReason::chan_receive: return "chan receive";
    case WaitReason::chan_send: return "chan send";
    case WaitReason::chan_receive_nil: return "chan receive (nil chan)";
    case WaitReason::chan_send_nil: return "chan send (nil chan)";
    case WaitReason::select: return "select";
    case WaitReason::select_no_cases: return "select (no cases)";
    case WaitReason::sync_mutex_lock: return "sync.Mutex.Lock";
    case WaitReason::sync_rwmutex_lock: return "sync.RWMutex.Lock";
    case WaitReason::sync_rwmutex_rlock: return "sync.RWMutex.RLock";
    case WaitReason::sync_waitgroup_wait: return "sync.WaitGroup.Wait";
    case WaitReason::sync_cond_wait: return "sync.Cond.Wait";
    case WaitReason::sync_once: return "sync.Once.Do";
    case WaitReason::semaphore: return "semacquire";
    case WaitReason::io_wait: return "IO wait";
    case WaitReason::blocking: return "syscall";
    case WaitReason::chan_receive_durable: return "chan receive (durable)";
    case WaitReason::chan_send_durable: return "chan send (durable)";
    case WaitReason::select_durable: return "select (durable)";
    case WaitReason::sync_waitgroup_wait_durable: return "sync.WaitGroup.Wait (durable)";
    case WaitReason::semaphore_durable: return "semacquire (durable)";
    case WaitReason::synctest_run: return "synctest.Run";
    case WaitReason::synctest_wait: return "synctest.Wait";
  }
  return "?";
}

// Whether a goroutine of a synctest bubble parked for this reason is
// durably blocked: only another goroutine of its bubble (or the bubble's
// clock) can wake it. A mutex, a blocking call or a channel from outside the
// bubble may be released from outside, so they are not durable.
// Go: isIdleInSynctest in runtime2.go.
inline bool is_durable(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::sleep:
    case WaitReason::chan_receive_nil:
    case WaitReason::chan_send_nil:
    case WaitReason::select_no_cases:
    case WaitReason::sync_cond_wait:
    case WaitReason::chan_receive_durable:
    case WaitReason::chan_send_durable:
    case WaitReason::select_durable:
    case WaitReason::sync_waitgroup_wait_durable:
    case WaitReason::semaphore_durable:
    case WaitReason::synctest_run:
    case WaitReason::synctest_wait:
      return true;
    default:
      return false;
  }
}

// The C++ runtime's per-thread exception state (__cxa_eh_globals: the stack
// of caught exceptions and the uncaught count). It belongs to the goroutine,
// not the thread: a goroutine that switches inside a catch block and resumes
// on another thread must still see its own std::current_exception().
struct EhState {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

// Invariants:
// - status: written by whoever owns the G's state transition (the M running
//   it, or the waker in ready()); read racily only by dump and deadlock checks.
// - ctx: written by the context that switched away from this G (after the
//   switch), read by the M that resumes it; the run queues' release/acquire
//   publish it.
// - bubble: written at creation (or by a synctest root joining or leaving
//   its bubble, bubble.hpp), then read by whoever handles the G.
// - durably_blocked: under the bubble's lock (bubble.hpp).
// - everything else: written at creation, or only by the G itself.
struct alignas(cache_line) G {
  static constexpr std::uint64_t initialized = 0x676f726f2d472121ULL;  // "goro-G!!"
  static constexpr std::size_t inline_fn_size = 128;

  std::atomic<GStatus> status{GStatus::dead};
  std::uint64_t magic = initialized;  // set when the slab is made (under the pool's lock)
  // Written by the G itself when it parks; read racily by goro::dump.
  std::atomic<WaitReason> wait_reason{WaitReason::none};
  // Identity, written by new_g and read racily by goro::dump (hence
  // relaxed atomics: a dump may see a slot mid-reuse, never a torn value).
  std::atomic<bool> is_main{false};  // goroutine 1 under goro::run
  bool fresh = false;  // not yet run: its TSan fiber is new (see switch_jump)
  bool durably_blocked = false;  // parked durably, counted so by its bubble
  // TSan: RaceDisabled scopes (race.hpp) open in this goroutine; only the
  // goroutine itself touches it (see tsan_release_through).
  std::uint16_t race_hidden = 0;
  std::atomic<std::uint64_t> id{0};
  std::atomic<std::int64_t> wait_since{0};  // monotonic ns when it last parked (dump)
  // When it was readied, if this ready is sampled for the scheduler-latency
  // histogram (0: not sampled). Written by the waker before the run queue
  // publishes the G, read and cleared by the M that runs it.
  std::int64_t ready_at = 0;
  Runtime* rt = nullptr;
  Bubble* bubble = nullptr;  // its synctest bubble, or null (nearly always)
  Fiber ctx;
  Stack stack;
  SanitizerFiber san;
  EhState eh;
  void* fn = nullptr;            // the goroutine's function object
  void (*invoke)(void*) = nullptr;
  void (*destroy)(void*) noexcept = nullptr;
  std::atomic<const char*> created_file{""};
  std::atomic<const char*> created_function{""};
  std::atomic<unsigned> created_line{0};

  // Memory ordering (identity, here and below): relaxed — see "Identity"
  // above; a reader that needs them current (dump) acquires status first.
  std::uint64_t goid() const noexcept { return id.load(std::memory_order_relaxed); }
  SourceLocation created() const noexcept {
    return SourceLocation{created_file.load(std::memory_order_relaxed),
                          created_line.load(std::memory_order_relaxed),
                          created_function.load(std::memory_order_relaxed)};
  }
  void set_created(const SourceLocation& loc) noexcept {
    created_file.store(loc.file_name(), std::memory_order_relaxed);
    created_line.store(loc.line(), std::memory_order_relaxed);
    created_function.store(loc.function_name(), std::memory_order_relaxed);
  }
  alignas(16) unsigned char fn_storage[inline_fn_size];
};

// The G of the stack slot whose top is `top` and whose index in its slab is
// `slot`: near the top, aligned, below a gap of slot % 32 cache lines (the
// slot's colour); the goroutine's stack starts below the G.
//
// Why the gap: slots are a whole number of pages apart (stack plus guard
// page), so without it every G, and the top frames of every stack, would
// sit at the same address modulo 4 KiB. A switch stores into the leaving
// G (its saved exception state, its context) and then loads the same
// fields of the next one; with equal low 12 address bits the CPU takes the
// load for one that depends on the store and holds it back (4K aliasing),
// and every G falls into one set of the L1 cache. Measured (switch
// benchmark, procs 1, the project's AMD VM, 9 alternating runs): 31.5 ns
// per switch without the gap, 25.9 with it; the store-load pair was a fifth
// of yield_begin's samples under perf.
//
// Why the slot's index, not a hash of its address: neighbouring slots
// differ by one line, so Gs taken one after another (a burst of spawns)
// still lie a constant distance apart, one slot plus 64 bytes, 31 times in
// 32, and the CPU's prefetcher keeps up with them. A hash of the page
// number scattered them: spawning and joining 100,000 goroutines took
// 0.97 us per goroutine with the hash, 0.50–0.52 with the index and
// 0.44–0.48 with no gap (procs 1, medians of 7 and 11 alternating runs);
// the switch is as fast with the index as with the hash. Two Gs alias only
// when their slots' indexes are 32 apart. The gap costs at most 1984 bytes
// of the slot's stack (Options::stack_size is at least 16 KiB).
inline G* g_at(char* top, std::size_t slot) noexcept {
  const auto t = reinterpret_cast<std::uintptr_t>(top);
  const std::uintptr_t colour = slot % 32;
  return std::launder(reinterpret_cast<G*>((t - colour * 64 - sizeof(G)) & ~std::uintptr_t{alignof(G) - 1}));
}

// Builds the (dead) G of every slot when its slab is made, under the stack
// pool's lock, so that goro::dump never reads a G under construction.
inline void init_slot(char* top, std::size_t slot) noexcept { new (reinterpret_cast<char*>(g_at(top, slot))) G{}; }

}  // namespace goro::detail
