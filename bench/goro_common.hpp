// Helpers for goro's own benchmarks: run a workload as a goroutine of an
// explicit Scheduler and wait for it from the benchmark's thread, with a
// warm-up run first (warm stacks, as the Go twin warms up).
//
// Each benchmark function owns one Scheduler for its whole run (thread
// start-up is not measured); each iteration runs the workload once inside a
// root goroutine, which times itself (the figure excludes the hand-off from
// the benchmark's thread to the runtime and back).
//
// The sync primitives (WaitGroup, Mutex, RWMutex, Once) arrived in goro
// after channels: workloads that need them are compiled only when their
// header exists (GORO_BENCH_HAS_SYNC) and are otherwise not registered.
#pragma once

#include <goro/goro.hpp>

#include <condition_variable>
#include <mutex>
#include <utility>

#include "common.hpp"

#if __has_include(<goro/wait_group.hpp>)
#include <goro/wait_group.hpp>
#define GORO_BENCH_HAS_WAIT_GROUP 1
#else
#define GORO_BENCH_HAS_WAIT_GROUP 0
#endif
#if __has_include(<goro/mutex.hpp>)
#include <goro/mutex.hpp>
#define GORO_BENCH_HAS_MUTEX 1
#else
#define GORO_BENCH_HAS_MUTEX 0
#endif
#if __has_include(<goro/rw_mutex.hpp>)
#include <goro/rw_mutex.hpp>
#define GORO_BENCH_HAS_RW_MUTEX 1
#else
#define GORO_BENCH_HAS_RW_MUTEX 0
#endif
#if __has_include(<goro/once.hpp>)
#include <goro/once.hpp>
#define GORO_BENCH_HAS_ONCE 1
#else
#define GORO_BENCH_HAS_ONCE 0
#endif

namespace bench {

inline goro::Options options(benchmark::State& state) {
  goro::Options o;
  o.procs = static_cast<int>(state.range(0));
  return o;
}

// Runs f() as a goroutine of s and blocks the calling (plain) thread until
// it returns. Waits with std primitives so that the harness depends on
// nothing but Scheduler::go.
template <class F>
void run_goroutine(goro::Scheduler& s, F&& f) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  s.go([&] {
    f();
    std::lock_guard lock(mu);
    done = true;
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
}

// The common loop: one warm-up run, then one run per iteration. `work` runs
// inside a goroutine and returns the nanoseconds it measured over `units`
// units of work.
template <class Work>
void goro_loop(benchmark::State& state, goro::Scheduler& s, Figure& fig, double units, Work work) {
  run_goroutine(s, [&] { (void)work(); });
  for (auto _ : state) {
    std::int64_t ns = 0;
    run_goroutine(s, [&] { ns = work(); });
    iteration_done(state, fig, ns, units);
  }
}

// BENCH.md's pingpong, run inside a goroutine: n round trips between it and
// an echo goroutine over two unbuffered channels; returns the nanoseconds
// they took. bench_channel's `pingpong:goro` and bench_trace's A/B share it.
inline std::int64_t pingpong_round_trips(std::int64_t n) {
  goro::Chan<std::int64_t> ping(0), pong(0);
  goro::go([ping, pong] {
    for (std::int64_t v : ping) pong.send(v + 1);
    pong.close();
  });
  const std::int64_t t0 = now_ns();
  for (std::int64_t i = 0; i < n; ++i) {
    ping.send(i);
    if (pong.recv() != i + 1) fail("pingpong: wrong value");
  }
  const std::int64_t ns = now_ns() - t0;
  ping.close();
  (void)pong.recv();  // the echo goroutine has finished
  return ns;
}

}  // namespace bench
