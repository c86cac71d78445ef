// sanitizer — how goroutine switches are described to ThreadSanitizer and
// AddressSanitizer. Without it TSan would see every goroutine switch as one
// thread jumping around (and report nonsense or nothing), and ASan would not
// know which stack it is on (false stack overflows, missed use-after-return).
// Every function here compiles to nothing in a build without sanitizers.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <pthread.h>
#include <sys/mman.h>

#include "config.hpp"

#if GORO_TSAN
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void AnnotateIgnoreSyncBegin(const char* file, int line);
void AnnotateIgnoreSyncEnd(const char* file, int line);
void AnnotateBenignRaceSized(const char* file, int line, const volatile void* mem, long size,
                             const char* description);
}
#endif
#if GORO_ASAN
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old);
}
#endif


namespace goro::detail {

// ---- ThreadSanitizer model -------------------------------------------------
// Goroutines are TSan fibers, and TSan sees the happens-before edges of Go's
// memory model and no others, as Go's race detector does. The scheduler's
// own code is invisible to TSan (ignored reads, writes and synchronization),
// like Go's uninstrumented runtime: otherwise its run-queue atomics would
// order every goroutine after every other and hide the races users need to
// see. The sync primitives hide their internals the same way and state Go's
// edges themselves (race.hpp). The runtime itself states these:
// - `go f()` happens before f starts: spawn releases the goroutine's
//   function object, which the goroutine acquires first (under TSan each
//   goroutine's function object is a fresh heap object, see new_g);
// - a goroutine's end happens before ~Scheduler returns (Runtime::shutdown)
//   and before its synctest returns; a bubble's goroutines blocking happen
//   before goro::testing::wait returns and the bubble's clock moves (park);
// - a thread's start happens before the goroutines that run on it: the M
//   releases its token once, when it starts (TSan has then recorded its
//   thread-local storage as written by it), and every goroutine arriving on
//   the thread acquires it (tsan_resume). Goroutines release nothing there,
//   so two goroutines that run one after the other on a thread are not
//   ordered, as in Go: a thread_local that several goroutines write is
//   reported as a race (and is one in spirit: a goroutine may resume on
//   another thread after any switch). errno is the exception
//   (sanitizer_thread_started).
// - nothing else, in particular not a goroutine's end before the start of
//   the next goroutine that reuses its stack: when a goroutine ends, TSan
//   forgets its frames (sanitizer_forget_stack).

GORO_ALWAYS_INLINE void tsan_ignore_begin() noexcept {
#if GORO_TSAN
  __tsan_ignore_thread_begin();
  AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
#endif
}

GORO_ALWAYS_INLINE void tsan_ignore_end() noexcept {
#if GORO_TSAN
  AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
  __tsan_ignore_thread_end();
#endif
}

// A goroutine arriving on a thread (resuming, or starting) acquires the
// thread's token, released once by the thread when it started (its TLS
// set-up; see m_main). Ends the ignored region the goroutine was suspended
// in (a goroutine switches away inside one: the switch is runtime code).
GORO_ALWAYS_INLINE void tsan_resume([[maybe_unused]] void* thread_token) noexcept {
  tsan_ignore_end();
#if GORO_TSAN
  __tsan_acquire(thread_token);
#endif
}

// Makes TSan forget every access to, and every synchronization object in,
// [lo, hi) — a finished goroutine's frames — so that the next goroutine on
// the stack is neither reported racing with the finished one nor ordered
// after it. lo and hi are page-aligned (TSan forgets whole shadow pages).
// TSan has no interface for this, but its munmap interceptor does exactly
// this before it calls munmap; munmap of an address that is not
// page-aligned then fails (EINVAL) and leaves the stack mapped and intact.
// GCC 12's and clang 14's TSan both work so. The cost grows with the range
// (measured: GCC's ~5 us for a page, clang's ~0.3 ms; both ~4-6 ms for a
// whole 256 KiB stack), so only pages ever touched are forgotten: a page
// that is not resident has never been accessed (stacks are never swapped
// out on the machines goro's sanitizer builds run on; a swapped-out page
// would keep stale history, at worst a false report).
inline void sanitizer_forget_stack([[maybe_unused]] char* lo, [[maybe_unused]] char* hi) noexcept {
#if GORO_TSAN
  constexpr std::size_t page = 4096;
  unsigned char resident[64];
  while (lo < hi) {
    const std::size_t pages = min_of<std::size_t>(static_cast<std::size_t>(hi - lo) / page, sizeof resident);
    if (::mincore(lo, pages * page, resident) != 0) break;  // cannot tell: forget it all
    std::size_t i = 0;
    while (i < pages && !(resident[i] & 1)) ++i;
    lo += i * page;
    if (i < pages) break;
  }
  if (lo >= hi) return;
  const int saved_errno = errno;
  ::munmap(lo - 1, static_cast<std::size_t>(hi - lo) + 1);  // fails: see above
  errno = saved_errno;
#endif
}

// Called by each M when its thread starts. errno is the exception to
// "goroutines taking turns on a thread are not ordered": it is the C
// library's per-thread result slot, which library code (std::stoi's
// _Save_errno, strtol's callers) sets and reads back within one call, never
// across a goroutine switch, so the goroutines that run on a thread do hand
// it over. TSan is told its accesses are benign; every other thread_local
// written by several goroutines is still reported.
inline void sanitizer_thread_started() noexcept {
#if GORO_TSAN
  AnnotateBenignRaceSized(__FILE__, __LINE__, &errno, static_cast<long>(sizeof errno),
                          "errno, shared by the goroutines that take turns on this thread");
#endif
}

// Ignores memory accesses (not synchronization) for its scope.
struct TsanIgnoreAccesses {
  TsanIgnoreAccesses() noexcept {
#if GORO_TSAN
    __tsan_ignore_thread_begin();
#endif
  }
  ~TsanIgnoreAccesses() {
#if GORO_TSAN
    __tsan_ignore_thread_end();
#endif
  }
  TsanIgnoreAccesses(const TsanIgnoreAccesses&) = delete;
  TsanIgnoreAccesses& operator=(const TsanIgnoreAccesses&) = delete;
};

// Scheduler code that does not switch goroutines: ignored for its scope.
struct TsanIgnore {
  TsanIgnore() noexcept { tsan_ignore_begin(); }
  ~TsanIgnore() { tsan_ignore_end(); }
  TsanIgnore(const TsanIgnore&) = delete;
  TsanIgnore& operator=(const TsanIgnore&) = delete;
};

GORO_ALWAYS_INLINE void tsan_release([[maybe_unused]] void* addr) noexcept {
#if GORO_TSAN
  __tsan_release(addr);
#endif
}

// tsan_release from a goroutine that may be inside `hidden` RaceDisabled
// scopes (race.hpp: G::race_hidden), which hide synchronization: for the
// runtime's own edges that a goroutine makes while it parks inside a sync
// primitive (a bubble's, in park_begin), which Go's race.Disable does not
// hide either. Each scope's sync-ignore is lifted for the release only.
inline void tsan_release_through([[maybe_unused]] void* addr, [[maybe_unused]] int hidden) noexcept {
#if GORO_TSAN
  for (int i = 0; i < hidden; ++i) AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
  __tsan_release(addr);
  for (int i = 0; i < hidden; ++i) AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
#endif
}

GORO_ALWAYS_INLINE void tsan_acquire([[maybe_unused]] void* addr) noexcept {
#if GORO_TSAN
  __tsan_acquire(addr);
#endif
}

// A synchronization address of its own, alive while any copy is: for an
// edge whose two ends can outlive the object that links them. TSan forgets
// what was released on an address once the memory there is freed, so a
// release on an object that is freed before the acquire orders nothing.
// Without TSan it is empty and both calls do nothing.
class TsanKey {
 public:
#if GORO_TSAN
  void release() const noexcept { __tsan_release(cell_.get()); }
  void acquire() const noexcept { __tsan_acquire(cell_.get()); }

