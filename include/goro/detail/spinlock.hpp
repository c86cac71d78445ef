// Spinlock — a tiny test-and-test-and-set lock for goro's internal critical
// sections. They are short and never block: queue links, timer-heap pushes,
// the idle lists, a channel's bookkeeping and the move of one element (T's
// nothrow move constructor, as Go's chan.go copies under its lock). Work
// that may block or take long — creating a thread, waking one (a futex
// system call), a goroutine snapshot, writing to stderr — is collected
// under the lock and done after it. It never parks: holding it across a
// goroutine switch or a blocking system call is a bug. Use goro::Mutex in
// user code.
#pragma once

#include <atomic>
#include <sched.h>

#include "config.hpp"

namespace goro::detail {

class GORO_CAPABILITY("mutex") Spinlock {
 public:
  void lock() noexcept GORO_ACQUIRE() {
    // Memory ordering: acquire pairs with unlock's release, so everything
    // the previous holder wrote is visible to us.
    if (GORO_LIKELY(!locked_.exchange(true, std::memory_order_acquire))) return;
    lock_slow();
  }

  bool try_lock() noexcept GORO_TRY_ACQUIRE(true) {
    // Memory ordering: relaxed peek (it only avoids a write); the exchange
    // acquires, as in lock().
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }

  void unlock() noexcept GORO_RELEASE() {
    // Memory ordering: release publishes the critical section.
    locked_.store(false, std::memory_order_release);
  }

 private:
  GORO_NOINLINE void lock_slow() noexcept {
    for (unsigned spins = 0;; ++spins) {
      // Test before test-and-set: spin on a shared read, not on writes.
      // Memory ordering: relaxed — it only says when to try; the exchange
      // below acquires.
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins++ < 64) {
          cpu_relax();
        } else {
          // The holder may have been preempted by the OS: let it run.
          ::sched_yield();
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  std::atomic<bool> locked_{false};
};

// RAII guard usable with the thread-safety analysis (std::lock_guard is not
// annotated in libstdc++).
class GORO_TSA(scoped_lockable) SpinGuard {
 public:
  explicit SpinGuard(Spinlock& l) noexcept GORO_ACQUIRE(l) : l_(l) { l_.lock(); }
  ~SpinGuard() GORO_RELEASE() { l_.unlock(); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  Spinlock& l_;
};

}  // namespace goro::detail
