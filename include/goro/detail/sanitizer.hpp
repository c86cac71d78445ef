// sanitizer — how goroutine switches are described to ThreadSanitizer and
// AddressSanitizer. Without it TSan would see every goroutine switch as one
// thread jumping around (and report nonsense or nothing), and ASan would not
// know which stack it is on (false stack overflows, missed use-after-return).
// Every function here compiles to nothing in a build without sanitizers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <pthread.h>

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
// Goroutines are TSan fibers. The scheduler's own code is invisible to TSan
// (ignored reads, writes and synchronization), like Go's uninstrumented
// runtime: otherwise its run-queue atomics would order every goroutine after
// every other and hide the races users need to see. What remains is ordered
// explicitly. Goroutines that run one after the other on the same thread are
// ordered (each leaving goroutine releases its thread's token, each arriving
// one acquires it — tsan_leave/tsan_resume), as tasks on a thread pool are:
// C++ code has thread-local state (errno, caches) that goroutines sharing a
// thread really do hand over. Goroutines on different threads are ordered
// only by real synchronization. The orderings Go's memory model promises are
// annotated too: `go f()` before f starts (spawn/goroutine_entry), a
// waker before the goroutine it wakes (Waiter), a goroutine's end before the
// Scheduler's destructor returns (Runtime::shutdown), and a goroutine's end
// before the start of the next goroutine that reuses its stack (the one
// imprecision: GCC 12's TSan cannot forget a reused stack's old accesses).

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
// thread's token, released by the thread when it starts (its TLS set-up) and
// by every goroutine that leaves it (tsan_leave). Ends the ignored region the
// goroutine was suspended in.
GORO_ALWAYS_INLINE void tsan_resume([[maybe_unused]] void* thread_token) noexcept {
  tsan_ignore_end();
#if GORO_TSAN
  __tsan_acquire(thread_token);
#endif
}

// A goroutine about to switch away releases its thread's token (before
// entering the ignored region).
GORO_ALWAYS_INLINE void tsan_leave([[maybe_unused]] void* thread_token) noexcept {
#if GORO_TSAN
  __tsan_release(thread_token);
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

// A fiber that never synchronizes with goroutines (Runtime::tsan_spawner).
inline void sanitizer_create_spawner([[maybe_unused]] SanitizerFiber& s) noexcept {
#if GORO_TSAN
  s.tsan = __tsan_create_fiber(0);
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