 private:
  std::shared_ptr<char> cell_ = std::make_shared<char>();
#else
  void release() const noexcept {}
  void acquire() const noexcept {}
#endif
};

// A context's identity for the sanitizers: its TSan fiber, the ASan fake
// stack it saved while switched out, and its stack bounds.
struct SanitizerFiber {
  void* tsan = nullptr;
  void* asan_fake_stack = nullptr;
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
};

// Describes the current OS thread's own stack (an M's scheduling context,
// Go's g0), so that ASan knows where a switch back to it lands.
inline void sanitizer_init_thread(SanitizerFiber& s) noexcept {
#if GORO_TSAN
  s.tsan = __tsan_get_current_fiber();
#endif
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    std::size_t size = 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    s.stack_bottom = addr;
    s.stack_size = size;
  }
}

// A new goroutine's sanitizer identity. Measured with GCC 12's TSan: a fiber
// costs milliseconds to create, so sanitizer builds of the tests run at a
// smaller scale. Handles are never reused across goroutines: reuse would order
// the old goroutine's accesses before the new one's and hide real races.
inline void sanitizer_create_fiber(SanitizerFiber& s, const void* bottom, std::size_t size) noexcept {
#if GORO_TSAN
  s.tsan = __tsan_create_fiber(0);
#endif
  s.asan_fake_stack = nullptr;
  s.stack_bottom = bottom;
  s.stack_size = size;
}

