// WaitGroup — Go's sync.WaitGroup: waits for a collection of goroutines to
// finish. The main goroutine calls add(n) for the n goroutines it starts,
// each calls done() when it finishes, and wait() blocks until all have —
// or, simpler (Go 1.25's WaitGroup.Go), wg.go(f) does the add, the spawn and
// the done for you.
//
// Contract:
// - wait() blocks (a goroutine parks, a plain thread sleeps) until the
//   counter is zero; add() and done() never block.
// - Callable from goroutines of any runtime and from plain OS threads, in any
//   mix: main may wait for goroutines, goroutines for threads. Thread-safe.
// - As in Go, calls with a positive delta that start while the counter is
//   zero must happen before wait(); a WaitGroup may be reused for a new round
//   once every wait() of the previous round has returned.
// - Misuse is fatal with Go's messages, then exit 2:
//   `fatal error: sync: negative WaitGroup counter`,
//   `fatal error: sync: WaitGroup misuse: Add called concurrently with Wait`,
//   `fatal error: sync: WaitGroup is reused before previous Wait has returned`.
// - Memory: everything a goroutine did before done() is visible after the
//   wait() that it unblocks (Go: done "synchronizes before" the return of
//   any wait it unblocks). ThreadSanitizer sees that edge and no other, as
//   Go's race detector does: done()s do not order each other, nor add()s
//   anything; an add() that starts from zero concurrently with a wait() is
//   reported as a race (Go: the misuse "Add called concurrently with Wait").
// - Non-copyable, non-movable; it must outlive every call on it. It may be
//   destroyed as soon as wait() returns in the only waiter (the usual
//   `{ WaitGroup wg; ...; wg.wait(); }`).
//
//   goro::WaitGroup wg;
//   for (int i = 1; i <= 5; ++i)
//     wg.go([i] { worker(i); });     // Go: wg.Go(func() { worker(i) })
//   wg.wait();                       // all five have finished
//
// Go: mirrors sync/waitgroup.go (Go 1.21's algorithm, Go 1.25's Go method).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/config.hpp"
#include "detail/fatal.hpp"
#include "detail/goroutine.hpp"
#include "detail/race.hpp"
#include "detail/source_location.hpp"
#include "detail/wait_queue.hpp"
#include "scheduler.hpp"

namespace goro {

class WaitGroup {
 public:
  WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // Adds delta (possibly negative) to the counter; when it reaches zero,
  // every goroutine or thread blocked in wait() is released. A negative
  // counter is fatal. Go: WaitGroup.Add.
  void add(int delta) {
    // ThreadSanitizer (Go: sync/waitgroup.go): a done() merges its past into
    // the WaitGroup's clock, which wait() acquires; the counter, the
    // semaphore and add()s with a positive delta make no edge.
    detail::RaceDisabled hidden;
    if (delta < 0) detail::race_release_merge(this);
    // Memory ordering: relaxed — a caller inside a bubble created that
    // bubble's count itself (program order); others only skip a check.
    if (GORO_UNLIKELY(detail::live_bubbles.load(std::memory_order_relaxed) != 0)) associate_bubble();
    // Memory ordering: acq_rel — release publishes what this goroutine did
    // before done(); acquire lets the call that brings the counter to zero
    // carry every earlier done()'s release on to the waiters (the RMWs form
    // one release sequence), through the semaphore.
    const std::uint64_t state =
        state_.fetch_add(static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32,
                         std::memory_order_acq_rel) +
        (static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32);
    const auto v = static_cast<std::int32_t>(state >> 32);  // counter
    const auto w = static_cast<std::uint32_t>(state);       // waiters
    // The first increment must be ordered with wait(): a read here, a write
    // in the first waiter (Go models it so: several counters may go up from
    // zero concurrently, waiters may not).
    if (delta > 0 && v == delta) detail::race_read(&sema_);
    if (GORO_UNLIKELY(v < 0)) detail::fatal("sync: negative WaitGroup counter");
    if (GORO_UNLIKELY(w != 0 && delta > 0 && v == delta))
      detail::fatal("sync: WaitGroup misuse: Add called concurrently with Wait");
    if (GORO_LIKELY(v > 0 || w == 0)) return;
    release_waiters(state, w);
  }

  // Decrements the counter by one. Go: WaitGroup.Done.
  void done() { add(-1); }

  // Blocks until the counter is zero. Go: WaitGroup.Wait.
  void wait() {
    detail::RaceDisabled hidden;
    wait_counter_zero();
    detail::race_acquire(this);  // every done() happens before (see add)
  }

  // Starts f() in a new goroutine tracked by this group: add(1), then the
  // goroutine runs f, destroys it (f is decay-copied, like std::thread's
  // function, so this destroys its captures), and only then calls done():
  // when wait() returns, no capture of f is still alive (std::thread +
  // join gives the same guarantee). The goroutine starts on the caller's
  // runtime (the default one from a plain thread), like goro::go.
  // As in Go, an exception escaping f is fatal: goro prints `goroutine N
  // [running]: uncaught exception: ...` and calls std::terminate; done() is
  // not called. Go: WaitGroup.Go (Go 1.25).
  template <class F>
  void go(F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "goro::WaitGroup::go: f must be callable with no arguments");
    add(1);
    try {
      detail::spawn(detail::current_runtime(),
                    [this, fn = std::optional<Fn>(std::in_place, std::forward<F>(f))]() mutable {
                      (*fn)();
                      fn.reset();  // the captures die before the waiter is released
                      done();
                    },
                    loc);
    } catch (...) {
      done();  // no goroutine was started (copying f or getting a stack failed)
      throw;
    }
  }

