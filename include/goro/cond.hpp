// Cond — Go's sync.Cond: a condition variable, a rendezvous point for
// goroutines waiting for, or announcing, a change of some state guarded by
// a goro::Mutex. In Go (and here) channels are usually simpler; Cond fits
// "many waiters, one condition, wake one or all" patterns.
//
// Contract:
// - wait() must be called with the mutex locked. It atomically unlocks it
//   and suspends the caller (a goroutine parks, a plain thread sleeps); when
//   woken by signal() or broadcast() it locks the mutex again before
//   returning. As in Go, the condition must be re-checked in a loop
//   (another goroutine may have changed it before the mutex was retaken):
//       mu.lock(); while (!ready) cv.wait(); ... mu.unlock();
//   or cv.wait([&] { return ready; }).
// - No spurious wake-ups (Go's guarantee): wait() returns only after a
//   signal() or broadcast() that came after it started waiting.
// - signal() wakes the longest-waiting caller (FIFO), broadcast() all
//   current waiters. Neither blocks, and neither needs the mutex held
//   (holding it is allowed and usual).
// - Callable from goroutines and plain OS threads, in any mix. Thread-safe.
// - Non-copyable, non-movable; must outlive every call on it. The Mutex
//   must outlive the Cond.
// - Memory: signal() and broadcast() order nothing by themselves; the mutex
//   does (wait() relocks it). ThreadSanitizer sees it so too, as Go's race
//   detector does (sync/cond.go has no race annotations).
//
//   goro::Mutex mu;
//   goro::Cond cv(mu);
//   std::deque<Job> jobs;                 // guarded by mu
//   // consumer                           // producer
//   mu.lock();                            mu.lock();
//   while (jobs.empty()) cv.wait();       jobs.push_back(job);
//   Job j = take(jobs);                   mu.unlock();
//   mu.unlock();                          cv.signal();
//
// Go: sync/cond.go on top of runtime/sema.go's notifyList (a ticket per
// waiter: a wake-up addresses a ticket, so it cannot be stolen by a caller
// that started waiting after it).
#pragma once

#include <atomic>
#include <cstdint>

#include "detail/config.hpp"
#include "detail/goroutine.hpp"
#include "detail/race.hpp"
#include "detail/spinlock.hpp"
#include "detail/wait_queue.hpp"
#include "mutex.hpp"

namespace goro {

class Cond {
 public:
  explicit Cond(Mutex& mu) noexcept : mu_(mu) {}
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // The mutex this Cond was made with (Go: Cond.L).
  Mutex& mutex() const noexcept { return mu_; }

  // Unlocks the mutex, waits for a signal() or broadcast(), relocks the
  // mutex. Go: Cond.Wait.
  void wait() GORO_NO_TSA {
    const std::uint32_t t = notify_list_add();
    mu_.unlock();  // the mutex's edges are Go's, and visible
    notify_list_wait(t);
    mu_.lock();
  }

  // wait() until pred() holds (checked with the mutex locked).
  template <class Pred>
  void wait(Pred pred) {
    while (!pred()) wait();
  }

  // Wakes the goroutine or thread that has waited longest, if any.
  // Go: Cond.Signal (runtime notifyListNotifyOne).
  void signal() {
    detail::RaceDisabled hidden;  // no edge (see the contract)
    // Fast path: if there are no new waiters since the last notification
    // we don't need to acquire the lock.
    // Memory ordering: acquire/acquire — pairs with notify_list_add's RMW
    // and with the release stores of notify_; if they are equal, every
    // ticket handed out has already been notified.
    if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
    Waiter* found = nullptr;
    {
      detail::SpinGuard guard(lock_);
      // Re-check under the lock if we need to do anything.
      const std::uint32_t t = notify_.load(std::memory_order_relaxed);  // relaxed: only written under lock_
      // Memory ordering: relaxed — under lock_; a waiter that took a ticket
      // and has not queued yet re-checks notify_ under lock_ too. A ticket
      // taken before this signal (ordered by the user's mutex) is seen by
      // coherence; one taken concurrently may be missed, as in Go.
      if (t == wait_.load(std::memory_order_relaxed)) return;
      // Update the next notify ticket number.
      // Memory ordering: release pairs with the fast paths' acquire loads.
      notify_.store(t + 1, std::memory_order_release);
      // Try to find the waiter that needs to be notified. If it hasn't
      // made it to the list yet we won't find it, but it won't park itself
      // once it sees the new notify_ number.
      for (Waiter* w = waiters_.front(); w; w = w->next) {
        if (static_cast<std::uint32_t>(w->ticket) == t) {
          waiters_.remove(w);
          found = w;
          break;
        }
      }
    }
    // Wake after unlocking: wake() may take the scheduler's lock.
    if (found) found->wake();
  }

