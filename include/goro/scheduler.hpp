// Scheduler — a goro runtime: `procs` processors running goroutines on a
// pool of OS threads, with work stealing between them (Go's G/M/P model; see
// detail/processor.hpp). Most programs never name one: goro::go and
// goro::run use the default runtime, started lazily on first use and sized by
// $GORO_MAXPROCS / $GOMAXPROCS / the CPU count. Name one for tests and
// embedding:
//
//   goro::Scheduler s{goro::Options{.procs = 4}};
//   s.go([] { ... });   // goroutines may spawn more with goro::go
//   // ~Scheduler waits for every goroutine of s to finish (like std::jthread)
//
// Thread-safety: every member may be called from any thread or goroutine.
// Destroying a Scheduler from one of its own goroutines is a fatal error.
// The constructor throws std::invalid_argument for out-of-range Options
// (options.hpp). go() throws std::bad_alloc when no stack can be had, leaving
// nothing started (see goro::go).
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "detail/source_location.hpp"
#include "detail/diagnostics.hpp"
#include "detail/monitor.hpp"
#include "detail/options_check.hpp"
#include "detail/processor.hpp"
#include "detail/trace_json.hpp"
#include "options.hpp"

#if GORO_DEFINE_RUNTIME  // default_options_from_env (config.hpp)
#include "detail/env.hpp"
#endif

namespace goro {

namespace detail {

#if GORO_DEFINE_RUNTIME
// Defined in metrics.hpp, included at the end of this file.
inline void write_metrics_header(std::ostream& os, Runtime* rt, const std::vector<GoroutineInfo>& gs);
#endif

// What every runtime needs once constructed: the process-wide hooks (signal
// handlers, the dump registry, the dump's metrics header) and, for the
// long-running warning, the monitor.
#if !GORO_DEFINE_RUNTIME
void start_runtime(Runtime* rt);
#else
GORO_DECL void start_runtime(Runtime* rt) {
  // Memory ordering: release pairs with write_full_dump's acquire.
  metrics_header_writer.store(&write_metrics_header, std::memory_order_release);
  install_process_hooks(rt);
  if (rt->opts.warn_long_running_ms > 0) ensure_monitor(rt);
}
#endif

// A Scheduler's runtime: built (throws std::invalid_argument for bad
// options) and started; then waited for and destroyed.
#if !GORO_DEFINE_RUNTIME
Runtime* new_runtime(const Options& options);
void delete_runtime(Runtime* rt);
#else
GORO_DECL Runtime* new_runtime(const Options& options) {
  Runtime* rt = new Runtime(options);
  start_runtime(rt);
  return rt;
}

GORO_DECL void delete_runtime(Runtime* rt) {
  rt->shutdown();  // waits for the goroutines
  remove_process_hooks(rt);
  delete rt;
}
#endif

// The default runtime: created on first use, never destroyed (when main
// returns the program ends, goroutines or not — as in Go).
//
// Invariants: default_rt is null until the runtime is fully built and
// started, then never changes; default_requested (the Options it was built
// from, before resolving procs) is written once, under default_mu, before
// default_rt is published.
inline std::atomic<Runtime*> default_rt{nullptr};
inline std::mutex default_mu;
inline Options default_requested;

// The default runtime, created from `options` (null: default_options_from_env)
// if it does not exist yet. If it exists and `options` differ from the ones
// it was created with, throws std::logic_error.
#if !GORO_DEFINE_RUNTIME
Runtime* default_runtime(const Options* options = nullptr);
#else
// Options of the default runtime when the program gives none: the defaults,
// with the GORO_* environment variables applied (detail/env.hpp).
inline Options default_options_from_env() {
  Options o;
  if (auto v = env_bool("GORO_DETECT_DEADLOCK")) o.detect_deadlock = *v;
  if (auto v = env_bool("GORO_DUMP_ON_SIGQUIT")) o.dump_on_sigquit = *v;
  if (auto v = env_uint("GORO_RANDOMIZE", 0, UINT64_MAX)) o.randomize = *v;
  if (auto v = env_int("GORO_WARN_LONG_RUNNING_MS", 0, INT_MAX)) o.warn_long_running_ms = *v;
  return o;
}

GORO_DECL Runtime* default_runtime(const Options* options = nullptr) {
  // Memory ordering: acquire pairs with the release below: a caller that
  // sees the pointer sees the runtime built.
  Runtime* rt = default_rt.load(std::memory_order_acquire);
  if (rt && !options) return rt;
  std::lock_guard<std::mutex> guard(default_mu);
  rt = default_rt.load(std::memory_order_relaxed);
  if (!rt) {
    const Options o = options ? *options : default_options_from_env();
    rt = new Runtime(o);  // throws std::invalid_argument for bad options
    start_runtime(rt);
    trace_start_from_env();
    default_requested = o;
    default_rt.store(rt, std::memory_order_release);
  } else if (options && !(*options == default_requested)) {
    throw std::logic_error(
        "goro::run(options, fn): the default runtime is already running with other options "
        "(goro::go, goro::run or another goro::run(options, fn) started it first); "
        "pass the options to the first goro::run, before any goroutine is started");
  }
  return rt;
}
#endif

// The runtime of the calling goroutine (or M), else the default one.
inline Runtime* current_runtime() {
  M* m = current_m();
  return m ? m->rt : default_runtime();
}

// Decay-copies f and args into one callable, like std::thread. Call only
// when task_is_valid<F, Args...>() holds.
template <class F, class... Args>
auto bind_task(F&& f, Args&&... args) {
  return [fn = std::decay_t<F>(std::forward<F>(f)),
          ... a = std::decay_t<Args>(std::forward<Args>(args))]() mutable {
    std::invoke(std::move(fn), std::move(a)...);
  };
}

// Whether go(f, args...) can start a goroutine, with a static_assert that
// says what to write when it cannot (instead of an error from inside
// bind_task). One message at a time: the first failing check.
template <class F, class... Args>
constexpr bool task_is_valid() {
  constexpr bool f_copyable = std::is_constructible_v<std::decay_t<F>, F>;
  constexpr bool args_copyable = (std::is_constructible_v<std::decay_t<Args>, Args> && ...);
  static_assert(f_copyable,
                "goro::go(f, args...): f cannot be copied or moved into the goroutine; "
                "pass std::ref(f) to share it (it must outlive the goroutine)");
  static_assert(!f_copyable || args_copyable,
                "goro::go(f, args...): an argument cannot be copied into the goroutine (arguments are "
                "decay-copied, as by std::thread). To share it, pass std::ref(wg) for a goro::WaitGroup wg "
                "(likewise a goro::Mutex or anything non-copyable); it must outlive the goroutine");
  if constexpr (f_copyable && args_copyable) {
    constexpr bool callable = std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>;
    static_assert(callable,
                  "goro::go(f, args...): f cannot be called with copies of args (passed as rvalues, as by "
                  "std::thread); for a parameter taken by non-const reference pass std::ref(x)");
    return callable;
  } else {
    return false;
  }
}

// Starts f(args...) on rt, created at loc: what goro::go and Scheduler::go do.
template <class F, class... Args>
void go_on(Runtime* rt, SourceLocation loc, F&& f, Args&&... args) {
  if constexpr (task_is_valid<F, Args...>()) {
    spawn(rt, bind_task(std::forward<F>(f), std::forward<Args>(args)...), loc);
  }
}

// A go with more arguments than the overloads take.
template <class... Args>
inline constexpr bool too_many_go_arguments = false;

}  // namespace detail

class Scheduler {
  using Loc = detail::SourceLocation;

