// Semaphore — golang.org/x/sync/semaphore's Weighted: a weighted counting
// semaphore. It holds `size` tokens; acquire(n) takes n of them, waiting
// until they are free, and release(n) gives them back. Use it to bound a
// resource by weight (bytes in flight, concurrent workers of unequal cost);
// for "at most k goroutines at once" Group::set_limit or a buffered channel
// is simpler.
//
//   goro::Semaphore sem(4);                    // Go: semaphore.NewWeighted(4)
//   sem.acquire(2);                            // waits for 2 tokens
//   sem.release(2);
//   if (auto err = sem.acquire(ctx, 1)) ...;   // Go: if err := sem.Acquire(ctx, 1); err != nil
//   if (sem.try_acquire(1)) { ...; sem.release(1); }
//
// Contract:
// - Waiters are served in FIFO order, exactly as x/sync does: a request
//   that does not fit blocks every request behind it, even smaller ones
//   that would fit, so a large request is never starved by a stream of
//   small ones (think of n readers taking 1 token and a writer taking n).
//   try_acquire fails while anyone is waiting, for the same reason.
// - acquire blocks (a goroutine parks, a plain thread sleeps). Callable from
//   goroutines and plain OS threads, in any mix; thread-safe. Tokens may be
//   released by another goroutine or thread than the one that acquired them.
// - acquire(ctx, n) returns an empty std::error_code once it holds the n
//   tokens, or ctx.err() if ctx is done first (then it holds nothing). As in
//   Go, it fails when ctx is already done even if the tokens are free, and
//   a request larger than the size waits for ctx and then fails.
// - Misuse throws instead of hanging or corrupting the count:
//   n < 0 (or a negative size): std::invalid_argument;
//   acquire(n) — or acquire(ctx, n) with a ctx that can never be done — with
//   n > size would block forever (Go: it does): std::invalid_argument;
//   release(n) of more than is held: std::logic_error("semaphore: released
//   more than held") (Go panics with that text), and the count is unchanged.
// - Memory: a release() happens before the acquire() it lets through (the
//   semaphore's lock orders them, as Go's Weighted's Mutex does).
// - Non-copyable, non-movable; must outlive every call on it.
//
// Go: golang.org/x/sync/semaphore/semaphore.go (Weighted, notifyWaiters).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>

#include "chan.hpp"
#include "context.hpp"
#include "detail/config.hpp"
#include "detail/spinlock.hpp"
#include "detail/stack.hpp"
#include "detail/wait_queue.hpp"
#include "select.hpp"

