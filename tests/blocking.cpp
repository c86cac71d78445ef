// Tests for goro::blocking and the monitor (Go's entersyscall/exitsyscall
// hand-off and sysmon's retake).
#include <goro/goro.hpp>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using Clock = std::chrono::steady_clock;

namespace {

// Polls `cond` for up to `limit`; a bounded wait, not a synchronization sleep.
template <class F>
bool eventually(F cond, std::chrono::milliseconds limit = 5000ms) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

}  // namespace

// Catch2 is not thread-safe: goroutines record outcomes in atomics, and the
// test thread checks them once the Scheduler has joined its goroutines.

TEST_CASE("a goroutine blocked in a read does not stall the others on a single processor") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::atomic<long> count{0};
  std::atomic<bool> read_done{false};
  std::atomic<long> bytes_read{-1};
  bool advanced = false;
  bool read_still_blocked = false;
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      char c = 0;
      bytes_read = goro::blocking([&] { return ::read(fds[0], &c, 1); });
      read_done = true;
    });
    s.go([&] {
      while (!read_done) {
        ++count;
        goro::yield();
      }
    });
    // Without the hand-off, procs = 1 is stuck in read() and count stays 0.
    advanced = eventually([&] { return count.load() > 1000; });
    read_still_blocked = !read_done.load();
    REQUIRE(::write(fds[1], "x", 1) == 1);
  }
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(advanced);
  CHECK(read_still_blocked);
  CHECK(bytes_read == 1);
}

TEST_CASE("blocking calls run in parallel beyond the processor count and CPU work goes on") {
  const int procs = GENERATE(1, 2, 4);
  goro::Scheduler s{goro::Options{.procs = procs}};
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  s.go([&] {
    while (!stop) {
      ++spins;
      goro::yield();
    }
  });
  const auto t0 = Clock::now();
  for (int i = 0; i < 8; ++i)
    s.go([&] {
      goro::blocking([] { ::usleep(200'000); });
      ++finished;
    });
  const long spins_before = spins.load();
  REQUIRE(eventually([&] { return finished.load() == 8; }));
  const auto elapsed = Clock::now() - t0;
  const long spins_during = spins.load() - spins_before;
  stop = true;
  // Serialized per processor it would take 8 * 200 / procs ms.
  CHECK(elapsed < 600ms);
  CHECK(spins_during > 100);
}

TEST_CASE("blocking returns the function's result and rethrows its exception") {
  const int procs = GENERATE(1, 2, 4);
  std::atomic<int> result{0};
  std::atomic<bool> caught{false};
  std::string message;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      result = goro::blocking([](int a, int b) { return a * b; }, 6, 7);
      try {
        goro::blocking([] { throw std::runtime_error("disk on fire"); });
      } catch (const std::runtime_error& e) {
        message = e.what();
        caught = true;
      }
    });
  }  // ~Scheduler waits for the goroutine
  CHECK(result == 42);
  CHECK(caught);
  CHECK(message == "disk on fire");
}

TEST_CASE("a goroutine continues correctly on whatever thread blocking returns it to") {
  const int procs = GENERATE(1, 2, 4);
  constexpr int n = 64 / GORO_TEST_SCALE + 4;
  std::atomic<int> ok{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < n; ++i)
      s.go([&, i] {
        for (int round = 0; round < 5; ++round) {
          goro::blocking([] { ::usleep(1000); });
          // Possibly another thread now: goro's own state must follow.
          goro::Chan<int> ch(1);
          ch.send(i);
          if (*ch.recv() != i) return;
          goro::yield();
        }
        // The caught exception travels with the goroutine across threads.
        try {
          throw std::runtime_error(std::to_string(i));
        } catch (...) {
          goro::blocking([] { ::usleep(100); });
          goro::yield();
          try {
            throw;
          } catch (const std::runtime_error& e) {
            if (std::stoi(e.what()) != i) return;
          }
        }
        if (std::uncaught_exceptions() != 0) return;
        ++ok;
      });
  }
  CHECK(ok == n);
}

TEST_CASE("inside blocking the thread behaves as a plain thread") {
  std::atomic<int> got{0};
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      goro::Chan<int> ch(0);
      goro::go([ch] { ch.send(5); });
      // recv inside a blocking call blocks the thread, not a goroutine.
      got = goro::blocking([ch] { return *ch.recv(); });
    });
  }
  CHECK(got == 5);
}

TEST_CASE("threads stay bounded under many blocking calls and idle ones are reaped") {
  const int procs = GENERATE(1, 2, 4);
  const int base = os_threads();
  goro::Options o{.procs = procs};
  o.idle_thread_timeout_ms = 200;
  goro::Scheduler s{o};
  constexpr int n = 1000 / GORO_TEST_SCALE;
  std::atomic<int> finished{0};
  std::atomic<int> max_threads_seen{0};
  for (int i = 0; i < n; ++i)
    s.go([&] {
      goro::blocking([] { ::usleep(50'000); });
      int t = os_threads();
      int m = max_threads_seen.load();
      while (t > m && !max_threads_seen.compare_exchange_weak(m, t)) {
      }
      ++finished;
    });
  REQUIRE(eventually([&] { return finished.load() == n; }, 30s));
  CHECK(max_threads_seen.load() <= base + o.max_threads + 1);
  // The burst needed extra threads; after the idle timeout they exit,
  // leaving about `procs` Ms plus the monitor.
  CHECK(eventually([&] { return os_threads() <= base + procs + 2; }, 10s));
}

TEST_CASE("an idle runtime with the monitor running uses almost no CPU") {
  goro::Scheduler s{goro::Options{.procs = 4}};
  goro::Chan<int> release(0);
  std::atomic<int> parked{0};
  s.go([] { goro::blocking([] { ::usleep(1000); }); });  // starts the monitor
  for (int i = 0; i < 8; ++i)
    s.go([&, release] {
      ++parked;
      release.recv();
    });
  REQUIRE(eventually([&] { return parked.load() == 8 && s.num_goroutine() == 8; }));
  std::this_thread::sleep_for(50ms);  // let the Ms finish spinning down
  const double before = cpu_seconds();
  std::this_thread::sleep_for(1s);  // the measurement window
  const double used = cpu_seconds() - before;
  release.close();
  CHECK(used < 0.05);
}