 public:
  explicit Scheduler(const Options& options = {}) : rt_(detail::new_runtime(options)) {}
  ~Scheduler() { detail::delete_runtime(rt_); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts f(args...) as a goroutine of this scheduler; like goro::go (up
  // to 8 arguments, decay-copied; the caller's line is recorded for
  // goro::dump).
  template <class F>
  void go(F&& f, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f));
  }
  template <class F, class A1>
  void go(F&& f, A1&& a1, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1));
  }
  template <class F, class A1, class A2>
  void go(F&& f, A1&& a1, A2&& a2, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2));
  }
  template <class F, class A1, class A2, class A3>
  void go(F&& f, A1&& a1, A2&& a2, A3&& a3, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3));
  }
  template <class F, class A1, class A2, class A3, class A4>
  void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                  std::forward<A4>(a4));
  }
  template <class F, class A1, class A2, class A3, class A4, class A5>
  void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                  std::forward<A4>(a4), std::forward<A5>(a5));
  }
  template <class F, class A1, class A2, class A3, class A4, class A5, class A6>
  void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                  std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6));
  }
  template <class F, class A1, class A2, class A3, class A4, class A5, class A6, class A7>
  void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                  std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6), std::forward<A7>(a7));
  }
  template <class F, class A1, class A2, class A3, class A4, class A5, class A6, class A7, class A8>
  void go(F&& f, A1&& a1, A2&& a2, A3&& a3, A4&& a4, A5&& a5, A6&& a6, A7&& a7, A8&& a8, Loc loc = Loc::current()) {
    detail::go_on(rt_, loc, std::forward<F>(f), std::forward<A1>(a1), std::forward<A2>(a2), std::forward<A3>(a3),
                  std::forward<A4>(a4), std::forward<A5>(a5), std::forward<A6>(a6), std::forward<A7>(a7),
                  std::forward<A8>(a8));
  }
  template <class F, class... Args>
    requires(sizeof...(Args) > 8)
  void go(F&&, Args&&...) {
    static_assert(detail::too_many_go_arguments<Args...>,
                  "Scheduler::go takes at most 8 arguments after the function; capture more in a lambda: "
                  "s.go([=] { f(a, b, c, ...); })");
  }

  // Number of processors (Go's GOMAXPROCS).
  int procs() const noexcept { return rt_->nprocs; }

  // Goroutines started on this scheduler that have not finished.
  int num_goroutine() const noexcept { return static_cast<int>(rt_->live.load(std::memory_order_relaxed)); }

  detail::Runtime* runtime() const noexcept { return rt_; }

 private:
  detail::Runtime* rt_;
};