// A fiber that never synchronizes with goroutines (Runtime::tsan_spawner):
// created with synchronization ignored, so it does not inherit its
// creator's past either.
inline void sanitizer_create_spawner([[maybe_unused]] SanitizerFiber& s) noexcept {
#if GORO_TSAN
  tsan_ignore_begin();
  s.tsan = __tsan_create_fiber(0);
  tsan_ignore_end();
#endif
}

inline void sanitizer_destroy_fiber(SanitizerFiber& s) noexcept {
#if GORO_TSAN
  if (s.tsan) __tsan_destroy_fiber(s.tsan);
#endif
  s.tsan = nullptr;
}

// Called just before jumping from `from` (nullptr: `from` is finishing and
// its fake stack may be freed) to `to`.
GORO_ALWAYS_INLINE void sanitizer_before_switch([[maybe_unused]] SanitizerFiber* from,
                                                [[maybe_unused]] const SanitizerFiber& to) noexcept {
#if GORO_ASAN
  __sanitizer_start_switch_fiber(from ? &from->asan_fake_stack : nullptr, to.stack_bottom,
                                 to.stack_size);
#endif
#if GORO_TSAN
  __tsan_switch_to_fiber(to.tsan, 1);  // no sync: see "ThreadSanitizer model"
#endif
}


// Called first thing when a context runs again (a new context's trampoline
// does it itself).
GORO_ALWAYS_INLINE void sanitizer_after_switch([[maybe_unused]] SanitizerFiber& self) noexcept {
#if GORO_ASAN
  __sanitizer_finish_switch_fiber(self.asan_fake_stack, nullptr, nullptr);
#endif
}

// Runs fn attributed to the TSan fiber `as` (Runtime::tsan_spawner, only
// ever used under the scheduler lock, so never current on two threads).
template <class Fn>
GORO_ALWAYS_INLINE decltype(auto) tsan_run_as([[maybe_unused]] SanitizerFiber& as, Fn&& fn) {
#if GORO_TSAN
  void* self = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(as.tsan, 1);
  struct Back {
    void* fiber;
    ~Back() { __tsan_switch_to_fiber(fiber, 1); }
  } back{self};
#endif
  return fn();
}

}  // namespace goro::detail
