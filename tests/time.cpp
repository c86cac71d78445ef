// Tests for goro::sleep_for and goro::sleep_until (time.hpp): sleeping parks
// the goroutine on a runtime timer (no thread is blocked), never wakes it
// early, and wakes thousands of sleepers together on time.
//
// Catch2's assertions are not thread-safe: goroutines record what they saw
// in atomics, and the test thread asserts once the Scheduler has joined them.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using Clock = std::chrono::steady_clock;

namespace {

// Sanitizer builds create goroutines far more slowly (ThreadSanitizer: about
// a millisecond each): wall-clock bounds get this much slack.
constexpr auto sanitizer_slack = GORO_TEST_SCALE > 1 ? 3s : 0s;

}  // namespace

// The upper bound is not a speed test (that is bench/sleep_fanout): it
// catches sleeps served one after another (10,000 x 100 ms), with room for a
// loaded machine.
TEST_CASE("10,000 goroutines sleeping 100 ms all wake, none early, together") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int n = scaled(10'000);
  std::atomic<int> woke{0}, early{0};
  const auto start = Clock::now();
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < n; ++i) {
      s.go([&] {
        const auto t0 = Clock::now();
        goro::sleep_for(100ms);
        if (Clock::now() - t0 < 100ms) early.fetch_add(1, std::memory_order_relaxed);
        woke.fetch_add(1, std::memory_order_relaxed);
      });
    }
  }
  const auto wall = Clock::now() - start;
  CAPTURE(procs, n, std::chrono::duration<double>(wall).count());
  CHECK(woke.load() == n);
  CHECK(early.load() == 0);
  CHECK(wall >= 100ms);
  CHECK(wall < 20s + sanitizer_slack);
}

TEST_CASE("sleep_until wakes the goroutine at or after the deadline") {
  const int procs = GENERATE(1, 2, 4, 8);
  const int n = scaled(1000);
  std::atomic<int> woke{0}, early{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    const auto deadline = Clock::now() + 50ms;
    for (int i = 0; i < n; ++i) {
      s.go([&, i] {
        // Spread over 50..59 ms.
        const auto when = deadline + std::chrono::milliseconds(i % 10);
        goro::sleep_until(when);
        if (Clock::now() < when) early.fetch_add(1, std::memory_order_relaxed);
        woke.fetch_add(1, std::memory_order_relaxed);
      });
    }
  }
  CAPTURE(procs);
  CHECK(woke.load() == n);
  CHECK(early.load() == 0);
}

TEST_CASE("sleep_until accepts another clock's time point") {
  std::atomic<bool> done{false};
  std::atomic<long long> slept_us{0};
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      const auto t0 = Clock::now();
      goro::sleep_until(std::chrono::system_clock::now() + 50ms);
      slept_us.store(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
      done.store(true);
    });
  }
  CHECK(done.load());
  // Converted through the two clocks' "now": allow a millisecond.
  CHECK(slept_us.load() >= 49'000);
}

TEST_CASE("a zero, negative or past sleep returns without giving up the processor") {
  // On one processor a goroutine readied by the sleeper (it sits in
  // runnext) can only run if the sleeper switches away.
  std::atomic<bool> other_ran_early{true}, finished{false};
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      std::atomic<bool> other_ran{false};
      goro::go([&] { other_ran.store(true); });
      goro::sleep_for(0ms);
      goro::sleep_for(-5ms);
      goro::sleep_for(std::chrono::nanoseconds(0));
      goro::sleep_until(Clock::now() - 1s);
      goro::sleep_until(std::chrono::system_clock::now() - 1s);
      other_ran_early.store(other_ran.load());
      while (!other_ran.load()) goro::yield();  // `other` uses this frame's atomic
      finished.store(true);
    });
  }
  CHECK(finished.load());
  CHECK_FALSE(other_ran_early.load());
}

TEST_CASE("sleep_for from a plain thread sleeps the thread") {
  const auto t0 = Clock::now();
  goro::sleep_for(30ms);
  CHECK(Clock::now() - t0 >= 30ms);
  const auto t1 = Clock::now();
  goro::sleep_until(t1 + 20ms);
  CHECK(Clock::now() - t1 >= 20ms);
}

TEST_CASE("a sleeping goroutine does not block its processor") {
  // One processor: the worker can only make progress while the sleeper is
  // parked on a timer, and the timer fires although the worker never stops.
  std::atomic<bool> sleeper_done{false};
  std::atomic<long> progress_during_sleep{0};
  std::atomic<long> steps{0};
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      goro::go([&] {
        while (!sleeper_done.load(std::memory_order_acquire)) {
          steps.fetch_add(1, std::memory_order_relaxed);
          goro::yield();
        }
      });
      const long before = steps.load();
      goro::sleep_for(50ms);
      progress_during_sleep.store(steps.load() - before);
      sleeper_done.store(true, std::memory_order_release);
    });
  }
  CHECK(sleeper_done.load());
  CHECK(progress_during_sleep.load() > 0);
}

TEST_CASE("a short sleep wakes before a long one started with it") {
  const int procs = GENERATE(1, 2, 4, 8);
  std::atomic<int> order{0};
  std::atomic<int> short_rank{-1}, long_rank{-1};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::sleep_for(200ms);
      long_rank.store(order.fetch_add(1));
    });
    s.go([&] {
      goro::sleep_for(10ms);
      short_rank.store(order.fetch_add(1));
    });
  }
  CAPTURE(procs);
  CHECK(short_rank.load() == 0);
  CHECK(long_rank.load() == 1);
}

TEST_CASE("sleepers on every processor wake while all threads are otherwise idle") {
  // Timers live on the processor that armed them; when every M is parked,
  // one of them must still wake for the earliest timer of any processor.
  const int procs = GENERATE(2, 4, 8);
  const int rounds = 5, per_round = 8 * procs;
  std::atomic<int> woke{0}, early{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < per_round; ++i) {
      s.go([&, i] {
        for (int r = 0; r < rounds; ++r) {
          const auto d = std::chrono::milliseconds(1 + (i + r) % 7);
          const auto t0 = Clock::now();
          goro::sleep_for(d);
          if (Clock::now() - t0 < d) early.fetch_add(1, std::memory_order_relaxed);
          woke.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
  }
  CAPTURE(procs);
  CHECK(woke.load() == rounds * per_round);
  CHECK(early.load() == 0);
}

TEST_CASE("sleep_for inside goro::run parks the main goroutine") {
  const auto t0 = Clock::now();
  const int value = goro::run([] {
    std::atomic<int> n{0};
    goro::go([&n] { n.store(1, std::memory_order_release); });
    goro::sleep_for(20ms);
    while (n.load(std::memory_order_acquire) == 0) goro::yield();
    return n.load();
  });
  CHECK(value == 1);
  CHECK(Clock::now() - t0 >= 20ms);
}
