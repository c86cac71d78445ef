// wait_queue — how every goro primitive blocks: a Waiter on a WaitList,
// two kinds of waiter. A goroutine parks (its thread runs other goroutines); a plain OS
// thread (main, a std::thread) sleeps on its own Parker. The primitive's
// lock protects the queue; block() releases it only once the waiter can
// safely be woken (for a goroutine: once its context is saved — Go's
// gopark(unlockf)).
//
// Sema is Go's runtime semaphore (sema.go: semacquire1/semrelease1) on top
// of it: the building block of Mutex, RWMutex and WaitGroup.
//
// ThreadSanitizer: a wake-up is no happens-before edge by itself (Go's
// runtime is invisible to its race detector): each primitive states its own
// edges (race.hpp), and all of this runs hidden (RaceDisabled).
#pragma once

#include <atomic>
#include <cstdint>
#include <sched.h>

#include "config.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "parker.hpp"
#include "processor.hpp"
#include "race.hpp"
#include "spinlock.hpp"

namespace goro::detail {

// The calling plain thread's parker. Not inlined: see current_m(). Hidden
// from TSan: inside goro::blocking, goroutines that take turns on one thread
// share it (and its lazy initialization), which TSan would take for a race.
GORO_NOINLINE inline Parker& thread_parker() noexcept {
  asm volatile("" ::: "memory");
  RaceDisabled hidden;
  static thread_local Parker p __attribute__((tls_model("initial-exec")));
  return p;
}

// One blocked party. Lives on the blocked party's stack; a waker must not
// touch it after wake() (the waiter may return at once).
//
// Invariants: next/prev/queued under the owning queue's lock; ticket, elem,
// success, race_wake and the select fields are written by the waker before
// wake() and read by the waiter after it wakes (wake() publishes them);
// race_park is set by the waiter before it blocks, and then taken (set to
// null) by a waker or dropped by the waiter after it wakes.
struct Waiter {
  Waiter() noexcept {
    G* cur = current_g();
    if (cur) g = cur;
    else parker = &thread_parker();
  }
  Waiter(G* cur, Parker* p) noexcept : g(cur), parker(p) {}
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  G* g = nullptr;            // a goroutine, or
  Parker* parker = nullptr;  // a plain thread
  Waiter* next = nullptr;
  Waiter* prev = nullptr;
  bool queued = false;
  std::uintptr_t ticket = 0;  // hand-off result set by the waker
  void* elem = nullptr;       // channels: the value's slot
  // select: the shared "who won" word, and this case's index.
  std::atomic<std::uint32_t>* select_done = nullptr;
  std::uint32_t case_index = 0;
  bool success = false;       // channels: false means woken by close
  // TSan clock tokens (race.hpp), channels only: the waiter's clock when it
  // blocked, which a waker may take to act for it (Go: racereleaseacquireg
  // on sg.g), and one the waker leaves for it to acquire once awake.
  void* race_park = nullptr;
  void* race_wake = nullptr;

  // Wakes the waiter. Call without holding the queue's lock if possible
  // (ready() may take the scheduler lock).
  void wake() noexcept {
    // Read what we need first: once woken, the waiter may return and reuse
    // this memory.
    G* gg = g;
    Parker* pp = parker;
    if (gg) {
      ready(gg);
    } else {
      pp->unpark();
    }
  }


  // Blocks the caller until wake(). `lock` is held on entry and released.
  // Always inlined: a goroutine's switch then lands in the frame of the
  // primitive that blocks (see park).
  template <class Lock>
  GORO_ALWAYS_INLINE void block(Lock& lock, WaitReason reason) GORO_RELEASE(lock) GORO_NO_TSA {
    if (g) {
      park(&unlock_fn<Lock>, &lock, reason);
    } else {
      lock.unlock();
      parker->park();
    }
  }

 private:
  template <class Lock>
  static bool unlock_fn(G*, void* l) GORO_NO_TSA {
    static_cast<Lock*>(l)->unlock();
    return true;
  }
};

// An intrusive FIFO of Waiters. Not thread-safe: guarded by its owner's lock.
class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Waiter* front() const noexcept { return head_; }

  void push_back(Waiter* w) noexcept {
    w->next = nullptr;
    w->prev = tail_;
    if (tail_) tail_->next = w;
    else head_ = w;
    tail_ = w;
    w->queued = true;
  }

  void push_front(Waiter* w) noexcept {
    w->prev = nullptr;
    w->next = head_;
    if (head_) head_->prev = w;
    else tail_ = w;
    head_ = w;
    w->queued = true;
  }

  void remove(Waiter* w) noexcept {
    if (w->prev) w->prev->next = w->next;
    else head_ = w->next;
    if (w->next) w->next->prev = w->prev;
    else tail_ = w->prev;
    w->next = w->prev = nullptr;
    w->queued = false;
  }

