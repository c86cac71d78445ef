// goro::blocking benchmarks (goro extras; Go twins use syscalls that go
// through Go's entersyscall/exitsyscall):
//   blocking_immediate  a call that returns at once (getpid): ns per call
//   blocking_1ms        64 goroutines x 10 blocking 1 ms calls: wall ms
//                       (ideal ~10 ms: the Ps are handed to other threads)
//   parallel_fetch      the seed's concurrent fetcher, network replaced by a
//                       blocking 50 ms call: 10 goroutines, Mutex-guarded
//                       results, one WaitGroup: wall ms (ideal ~50 ms)
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "goro_common.hpp"

namespace {

// A blocking OS call of d (not goro::sleep_for: the thread really blocks).
[[maybe_unused]] void nanosleep_for(std::chrono::nanoseconds d) {
  timespec ts{static_cast<time_t>(d.count() / 1'000'000'000), static_cast<long>(d.count() % 1'000'000'000)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// ---- blocking_immediate --------------------------------------------------------

void bm_blocking_immediate(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(1'000'000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] {
    long pid = 0;
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) pid += goro::blocking([] { return ::syscall(SYS_getpid); });
    const std::int64_t ns = bench::now_ns() - t0;
    if (pid != n * static_cast<long>(::getpid())) bench::fail("blocking_immediate:goro: wrong result");
    return ns;
  });
  fig.report(state, "ns_per_op");
}
GORO_BENCH(bm_blocking_immediate, "blocking_immediate:goro")->Apply(bench::procs_1);

#if GORO_BENCH_HAS_WAIT_GROUP

// ---- blocking_1ms ------------------------------------------------------------------

void bm_blocking_1ms(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const int goroutines = 64, calls = 10;
  bench::Figure fig;
  bench::goro_loop(state, s, fig, 1e6 /* ns per ms */, [] {
    goro::WaitGroup wg;
    std::atomic<int> made{0};
    const std::int64_t t0 = bench::now_ns();
    wg.add(goroutines);
    for (int i = 0; i < goroutines; ++i) {
      goro::go([&] {
        for (int j = 0; j < calls; ++j) {
          goro::blocking([] { nanosleep_for(std::chrono::milliseconds(1)); });
          made.fetch_add(1, std::memory_order_relaxed);
        }
        wg.done();
      });
    }
    wg.wait();
    const std::int64_t ns = bench::now_ns() - t0;
    if (made.load() != goroutines * calls) bench::fail("blocking_1ms:goro: lost calls");
    return ns;
  });
  fig.report(state, "wall_ms");
}
GORO_BENCH(bm_blocking_1ms, "blocking_1ms:goro")->Apply(bench::sweep_procs);

#if GORO_BENCH_HAS_MUTEX

// ---- parallel_fetch ----------------------------------------------------------------

void bm_parallel_fetch(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const int urls = 10;
  bench::Figure fig;
  bench::goro_loop(state, s, fig, 1e6 /* ns per ms */, [] {
    goro::WaitGroup wg;
    goro::Mutex mu;
    std::vector<int> results;
    const std::int64_t t0 = bench::now_ns();
    for (int i = 0; i < urls; ++i) {
      wg.add(1);
      goro::go([&, i] {
        goro::blocking([] { nanosleep_for(std::chrono::milliseconds(50)); });  // http.Get
        {
          std::lock_guard lock(mu);
          results.push_back(i);
        }
        wg.done();
      });
    }
    wg.wait();
    const std::int64_t ns = bench::now_ns() - t0;
    if (results.size() != static_cast<std::size_t>(urls)) bench::fail("parallel_fetch:goro: lost results");
    return ns;
  });
  fig.report(state, "wall_ms");
}
GORO_BENCH(bm_parallel_fetch, "parallel_fetch:goro")->Apply(bench::sweep_procs);

#endif
#endif

}  // namespace

BENCHMARK_MAIN();
