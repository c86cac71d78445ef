// Scheduler benchmarks: the cost of a switch, of a goroutine, of a tree of a
// million goroutines, of sleeping, of a parked goroutine's memory, and of an
// idle runtime (BENCH.md: switch, spawn_join, skynet, sleep_fanout,
// live_memory, idle_cpu). Go twins in go/main.go; baselines in baselines/.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "goro_common.hpp"

namespace {

using namespace std::chrono_literals;

// ---- switch: two goroutines yield() to each other on one P -------------------

void bm_switch(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(1'000'000);
  bench::Figure fig;
  // The root goroutine is one of the two: it starts its partner, then both
  // yield n times; each yield hands the P to the other one (one switch).
  bench::goro_loop(state, s, fig, 2.0 * static_cast<double>(n), [n] {
    std::atomic<bool> partner_done{false};
    std::int64_t partner_yields = 0;
    goro::go([&] {
      for (std::int64_t i = 0; i < n; ++i) {
        goro::yield();
        ++partner_yields;
      }
      partner_done.store(true, std::memory_order_release);
    });
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) goro::yield();
    while (!partner_done.load(std::memory_order_acquire)) goro::yield();
    const std::int64_t ns = bench::now_ns() - t0;
    if (partner_yields != n) bench::fail("switch:goro: partner lost yields");
    return ns;
  });
  fig.report(state, "ns_per_switch");
}
GORO_BENCH(bm_switch, "switch:goro")->Apply(bench::procs_1);

// ---- skynet: 10-ary tree of 1,111,111 goroutines, sums over channels ---------

// Canonical skynet (github.com/atemerev/skynet), as in the Go twin: each
// parent makes one unbuffered channel shared by its ten children.
void skynet(goro::Chan<std::int64_t> out, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    out.send(num);
    return;
  }
  goro::Chan<std::int64_t> rc(0);
  for (std::int64_t i = 0; i < div; ++i) goro::go(skynet, rc, num + i * (size / div), size / div, div);
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) sum += *rc.recv();
  out.send(sum);
}

void bm_skynet(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t leaves = bench::scale(1'000'000);
  const std::int64_t want = leaves * (leaves - 1) / 2;  // 499999500000 for 1,000,000
  bench::Figure fig;
  bench::goro_loop(state, s, fig, 1e6 /* ns per ms */, [&] {
    goro::Chan<std::int64_t> c(0);
    const std::int64_t t0 = bench::now_ns();
    goro::go(skynet, c, std::int64_t{0}, leaves, std::int64_t{10});
    const std::int64_t sum = *c.recv();
    const std::int64_t ns = bench::now_ns() - t0;
    if (sum != want) {
      bench::fail(state, "skynet sum " + std::to_string(sum) + ", want " + std::to_string(want));
    }
    return ns;
  });
  fig.report(state, "ms");
}
GORO_BENCH(bm_skynet, "skynet:goro")->Apply(bench::sweep_procs);

#if GORO_BENCH_HAS_WAIT_GROUP

// ---- spawn_join: 100,000 goroutines, trivial body, one WaitGroup --------------

