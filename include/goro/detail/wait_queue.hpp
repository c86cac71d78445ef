// WaitQueue — how every goro primitive blocks: one queue, two kinds of
// waiter. A goroutine parks (its thread runs other goroutines); a plain OS
// thread (main, a std::thread) sleeps on its own Parker. The primitive's
// lock protects the queue; block() releases it only once the waiter can
// safely be woken (for a goroutine: once its context is saved — Go's
// gopark(unlockf)).
//
// Sema is Go's runtime semaphore (sema.go: semacquire1/semrelease1) on top
// of it: the building block of Mutex, RWMutex and WaitGroup.
#pragma once

#include <atomic>
#include <cstdint>

#include "config.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "parker.hpp"
#include "processor.hpp"
#include "spinlock.hpp"

namespace goro::detail {

// The calling plain thread's parker. Not inlined: see current_m().
GORO_NOINLINE inline Parker& thread_parker() noexcept {
  asm volatile("" ::: "memory");
  static thread_local Parker p __attribute__((tls_model("initial-exec")));
  return p;
}

// One blocked party. Lives on the blocked party's stack; a waker must not
// touch it after wake() (the waiter may return at once).
//
// Invariants: next/prev/queued under the owning queue's lock; ticket, elem
// and the select fields are written by the waker before wake() and read by
// the waiter after it wakes (wake() publishes them).
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

  // Wakes the waiter. Call without holding the queue's lock if possible
  // (ready() may take the scheduler lock).
  void wake() noexcept {
    if (g) {
      ready(g);
    } else {
      parker->unpark();
    }
  }

  // Blocks the caller until wake(). `lock` is held on entry and released.
  template <class Lock>
  void block(Lock& lock, WaitReason reason) GORO_RELEASE(lock) GORO_NO_TSA {
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
class Sema {
 public:
  explicit Sema(std::uint32_t initial = 0) noexcept : count_(initial) {}

  bool try_acquire() noexcept {
    std::uint32_t v = count_.load(std::memory_order_relaxed);
    while (v > 0) {
      // Memory ordering: acquire pairs with release()'s increment.
      if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Go: semacquire1. lifo puts the waiter at the head (a waiter that was
  // already woken once and lost the race, as sync.Mutex does).
  void acquire(bool lifo, WaitReason reason) GORO_NO_TSA {
    chaos_point();
    if (try_acquire()) return;
    Waiter w;
    for (;;) {
      lock_.lock();
      // Memory ordering: seq_cst — release() increments count then reads
      // nwait; we increment nwait then read count: one of us sees the other.
      nwait_.fetch_add(1, std::memory_order_seq_cst);
      if (try_acquire()) {
        nwait_.fetch_sub(1, std::memory_order_relaxed);
        lock_.unlock();
        return;
      }
      if (lifo) waiters_.push_front(&w);
      else waiters_.push_back(&w);
      w.block(lock_, reason);
      if (w.ticket != 0 || try_acquire()) return;
    }
  }

  // Go: semrelease1. handoff passes the count directly to the first waiter
  // and yields to it (sync.Mutex's starvation mode).
  void release(bool handoff) {
    count_.fetch_add(1, std::memory_order_seq_cst);
    if (nwait_.load(std::memory_order_seq_cst) == 0) return;
    lock_.lock();
    if (nwait_.load(std::memory_order_relaxed) == 0) {
      lock_.unlock();
      return;
    }
    Waiter* w = waiters_.pop_front();
    if (w) nwait_.fetch_sub(1, std::memory_order_relaxed);
    lock_.unlock();
    if (!w) return;
    if (handoff && try_acquire()) w->ticket = 1;
    const bool handed = w->ticket == 1;
    const bool goroutine = current_g() != nullptr;
    w->wake();
    // Let the waiter run now rather than after our time slice (Go: goyield).
    if (handed && goroutine) yield_current();
  }

  std::uint32_t waiters() const noexcept { return nwait_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint32_t> count_;
  std::atomic<std::uint32_t> nwait_{0};
  Spinlock lock_;
  WaitList waiters_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro::detail