  Waiter* pop_front() noexcept {
    Waiter* w = head_;
    if (w) remove(w);
    return w;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// Go's runtime semaphore, one per primitive (Go hashes addresses into a
// shared table; a per-object queue costs a few words and no hashing).
//
// Lifetime: unlike Go's table, the queue lives in the primitive, which C++
// code may destroy as soon as the acquire that a release() allowed has
// returned (std::mutex's rule; `{ WaitGroup wg; ...; wg.wait(); }`). So an
// acquire does not return while a release() that published a count may
// still touch the Sema: releases in flight are counted in releasers_, and a
// successful acquire waits (briefly: a release never blocks) until it is 0.
class Sema {
 public:
  explicit Sema(std::uint32_t initial = 0) noexcept : count_(initial) {}

  bool try_acquire() noexcept {
    RaceDisabled hidden;
    if (!take()) return false;
    wait_for_releasers();
    return true;
  }

  // Go: semacquire1. lifo puts the waiter at the head (a waiter that was
  // already woken once and lost the race, as sync.Mutex does).
  void acquire(bool lifo, WaitReason reason) GORO_NO_TSA {
    RaceDisabled hidden;
    chaos_point();
    if (take()) return wait_for_releasers();
    Waiter w;
    for (;;) {
      lock_.lock();
      // Memory ordering: seq_cst — release() increments count then reads
      // nwait; we increment nwait then read count: one of us sees the other
      // (a store-buffering pair: all four accesses must be seq_cst). The
      // re-check's first load of count is seq_cst too: a relaxed one may
      // read a count older than the release() that then reads nwait == 0,
      // and both miss each other (a lost wake-up). x86 cannot do that after
      // a locked add; arm64 can move a later load before an earlier
      // store-release (LDAPR, or a plain LDR, past STLR).
      nwait_.fetch_add(1, std::memory_order_seq_cst);
      if (take(std::memory_order_seq_cst)) {
        // Memory ordering: relaxed — under lock_ (a stale nonzero only
        // sends a release() to take lock_ and find no waiter).
        nwait_.fetch_sub(1, std::memory_order_relaxed);
        lock_.unlock();
        return wait_for_releasers();
      }
      if (lifo) waiters_.push_front(&w);
      else waiters_.push_back(&w);
      w.block(lock_, reason);
      if (w.ticket != 0 || take()) return wait_for_releasers();
    }
  }

  // Go: semrelease1. handoff passes the count directly to the first waiter
  // and yields to it (sync.Mutex's starvation mode).
  void release(bool handoff) {
    RaceDisabled hidden;
    // Memory ordering: relaxed — the seq_cst (hence release) increment of
    // count_ below orders it before any acquire that takes our count.
    releasers_.fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_seq_cst);
    // Memory ordering: seq_cst — the other half of acquire()'s pair (above).
    if (nwait_.load(std::memory_order_seq_cst) == 0) return release_done();
    lock_.lock();
    // Memory ordering: relaxed — under lock_, which every change of nwait_
    // holds.
    if (nwait_.load(std::memory_order_relaxed) == 0) {
      lock_.unlock();
      return release_done();
    }
    Waiter* w = waiters_.pop_front();
    if (w) nwait_.fetch_sub(1, std::memory_order_relaxed);  // under lock_, as above
    lock_.unlock();
    if (!w) return release_done();
    if (handoff && take()) w->ticket = 1;
    const bool handed = w->ticket == 1;
    const bool goroutine = current_g() != nullptr;
    // Last touch of *this: w cannot return before wake(), and an acquirer
    // that took the count may now return and free the Sema.
    release_done();
    w->wake();
    // Let the waiter run now rather than after our time slice (Go: goyield).
    if (handed && goroutine) yield_current();
  }

 private:
  // Go: cansemacquire. `first`: the order of the first load of count —
  // relaxed on the fast paths (a stale 0 only sends us to the slow path,
  // which re-checks), seq_cst for acquire()'s re-check (see there).
  bool take(std::memory_order first = std::memory_order_relaxed) noexcept {
    std::uint32_t v = count_.load(first);
    while (v > 0) {
      // Memory ordering: acquire pairs with release()'s increment; failure
      // relaxed: the value read only steers the next attempt.
      if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  void release_done() noexcept {
    // Memory ordering: release — our accesses to *this happen before the
    // acquirer's wait_for_releasers() sees 0 (and frees the Sema, perhaps).
    releasers_.fetch_sub(1, std::memory_order_release);
  }

  // Called after taking a count: lets a release() that may have published
  // it finish with *this. A release never blocks or switches goroutines
  // in between, so this spins for a few hundred nanoseconds at most,
  // unless the OS preempted the releasing thread.
  void wait_for_releasers() noexcept {
    // Memory ordering: acquire pairs with release_done().
    for (unsigned spins = 0; releasers_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < 64) cpu_relax();
      else ::sched_yield();
    }
  }

  // Invariants: count_ and releasers_ change only by atomic RMWs; nwait_
  // and waiters_ under lock_ (nwait_ is also read without it, see above);
  // nwait_ counts the Waiters in waiters_ plus an acquirer between its
  // increment and its re-check under lock_.
  std::atomic<std::uint32_t> count_;
  std::atomic<std::uint32_t> nwait_{0};
  std::atomic<std::uint32_t> releasers_{0};  // release() calls between their first and last touch of *this
  Spinlock lock_;
  WaitList waiters_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro::detail
