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
// when a goroutine of the group throws, or when wait() returns. wait()
// waits for every goroutine, then rethrows the first exception (the others
// are dropped, as Go drops all but the first error). The destructor waits
// too (but does not throw). Thread-safe; callable from goroutines and plain
// threads.
#pragma once

#include <exception>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

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
    auto [ctx, cancel] = with_cancel(parent);
    ctx_ = std::move(ctx);
    cancel_ = std::move(cancel);
  }

  ~Group() {
    wg_.wait();
    cancel_();
  }

  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  // The group's context: cancelled on the first exception and by wait().
  const Context& context() const noexcept { return ctx_; }

  // Limits the number of active goroutines to n (n < 0: no limit). Like Go,
  // it must not be changed while goroutines of the group are running.
  void set_limit(int n) {
    if (active_.load(std::memory_order_acquire) != 0)
      throw std::logic_error("goro::Group: modify limit while goroutines in the group are still active");
    sem_ = n < 0 ? Chan<std::monostate>{} : Chan<std::monostate>(static_cast<std::size_t>(n));
    limit_zero_ = n == 0;
  }

  // Starts f in a new goroutine, first waiting for a free slot if a limit is set.
  template <class F>
  void go(F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
    if (limit_zero_) throw std::logic_error("goro::Group: go() with a limit of 0 would block forever");
    if (!sem_.is_nil()) sem_.send(std::monostate{});
    start(std::forward<F>(f), loc);
  }

  // Starts f only if a slot is free now; returns whether it started.
  template <class F>
  bool try_go(F&& f, detail::SourceLocation loc = detail::SourceLocation::current()) {
    if (!sem_.is_nil() && !sem_.try_send(std::monostate{})) return false;
    start(std::forward<F>(f), loc);
    return true;
  }

  // Waits for all goroutines, cancels the context, rethrows the first
  // exception. Every wait() rethrows it, as Go's Wait returns the first error
  // every time.
  void wait() {
    wg_.wait();
    cancel_();
    std::exception_ptr e;
    {
      detail::SpinGuard g(lock_);
      e = error_;
    }
    if (e) std::rethrow_exception(e);
  }

 private:
  template <class F>
  void start(F&& f, detail::SourceLocation loc) {
    wg_.add(1);
    active_.fetch_add(1, std::memory_order_acq_rel);
    detail::spawn(detail::current_runtime(),
                  [this, fn = std::decay_t<F>(std::forward<F>(f))]() mutable {
                    try {
                      if constexpr (std::is_invocable_v<decltype(fn)&, const Context&>) {
                        fn(ctx_);
                      } else {
                        static_assert(std::is_invocable_v<decltype(fn)&>,
                                      "goro::Group::go: f must take () or (const goro::Context&)");
                        fn();
                      }
                    } catch (...) {
                      bool first = false;
                      {
                        detail::SpinGuard g(lock_);
                        if (!error_) {
                          error_ = std::current_exception();
                          first = true;
                        }
                      }
                      if (first) cancel_();
                    }
                    if (!sem_.is_nil()) sem_.recv();
                    active_.fetch_sub(1, std::memory_order_acq_rel);
                    wg_.done();
                  },
                  loc);
  }

  Context ctx_;
  CancelFunc cancel_;
  WaitGroup wg_;
  Chan<std::monostate> sem_;  // nil: no limit
  bool limit_zero_ = false;
  std::atomic<int> active_{0};
  detail::Spinlock lock_;
  std::exception_ptr error_ GORO_GUARDED_BY(lock_);
};

}  // namespace goro
