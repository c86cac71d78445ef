// race — what goro's primitives tell ThreadSanitizer: exactly the
// happens-before edges of Go's memory model, as Go's race detector sees them
// (Go: runtime/race.go, and the raceacquire/racerelease calls in
// runtime/chan.go and select.go, race.Acquire/Release/ReleaseMerge in
// sync/*.go). Everything else the primitives do — their atomics, spinlocks,
// wait queues, the semaphore hand-offs — is hidden from TSan, as Go's
// uninstrumented runtime is hidden from its race detector: were it visible,
// a Mutex's internal CAS or a channel's lock would order goroutines that Go
// does not order, and hide the races users need to see.
//
// The rule every primitive follows: its body runs inside a RaceDisabled
// scope (memory accesses and synchronization ignored), and it states Go's
// edges from inside that scope with the race_* functions below, each of
// which opens the one kind of visibility it needs for its own duration.
// Called from a context that is itself ignored (the scheduler firing a
// timer), they do nothing: the runtime's own work makes no edges.
//
// Clock tokens. TSan's public interface offers Go's raceacquire and
// racereleasemerge (a release merges into the address's clock), but not
// racerelease's store, nor releasing on another goroutine's behalf (Go's
// racereleaseacquireg(sg.g, ...) for a parked channel partner). A token is a
// fresh heap byte that one party releases its clock into exactly once: it
// holds that clock and nothing else, so storing a token in a channel slot is
// Go's store, and a parked goroutine's token (released just before it
// parked, when its clock stopped changing) lets its partner act for it.
// Freeing a token frees its TSan sync object (free() does that), so no
// history outlives it.
//
// Every function here compiles to nothing without -fsanitize=thread.
#pragma once

#include <memory>
#include <utility>

#include "config.hpp"
#include "machine.hpp"

#if GORO_TSAN
extern "C" {
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void __tsan_read1(void* addr);
void __tsan_write1(void* addr);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void __tsan_mutex_destroy(void* addr, unsigned flags);
void AnnotateIgnoreSyncBegin(const char* file, int line);
void AnnotateIgnoreSyncEnd(const char* file, int line);
}
#endif

