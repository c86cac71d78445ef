// Mutex — Go's sync.Mutex: a mutual-exclusion lock whose waiters park.
// A goroutine that waits for it gives its processor to other goroutines; a
// plain OS thread that waits sleeps. Use it to guard data shared between
// goroutines (and threads); use a channel to hand data over.
//
// Contract:
// - lock() blocks until the mutex is free; unlock() never blocks; try_lock()
//   never blocks (Go 1.18's TryLock). Meets the standard Lockable
//   requirements, so std::lock_guard, std::unique_lock (incl. try_to_lock)
//   and std::scoped_lock work.
// - Callable from goroutines of any runtime and from plain OS threads, in any
//   mix. Thread-safe.
// - Not owned by a goroutine (as in Go): a goroutine or thread may unlock a
//   mutex another one locked. Not recursive: locking it twice from the same
//   goroutine deadlocks (Go's deadlock detector reports it under goro::run).
// - unlock() of an unlocked mutex is fatal, as in Go:
//   `fatal error: sync: unlock of unlocked mutex`, then exit 2.
// - Fair in the long run (Go's starvation mode, below): no waiter waits for
//   more than about a millisecond longer than it must.
// - Memory: everything written before unlock() is visible after the lock()
//   that follows it. ThreadSanitizer sees that edge and no other (as Go's
//   race detector does), so a lock that merely happened to come later is no
//   excuse for an unguarded access.
// - Non-copyable, non-movable; it must outlive every call on it, except
//   that, as std::mutex allows, it may be destroyed as soon as it is
//   unlocked and no one waits for it, even while the unlock() that released
//   it to its last user is still returning.
//
//   goro::Mutex mu;
//   int counter = 0;                       // guarded by mu
//   goro::WaitGroup wg;
//   for (int i = 0; i < 1000; ++i)
//     wg.go([&] { std::lock_guard lock(mu); ++counter; });
//   wg.wait();                             // counter == 1000
//
// Go: the whole file mirrors sync/mutex.go (Go 1.21); the comments on the
// two modes are Go's. One deliberate difference, for C++ object lifetime, is
// explained at unlock_slow.
#pragma once

#include <atomic>
#include <cstdint>

#include "detail/config.hpp"
#include "detail/fatal.hpp"
#include "detail/goroutine.hpp"
#include "detail/processor.hpp"
#include "detail/race.hpp"
#include "detail/wait_queue.hpp"

namespace goro {

namespace detail {

// Active spinning for sync.Mutex. Go: sync_runtime_canSpin / doSpin.
//
// Spinning makes sense only on a multicore machine, when other Ps are
// running (one of them may release the lock soon), and only a few times.
//
// Departure from Go: Go does not spin at all while its P has other
// goroutines queued; goro spins once (one do_spin round) in that case, and
// up to four times when nothing else is queued. Without that one round a
// contended lock shared by goroutines on two Ms settles into a mode in
// which every goroutine that finds it held parks at once, the lock word
// bounces between the Ms, and a park-and-wake follows every 15–20 lock
// operations: mutex_counter at procs 2 (1000 goroutines × 1000 increments)
// took 55–97 ns per increment, against 8–13 ns with the round (measured on
// the project's 2-core AMD VM: 0.06 parks per lock without it, 0.001 with
// it). The price: a goroutine whose lock is held by a parked goroutine
// (one that blocks while holding it) spins one round, about 30 PAUSEs
// (1 µs here), before it parks, and its P's queued goroutines wait that long.
inline bool can_spin(int iter) noexcept {
  if (iter >= 4 || ncpu() <= 1) return false;
  M* m = current_m();
  if (!m || !m->p) return true;  // a plain thread: a few short spins
  Runtime* rt = m->rt;
  // Memory ordering: relaxed — a heuristic; a stale count only changes
  // whether we spin a little.
  if (rt->nprocs <= rt->npidle.load(std::memory_order_relaxed) +
                        rt->nmspinning.load(std::memory_order_relaxed) + 1)
    return false;
  return iter == 0 || m->p->runq.empty();
}

inline void do_spin() noexcept {
  for (int i = 0; i < 30; ++i) cpu_relax();
}

}  // namespace detail

class RWMutex;
class Once;

// Mutex fairness (Go's comment, sync/mutex.go).
//
// Mutex can be in 2 modes of operations: normal and starvation.
// In normal mode waiters are queued in FIFO order, but a woken up waiter
// does not own the mutex and competes with new arriving goroutines over
// the ownership. New arriving goroutines have an advantage -- they are
// already running on CPU and there can be lots of them, so a woken up
// waiter has good chances of losing. In such case it is queued at front
// of the wait queue. If a waiter fails to acquire the mutex for more than 1ms,
// it switches mutex to the starvation mode.
//
// In starvation mode ownership of the mutex is directly handed off from
// the unlocking goroutine to the waiter at the front of the queue.
// New arriving goroutines don't try to acquire the mutex even if it appears
// to be unlocked, and don't try to spin. Instead they queue themselves at
// the tail of the wait queue.
//
// If a waiter receives ownership of the mutex and sees that either
// (1) it is the last waiter in the queue, or (2) it waited for less than 1 ms,
// it switches mutex back to normal operation mode.
//
// Normal mode has considerably better performance as a goroutine can acquire
// a mutex several times in a row even if there are blocked waiters.
// Starvation mode is important to prevent pathological cases of tail latency.
class GORO_CAPABILITY("mutex") Mutex {
 public:
  Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Locks the mutex, blocking (parking) until it is free. Go: Mutex.Lock.
  void lock() GORO_ACQUIRE() { lock(detail::WaitReason::sync_mutex_lock); }