void bm_spawn_join(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = bench::scale(100'000);
  bench::Figure fig;
  bench::goro_loop(state, s, fig, static_cast<double>(n), [n] {
    goro::WaitGroup wg;
    std::atomic<std::int64_t> ran{0};
    const std::int64_t t0 = bench::now_ns();
    wg.add(static_cast<int>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      goro::go([&] {
        ran.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      });
    }
    wg.wait();
    const std::int64_t ns = bench::now_ns() - t0;
    if (ran.load() != n) bench::fail("spawn_join:goro: not every goroutine ran");
    return ns;
  });
  fig.report(state, "ns_per_goroutine");
}
GORO_BENCH(bm_spawn_join, "spawn_join:goro")->Apply(bench::sweep_procs);

// ---- sleep_fanout: 10,000 goroutines each sleep_for(100ms) ---------------------

void bm_sleep_fanout(benchmark::State& state) {
  goro::Scheduler s{bench::options(state)};
  const std::int64_t n = 10'000;
  bench::Figure wall, cpu;
  // One run measures wall and CPU time; the first, untimed, warms the
  // scheduler's stack pool, as the Go twin's runtime is warm from the
  // workloads before it in the same process.
  auto run = [&](std::int64_t& ns, double& used) {
    bench::run_goroutine(s, [&] {
      goro::WaitGroup wg;
      std::atomic<std::int64_t> woke{0};
      const double c0 = bench::cpu_ms();
      const std::int64_t t0 = bench::now_ns();
      wg.add(static_cast<int>(n));
      for (std::int64_t i = 0; i < n; ++i) {
        goro::go([&] {
          goro::sleep_for(100ms);
          woke.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        });
      }
      wg.wait();
      ns = bench::now_ns() - t0;
      used = bench::cpu_ms() - c0;
      if (woke.load() != n) bench::fail("sleep_fanout:goro: not every goroutine woke");
    });
  };
  {
    std::int64_t ns = 0;
    double used = 0;
    run(ns, used);
  }
  for (auto _ : state) {
    std::int64_t ns = 0;
    double used = 0;
    run(ns, used);
    state.SetIterationTime(static_cast<double>(ns) / 1e9);
    wall.add(static_cast<double>(ns) / 1e6);
    cpu.add(used);
  }
  wall.report(state, "wall_ms");
  cpu.report(state, "cpu_ms");
}
GORO_BENCH(bm_sleep_fanout, "sleep_fanout:goro")->Apply(bench::sweep_procs_once);

// ---- live_memory: 100,000 goroutines blocked on a channel; RSS growth ----------

void bm_live_memory(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const std::int64_t n = bench::scale(100'000);
  bench::Figure fig;
  for (auto _ : state) {
    // In a fresh process: earlier benchmarks' pooled stacks and heap would
    // hide the growth.
    auto r = bench::in_child<2>(state, [&]() -> std::array<double, 2> {
      goro::Options o;
      o.procs = procs;
      goro::Scheduler s{o};
      double before = 0, after = 0;
      std::int64_t live = 0;
      goro::Chan<int> release(0);
      goro::WaitGroup finished;
      bench::run_goroutine(s, [&] {
        before = bench::rss_bytes();
        goro::WaitGroup started;
        started.add(static_cast<int>(n));
        finished.add(static_cast<int>(n));
        for (std::int64_t i = 0; i < n; ++i) {
          goro::go([&] {
            started.done();
            (void)release.recv();
            finished.done();
          });
        }
        started.wait();
        goro::sleep_for(20ms);  // let the last ones park on the channel
        after = bench::rss_bytes();
        live = goro::num_goroutine();
      });
      release.close();
      finished.wait();
      if (live < n) bench::fail("live_memory:goro: " + std::to_string(live) + " goroutines alive");
      return {(after - before) / static_cast<double>(n), static_cast<double>(live)};
    });
    state.SetIterationTime(1e-3);  // the figure is memory, not time
    fig.add(r[0]);
  }
  fig.report(state, "bytes_per_goroutine");
}
GORO_BENCH(bm_live_memory, "live_memory:goro")->Apply(bench::sweep_procs_once);

// ---- idle_cpu: runtime started, all goroutines blocked for 1 s; CPU used --------

void bm_idle_cpu(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const auto window = bench::quick() ? 250ms : 1000ms;
  bench::Figure fig;
  for (auto _ : state) {
    auto r = bench::in_child<1>(state, [&]() -> std::array<double, 1> {
      goro::Options o;
      o.procs = procs;
      goro::Scheduler s{o};
      goro::Chan<int> release(0);
      goro::WaitGroup finished;
      const int n = 1000;
      bench::run_goroutine(s, [&] {
        goro::WaitGroup started;
        started.add(n);
        finished.add(n);
        for (int i = 0; i < n; ++i) {
          goro::go([&] {
            started.done();
            (void)release.recv();
            finished.done();
          });
        }
        started.wait();
      });
      std::this_thread::sleep_for(20ms);  // settle: every goroutine parked
      const double c0 = bench::cpu_ms();
      std::this_thread::sleep_for(window);
      const double used = bench::cpu_ms() - c0;
      release.close();
      finished.wait();
      return {used};
    });
    state.SetIterationTime(std::chrono::duration<double>(window).count());
    fig.add(r[0]);
  }
  fig.report(state, "cpu_ms");
}
GORO_BENCH(bm_idle_cpu, "idle_cpu:goro")->Apply(bench::sweep_procs_once);


// ---- sched_latency: goroutines readied on a loaded runtime (bench/README.md) ----

void bm_sched_latency(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const int receivers = 100, warmup = 50, rounds = bench::quick() ? 100 : 500;
  const std::chrono::microseconds hog_slice = 20us, pause = 1ms;
  bench::Figure p99, p50, mx, wp50, wp99, wmax;
  for (auto _ : state) {
    auto r = bench::in_child<6>(state, [&]() -> std::array<double, 6> {
      goro::Options o;
      o.procs = procs;
      goro::Scheduler s{o};
      std::array<double, 6> out{};
      bench::run_goroutine(s, [&] {
        const auto base = std::chrono::steady_clock::now();
        auto since_base = [base] { return std::chrono::steady_clock::now() - base; };
        std::atomic<bool> stop{false};
        goro::WaitGroup hogs;
        hogs.add(2 * procs);
        for (int i = 0; i < 2 * procs; ++i)
          goro::go([&] {
            while (!stop.load(std::memory_order_relaxed)) {
              const auto t0 = std::chrono::steady_clock::now();
              while (std::chrono::steady_clock::now() - t0 < hog_slice) {
              }
              goro::yield();
            }
            hogs.done();
          });
        struct Wakeup {
          std::chrono::nanoseconds sent;
          bool measured;
        };
        std::vector<goro::Chan<Wakeup>> chans;
        std::vector<std::vector<std::int64_t>> lat(static_cast<std::size_t>(receivers));
        goro::WaitGroup recvs;
        recvs.add(receivers);
        for (int i = 0; i < receivers; ++i) {
          chans.emplace_back(0);
          goro::go([&, i, c = chans.back()] {
            for (const Wakeup& w : c) {
              const auto d = since_base() - w.sent;
              if (w.measured) lat[static_cast<std::size_t>(i)].push_back(d.count());
            }
            recvs.done();
          });
        }
        auto wake = [&](int n, bool measured) {
          for (int k = 0; k < n; ++k) {
            goro::sleep_for(pause);
            for (auto& c : chans) c.send(Wakeup{since_base(), measured});
          }
        };
        wake(warmup, false);
        const goro::Metrics h0 = goro::metrics();
        wake(rounds, true);
        for (auto& c : chans) c.close();
        recvs.wait();  // every measured wake-up has run, and is in the histogram
        const goro::Metrics h1 = goro::metrics();
        stop.store(true);
        hogs.wait();

        std::vector<std::uint64_t> counts(h1.sched_latency_counts.size());
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < counts.size(); ++i)
          total += counts[i] = h1.sched_latency_counts[i] - h0.sched_latency_counts[i];
        auto quantile = [&](double q) -> double {  // as the Go twin's histQuantile
          if (total == 0) return 0;
          auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
          if (rank == 0) rank = 1;
          std::uint64_t cum = 0;
          for (std::size_t i = 0; i < counts.size(); ++i)
            if ((cum += counts[i]) >= rank) return static_cast<double>(goro::Metrics::sched_latency_bucket_upper_ns(i)) / 1e3;
          return 0;
        };
        double max_us = 0;
        for (std::size_t i = counts.size(); i-- > 0;)
          if (counts[i] > 0) {
            max_us = static_cast<double>(goro::Metrics::sched_latency_bucket_upper_ns(i)) / 1e3;
            break;
          }
        std::vector<std::int64_t> wakes;
        for (auto& l : lat) wakes.insert(wakes.end(), l.begin(), l.end());
        if (wakes.size() != static_cast<std::size_t>(receivers * rounds)) bench::fail("sched_latency:goro: lost wake-ups");
        std::sort(wakes.begin(), wakes.end());
        auto exact = [&](double q) {
          auto i = static_cast<std::ptrdiff_t>(std::ceil(q * static_cast<double>(wakes.size()))) - 1;
          if (i < 0) i = 0;
          return static_cast<double>(wakes[static_cast<std::size_t>(i)]) / 1e3;
        };
        out = {quantile(0.99), quantile(0.50), max_us, exact(0.50), exact(0.99), exact(1.0)};
      });
      return out;
    });
    state.SetIterationTime(static_cast<double>(warmup + rounds) * 1e-3);
    p99.add(r[0]);
    p50.add(r[1]);
    mx.add(r[2]);
    wp50.add(r[3]);
    wp99.add(r[4]);
    wmax.add(r[5]);
  }
  p99.report(state, "p99_us");
  p50.report(state, "p50_us");
  mx.report(state, "max_us");
  wp50.report(state, "wake_p50_us");
  wp99.report(state, "wake_p99_us");
  wmax.report(state, "wake_max_us");
}
GORO_BENCH(bm_sched_latency, "sched_latency:goro")->Apply(bench::sweep_procs_once);

#endif  // GORO_BENCH_HAS_WAIT_GROUP

}  // namespace

BENCHMARK_MAIN();
