// sync benchmarks (BENCH.md: mutex_counter, rwmutex_read_mostly, once_fast;
// goro extras: uncontended_mutex, waitgroup_round). Go twins in go/main.go;
// std::mutex / std::shared_mutex / std::call_once in baselines/threads_bench.cpp.
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "goro_common.hpp"

namespace {

#if GORO_BENCH_HAS_MUTEX && GORO_BENCH_HAS_WAIT_GROUP

// ---- mutex_counter: 1000 goroutines x 1000 increments under one Mutex -----------

void bm_mutex_counter(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const int goroutines = 1000;
  const std::int64_t per = bench::scale(1000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(goroutines * per), [per] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    std::int64_t counter = 0;
    const std::int64_t t0 = bench::now_ns();
    wg.add(goroutines);
    for (int i = 0; i < goroutines; ++i) {
      goro::go([&] {
        for (std::int64_t j = 0; j < per; ++j) {
          std::lock_guard lock(mu);
          ++counter;
        }
        wg.done();
      });
    }
    wg.wait();
    const std::int64_t ns = bench::now_ns() - t0;
    if (counter != goroutines * per) {
      bench::fail("mutex_counter:goro: counter " + std::to_string(counter) + ", want " +
                  std::to_string(goroutines * per));
    }
    return ns;
  });
  fig.report(state, "ns_per_increment");
}
GORO_BENCH(bm_mutex_counter, "mutex_counter:goro")->Apply(bench::sweep_procs);

// ---- uncontended_mutex: lock + unlock, one goroutine ------------------------------

void bm_uncontended_mutex(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(10'000'000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] {
    goro::Mutex mu;
    std::int64_t x = 0;
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
      mu.lock();
      ++x;
      mu.unlock();
    }
    const std::int64_t ns = bench::now_ns() - t0;
    if (x != n) bench::fail("uncontended_mutex:goro: lost increments");
    return ns;
  });
  fig.report(state, "ns_per_op");
}
GORO_BENCH(bm_uncontended_mutex, "uncontended_mutex:goro")->Apply(bench::procs_1);

#endif

#if GORO_BENCH_HAS_RW_MUTEX && GORO_BENCH_HAS_WAIT_GROUP

// ---- rwmutex_read_mostly: 1000 goroutines x 1000 ops, 1 write per 100 --------------

void bm_rwmutex_read_mostly(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const int goroutines = 1000, keys = 1000;
  const std::int64_t per = bench::scale(1000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(goroutines * per), [per] {
    std::unordered_map<int, std::int64_t> map;
    for (int k = 0; k < keys; ++k) map[k] = k;
    goro::RWMutex mu;
    goro::WaitGroup wg;
    std::vector<std::int64_t> read_sum(goroutines);
    const std::int64_t t0 = bench::now_ns();
    wg.add(goroutines);
    for (int id = 0; id < goroutines; ++id) {
      goro::go([&, id] {
        std::uint32_t x = static_cast<std::uint32_t>(id) * 2654435761u + 1;  // as the Go twin
        std::int64_t sum = 0;
        for (std::int64_t j = 0; j < per; ++j) {
          x = x * 1664525u + 1013904223u;
          const int k = static_cast<int>((x >> 16) % keys);
          if (j % 100 == 0) {
            std::unique_lock lock(mu);
            ++map[k];
          } else {
            std::shared_lock lock(mu);
            sum += map.find(k)->second;
          }
        }
        read_sum[static_cast<std::size_t>(id)] = sum;
        wg.done();
      });
    }
    wg.wait();
    const std::int64_t ns = bench::now_ns() - t0;
    std::int64_t total = 0;
    for (auto& [k, v] : map) total += v;
    const std::int64_t writes = goroutines * ((per + 99) / 100);
    if (total != keys * (keys - 1) / 2 + writes || map.size() != static_cast<std::size_t>(keys)) {
      bench::fail("rwmutex_read_mostly:goro: wrong map contents");
    }
    return ns;
  });
  fig.report(state, "ns_per_op");
}
GORO_BENCH(bm_rwmutex_read_mostly, "rwmutex_read_mostly:goro")->Apply(bench::sweep_procs);

#endif

#if GORO_BENCH_HAS_ONCE

// ---- once_fast: Once::call after the first call ---------------------------------------

// Measured on the benchmark's own thread: after the first call Once::call is
// one acquire load, the same from a goroutine or a plain thread.
void bm_once_fast(benchmark::State& state) {
  const std::int64_t n = bench::scale(20'000'000);
  bench::Figure fig;
  goro::Once once;
  int calls = 0;
  once.call([&] { ++calls; });
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
      once.call([&] { ++calls; });
      benchmark::ClobberMemory();  // one real load per call, as in the baseline
    }
    const std::int64_t ns = bench::now_ns() - t0;
    bench::iteration_done(state, fig, ns, static_cast<double>(n));
  }
  if (calls != 1) bench::fail(state, "once_fast:goro: the function ran " + std::to_string(calls) + " times");
  fig.report(state, "ns");
}
GORO_BENCH(bm_once_fast, "once_fast:goro")->Apply(bench::procs_1);

#endif

#if GORO_BENCH_HAS_WAIT_GROUP

// ---- waitgroup_round: add(1); done(); wait() in one goroutine ---------------------------

void bm_waitgroup_round(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(10'000'000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] {
    goro::WaitGroup wg;
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
      wg.add(1);
      wg.done();
      wg.wait();
    }
    return bench::now_ns() - t0;
  });
  fig.report(state, "ns_per_op");
}
GORO_BENCH(bm_waitgroup_round, "waitgroup_round:goro")->Apply(bench::procs_1);

#endif

}  // namespace

BENCHMARK_MAIN();
