// Once — Go's sync.Once: runs a function exactly once, however many
// goroutines (or threads) ask for it at the same time. Use it for lazy
// initialisation shared between goroutines. Unlike a function-local static
// or std::call_once, the callers that wait for the first call park their
// goroutine instead of blocking their thread, so the function may itself
// sleep, use channels or wait for other goroutines.
//
// Contract:
// - call(f, args...) runs std::invoke(f, args...) if no call has completed
//   yet, and blocks (parks; a plain thread sleeps) while another call is
//   running f; it returns once some f has returned. After that every call
//   returns at once (one acquire load).
// - Callable from goroutines and plain OS threads, in any mix. Thread-safe.
// - If f throws, the exception propagates to that caller and the Once stays
//   not done; one of the blocked callers (or the next caller) then runs its
//   own f. This is std::call_once's rule. Go differs: its Once counts a call
//   that panicked as done.
// - Calling call() on the same Once from inside f (in the same goroutine or
//   plain thread) would wait for itself forever: it is detected and fatal,
//   `fatal error: sync: Once.call called recursively from inside its own
//   function (deadlock)`, then exit 2. (Go deadlocks.)
// - Memory: everything f did is visible to every caller once call() returns.
// - Non-copyable, non-movable; must outlive every call on it.
//
//   goro::Once once;
//   std::unique_ptr<Config> cfg;
//   const Config& config() {
//     once.call([] { cfg = load_config(); });   // Go: once.Do(func() {...})
//     return *cfg;
//   }
//
// Go: mirrors sync/once.go (a done flag, and a Mutex for the slow path).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>

#include "detail/config.hpp"
#include "detail/fatal.hpp"
#include "detail/goroutine.hpp"
#include "detail/machine.hpp"
#include "detail/wait_queue.hpp"
#include "mutex.hpp"

namespace goro {

class Once {
 public:
  Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // Runs std::invoke(f, args...) unless a call has already completed.
  // Go: Once.Do.
  template <class F, class... Args>
  void call(F&& f, Args&&... args) {
    // Fast path. Memory ordering: acquire pairs with the release store of
    // done_ after f returned, so f's effects are visible to us.
    if (GORO_LIKELY(done_.load(std::memory_order_acquire))) return;
    // Outlined slow path to allow inlining the fast path.
    call_slow(std::forward<F>(f), std::forward<Args>(args)...);
  }

  // Whether a call has completed (f returned normally).
  bool done() const noexcept {
    // Memory ordering: acquire, as in call(): a true result makes f's
    // effects visible.
    return done_.load(std::memory_order_acquire);
  }

 private:
  // Who runs f now: the running goroutine's G, or, on a plain thread, the
  // address of that thread's parker (unique among live threads). Compared
  // only with the caller's own identity, so a reused address is harmless:
  // the caller can only read its own value while it is itself inside f.
  static std::uintptr_t self() noexcept {
    if (detail::G* g = detail::current_g()) return reinterpret_cast<std::uintptr_t>(g);
    return reinterpret_cast<std::uintptr_t>(&detail::thread_parker());
  }

  // Clears owner_ when f returns or throws.
  struct OwnerReset {
    std::atomic<std::uintptr_t>& owner;
    ~OwnerReset() { owner.store(0, std::memory_order_relaxed); }
  };

  // Unlocks mu_ when f returns or throws (std::lock_guard is not annotated
  // for the thread-safety analysis).
  struct Unlocker {
    Mutex& mu;
    ~Unlocker() GORO_NO_TSA { mu.unlock(); }
  };

  // Go: Once.doSlow.
  template <class F, class... Args>
  GORO_NOINLINE void call_slow(F&& f, Args&&... args) GORO_NO_TSA {
    const std::uintptr_t me = self();
    // Memory ordering: relaxed — by coherence a caller reads its own
    // identity here only if it stored it itself and is still inside f.
    if (GORO_UNLIKELY(owner_.load(std::memory_order_relaxed) == me))
      detail::fatal("sync: Once.call called recursively from inside its own function (deadlock)");
    mu_.lock(detail::WaitReason::sync_once);
    Unlocker unlock{mu_};
    // Memory ordering: relaxed — mu_ orders us after the call that set it.
    if (done_.load(std::memory_order_relaxed)) return;
    // Memory ordering: relaxed — read only by this same caller (above).
    owner_.store(me, std::memory_order_relaxed);
    {
      OwnerReset reset{owner_};
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    }
    // Memory ordering: release publishes f's effects to the fast path's
    // acquire load (callers blocked on mu_ are ordered by mu_ itself).
    done_.store(true, std::memory_order_release);
  }

  // Invariants:
  // - done_: false until a call of f has returned normally, then true
  //   forever; written only under mu_.
  // - owner_: the identity (self()) of the caller running f, 0 otherwise;
  //   written only under mu_, read without it only to detect recursion.
  // - mu_: held by the caller that is checking done_ or running f.
  std::atomic<bool> done_{false};
  std::atomic<std::uintptr_t> owner_{0};
  Mutex mu_;
};

}  // namespace goro
