// Baseline: Boost.Fiber with its work_stealing scheduler on `procs` threads
// — the closest existing C++ library to goro (stackful fibers, M:N).
//
// Pools. boost::fibers::algo::work_stealing keeps process-wide state (a
// static barrier sized by the first pool, a once-initialised scheduler
// array, an ever-growing id counter: boostorg/fiber#217), so one process can
// host exactly one pool, once. Each benchmark iteration therefore runs in a
// forked child (bench::in_child) that starts a pool of `procs` threads — the
// main thread plus procs-1 helpers, each calling
// use_scheduling_algorithm<work_stealing>(procs) — runs the workload once to
// warm up and once measured (only the measured run is timed: pool start-up
// is not included; skynet and pingpong run once: skynet's stacks are fresh
// either way, see below, and pingpong has two fibers), then shuts the pool
// down cleanly (helpers leave their
// wait and are joined; see Boost.Fiber's examples/work_stealing.cpp).
//
// work_stealing runs with suspend = false, its default and what Boost.Fiber's
// examples and benchmarks use: idle workers poll for work to steal. With
// suspend = true an idle worker sleeps and is not woken when another thread
// has work to steal (boostorg/fiber#327: measured here, procs 2 ran like
// procs 1), so it is not a working configuration for this comparison. The
// price: sleep_fanout's CPU figure includes the polling.
//
// procs = 1 uses round_robin, Boost.Fiber's one-thread scheduler: with Boost
// 1.74, work_stealing with a single thread never resumes a fiber sleeping in
// sleep_for (it spins in its scheduler loop; measured here).
//
// Stacks: fixedsize_stack of 16 KiB, as Boost.Fiber's own skynet benchmarks
// do (they use one page). Its default, 128 KiB, is malloc'd above glibc's
// mmap threshold: an mmap + munmap per fiber, ~7 us per spawn_join fiber and
// ~15 s for skynet on the project's machine — that measures glibc, not
// Boost.Fiber. The child also tells glibc not to return freed memory to the
// kernel (M_TRIM_THRESHOLD), so that the measured run reuses the stacks the
// warm-up run touched, as goro and Go reuse theirs: a first touch of a page
// costs ~10 us on the project's VMs and would otherwise dominate.
//
// skynet starts children with launch::dispatch (the child runs at once), as
// Boost.Fiber's own skynet does: with the default launch::post and a FIFO
// ready queue the tree unfolds breadth-first, all 1,111,111 fibers alive at
// once (GBs of stacks). Go's and goro's `go` put the child in the `runnext`
// slot, which unfolds the tree depth-first too. Even so, leaves blocked on
// their parent's unbuffered channel pile up behind the FIFO ready queue:
// ~790,000 fibers are alive at the peak (measured), each touching fresh
// stack pages, which is most of Boost.Fiber's skynet time here.
//
// One iteration per configuration (a child process each, and Boost.Fiber's
// skynet and multi-thread pingpong take seconds here). Channels are shared by std::shared_ptr where the parent's
// frame could end while a child still touches the channel (as Go's channels
// are garbage collected and goro's Chan is a shared handle).
#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>

#include <malloc.h>

#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../common.hpp"

namespace {

namespace fibers = boost::fibers;

// Every fiber of this file is started with this allocator (see above).
fibers::fixedsize_stack stack_allocator() { return fibers::fixedsize_stack(16 * 1024); }

// fibers::fiber(f, args...) with the allocator above.
template <class F, class... Args>
fibers::fiber make_fiber(F&& f, Args&&... args) {
  return fibers::fiber(std::allocator_arg, stack_allocator(), std::forward<F>(f), std::forward<Args>(args)...);
}
template <class F, class... Args>
fibers::fiber make_fiber_dispatch(F&& f, Args&&... args) {
  return fibers::fiber(fibers::launch::dispatch, std::allocator_arg, stack_allocator(), std::forward<F>(f),
                       std::forward<Args>(args)...);
}

// Go's sync.WaitGroup, built from Boost.Fiber parts.
class FiberWaitGroup {
 public:
  void add(std::int64_t n) { count_.fetch_add(n, std::memory_order_relaxed); }
  void done() {
    // acq_rel: the last done() sees every other's work before waking wait().
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return count_.load(std::memory_order_acquire) == 0; });
  }

 private:
  std::atomic<std::int64_t> count_{0};
  fibers::mutex mu_;
  fibers::condition_variable cv_;
};