 private:
  // synctest (Go 1.25): a WaitGroup that add() is called on from inside a
  // bubble belongs to that bubble while its counter is not zero; waiting on
  // it is then a durable wait, and add() from outside the bubble (or from
  // another bubble) is fatal, with Go's messages. Once the counter is back
  // to zero it may be used anywhere again.
  GORO_NOINLINE void associate_bubble() {
    const std::uint64_t mine = detail::caller_bubble_id();
    // Memory ordering: relaxed — the association is checked, not relied on
    // for ordering (the counter and the semaphore order the rest).
    std::uint64_t owner = bubble_.load(std::memory_order_relaxed);
    for (;;) {
      if (owner == mine) return;
      const bool idle = (state_.load(std::memory_order_relaxed) >> 32) == 0;
      if (!idle) {
        detail::fatal(owner != 0 && mine != 0 ? "sync: WaitGroup.Add called from multiple synctest bubbles"
                                              : "sync: WaitGroup.Add called from inside and outside synctest bubble");
      }
      if (bubble_.compare_exchange_weak(owner, mine, std::memory_order_relaxed)) return;
    }
  }

  // A durable wait if the WaitGroup belongs to the caller's bubble.
  detail::WaitReason wait_reason() const noexcept {
    const std::uint64_t owner = bubble_.load(std::memory_order_relaxed);  // a label: see associate_bubble
    return owner != 0 && owner == detail::caller_bubble_id() ? detail::WaitReason::sync_waitgroup_wait_durable
                                                           : detail::WaitReason::sync_waitgroup_wait;
  }

  void wait_counter_zero() {
    // Memory ordering: acquire — reading a zero counter (or the CAS below)
    // synchronizes with the done() that brought it to zero.
    std::uint64_t state = load_state();
    for (;;) {
      const auto v = static_cast<std::int32_t>(state >> 32);
      if (v == 0) return;  // counter is 0, no need to wait
      // Increment the waiter count.
      // Memory ordering: acquire on failure, for the reloaded state as for
      // the first load; on success the semaphore hand-off below carries the
      // done()s' writes (acquire there too: GCC rejects a failure order
      // stronger than the success order).
      if (cas_state(state, state + 1)) {
        if (static_cast<std::uint32_t>(state) == 0) detail::race_write(&sema_);  // see add
        sema_.acquire(false, wait_reason());
        // Memory ordering: relaxed — a sanity check; the sema ordered us after the reset.
        if (state_.load(std::memory_order_relaxed) != 0)
          detail::fatal("sync: WaitGroup is reused before previous Wait has returned");
        return;
      }
      // On failure compare_exchange_weak reloaded `state` (with acquire).
    }
  }

  // Called inside add's or wait's RaceDisabled scope.
  std::uint64_t load_state() noexcept {
    return state_.load(std::memory_order_acquire);  // acquire: see wait_counter_zero
  }

  bool cas_state(std::uint64_t& expected, std::uint64_t desired) noexcept {
    // Memory ordering: acquire on both outcomes: see wait_counter_zero.
    return state_.compare_exchange_weak(expected, desired, std::memory_order_acquire, std::memory_order_acquire);
  }

  // The counter just reached zero with w waiters: release them all.
  GORO_NOINLINE void release_waiters(std::uint64_t state, std::uint32_t w) {
    // This goroutine has set the counter to 0 when waiters > 0. Now there
    // can't be concurrent mutations of the state:
    // - adds must not happen concurrently with wait,
    // - wait does not increment waiters if it sees counter == 0.
    // Still do a cheap sanity check to detect WaitGroup misuse.
    // Memory ordering: relaxed — a sanity check on a word no one may change now.
    if (state_.load(std::memory_order_relaxed) != state)
      detail::fatal("sync: WaitGroup misuse: Add called concurrently with Wait");
    // Reset the waiter count to 0.
    // Memory ordering: relaxed — the waiters read it after the semaphore
    // hand-off, which orders this store before their load.
    state_.store(0, std::memory_order_relaxed);
    for (; w != 0; --w) sema_.release(false);
  }

  // Invariants:
  // - state_: high 32 bits the counter (a signed int32: how many done()s are
  //   still expected), low 32 bits the number of waiters blocked or about to
  //   block on sema_. Changed only by atomic RMWs, except the reset to 0 by
  //   the add() that brought the counter to zero with waiters: from then on
  //   until it returns, no one else may change it (adds must not race with
  //   that wait; waits see counter 0 and return at once).
  // - sema_: released exactly once per waiter counted in state_.
  // - bubble_: the synctest bubble's id this WaitGroup belongs to (0: none);
  //   changed only by add() called while the counter is zero.
  std::atomic<std::uint64_t> state_{0};  // Go: WaitGroup.state
  std::atomic<std::uint64_t> bubble_{0};  // Go: the bubble association (synctest.Associate)
  detail::Sema sema_;                    // Go: WaitGroup.sema
};

}  // namespace goro
