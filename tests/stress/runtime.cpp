// Stress tests for the runtime: a million goroutines spawned and finished
// (stacks are reused warm), and a hundred thousand goroutines alive at once,
// all parked on timers (stacks are committed only where touched).
//
// Catch2's assertions are not thread-safe: goroutines record what they saw
// in atomics, and the test thread asserts once the Scheduler has joined them.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <vector>

#include "../support.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// ThreadSanitizer spends about a millisecond per goroutine (its fiber), so
// its builds scale these counts down further than the per-file default.
constexpr int stress_scale = GORO_TEST_SCALE >= 20 ? 200 : GORO_TEST_SCALE;

constexpr int scaled(int n) { return n / stress_scale > 0 ? n / stress_scale : 1; }

}  // namespace

TEST_CASE("1,000,000 goroutines spawn and finish, each running exactly once") {
  const int procs = GENERATE(2, 4);
  const int n = scaled(1'000'000);
  std::vector<std::atomic<unsigned char>> runs(static_cast<std::size_t>(n));
  const auto start = Clock::now();
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    // Spawned by several goroutines at once and by the test thread. The
    // spawners yield now and then, so that the spawned goroutines run and
    // finish and their stacks are reused warm, as in a steady-state server.
    const int spawners = 8;
    for (int k = 0; k < spawners; ++k) {
      s.go([&, k] {
        int spawned = 0;
        for (int i = k; i < n; i += spawners + 1) {
          goro::go([&runs, i] { runs[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed); });
          if (++spawned % 64 == 0) goro::yield();
        }
      });
    }
    for (int i = spawners; i < n; i += spawners + 1)
      s.go([&runs, i] { runs[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed); });
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  long not_once = 0;
  for (const auto& r : runs) not_once += r.load(std::memory_order_relaxed) != 1;
  CAPTURE(procs, n, seconds);
  REQUIRE(not_once == 0);
}

TEST_CASE("100,000 goroutines alive at once, all asleep, all wake and finish") {
  const int procs = GENERATE(2, 4);
  const int n = scaled(100'000);
  std::atomic<int> started{0}, finished{0}, early{0}, live_when_all_started{-1};
  std::atomic<bool> all_started{false};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < n; ++i) {
      s.go([&] {
        if (started.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
          // Nobody has finished yet: they all wait for this flag.
          live_when_all_started.store(goro::num_goroutine());
          all_started.store(true, std::memory_order_release);
        }
        // Sleep (never busy-wait: 100,000 spinning goroutines would eat the
        // machine) until every goroutine has started.
        do {
          const auto t0 = Clock::now();
          goro::sleep_for(200ms);
          if (Clock::now() - t0 < 200ms) early.fetch_add(1, std::memory_order_relaxed);
        } while (!all_started.load(std::memory_order_acquire));
        finished.fetch_add(1, std::memory_order_relaxed);
      });
    }
  }
  CAPTURE(procs, n);
  CHECK(live_when_all_started.load() == n);
  CHECK(finished.load() == n);
  CHECK(early.load() == 0);
}

TEST_CASE("a burst of goroutines that yield many times on 8 processors all finish") {
  const int n = scaled(10'000), yields = 100;
  std::atomic<long> total{0};
  {
    goro::Scheduler s{goro::Options{.procs = 8}};
    s.go([&] {
      for (int i = 0; i < n; ++i) {
        goro::go([&] {
          for (int k = 0; k < yields; ++k) goro::yield();
          total.fetch_add(yields, std::memory_order_relaxed);
        });
      }
    });
  }
  CHECK(total.load() == static_cast<long>(n) * yields);
}