  // Tries to lock the mutex without blocking; returns whether it did.
  // Go: Mutex.TryLock. As Go's documentation says, correct uses are rare.
  bool try_lock() noexcept GORO_TRY_ACQUIRE(true) {
    detail::RaceDisabled hidden;  // ThreadSanitizer: see "Race detection" below
    detail::race_read(&state_);
    std::uint32_t old = state_.load(std::memory_order_relaxed);
    if (old & (locked | starving)) return false;
    // There may be a goroutine waiting for the mutex, but we are running now
    // and can try to grab the mutex before that goroutine wakes up.
    // Memory ordering: acquire, as in lock().
    if (!state_.compare_exchange_strong(old, old | locked, std::memory_order_acquire, std::memory_order_relaxed))
      return false;
    detail::race_acquire(this);
    return true;
  }

  // Unlocks the mutex. Go: Mutex.Unlock.
  void unlock() GORO_RELEASE() {
    detail::RaceDisabled hidden;  // ThreadSanitizer: see "Race detection" below
    detail::race_read(&state_);   // Go: `_ = m.state`
    detail::race_release(this);   // before the lock is free: the next locker acquires it
    // Fast path: drop the lock bit when there is no one to wake: no waiters,
    // or one is awake already (Go: Unlock's add, then unlockSlow's early
    // return). As in lock(), one CAS from a plain load, not a CAS expecting
    // the bare `locked` that fails whenever a waiter is counted.
    // Memory ordering: relaxed load — it only steers; the CAS checks it.
    std::uint32_t old = state_.load(std::memory_order_relaxed);
    // Memory ordering: release publishes our critical section to the next
    // locker (its acquire CAS, or its acquire load after a hand-off).
    if (GORO_LIKELY((old & (locked | starving)) == locked &&
                    ((old >> waiter_shift) == 0 || (old & woken) != 0) &&
                    state_.compare_exchange_strong(old, old - locked, std::memory_order_release,
                                                   std::memory_order_relaxed)))
      return;
    // Outlined slow path to allow inlining the fast path (`old` is the value
    // the load or the failed CAS saw).
    unlock_slow(old);
  }

 private:
  friend class RWMutex;
  friend class Once;

  static constexpr std::uint32_t locked = 1;    // mutexLocked: the mutex is locked
  static constexpr std::uint32_t woken = 2;     // mutexWoken: a waiter is awake, don't wake another
  static constexpr std::uint32_t starving = 4;  // mutexStarving: ownership is handed off
  static constexpr int waiter_shift = 3;        // mutexWaiterShift: the rest counts waiters
  static constexpr std::uint32_t one_waiter = 1u << waiter_shift;
  // Go: starvationThresholdNs. A waiter that has waited this long switches
  // the mutex to starvation mode.
  static constexpr std::int64_t starvation_threshold_ns = 1'000'000;

  // Race detection. Under ThreadSanitizer the mutex makes exactly Go's
  // edges: each unlock happens before the lock that follows it (Go:
  // race.Release(m) in Unlock, race.Acquire(m) when Lock or TryLock
  // succeeds). Its atomics and semaphore are hidden (race.hpp); each call
  // reads the state as a plain access (Go: `_ = m.state`, and Lock's
  // instrumented CAS), so that overwriting or re-constructing a mutex while
  // another goroutine uses it is reported.

