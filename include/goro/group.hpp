// Group — Go's errgroup.Group: run a set of goroutines, wait for all, get
// the first error (here: the first exception) and cancel the rest.
//
//   goro::Group g(ctx);                 // or goro::Group g; (background)
//   g.set_limit(3);                     // at most 3 at once; go() blocks beyond
//   for (auto& f : files)
//     g.go([&, f](const goro::Context& ctx) { search(ctx, f); });
//   g.wait();                           // rethrows the first exception
//
// Contract: go() takes f() or f(const Context&); the context is cancelled
// when a goroutine of the group throws — with that exception as its cause
// (goro::cause(g.context()), as x/sync's errgroup does with
// WithCancelCause) — or when wait() returns. wait() waits for every
// goroutine, then rethrows the first exception (the others are dropped, as
// Go drops all but the first error). A goroutine destroys its f (and f's
// captures) before wait() can count it finished. The destructor waits too
// (but does not throw). Thread-safe; callable from goroutines and plain
// threads. set_limit() may race go() from another thread: it either applies
// before that go() (which then honours it) or throws std::logic_error
// because the group has active goroutines.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "detail/race.hpp"
#include "detail/source_location.hpp"
#include "chan.hpp"
#include "context.hpp"
#include "detail/spinlock.hpp"
#include "scheduler.hpp"
#include "wait_group.hpp"

namespace goro {

class Group {
 public:
  Group() : Group(background()) {}
  explicit Group(const Context& parent) {
    auto [ctx, cancel] = with_cancel_cause(parent);
    ctx_ = std::move(ctx);
    cancel_ = std::move(cancel);
  }

  ~Group() {
    wg_.wait();
    cancel_();
  }

  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // The group's context: cancelled on the first exception (its cause) and
  // by wait().
  const Context& context() const noexcept { return ctx_; }

  // Limits the number of active goroutines to n (n < 0: no limit; 0: go()
  // throws, try_go() fails). As in Go, it must not be changed while
  // goroutines of the group are active: then it throws std::logic_error
  // (Go panics). A go() or try_go() in progress counts as active.
  void set_limit(int n) {
    Chan<std::monostate> sem = n < 0 ? Chan<std::monostate>{} : Chan<std::monostate>(static_cast<std::size_t>(n));
    {
      detail::RaceDisabled hidden;  // the count of active goroutines orders nothing (see active_)
      detail::SpinGuard g(lock_);
      if (active_ != 0)
        throw std::logic_error("goro::Group: modify limit while goroutines in the group are still active");
      std::swap(sem_, sem);
      limit_zero_ = n == 0;
      detail::race_release_merge(&sem_);  // the new limit happens before the go() that sees it
    }
    // The old channel is freed here, outside the lock.
  }

  // Starts f in a new goroutine, first waiting for a free slot if a limit is set.
  template <class F>
  void go(F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
    Chan<std::monostate> sem;
    {
      detail::RaceDisabled hidden;  // the count of active goroutines orders nothing (see active_)
      detail::SpinGuard g(lock_);
      detail::race_acquire(&sem_);  // see set_limit
      if (limit_zero_) throw std::logic_error("goro::Group: go() with a limit of 0 would block forever");
      sem = sem_;
      ++active_;
    }
    if (!sem.is_nil()) sem.send(std::monostate{});  // Go: g.sem <- token{}
    start(std::forward<F>(f), loc, std::move(sem));
  }

  // Starts f only if a slot is free now; returns whether it started.
  template <class F>
  bool try_go(F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
    Chan<std::monostate> sem;
    {
      detail::RaceDisabled hidden;  // the count of active goroutines orders nothing (see active_)
      detail::SpinGuard g(lock_);
      detail::race_acquire(&sem_);  // see set_limit
      sem = sem_;
      ++active_;
    }
    if (!sem.is_nil() && !sem.try_send(std::monostate{})) {
      detail::RaceDisabled hidden;  // the count of active goroutines orders nothing (see active_)
      detail::SpinGuard g(lock_);
      --active_;
      return false;
    }
    start(std::forward<F>(f), loc, std::move(sem));
    return true;
  }

  // Waits for all goroutines, cancels the context (its cause: the first
  // exception, if any), rethrows the first exception. Every wait() rethrows
  // it, as Go's Wait returns the first error every time.
  void wait() {
    wg_.wait();
    std::exception_ptr e;
    {
      detail::SpinGuard g(lock_);
      e = error_;
    }
    cancel_(e);  // Go: g.cancel(g.err)
    if (e) std::rethrow_exception(e);
  }

 private:
  // Starts f; the caller has reserved an active slot (and a token of sem).
  template <class F>
  void start(F&& f, detail::SourceLocation loc, Chan<std::monostate> sem) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&, const Context&> || std::is_invocable_v<Fn&>,
                  "goro::Group::go: f must take () or (const goro::Context&)");
    wg_.add(1);
    try {
      detail::spawn(detail::current_runtime(),
                    [this, sem, fn = std::optional<Fn>(std::in_place, std::forward<F>(f))]() mutable {
                      try {
                        if constexpr (std::is_invocable_v<Fn&, const Context&>) {
                          (*fn)(ctx_);
                        } else {
                          (*fn)();
                        }
                      } catch (...) {
                        record(std::current_exception());
                      }
                      fn.reset();  // f's captures die before wait() can return
                      finish(std::move(sem));
                    },
                    loc);
    } catch (...) {
      finish(std::move(sem));  // no goroutine was started
      throw;
    }
  }

  // Go: errgroup's errOnce: the first exception is kept and cancels the context.
  void record(std::exception_ptr e) {
    bool first = false;
    {
      detail::SpinGuard g(lock_);
      if (!error_) {
        error_ = e;
        first = true;
      }
    }
    if (first) cancel_(std::move(e));
  }

  // Go: errgroup's done: give the token back, then wg.Done.
  void finish(Chan<std::monostate> sem) {
    if (!sem.is_nil()) sem.recv();
    sem = Chan<std::monostate>{};
    {
      detail::RaceDisabled hidden;  // the count of active goroutines orders nothing (see active_)
      detail::SpinGuard g(lock_);
      --active_;
    }
    wg_.done();
  }

  // Invariants:
  // - ctx_, cancel_: set by the constructor, then read-only.
  // - sem_, limit_zero_: the limit (sem_ nil: none; a channel of capacity n
  //   whose buffered tokens are the running goroutines). Changed only by
  //   set_limit, under lock_, and only while active_ == 0.
  // - active_: go()/try_go() calls in progress plus goroutines not yet
  //   finished; each holds a copy of the sem_ it took its token from.
  //   Hidden from ThreadSanitizer with the lock that guards it: each
  //   goroutine's end would otherwise order every later go() after it (Go's
  //   errgroup orders only Wait after its goroutines).
  // - error_: the first exception; set once.
  Context ctx_;
  CancelCauseFunc cancel_;
  WaitGroup wg_;
  detail::Spinlock lock_;
  Chan<std::monostate> sem_ GORO_GUARDED_BY(lock_);
  bool limit_zero_ GORO_GUARDED_BY(lock_) = false;
  int active_ GORO_GUARDED_BY(lock_) = 0;
  std::exception_ptr error_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro
