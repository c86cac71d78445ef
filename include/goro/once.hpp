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
//
// once_func, once_value, once_values — Go 1.21's sync.OnceFunc, OnceValue
// and OnceValues: wrap f in a callable that runs f on its first call only.
//
//   auto init = goro::once_func([] { setup(); });          // init() runs setup() once
//   auto config = goro::once_value([] { return load(); });  // const Config& c = config();
//   auto file = goro::once_values([] { return std::pair{open(path), std::error_code{}}; });
//   const auto& [fd, err] = file();
//
// Contract (Go's, not std::call_once's):
// - The returned callable is a cheap copyable handle; copies share the one
//   call of f. Thread-safe; callable from goroutines and plain threads.
//   Callers that race the first call wait for it (a goroutine parks).
// - If f throws, the call counts as done, as Go's does: that call and every
//   later one rethrow the same exception (one exception object, shared
//   through std::exception_ptr: catch it by const reference). Go re-panics
//   with the same value. (GCC's ThreadSanitizer may report the object's
//   destruction by the last holder as a race: libstdc++'s exception
//   reference count is not instrumented.)
// - f is destroyed (with its captures) as soon as it has run (Go sets f to
//   nil). Calling the callable from inside f is fatal, as for Once::call.
// - once_value's callable returns a const reference to the stored result
//   (f's result decayed to a value; move-only types work), valid while any
//   copy of the callable lives. Go returns a copy; write `T v = get();`.
// - once_values is Go's two-result form: f returns a std::pair or
//   std::tuple (Go's (T1, T2)), and the callable returns a const reference
//   to it, for structured bindings. It is once_value restricted to tuples.
// - Memory: everything f did is visible to every caller once the call returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
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
    // Memory ordering: relaxed — owner_ is only compared with the caller's
    // own identity (see call_slow): no other thread relies on this store.
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

namespace detail {

template <class T>
inline constexpr bool is_pair_or_tuple = false;
template <class A, class B>
inline constexpr bool is_pair_or_tuple<std::pair<A, B>> = true;
template <class... Ts>
inline constexpr bool is_pair_or_tuple<std::tuple<Ts...>> = true;

// The shared state of a once_func / once_value callable.
// Invariants: fn is set at creation and destroyed by the one call of f;
// result and error are written by that call only, under once's mutex, and
// read after once.call() has returned (which orders them).
template <class Fn, class V>
struct OnceState {
  Once once;
  std::optional<Fn> fn;
  std::exception_ptr error;
  std::conditional_t<std::is_void_v<V>, bool, std::optional<V>> result{};

  // Go: the g closure of OnceFunc/OnceValue: catch, record, drop f.
  void run() noexcept {
    try {
      if constexpr (std::is_void_v<V>) {
        (*fn)();
      } else {
        result.emplace((*fn)());
      }
    } catch (...) {
      error = std::current_exception();
    }
    fn.reset();
  }

  void call_once() {
    once.call([this] { run(); });
    if (error) std::rethrow_exception(error);
  }
};

template <class F>
auto make_once_state(F&& f) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  using V = std::conditional_t<std::is_void_v<R>, void, std::remove_cvref_t<R>>;
  auto s = std::make_shared<OnceState<Fn, V>>();
  s->fn.emplace(std::forward<F>(f));
  return s;
}

}  // namespace detail

// Go: sync.OnceFunc(f) (Go 1.21). A callable that runs f() on its first
// call and returns; later calls return at once, or rethrow f's exception.
template <class F>
auto once_func(F&& f) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "goro::once_func: f must be callable with no arguments");
  return [s = detail::make_once_state(std::forward<F>(f))] { s->call_once(); };
}

// Go: sync.OnceValue(f) (Go 1.21). A callable that runs f() on its first
// call and returns a const reference to its result on every call (or
// rethrows f's exception).
template <class F>
auto once_value(F&& f) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "goro::once_value: f must be callable with no arguments");
  static_assert(!std::is_void_v<std::invoke_result_t<std::decay_t<F>&>>,
                "goro::once_value: f must return a value (use once_func for a void f)");
  auto s = detail::make_once_state(std::forward<F>(f));
  using V = std::remove_cvref_t<decltype(*s->result)>;
  return [s]() -> const V& {
    s->call_once();
    return *s->result;
  };
}

// Go: sync.OnceValues(f) (Go 1.21). f returns a std::pair or std::tuple
// (Go's two results); the callable returns a const reference to it.
template <class F>
auto once_values(F&& f) {
  static_assert(std::is_invocable_v<std::decay_t<F>&>, "goro::once_values: f must be callable with no arguments");
  static_assert(detail::is_pair_or_tuple<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>,
                "goro::once_values: f must return a std::pair or std::tuple (Go's multiple results)");
  return once_value(std::forward<F>(f));
}

}  // namespace goro