  // lock() with the wait reason goroutine dumps show (RWMutex and Once lock
  // their inner Mutex with their own).
  //
  // Fast path: grab a mutex that is neither locked nor handed off, whatever
  // its waiter count and woken bit — the same transition as the first CAS
  // of lock_slow (Go's lockSlow) for a newcomer that finds it unlocked. Go's
  // fast path instead expects state 0, so every lock fails it and pays a
  // second CAS in lockSlow while any waiter is counted; under contention
  // that is most of the time (a woken waiter keeps the woken bit set until
  // it runs, which in goro is when the barging goroutine blocks or ends).
  // Measured: with a waiter counted, lock+unlock cost 2x the uncontended
  // pair with the two failed CASes, the same as uncontended without them.
  // The CAS waits for the load that gives its expected value. Tried (on
  // the project's AMD VM): when the load sees 0, a CAS expecting the
  // constant 0, hidden from the optimizer so that it is not taken from the
  // load's register, and the same in unlock for `locked`: the uncontended
  // pair 10% faster, mutex_counter at procs 2 and 4 10% slower. Not kept.
  void lock(detail::WaitReason reason) GORO_ACQUIRE() {
    detail::RaceDisabled hidden;
    detail::race_read(&state_);
    // Memory ordering: relaxed load — it only steers; acquire CAS pairs with
    // unlock's release: the previous holder's critical section is visible to
    // ours.
    std::uint32_t old = state_.load(std::memory_order_relaxed);
    if (GORO_UNLIKELY(!((old & (locked | starving)) == 0 &&
                        state_.compare_exchange_strong(old, old | locked, std::memory_order_acquire,
                                                       std::memory_order_relaxed)))) {
      // Slow path, outlined so that the fast path can be inlined.
      lock_slow(reason);
    }
    detail::race_acquire(this);
  }

  // Go: Mutex.lockSlow.
  GORO_NOINLINE void lock_slow(detail::WaitReason reason) GORO_NO_TSA {
    std::int64_t wait_start = 0;
    bool is_starving = false;
    bool awoke = false;
    int iter = 0;
    // Memory ordering (every load and failed CAS below): relaxed — a value
    // read here only steers the loop; the CAS that takes the lock acquires.
    std::uint32_t old = state_.load(std::memory_order_relaxed);
    for (;;) {
      // Don't spin in starvation mode, ownership is handed off to waiters
      // so we won't be able to acquire the mutex anyway.
      if ((old & (locked | starving)) == locked && detail::can_spin(iter)) {
        // Active spinning makes sense. Try to set the woken flag to inform
        // unlock not to wake other blocked goroutines.
        if (!awoke && (old & woken) == 0 && (old >> waiter_shift) != 0 &&
            state_.compare_exchange_strong(old, old | woken, std::memory_order_relaxed)) {
          awoke = true;
        }
        detail::do_spin();
        ++iter;
        old = state_.load(std::memory_order_relaxed);
        continue;
      }
      std::uint32_t next = old;
      // Don't try to acquire a starving mutex, new arriving goroutines must queue.
      if ((old & starving) == 0) next |= locked;
      if (old & (locked | starving)) next += one_waiter;
      // The current goroutine switches the mutex to starvation mode. But if
      // the mutex is currently unlocked, don't do the switch: unlock expects
      // that a starving mutex has waiters, which will not be true in this case.
      if (is_starving && (old & locked)) next |= starving;
      if (awoke) {
        // The goroutine has been woken from sleep, so we need to reset the
        // flag in either case.
        if ((next & woken) == 0) detail::fatal("sync: inconsistent mutex state");
        next &= ~woken;
      }
      // Memory ordering: acquire — when this CAS takes the lock (old was
      // unlocked and not starving) it pairs with the last unlock's release.
      if (state_.compare_exchange_weak(old, next, std::memory_order_acquire, std::memory_order_relaxed)) {
        if ((old & (locked | starving)) == 0) break;  // locked the mutex with the CAS
        // If we were already waiting before, queue at the front of the queue.
        const bool queue_lifo = wait_start != 0;
        if (wait_start == 0) wait_start = detail::nanotime();
        sema_.acquire(queue_lifo, reason);
        is_starving = is_starving || detail::nanotime() - wait_start > starvation_threshold_ns;
        // Memory ordering: acquire — in starvation mode the unlocker handed
        // the mutex to us; this load reads its release (fetch_sub in unlock).
        old = state_.load(std::memory_order_acquire);
        if (old & starving) {
          // If this goroutine was woken and the mutex is in starvation mode,
          // ownership was handed off to us but the mutex is in a somewhat
          // inconsistent state: the locked bit is not set and we are still
          // accounted as a waiter. Fix that.
          if ((old & (locked | woken)) != 0 || (old >> waiter_shift) == 0)
            detail::fatal("sync: inconsistent mutex state");
          std::uint32_t delta = locked - one_waiter;  // wraps: adds 1, subtracts one waiter
          if (!is_starving || (old >> waiter_shift) == 1) {
            // Exit starvation mode. Critical to do it here and consider wait
            // time. Starvation mode is so inefficient, that two goroutines
            // can go lock-step infinitely once they switch the mutex to
            // starvation mode.
            delta -= starving;
          }
          // Memory ordering: relaxed — we already own the mutex (acquired by
          // the load above); no one else writes these bits meanwhile.
          state_.fetch_add(delta, std::memory_order_relaxed);
          break;
        }
        awoke = true;
        iter = 0;
      }
      // On failure compare_exchange_weak reloaded `old`.
    }
  }

