// M — an OS thread of the runtime. It runs goroutines only while it holds a
// P; without one it parks on its Parker. Its own stack runs the scheduling
// loop (Go's g0); goroutines switch to it only when their P has nothing else
// to run, otherwise they switch directly to the next goroutine.
#pragma once

#include <cxxabi.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "fiber.hpp"
#include "goroutine.hpp"
#include "parker.hpp"

namespace goro::detail {

struct P;
struct Runtime;

// Work left for the context that a switch lands in, to be done once the
// previous goroutine's context has been saved (Go: the unlockf of gopark,
// run on g0 after mcall; here it runs on whatever context comes next).
enum class Pending : std::uint8_t {
  none,
  park,     // run unlockf(prev, arg); if it returns false, prev is ready again
  requeue,  // prev yielded: put it back in the run queue
  global,   // prev returned from a blocking call and found no P: global queue
  exited,   // prev finished: keep its context with the stack, free the stack
};

// Invariants: every field is touched only by the thread running this M,
// except: `nextp`, `spinning` and `exiting`, written under the scheduler
// lock by the M or monitor that wakes or reaps this one, before unpark (the
// Parker's release/acquire publishes them); `curg_` and `resumes`, read
// racily by the monitor and the fault handler; `idle_since`, under the
// scheduler lock.
struct M {
  Runtime* rt = nullptr;
  int id = 0;
  P* p = nullptr;      // the P held, or null
  P* nextp = nullptr;  // P handed over by startm, taken after unpark
  // The running goroutine, null while on the scheduling stack: curg() and
  // set_curg(). Atomic (relaxed: plain loads and stores on x86) because the
  // monitor's long-running check and the fault handler read it too.
  std::atomic<G*> curg_{nullptr};
  // Goroutines started or resumed here (the long-running check's clock).
  std::atomic<std::uint64_t> resumes{0};
  Fiber g0;            // the scheduling context, saved while a G runs
  SanitizerFiber g0_san;
  EhState g0_eh;
  bool spinning = false;  // looking for work (counted in Runtime::nmspinning)
  bool exiting = false;
  Parker parker;
  std::thread thread;
  std::int64_t idle_since = 0;
  void* altstack = nullptr;  // alternate signal stack (stack overflow reports)
  char tsan_token = 0;       // TSan: released once when the thread starts (see sanitizer.hpp)
  EhState* eh_globals = nullptr;  // this thread's __cxa_eh_globals (fixed per thread)
  // Inside goro::blocking: the goroutine and the P it left (Go: m.oldp).
  G* blocked_g = nullptr;
  P* blocked_p = nullptr;

  // Post-switch work (see Pending).
  G* prev = nullptr;
  Pending pending = Pending::none;
  bool (*unlockf)(G*, void*) = nullptr;
  void* unlock_arg = nullptr;

  std::uint64_t rand_state = 0x9e3779b97f4a7c15ULL;

  // Memory ordering: relaxed — other threads (dump, monitor, bubbles) read
  // it only as a hint; G storage outlives the runtime's goroutines, so a
  // stale G is safe to look at, and the switch itself orders this M's own use.
  G* curg() const noexcept { return curg_.load(std::memory_order_relaxed); }

  // Written by this M only, at every switch (relaxed: see curg()).
  void set_curg(G* g) noexcept {
    curg_.store(g, std::memory_order_relaxed);
    if (g) resumes.store(resumes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::uint32_t fastrand() noexcept {
    // wyrand; good enough for victim order and select's poll order.
    rand_state += 0xa0761d6478bd642fULL;
    const __uint128_t r = static_cast<__uint128_t>(rand_state) * (rand_state ^ 0xe7037ed1a0b428dbULL);
    return static_cast<std::uint32_t>((r >> 64) ^ r);
  }
};

// The M of the calling thread (null on a plain thread). A goroutine may
// resume on another thread after any switch, and compilers cache the
// address of a thread_local within a function, so every read goes through
// this non-inlined, side-effecting accessor.
//
// initial-exec TLS: one %fs-relative load instead of a __tls_get_addr call
// (measured: 8% of a goroutine switch). Fine for executables and for shared
// libraries loaded at startup; a library dlopen()ed late could fail to load
// if glibc's static TLS reserve is exhausted.
inline thread_local M* tls_m __attribute__((tls_model("initial-exec"))) = nullptr;

#if defined(__x86_64__)
// On x86-64 an initial-exec TLS read is one `mov %fs:off` instruction; the
// compiler does not keep the thread pointer in a register, and the memory
// clobber forces the load to be redone after every switch. Inlining it is
// therefore safe (and saves ~10% of a goroutine switch).
GORO_ALWAYS_INLINE M* current_m() noexcept {
  asm volatile("" ::: "memory");
  return tls_m;
}
#else
// Elsewhere the thread pointer may be cached in a register: never inline.
GORO_NOINLINE inline M* current_m() noexcept {
  asm volatile("" ::: "memory");
  return tls_m;
}
#endif

GORO_NOINLINE inline void set_current_m(M* m) noexcept {
  asm volatile("" ::: "memory");
  tls_m = m;
}

// The running goroutine, or null on a plain thread (or an M's scheduling stack).
inline G* current_g() noexcept {
  M* m = current_m();
  return m ? m->curg() : nullptr;
}

// This thread's C++ exception state (the M caches it: it never moves).
GORO_NOINLINE inline EhState* thread_eh_globals() noexcept {
  asm volatile("" ::: "memory");
  static_assert(sizeof(EhState) == 2 * sizeof(void*));
  return reinterpret_cast<EhState*>(abi::__cxa_get_globals());
}

// Swaps the thread's C++ exception state: saves it into `save`, installs
// `load`. Called on the thread the switch happens on, before the jump.
GORO_ALWAYS_INLINE void eh_switch(M* m, EhState& save, const EhState& load) noexcept {
  EhState* globals = m->eh_globals;
  save = *globals;
  *globals = load;
}

}  // namespace goro::detail