namespace goro {

class Semaphore {
 public:
  // A semaphore of n tokens, all free. Go: semaphore.NewWeighted(n).
  explicit Semaphore(std::int64_t n) : size_(n) {
    if (n < 0) throw std::invalid_argument("goro::Semaphore: negative size " + std::to_string(n));
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Takes n tokens, waiting for them. Throws std::invalid_argument if n > size
  // (it could never succeed). Go: Weighted.Acquire(context.Background(), n).
  void acquire(std::int64_t n = 1) {
    check_weight(n, "acquire");
    lock_.lock();
    if (size_ - cur_ >= n && head_ == nullptr) {
      cur_ += n;
      lock_.unlock();
      return;
    }
    if (n > size_) {
      lock_.unlock();
      throw_too_large(n);
    }
    detail::Waiter parked;
    Node node;
    node.n = n;
    node.parked = &parked;
    push_back(&node);
    // In a synctest bubble the wait is durable, as x/sync's channel-based
    // wait is in Go (releasing to it from outside the bubble is fatal).
    // ThreadSanitizer: lock_'s synchronization is visible (Go's Weighted has a
    // Mutex), but block() unlocks it inside the runtime, which TSan does not
    // see, and the waker's edge is its own unlock of lock_ after granting:
    // both are stated here (Spinlock's only member is its atomic).
    detail::tsan_release(&lock_);
    parked.block(lock_, detail::caller_bubble() ? detail::WaitReason::semaphore_durable
                                                : detail::WaitReason::semaphore);  // releases lock_ once we can be woken
    detail::tsan_acquire(&lock_);
    // The waker set granted (and took us off the list) before wake().
    if (GORO_UNLIKELY(!node.granted)) detail::fatal("goro::Semaphore: woken without the tokens");
  }

  // Takes n tokens, waiting for them or for ctx to be done, whichever comes
  // first. Returns {} on success, else ctx.err() (holding nothing).
  // Go: Weighted.Acquire(ctx, n).
  [[nodiscard]] std::error_code acquire(const Context& ctx, std::int64_t n = 1) {
    check_weight(n, "acquire");
    const Chan<std::monostate> done = ctx.done();
    if (done.is_nil()) {  // ctx can never be done
      acquire(n);
      return {};
    }
    // ctx becoming done has "happened before" acquiring the semaphore if it
    // became done before the call began: we prefer to fail then, even if we
    // could acquire the tokens without blocking. (Go checks under its
    // mutex; a select may yield, which must not happen under lock_.)
    if (is_closed(done)) return ctx.err();
    Chan<std::monostate> ready;  // made only if we must wait (not under lock_: it allocates)
    lock_.lock();
    for (;;) {
      if (size_ - cur_ >= n && head_ == nullptr) {
        // If ctx becomes done before we return here, it becoming done must
        // have "happened concurrently" with this call — it cannot "happen
        // before" we return in this branch. So we're ok to always acquire
        // here. (Go's comment.)
        cur_ += n;
        lock_.unlock();
        return {};
      }
      if (n > size_) {
        // Don't make other acquire calls block on one that's doomed to fail.
        lock_.unlock();
        ctx.wait();
        return ctx.err();
      }
      if (!ready.is_nil()) break;
      lock_.unlock();
      ready = Chan<std::monostate>(0);
      lock_.lock();
    }
    Node node;
    node.n = n;
    node.ready = ready;
    push_back(&node);
    lock_.unlock();

    bool was_done = false;
    select(on_recv(done, [&] { was_done = true; }), on_recv(ready));
    if (was_done) {
      lock_.lock();
      if (node.granted) {
        // Acquired the tokens after we were cancelled. Pretend we didn't and
        // put them back.
        cur_ -= n;
        notify_waiters_and_unlock();
      } else {
        const bool front = head_ == &node;
        unlink(&node);
        // If we were at the front and there are tokens left, the waiters
        // behind us may fit now.
        if (front && size_ > cur_) {
          notify_waiters_and_unlock();
        } else {
          lock_.unlock();
        }
      }
      return ctx.err();
    }
    // Acquired the tokens. Check that ctx isn't already done (Go checks the
    // done channel rather than calling ctx.Err: it is cheaper).
    if (is_closed(done)) {
      release(n);
      return ctx.err();
    }
    return {};
  }

  // Takes n tokens if they are free and nobody is waiting; never blocks.
  // Go: Weighted.TryAcquire.
  [[nodiscard]] bool try_acquire(std::int64_t n = 1) {
    check_weight(n, "try_acquire");
    detail::SpinGuard g(lock_);
    const bool success = size_ - cur_ >= n && head_ == nullptr;
    if (success) cur_ += n;
    return success;
  }

  // Gives back n tokens and lets the waiters that now fit through, in FIFO
  // order. Never blocks. Go: Weighted.Release.
  void release(std::int64_t n = 1) {
    check_weight(n, "release");
    lock_.lock();
    if (GORO_UNLIKELY(n > cur_)) {
      lock_.unlock();
      throw std::logic_error("semaphore: released more than held");
    }
    cur_ -= n;
    notify_waiters_and_unlock();
  }

  // The number of tokens (Go: the n of NewWeighted).
  std::int64_t size() const noexcept { return size_; }

 private:
  // A waiter, on its own stack. Go: waiter.
  struct Node {
    std::int64_t n = 0;
    detail::Waiter* parked = nullptr;  // acquire(n): woken by Waiter::wake
    Chan<std::monostate> ready;        // acquire(ctx, n): closed when granted
    bool granted = false;
    Node* next = nullptr;
    Node* prev = nullptr;
  };

  // Go: select { case <-done: return true; default: return false } — a
  // receive, so that the close happens before our return for the race
  // detector too.
  static bool is_closed(const Chan<std::monostate>& done) { return select(on_recv(done), on_default()) == 0; }

  static void check_weight(std::int64_t n, const char* op) {
    if (GORO_UNLIKELY(n < 0))
      throw std::invalid_argument(std::string("goro::Semaphore::") + op + ": negative weight " + std::to_string(n));
  }

  [[noreturn]] void throw_too_large(std::int64_t n) const {
    throw std::invalid_argument("goro::Semaphore::acquire: weight " + std::to_string(n) +
                                " exceeds the semaphore's size " + std::to_string(size_) +
                                " (it would block forever)");
  }

  void push_back(Node* w) GORO_REQUIRES(lock_) {
    w->prev = tail_;
    w->next = nullptr;
    if (tail_) tail_->next = w;
    else head_ = w;
    tail_ = w;
  }

  void unlink(Node* w) GORO_REQUIRES(lock_) {
    if (w->prev) w->prev->next = w->next;
    else head_ = w->next;
    if (w->next) w->next->prev = w->prev;
    else tail_ = w->prev;
    w->next = w->prev = nullptr;
  }

  // Go: notifyWaiters. Grants tokens to the waiters at the front, in order,
  // while the front one fits; then wakes them, outside the lock. Called with
  // lock_ held; returns with it released.
  //
  // A parked waiter cannot leave before it is woken, so it is collected and
  // woken at the end. An acquire(ctx, n) waiter may leave as soon as the
  // lock is released (its ctx may be done), so its channel handle is copied
  // under the lock and closed after it, one at a time.
  void notify_waiters_and_unlock() GORO_RELEASE(lock_) GORO_NO_TSA {
    detail::WaitList woken;
    for (;;) {
      Chan<std::monostate> ready;
      while (Node* w = head_) {
        if (size_ - cur_ < w->n) {
          // Not enough tokens for the next waiter. We could keep going (to
          // try to find a waiter with a smaller request), but under load that
          // could cause starvation for large requests; instead, we leave all
          // remaining waiters blocked. (Go's comment, abridged.)
          break;
        }
        cur_ += w->n;
        unlink(w);
        w->granted = true;
        if (w->parked) {
          woken.push_back(w->parked);
        } else {
          ready = w->ready;
          break;
        }
      }
      lock_.unlock();
      if (ready.is_nil()) break;
      ready.close();
      lock_.lock();
    }
    // A woken waiter may return at once: unlink it before waking it.
    // ThreadSanitizer: these reads of the waiters' Waiter (on their stacks)
    // are runtime internals, not recorded: the woken waiter, which reuses
    // that memory as soon as it returns, is ordered after our unlock of
    // lock_ above, not after them.
    detail::TsanIgnoreAccesses internals;
    while (detail::Waiter* w = woken.pop_front()) w->wake();
  }

  // Invariants (Go's Weighted):
  // - size_: immutable.
  // - cur_: tokens held, 0 <= cur_ <= size_; under lock_.
  // - head_/tail_: the FIFO of waiters not yet granted; under lock_. A Node
  //   lives on its waiter's stack; it is in the list until the waker grants
  //   it (sets granted and unlinks it, under lock_, adding its n to cur_)
  //   or its acquire(ctx, n) gives up (unlinks itself under lock_).
  // - A granted Node's parked Waiter is touched once more, by wake(), which
  //   it waits for; a granted Node's channel is closed through a copy of its
  //   handle, so the Node itself may be gone by then.
  const std::int64_t size_;
  detail::Spinlock lock_;
  std::int64_t cur_ GORO_GUARDED_BY(lock_) = 0;
  Node* head_ GORO_GUARDED_BY(lock_) = nullptr;
  Node* tail_ GORO_GUARDED_BY(lock_) = nullptr;
};

}  // namespace goro