  // Go: Mutex.unlockSlow, with one difference. Go first drops the lock bit
  // (atomic add) and then, in a second CAS, grabs the right to wake a
  // waiter; here one CAS does both. Between Go's two steps another goroutine
  // may lock, unlock and - in C++, where no garbage collector keeps it
  // alive - destroy the mutex, which std::mutex's contract allows. With one
  // CAS, nothing touches *this after the step that lets others lock it,
  // except the semaphore release that a waiter still blocked in lock() is
  // owed (so the mutex cannot be destroyed yet; see Sema's lifetime note).
  // The decisions are Go's: a merged step is Go's interleaving in which no
  // one took the lock between its two steps. `old` is the state our fast
  // path saw (its load, or its failed CAS); the fast path already took the
  // cases in which no one is to be woken and the mutex is not starving.
  GORO_NOINLINE void unlock_slow(std::uint32_t old) {
    for (;;) {
      if ((old & locked) == 0) detail::fatal("sync: unlock of unlocked mutex");
      if (old & starving) {
        // Starving mode: hand off mutex ownership to the next waiter, and
        // yield our time slice so that the next waiter can start to run
        // immediately. Note: the locked bit is not set, the waiter will set
        // it after wakeup. But the mutex is still considered locked if the
        // starving bit is set, so new coming goroutines won't acquire it.
        // (Only the hand-off's receiver clears the starving bit, so it is
        // still set now.)
        // Memory ordering: release publishes our critical section; the
        // receiver acquires it by loading the state after the hand-off.
        state_.fetch_sub(locked, std::memory_order_release);
        sema_.release(true);
        return;
      }
      std::uint32_t next = old - locked;
      // If there are no waiters or a goroutine has already been woken, no
      // need to wake anyone. Otherwise grab the right to wake someone.
      const bool wake = (old >> waiter_shift) != 0 && (old & woken) == 0;
      if (wake) next = (next - one_waiter) | woken;
      // Memory ordering: release, as in unlock(); on failure relaxed (the
      // value only steers the next iteration).
      if (state_.compare_exchange_weak(old, next, std::memory_order_release, std::memory_order_relaxed)) {
        if (wake) sema_.release(false);
        return;
      }
    }
  }

  // Invariants (Go's mutex state word):
  // - bit 0 (locked): someone holds the mutex; set only by a locker's CAS (or,
  //   after a starvation hand-off, by the new owner's fetch_add), cleared only
  //   by unlock.
  // - bit 1 (woken): a waiter is awake or a spinner is about to take the
  //   lock, so unlock must not wake another; set by a spinner's CAS or an
  //   unlocker's wake CAS, cleared by that goroutine's next CAS in lock_slow.
  // - bit 2 (starving): starvation mode; set by a waiter that waited longer
  //   than the threshold, cleared by the waiter that takes the hand-off.
  // - bits 3..31: goroutines queued (or about to queue) on sema_; every one
  //   counted here will call sema_.acquire, and every sema_.release is
  //   matched by one decrement of this count.
  // All changes are atomic read-modify-writes of state_.
  std::atomic<std::uint32_t> state_{0};
  detail::Sema sema_;  // Go: Mutex.sema
};

}  // namespace goro