// Runs work() (returning N doubles) as the main fiber of a pool of `procs`
// threads, in a fresh child process. Returns its figures.
template <std::size_t N, class Work>
std::array<double, N> with_pool(benchmark::State& state, int procs, Work work) {
  return bench::in_child<N>(state, [&] {
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());  // keep freed stacks (see above)
    if (procs == 1) {
      fibers::use_scheduling_algorithm<fibers::algo::round_robin>();
      return work();
    }
    std::mutex mu;
    fibers::condition_variable_any cv;
    bool finished = false;
    std::vector<std::thread> helpers;
    for (int i = 1; i < procs; ++i) {
      helpers.emplace_back([&] {
        fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(procs);
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return finished; });  // runs fibers until told to stop
      });
    }
    // Blocks until all procs schedulers exist (work_stealing's barrier).
    fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(procs);
    std::array<double, N> out = work();
    {
      std::lock_guard lock(mu);
      finished = true;
    }
    cv.notify_all();
    for (auto& t : helpers) t.join();
    return out;
  });
}

// Warm-up run, then a measured run; returns the measured run's figures.
template <std::size_t N, class Run>
auto warm(Run run) {
  return [run] {
    run();
    return run();
  };
}

// ---- spawn_join ------------------------------------------------------------------

void bm_spawn_join(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const std::int64_t n = bench::scale(100'000);
  bench::Figure fig;
  for (auto _ : state) {
    auto r = with_pool<1>(state, procs, warm<1>([n]() -> std::array<double, 1> {
      FiberWaitGroup wg;
      std::atomic<std::int64_t> ran{0};
      const std::int64_t t0 = bench::now_ns();
      wg.add(n);
      for (std::int64_t i = 0; i < n; ++i) {
        make_fiber([&] {
          ran.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        }).detach();
      }
      wg.wait();
      const std::int64_t ns = bench::now_ns() - t0;
      if (ran.load() != n) bench::fail("spawn_join:boost_fiber: not every fiber ran");
      return {static_cast<double>(ns)};
    }));
    bench::iteration_done(state, fig, static_cast<std::int64_t>(r[0]), static_cast<double>(n));
  }
  fig.report(state, "ns_per_goroutine");
}
GORO_BENCH(bm_spawn_join, "spawn_join:boost_fiber")->Apply(bench::sweep_procs_once);

// ---- skynet ----------------------------------------------------------------------

using SumChan = fibers::unbuffered_channel<std::int64_t>;

// Canonical skynet: one unbuffered channel per parent, shared by its ten
// children, as in the Go twin.
void skynet(std::shared_ptr<SumChan> out, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    out->push(num);
    return;
  }
  auto rc = std::make_shared<SumChan>();
  for (std::int64_t i = 0; i < div; ++i) {
    make_fiber_dispatch(skynet, rc, num + i * (size / div), size / div, div).detach();
  }
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < div; ++i) sum += rc->value_pop();
  out->push(sum);
}

void bm_skynet(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const std::int64_t leaves = bench::scale(1'000'000);
  const std::int64_t want = leaves * (leaves - 1) / 2;  // 499999500000
  bench::Figure fig;
  for (auto _ : state) {
    auto r = with_pool<1>(state, procs, [=]() -> std::array<double, 1> {
      auto c = std::make_shared<SumChan>();
      const std::int64_t t0 = bench::now_ns();
      make_fiber_dispatch(skynet, c, 0, leaves, 10).detach();
      std::int64_t sum = c->value_pop();
      const std::int64_t ns = bench::now_ns() - t0;
      if (sum != want) {
        bench::fail("skynet:boost_fiber: sum " + std::to_string(sum) + ", want " + std::to_string(want));
      }
      return {static_cast<double>(ns)};
    });
    bench::iteration_done(state, fig, static_cast<std::int64_t>(r[0]), 1e6);  // ms
  }
  fig.report(state, "ms");
}
GORO_BENCH(bm_skynet, "skynet:boost_fiber")->Apply(bench::sweep_procs_once);

// ---- pingpong --------------------------------------------------------------------

void bm_pingpong(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  // 100,000 round trips (not 1,000,000): with its polling workers Boost.Fiber
  // takes 5-35 us per round trip at procs >= 2 on a loaded 2-core machine.
  const std::int64_t n = bench::scale(100'000);
  bench::Figure fig;
  for (auto _ : state) {
    auto r = with_pool<1>(state, procs, [n]() -> std::array<double, 1> {
      auto ping = std::make_shared<SumChan>();
      auto pong = std::make_shared<SumChan>();
      fibers::fiber echo = make_fiber([ping, pong] {
        std::int64_t v;
        while (ping->pop(v) == fibers::channel_op_status::success) pong->push(v + 1);
        pong->close();
      });
      const std::int64_t t0 = bench::now_ns();
      for (std::int64_t i = 0; i < n; ++i) {
        ping->push(i);
        if (pong->value_pop() != i + 1) bench::fail("pingpong:boost_fiber: wrong value");
      }
      const std::int64_t ns = bench::now_ns() - t0;
      ping->close();
      echo.join();
      return {static_cast<double>(ns)};
    });
    bench::iteration_done(state, fig, static_cast<std::int64_t>(r[0]), static_cast<double>(n));
  }
  state.SetLabel(std::to_string(n) + " round trips");
  fig.report(state, "ns_per_round_trip");
}
GORO_BENCH(bm_pingpong, "pingpong:boost_fiber")->Apply(bench::sweep_procs_once);

// ---- mutex_counter -------------------------------------------------------------

void bm_mutex_counter(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  const int fibers_n = 1000;
  const std::int64_t per = bench::scale(1000);
  bench::Figure fig;
  for (auto _ : state) {
    auto r = with_pool<1>(state, procs, warm<1>([=]() -> std::array<double, 1> {
      fibers::mutex mu;
      std::int64_t counter = 0;
      FiberWaitGroup wg;
      const std::int64_t t0 = bench::now_ns();
      wg.add(fibers_n);
      for (int i = 0; i < fibers_n; ++i) {
        make_fiber([&] {
          for (std::int64_t j = 0; j < per; ++j) {
            std::lock_guard lock(mu);
            ++counter;
          }
          wg.done();
        }).detach();
      }
      wg.wait();
      const std::int64_t ns = bench::now_ns() - t0;
      if (counter != fibers_n * per) bench::fail("mutex_counter:boost_fiber: lost increments");
      return {static_cast<double>(ns)};
    }));
    bench::iteration_done(state, fig, static_cast<std::int64_t>(r[0]), static_cast<double>(fibers_n * per));
  }
  fig.report(state, "ns_per_increment");
}
GORO_BENCH(bm_mutex_counter, "mutex_counter:boost_fiber")->Apply(bench::sweep_procs_once);

// ---- sleep_fanout ----------------------------------------------------------------

void bm_sleep_fanout(benchmark::State& state) {
  const int procs = static_cast<int>(state.range(0));
  constexpr std::int64_t n = 10'000;
  bench::Figure wall, cpu;
  for (auto _ : state) {
    // One run, no warm-up (like the Go twin's): the figure is wall and CPU.
    auto r = with_pool<2>(state, procs, []() -> std::array<double, 2> {
      FiberWaitGroup wg;
      std::atomic<std::int64_t> woke{0};
      const double c0 = bench::cpu_ms();
      const std::int64_t t0 = bench::now_ns();
      wg.add(n);
      for (std::int64_t i = 0; i < n; ++i) {
        make_fiber([&] {
          boost::this_fiber::sleep_for(std::chrono::milliseconds(100));
          woke.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        }).detach();
      }
      wg.wait();
      const std::int64_t ns = bench::now_ns() - t0;
      const double used = bench::cpu_ms() - c0;
      if (woke.load() != n) bench::fail("sleep_fanout:boost_fiber: not every fiber woke");
      return {static_cast<double>(ns), used};
    });
    state.SetIterationTime(r[0] / 1e9);
    wall.add(r[0] / 1e6);
    cpu.add(r[1]);
  }
  wall.report(state, "wall_ms");
  cpu.report(state, "cpu_ms");
}
GORO_BENCH(bm_sleep_fanout, "sleep_fanout:boost_fiber")->Apply(bench::sweep_procs_once);

}  // namespace

BENCHMARK_MAIN();