// Number of live goroutines of the caller's runtime (Go: runtime.NumGoroutine).
inline int num_goroutine() noexcept {
  return static_cast<int>(detail::current_runtime()->live.load(std::memory_order_relaxed));
}

// Number of processors of the caller's runtime (Go: runtime.GOMAXPROCS(0)).
inline int procs() noexcept { return detail::current_runtime()->nprocs; }

namespace detail {

// goro::run's body, on the runtime rt.
template <class F>
auto run_main(Runtime* rt, F&& fn, SourceLocation loc) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  // A reference result is kept as a pointer (std::optional<T&> does not exist).
  using Stored = std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*, R>;
  std::conditional_t<std::is_void_v<R>, bool, std::optional<Stored>> result{};
  std::exception_ptr error;
  Parker done;
  rt->nmain.fetch_add(1, std::memory_order_acq_rel);
  try {
    spawn(rt, [&] {
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
        } else if constexpr (std::is_reference_v<R>) {
          result.emplace(&fn());
        } else {
          result.emplace(fn());
        }
      } catch (...) {
        error = std::current_exception();
      }
      rt->nmain.fetch_sub(1, std::memory_order_acq_rel);
      done.unpark();
    }, loc, true);
  } catch (...) {
    rt->nmain.fetch_sub(1, std::memory_order_acq_rel);  // no goroutine was started
    throw;
  }
  done.park();
  if (error) std::rethrow_exception(error);
  if constexpr (std::is_reference_v<R>) {
    return static_cast<R>(**result);
  } else if constexpr (!std::is_void_v<R>) {
    return std::move(*result);
  }
}

}  // namespace detail

// Go's main: runs fn() as a goroutine on the default runtime, blocks the
// calling thread until it returns, and returns its result (an exception it
// throws is rethrown here). Deadlock detection watches this goroutine: if it
// and every other goroutine are blocked with nothing that could wake them,
// the program ends with Go's `all goroutines are asleep - deadlock!`.
// fn is goroutine 1, as Go's main, when it is the default runtime's first
// goroutine (no goro::go from a plain thread ran before); otherwise it gets
// the next id.
// Called from a goroutine, it just calls fn().
template <class F>
auto run(F&& fn, detail::SourceLocation loc = detail::SourceLocation::current()) -> std::invoke_result_t<F&> {
  if (detail::current_g()) return fn();
  return detail::run_main(detail::default_runtime(), fn, loc);
}

// goro::run with Options for the default runtime (deadlock detection,
// SIGQUIT dump, randomized scheduling, procs, …), which it creates with them:
//
//   int main() { return goro::run(goro::Options{.detect_deadlock = false}, real_main); }
//
// The options are used as given: the GORO_* environment variables do not
// apply (procs = 0 still reads GORO_MAXPROCS / GOMAXPROCS). Throws
// std::invalid_argument for an out-of-range field, and std::logic_error if
// the default runtime is already running with other options (it starts at
// the first goro::go from a plain thread or goro::run: pass the options to
// the first call). Called from a goroutine, it checks the options and calls
// fn().
template <class F>
auto run(const Options& options, F&& fn, detail::SourceLocation loc = detail::SourceLocation::current())
    -> std::invoke_result_t<F&> {
  detail::check_options(options);
  if (detail::current_g()) return fn();
  return detail::run_main(detail::default_runtime(&options), fn, loc);
}

}  // namespace goro

// The dump's metrics header (write_metrics_header, used by start_runtime) is
// defined with goro::metrics, which needs the Scheduler.
#include "metrics.hpp"