  // Wakes every goroutine and thread waiting now. Go: Cond.Broadcast
  // (runtime notifyListNotifyAll).
  void broadcast() {
    detail::RaceDisabled hidden;
    // Fast path: see signal().
    // Memory ordering: as in signal().
    if (wait_.load(std::memory_order_acquire) == notify_.load(std::memory_order_acquire)) return;
    detail::WaitList all;
    {
      // Pull the list out into a local variable, waiters will be readied
      // outside the lock.
      detail::SpinGuard guard(lock_);
      while (Waiter* w = waiters_.pop_front()) all.push_back(w);
      // Update the next ticket to be notified. We can set it to the current
      // value of wait_ because any previous waiters are already in the list
      // or will notice that they have already been notified when trying to
      // add themselves to the list.
      // Memory ordering: release pairs with the fast paths' acquire loads;
      // relaxed load of wait_ is enough under lock_ (see notify_list_wait).
      notify_.store(wait_.load(std::memory_order_relaxed), std::memory_order_release);
    }
    // Go through the local list and ready all waiters. A woken waiter may
    // return and destroy its Waiter at once: unlink it before waking it.
    while (Waiter* w = all.pop_front()) w->wake();
  }

 private:
  using Waiter = detail::Waiter;

  // Go: notifyListAdd. Takes the caller's ticket; called with mu_ held, so
  // tickets follow the order in which waiters locked the mutex.
  std::uint32_t notify_list_add() noexcept {
    detail::RaceDisabled hidden;
    // Memory ordering: acq_rel — one total order of tickets; release makes
    // the ticket visible to a signal()'s fast-path acquire load.
    return wait_.fetch_add(1, std::memory_order_acq_rel);
  }

  // Go: notifyListWait. Blocks unless ticket t was already notified.
  void notify_list_wait(std::uint32_t t) GORO_NO_TSA {
    detail::RaceDisabled hidden;
    Waiter w;
    lock_.lock();
    // Return right away if this ticket has already been notified.
    // Memory ordering: relaxed — under lock_, which every store to notify_ holds.
    if (less(t, notify_.load(std::memory_order_relaxed))) {
      lock_.unlock();
      return;
    }
    // Enqueue itself.
    w.ticket = t;
    waiters_.push_back(&w);
    // Releases lock_ once we can safely be woken (Go: goparkunlock).
    w.block(lock_, detail::WaitReason::sync_cond_wait);
  }

  // Go: less in sema.go — a < b, allowing for the tickets wrapping around.
  static bool less(std::uint32_t a, std::uint32_t b) noexcept {
    return static_cast<std::int32_t>(a - b) < 0;
  }

  // Invariants (Go's notifyList):
  // - wait_: the ticket of the next waiter; incremented atomically, outside
  //   lock_ (by a waiter holding mu_).
  // - notify_: the ticket of the next waiter to be notified; written only
  //   under lock_, read without it only by the fast paths. Every ticket
  //   below notify_ (mod 2^32) has been notified: its waiter returns at once
  //   or has been unlinked and woken.
  // - waiters_: the waiters parked with a ticket >= notify_, under lock_.
  //   A Waiter lives on its waiter's stack; a waker unlinks it before waking it.
  Mutex& mu_;  // Go: L
  std::atomic<std::uint32_t> wait_{0};
  std::atomic<std::uint32_t> notify_{0};
  detail::Spinlock lock_;
  detail::WaitList waiters_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro
