// Baseline: OS threads and the standard library's primitives — what goro's
// workloads cost when each goroutine is a std::thread.
//
// procs: the process is pinned to the first `procs` CPUs it may use
// (sched_setaffinity; threads inherit it), the closest OS-thread analogue of
// GOMAXPROCS. With procs above the machine's CPU count all CPUs are used.
//
// Scaled workloads (an OS thread costs ~100x a goroutine, full sizes would
// take minutes); the figure stays per unit, and the label says the scale:
//   spawn_join       1,000 threads instead of 100,000
//   pingpong         20,000 round trips instead of 1,000,000
//   chan_throughput  1,000,000 items instead of 10,000,000
#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../common.hpp"

namespace {

// Pins the calling thread (and the threads it starts) to `procs` CPUs while
// alive; restores the previous mask after.
class PinProcs {
 public:
  explicit PinProcs(int procs) {
    if (sched_getaffinity(0, sizeof saved_, &saved_) != 0) bench::fail("sched_getaffinity");
    cpu_set_t want;
    CPU_ZERO(&want);
    int taken = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && taken < procs; ++cpu) {
      if (CPU_ISSET(cpu, &saved_)) {
        CPU_SET(cpu, &want);
        ++taken;
      }
    }
    if (sched_setaffinity(0, sizeof want, &want) != 0) bench::fail("sched_setaffinity");
  }
  ~PinProcs() { sched_setaffinity(0, sizeof saved_, &saved_); }
  PinProcs(const PinProcs&) = delete;
  PinProcs& operator=(const PinProcs&) = delete;

 private:
  cpu_set_t saved_;
};

// ---- spawn_join ----------------------------------------------------------------

void bm_spawn_join(benchmark::State& state) {
  PinProcs pin(static_cast<int>(state.range(0)));
  const std::int64_t n = bench::scale(1'000);
  bench::Figure fig;
  for (auto _ : state) {
    std::atomic<std::int64_t> ran{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
      threads.emplace_back([&] { ran.fetch_add(1, std::memory_order_relaxed); });
    }
    for (auto& t : threads) t.join();
    const std::int64_t ns = bench::now_ns() - t0;
    if (ran.load() != n) bench::fail(state, "not every thread ran");
    bench::iteration_done(state, fig, ns, static_cast<double>(n));
  }
  state.SetLabel(std::to_string(n) + " threads (goroutine twin: " + std::to_string(bench::scale(100'000)) + ")");
  fig.report(state, "ns_per_goroutine");
}
GORO_BENCH(bm_spawn_join, "spawn_join:threads")->Apply(bench::sweep_procs);

// ---- pingpong ------------------------------------------------------------------

// An unbuffered channel made of a mutex and a condition variable: send
// waits until the receiver has taken the value (rendezvous, like Go's).
class Rendezvous {
 public:
  void send(std::int64_t v) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_; });
    value_ = v;
    full_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return taken_; });
    taken_ = false;
    cv_.notify_all();
  }
  std::int64_t recv() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return full_ && !taken_; });
    std::int64_t v = value_;
    taken_ = true;
    full_ = false;
    cv_.notify_all();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::int64_t value_ = 0;
  bool full_ = false;   // a value waits to be taken
  bool taken_ = false;  // the receiver took it; the sender may return
};

void bm_pingpong(benchmark::State& state) {
  PinProcs pin(static_cast<int>(state.range(0)));
  const std::int64_t n = bench::scale(20'000);
  bench::Figure fig;
  for (auto _ : state) {
    Rendezvous ping, pong;
    std::thread echo([&] {
      for (std::int64_t i = 0; i < n; ++i) pong.send(ping.recv() + 1);
    });
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
      ping.send(i);
      if (pong.recv() != i + 1) bench::fail(state, "pingpong: wrong value");
    }
    const std::int64_t ns = bench::now_ns() - t0;
    echo.join();
    bench::iteration_done(state, fig, ns, static_cast<double>(n));
  }
  state.SetLabel(std::to_string(n) + " round trips");
  fig.report(state, "ns_per_round_trip");
}
GORO_BENCH(bm_pingpong, "pingpong:threads")->Apply(bench::sweep_procs);

// ---- chan_throughput -------------------------------------------------------------

// A bounded queue of capacity 128 with a mutex and two condition variables
// (the textbook buffered channel).
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t cap) : cap_(cap) {}
  void push(std::int64_t v) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < cap_; });
    items_.push_back(v);
    lock.unlock();
    not_empty_.notify_one();
  }
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
  }
  std::optional<std::int64_t> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    std::int64_t v = items_.front();
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::int64_t> items_;
  std::size_t cap_;
  bool closed_ = false;
};

void bm_chan_throughput(benchmark::State& state) {
  PinProcs pin(static_cast<int>(state.range(0)));
  const std::int64_t n = bench::scale(1'000'000);
  bench::Figure fig;
  for (auto _ : state) {
    BoundedQueue q(128);
    const std::int64_t t0 = bench::now_ns();
    std::thread producer([&] {
      for (std::int64_t i = 0; i < n; ++i) q.push(i);
      q.close();
    });
    std::int64_t sum = 0;
    while (auto v = q.pop()) sum += *v;
    const std::int64_t ns = bench::now_ns() - t0;
    producer.join();
    if (sum != n * (n - 1) / 2) bench::fail(state, "chan_throughput: wrong sum");
    bench::iteration_done(state, fig, ns, static_cast<double>(n));
  }
  state.SetLabel(std::to_string(n) + " items");
  fig.report(state, "ns_per_item");
}
GORO_BENCH(bm_chan_throughput, "chan_throughput:threads")->Apply(bench::sweep_procs);

// ---- mutex_counter -----------------------------------------------------------------

void bm_mutex_counter(benchmark::State& state) {
  PinProcs pin(static_cast<int>(state.range(0)));
  const int threads_n = 1000;
  const std::int64_t per = bench::scale(1000);
  bench::Figure fig;
  for (auto _ : state) {
    std::mutex mu;
    std::int64_t counter = 0;
    std::vector<std::thread> threads;
    threads.reserve(threads_n);
    const std::int64_t t0 = bench::now_ns();
    for (int i = 0; i < threads_n; ++i) {
      threads.emplace_back([&] {
        for (std::int64_t j = 0; j < per; ++j) {
          std::lock_guard lock(mu);
          ++counter;
        }
      });
    }
    for (auto& t : threads) t.join();
    const std::int64_t ns = bench::now_ns() - t0;
    if (counter != threads_n * per) bench::fail(state, "mutex_counter: lost increments");
    bench::iteration_done(state, fig, ns, static_cast<double>(threads_n * per));
  }
  fig.report(state, "ns_per_increment");
}
GORO_BENCH(bm_mutex_counter, "mutex_counter:threads")->Apply(bench::sweep_procs);

// ---- rwmutex_read_mostly -------------------------------------------------------------

void bm_rwmutex_read_mostly(benchmark::State& state) {
  PinProcs pin(static_cast<int>(state.range(0)));
  const int threads_n = 1000, keys = 1000;
  const std::int64_t per = bench::scale(1000);
  bench::Figure fig;
  for (auto _ : state) {
    std::unordered_map<int, std::int64_t> map;
    for (int k = 0; k < keys; ++k) map[k] = k;
    std::shared_mutex mu;
    std::vector<std::int64_t> read_sum(threads_n);
    std::vector<std::thread> threads;
    threads.reserve(threads_n);
    const std::int64_t t0 = bench::now_ns();
    for (int id = 0; id < threads_n; ++id) {
      threads.emplace_back([&, id] {
        std::uint32_t x = static_cast<std::uint32_t>(id) * 2654435761u + 1;  // as the Go twin
        std::int64_t s = 0;
        for (std::int64_t j = 0; j < per; ++j) {
          x = x * 1664525u + 1013904223u;
          int k = static_cast<int>((x >> 16) % keys);
          if (j % 100 == 0) {
            std::unique_lock lock(mu);
            ++map[k];
          } else {
            std::shared_lock lock(mu);
            s += map.find(k)->second;
          }
        }
        read_sum[id] = s;
      });
    }
    for (auto& t : threads) t.join();
    const std::int64_t ns = bench::now_ns() - t0;
    std::int64_t total = 0;
    for (auto& [k, v] : map) total += v;
    const std::int64_t writes = threads_n * ((per + 99) / 100);
    if (total != keys * (keys - 1) / 2 + writes || map.size() != static_cast<std::size_t>(keys)) {
      bench::fail(state, "rwmutex_read_mostly: wrong map contents");
    }
    bench::iteration_done(state, fig, ns, static_cast<double>(threads_n * per));
  }
  fig.report(state, "ns_per_op");
}
GORO_BENCH(bm_rwmutex_read_mostly, "rwmutex_read_mostly:threads")->Apply(bench::sweep_procs);

// ---- once_fast ------------------------------------------------------------------------

void bm_once_fast(benchmark::State& state) {
  const std::int64_t n = bench::scale(20'000'000);
  bench::Figure fig;
  std::once_flag flag;
  int calls = 0;
  std::call_once(flag, [&] { ++calls; });
  for (auto _ : state) {
    const std::int64_t t0 = bench::now_ns();
    for (std::int64_t i = 0; i < n; ++i) {
      std::call_once(flag, [&] { ++calls; });
      benchmark::ClobberMemory();
    }
    const std::int64_t ns = bench::now_ns() - t0;
    bench::iteration_done(state, fig, ns, static_cast<double>(n));
  }
  if (calls != 1) bench::fail(state, "once_fast: the function ran twice");
  fig.report(state, "ns");
}
GORO_BENCH(bm_once_fast, "once_fast:threads")->Apply(bench::procs_1);

}  // namespace

BENCHMARK_MAIN();