namespace goro::detail {

// Hides a primitive's internals from TSan for its scope: memory accesses
// and synchronization (Go: race.Disable, which hides synchronization; goro
// also hides the accesses, because its runtime is instrumented C++ where
// Go's is not). Nests.
//
// A goroutine that parks inside the scope may resume on another thread; it
// must then happen after that thread's start, and the acquire of the
// thread's token that tsan_resume (sanitizer.hpp) makes does nothing while
// this scope still hides synchronization. So the scope's end acquires it
// again (effective in the outermost scope, harmless elsewhere), before any
// access of the goroutine's own is recorded.
class RaceDisabled {
 public:
  RaceDisabled() noexcept {
#if GORO_TSAN
    __tsan_ignore_thread_begin();
    AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
    if (G* g = current_g()) ++g->race_hidden;  // for tsan_release_through (sanitizer.hpp)
#endif
  }
  ~RaceDisabled() {
#if GORO_TSAN
    if (G* g = current_g()) --g->race_hidden;
    AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
    if (M* m = current_m()) __tsan_acquire(&m->tsan_token);
    __tsan_ignore_thread_end();
#endif
  }
  RaceDisabled(const RaceDisabled&) = delete;
  RaceDisabled& operator=(const RaceDisabled&) = delete;
};

#if GORO_TSAN
// Inside a RaceDisabled scope: synchronization visible again for a moment
// (accesses stay ignored, so the tokens' own heap bytes are never "raced").
struct RaceSyncWindow {
  RaceSyncWindow() noexcept { AnnotateIgnoreSyncEnd(__FILE__, __LINE__); }
  ~RaceSyncWindow() { AnnotateIgnoreSyncBegin(__FILE__, __LINE__); }
  RaceSyncWindow(const RaceSyncWindow&) = delete;
  RaceSyncWindow& operator=(const RaceSyncWindow&) = delete;
};

// Inside a RaceDisabled scope: memory accesses recorded again for a moment.
struct RaceAccessWindow {
  RaceAccessWindow() noexcept { __tsan_ignore_thread_end(); }
  ~RaceAccessWindow() { __tsan_ignore_thread_begin(); }
  RaceAccessWindow(const RaceAccessWindow&) = delete;
  RaceAccessWindow& operator=(const RaceAccessWindow&) = delete;
};
#endif

// All of the following are called inside a RaceDisabled scope.

// Go: raceacquire — the caller happens after every release on addr.
GORO_ALWAYS_INLINE void race_acquire([[maybe_unused]] const void* addr) noexcept {
#if GORO_TSAN
  RaceSyncWindow w;
  __tsan_acquire(const_cast<void*>(addr));
#endif
}

// Go: racereleasemerge — adds the caller's past to addr's clock.
GORO_ALWAYS_INLINE void race_release_merge([[maybe_unused]] const void* addr) noexcept {
#if GORO_TSAN
  RaceSyncWindow w;
  __tsan_release(const_cast<void*>(addr));
#endif
}

// Go: racerelease — addr's clock becomes the caller's, forgetting earlier
// releases (TSan's release merges: its sync object is reset first). Only
// for addresses whose acquirers cannot run between the two steps (a Mutex's
// next locker waits for the unlock that follows this).
GORO_ALWAYS_INLINE void race_release([[maybe_unused]] const void* addr) noexcept {
#if GORO_TSAN
  RaceSyncWindow w;
  __tsan_mutex_destroy(const_cast<void*>(addr), 0);  // no mutex: just forgets the clock
  __tsan_release(const_cast<void*>(addr));
#endif
}

// Go: racereadpc / racewritepc on an address that stands for the object
// (Go's `_ = m.state`, a channel's raceaddr): an access that races with
// unordered conflicting ones, like the user's own accesses. Reported with
// the caller's stack.
GORO_ALWAYS_INLINE void race_read([[maybe_unused]] const void* addr) noexcept {
#if GORO_TSAN
  RaceAccessWindow w;
  __tsan_read1(const_cast<void*>(addr));
#endif
}

GORO_ALWAYS_INLINE void race_write([[maybe_unused]] const void* addr) noexcept {
#if GORO_TSAN
  RaceAccessWindow w;
  __tsan_write1(const_cast<void*>(addr));
#endif
}

// ---- Clock tokens (see the top of this file) ----

// A token holding the caller's clock now. Null without TSan.
inline void* race_token() noexcept {
#if GORO_TSAN
  RaceSyncWindow w;
  void* t = new char;
  __tsan_release(t);
  return t;
#else
  return nullptr;
#endif
}

// The caller happens after the token's owner (at the time it was made);
// frees it. Null: nothing.
inline void race_token_acquire([[maybe_unused]] void* token) noexcept {
#if GORO_TSAN
  if (!token) return;
  RaceSyncWindow w;
  __tsan_acquire(token);
  delete static_cast<char*>(token);
#endif
}

// Frees a token without acquiring it. Null: nothing.
inline void race_token_drop([[maybe_unused]] void* token) noexcept {
#if GORO_TSAN
  delete static_cast<char*>(token);
#endif
}

// Go: racereleaseacquire(slot) (__tsan_release_acquire), with the slot's
// clock held as a token: the slot gets the caller's clock, and the caller
// acquires what the slot held. That is how a buffered channel orders the
// k-th receive before the (k+C)-th send and each send before its receive,
// and nothing else (Go: racenotify in chan.go).
inline void race_slot_exchange([[maybe_unused]] void*& slot) noexcept {
#if GORO_TSAN
  void* mine = race_token();  // released before the acquire: the pre-acquire clock
  void* old = slot;
  slot = mine;
  race_token_acquire(old);
#endif
}

}  // namespace goro::detail

namespace goro::detail {

// A std::shared_ptr whose reference count ThreadSanitizer does not see:
// libstdc++ counts with acq_rel atomics, which would order every goroutine
// that copies or drops a shared handle (a Context, a CancelFunc) after every
// earlier one, hiding their races. Copying reads the source and assigning
// writes the destination, as Go's interface and pointer values are read and
// written; the pointee's own accesses are untouched. Without TSan it is a
// plain shared_ptr.
template <class T>
class RaceSharedPtr {
 public:
  RaceSharedPtr() noexcept = default;
  RaceSharedPtr(std::shared_ptr<T> p) noexcept {  // NOLINT: implicit, as shared_ptr's own
    RaceDisabled hidden;
    p_ = std::move(p);
  }
  RaceSharedPtr(const RaceSharedPtr& o) noexcept {
    RaceDisabled hidden;
    race_read(&o.p_);
    p_ = o.p_;
  }
  RaceSharedPtr(RaceSharedPtr&& o) noexcept {
    RaceDisabled hidden;
    race_write(&o.p_);
    p_ = std::move(o.p_);
  }
  RaceSharedPtr& operator=(const RaceSharedPtr& o) noexcept {
    RaceDisabled hidden;
    race_read(&o.p_);
    race_write(&p_);
    p_ = o.p_;
    return *this;
  }
  RaceSharedPtr& operator=(RaceSharedPtr&& o) noexcept {
    RaceDisabled hidden;
    race_write(&o.p_);
    race_write(&p_);
    p_ = std::move(o.p_);
    return *this;
  }
  ~RaceSharedPtr() {
    RaceDisabled hidden;
    p_.reset();
  }

  T* get() const noexcept { return p_.get(); }
  T* operator->() const noexcept { return p_.get(); }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // A plain shared_ptr copy; its count is hidden while it is made.
  std::shared_ptr<T> shared() const noexcept {
    RaceDisabled hidden;
    return p_;
  }

 private:
  std::shared_ptr<T> p_;
};

}  // namespace goro::detail
