// Tests for goro::Semaphore (golang.org/x/sync/semaphore's Weighted):
// acquire/try_acquire/release, acquire with a context, FIFO order (a large
// request is not starved), use from goroutines and plain threads, and the
// misuse that throws instead of hanging. Ports x/sync's semaphore_test.go
// (each port names its test).
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined, and only the
// test thread asserts.
#include <goro/goro.hpp>
#include <goro/semaphore.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

namespace {

goro::detail::Runtime* this_runtime() { return goro::detail::current_runtime(); }

void record_max(std::atomic<std::int64_t>& max, std::int64_t v) {
  std::int64_t m = max.load();
  while (v > m && !max.compare_exchange_weak(m, v)) {
  }
}

}  // namespace

// Go: TestWeighted / HammerWeighted in semaphore_test.go: goroutines of
// every weight 1..n hammer a semaphore of size n; the weight held never
// exceeds n.
TEST_CASE("TestWeighted: goroutines of weights 1..n hammering a semaphore of size n never exceed it") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const std::int64_t n = procs + 2;
  const int loops = scaled(10000) / static_cast<int>(n);
  std::atomic<std::int64_t> held{0}, max_held{0};
  std::atomic<int> errors{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Semaphore sem(n);
      goro::WaitGroup wg;
      for (std::int64_t w = 1; w <= n; ++w) {
        wg.go([&, w] {
          for (int i = 0; i < loops; ++i) {
            if (sem.acquire(goro::background(), w)) {
              errors.fetch_add(1);
              continue;
            }
            record_max(max_held, held.fetch_add(w) + w);
            if (i % 4 == 0) goro::yield();
            held.fetch_sub(w);
            sem.release(w);
          }
        });
      }
      wg.wait();
    });
  }
  CHECK(errors == 0);
  CHECK(max_held <= n);
  CHECK(max_held >= 1);
  CHECK(held == 0);
}

// Go: TestWeightedPanic in semaphore_test.go.
TEST_CASE("TestWeightedPanic: releasing more than held throws Go's message and leaves the count alone") {
  goro::Semaphore sem(2);
  CHECK_THROWS_WITH(sem.release(1), "semaphore: released more than held");
  sem.acquire(1);
  CHECK_THROWS_AS(sem.release(2), std::logic_error);
  // Still one token held, one free.
  CHECK(sem.try_acquire(1));
  CHECK_FALSE(sem.try_acquire(1));
  sem.release(2);
  CHECK(sem.try_acquire(2));
}

// Go: TestWeightedTryAcquire in semaphore_test.go.
TEST_CASE("TestWeightedTryAcquire: try_acquire succeeds exactly while tokens are free") {
  goro::Semaphore sem(2);
  std::vector<bool> tries;
  sem.acquire(1);
  tries.push_back(sem.try_acquire(1));
  tries.push_back(sem.try_acquire(1));
  sem.release(2);
  tries.push_back(sem.try_acquire(1));
  sem.acquire(1);
  tries.push_back(sem.try_acquire(1));
  CHECK(tries == std::vector<bool>{true, false, true, false});
}

// Go: TestWeightedAcquire in semaphore_test.go. Go's 10 ms timeout is
// 200 ms here: the timeout must not pass before a free token is taken, and
// the first call also starts the default runtime.
TEST_CASE("TestWeightedAcquire: acquire with a short timeout succeeds exactly while tokens are free") {
  goro::Semaphore sem(2);
  auto try_acquire = [&](std::int64_t n) {
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 200ms);
    const std::error_code err = sem.acquire(ctx, n);
    cancel();
    return !err;
  };
  std::vector<bool> tries;
  sem.acquire(1);
  tries.push_back(try_acquire(1));
  tries.push_back(try_acquire(1));
  sem.release(2);
  tries.push_back(try_acquire(1));
  sem.acquire(1);
  tries.push_back(try_acquire(1));
  CHECK(tries == std::vector<bool>{true, false, true, false});
}

TEST_CASE("acquire with a context reports deadline_exceeded or canceled, and then holds nothing") {
  goro::Semaphore sem(1);
  sem.acquire(1);
  {
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 5ms);
    CHECK(sem.acquire(ctx, 1) == goro::errc::deadline_exceeded);
    cancel();
  }
  {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    std::thread t([c = cancel] { c(); });
    CHECK(sem.acquire(ctx, 1) == goro::errc::canceled);
    t.join();
  }
  sem.release(1);
  CHECK(sem.try_acquire(1));  // the failed acquires took nothing
}

// Go: TestWeightedDoesntBlockIfTooBig in semaphore_test.go.
TEST_CASE("TestWeightedDoesntBlockIfTooBig: a request larger than the size does not block the others") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr std::int64_t n = 2;
  bool failed = true, too_big_failed = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Semaphore sem(n);
      auto [big_ctx, cancel_big] = goro::with_cancel(goro::background());
      goro::WaitGroup big;
      big.go([&, c = big_ctx] { too_big_failed = sem.acquire(c, n + 1) == goro::errc::canceled; });
      goro::Group g;
      for (int i = 0; i < n * 3; ++i)
        g.go([&](const goro::Context& ctx) {
          if (auto err = sem.acquire(ctx, 1)) throw std::system_error(err);
          goro::sleep_for(1ms);
          sem.release(1);
        });
      try {
        g.wait();
        failed = false;
      } catch (...) {
      }
      cancel_big();
      big.wait();
    });
  }
  CHECK_FALSE(failed);
  CHECK(too_big_failed);
}

// Go: TestLargeAcquireDoesntStarve in semaphore_test.go.
TEST_CASE("TestLargeAcquireDoesntStarve: acquire(n) gets through goroutines cycling acquire(1)") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const std::int64_t n = procs + 1;
  bool got_all = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Semaphore sem(n);
      std::atomic<bool> running{true};
      goro::WaitGroup wg;
      for (std::int64_t i = n; i > 0; --i) {
        sem.acquire(1);
        wg.go([&] {
          while (running.load()) {
            goro::sleep_for(100us);
            sem.release(1);
            sem.acquire(1);
          }
          sem.release(1);
        });
      }
      sem.acquire(n);  // must not be starved by the acquire(1)s
      got_all = true;
      running.store(false);
      sem.release(n);
      wg.wait();
    });
  }
  CHECK(got_all);
}

// Go: TestAllocCancelDoesntStarve in semaphore_test.go: a cancelled large
// request at the front must let the small one behind it through.
TEST_CASE("TestAllocCancelDoesntStarve: cancelling the waiter at the front lets the next one through") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool small_ok = false, big_cancelled = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Semaphore sem(10);
      sem.acquire(1);  // so that acquire(10) can block
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      goro::WaitGroup wg;
      wg.go([&, c = ctx] { big_cancelled = sem.acquire(c, 10) == goro::errc::canceled; });
      // Wait until the acquire(10) call blocks (then try_acquire fails: FIFO).
      while (sem.try_acquire(1)) {
        sem.release(1);
        goro::yield();
      }
      // Now take 1 more, and simultaneously unblock the acquire(10) call.
      // Both calls must return, in either order.
      goro::go([c = cancel] { c(); });
      small_ok = !sem.acquire(goro::background(), 1);
      sem.release(1);
      wg.wait();
    });
  }
  CHECK(small_ok);
  CHECK(big_cancelled);
}

// Go: TestWeightedAcquireCanceled in semaphore_test.go (go.dev/issue/63615).
TEST_CASE("TestWeightedAcquireCanceled: a context cancelled before the tokens come fails the acquire") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::error_code err;
  bool two_after = false, done_ctx_refused = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Semaphore sem(2);
      auto [ctx, cancel] = goro::with_cancel(goro::background());
      sem.acquire(1);
      goro::Chan<int> ch(0);
      goro::go([&, ch, c = cancel] {
        // Synchronize with the acquire(2) below.
        while (sem.try_acquire(1)) {
          sem.release(1);
          goro::yield();
        }
        // Now cancel ctx, and then release the token.
        c();
        sem.release(1);
        ch.close();
      });
      // Since the context closing happens before enough tokens become
      // available, this acquire must fail.
      err = sem.acquire(ctx, 2);
      // There must always be two tokens after the other goroutine releases
      // the one we held at the start.
      ch.recv();
      two_after = sem.try_acquire(2);
      // We don't acquire with a done context even when we wouldn't need to block.
      sem.release(2);
      done_ctx_refused = sem.acquire(ctx, 1) == goro::errc::canceled;
    });
  }
  CHECK(err == goro::errc::canceled);
  CHECK(two_after);
  CHECK(done_ctx_refused);
}

TEST_CASE("waiters are served in FIFO order: a waiting large request blocks smaller ones behind it") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::vector<std::string> order;  // appended under `mu`
  bool try_failed_while_waiting = false, large_parked = false, small_parked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Semaphore sem(4);
      goro::Mutex mu;
      auto log = [&](const char* what) {
        std::lock_guard<goro::Mutex> g(mu);
        order.emplace_back(what);
      };
      sem.acquire(3);  // 1 free
      goro::WaitGroup wg;
      wg.go([&] {
        sem.acquire(4);
        log("large");
        sem.release(4);
      });
      large_parked = wait_parked(this_runtime(), WaitReason::semaphore, 1);
      // 1 token is free, but the large request is first in line.
      try_failed_while_waiting = !sem.try_acquire(1);
      wg.go([&] {
        sem.acquire(1);
        log("small");
        sem.release(1);
      });
      small_parked = wait_parked(this_runtime(), WaitReason::semaphore, 2);
      log("release");
      sem.release(3);
      wg.wait();
    });
  }
  CHECK(large_parked);
  CHECK(try_failed_while_waiting);
  CHECK(small_parked);
  CHECK(order == std::vector<std::string>{"release", "large", "small"});
}

TEST_CASE("plain threads and goroutines share a semaphore, blocking and releasing each other") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr std::int64_t size = 3;
  const int rounds = scaled(2000);
  std::atomic<std::int64_t> held{0}, max_held{0};
  std::atomic<int> errors{0};
  goro::Semaphore sem(size);
  auto worker = [&](std::int64_t w, bool with_ctx) {
    for (int i = 0; i < rounds; ++i) {
      if (with_ctx) {
        if (sem.acquire(goro::background(), w)) {
          errors.fetch_add(1);
          continue;
        }
      } else {
        sem.acquire(w);
      }
      record_max(max_held, held.fetch_add(w) + w);
      held.fetch_sub(w);
      sem.release(w);
    }
  };
  auto [ctx, cancel] = goro::with_cancel(goro::background());  // cancelled after the join
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (std::int64_t w = 1; w <= size; ++w) s.go([&, w] { worker(w, w % 2 == 0); });
    // acquire(ctx, n) with a cancellable ctx takes the channel path.
    s.go([&, c = ctx] {
      for (int i = 0; i < rounds; ++i) {
        if (sem.acquire(c, 2)) {
          errors.fetch_add(1);
          continue;
        }
        record_max(max_held, held.fetch_add(2) + 2);
        held.fetch_sub(2);
        sem.release(2);
      }
    });
    std::vector<std::thread> ts;
    for (std::int64_t w = 1; w <= 2; ++w) ts.emplace_back(worker, w, w == 2);
    for (auto& t : ts) t.join();
  }
  cancel();
  CHECK(errors == 0);
  CHECK(max_held <= size);
  CHECK(held == 0);
}

TEST_CASE("a goroutine blocked in acquire parks and is woken by a release from a plain thread") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool acquired = false, parked = false;
  goro::Semaphore sem(2);
  sem.acquire(2);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      sem.acquire(2);
      acquired = true;
    });
    parked = wait_parked(s.runtime(), WaitReason::semaphore, 1);
    sem.release(1);
    sem.release(1);
  }
  CHECK(parked);
  CHECK(acquired);
}

TEST_CASE("misuse of a Semaphore throws a clear error instead of blocking forever") {
  CHECK_THROWS_AS(goro::Semaphore(-1), std::invalid_argument);
  goro::Semaphore sem(2);
  CHECK_THROWS_AS(sem.acquire(-1), std::invalid_argument);
  CHECK_THROWS_AS(sem.release(-1), std::invalid_argument);
  CHECK_THROWS_AS(sem.try_acquire(-1), std::invalid_argument);
  std::string what;
  try {
    sem.acquire(3);
  } catch (const std::invalid_argument& e) {
    what = e.what();
  }
  CHECK(what == "goro::Semaphore::acquire: weight 3 exceeds the semaphore's size 2 (it would block forever)");
  // A context that can never be done would wait forever too.
  CHECK_THROWS_AS(sem.acquire(goro::background(), 3), std::invalid_argument);
  CHECK_THROWS_AS(sem.acquire(goro::without_cancel(goro::background()), 3), std::invalid_argument);
  // try_acquire just fails (Go).
  CHECK_FALSE(sem.try_acquire(3));
  // A cancellable context: Go waits for it, then returns its error.
  auto [ctx, cancel] = goro::with_timeout(goro::background(), 5ms);
  CHECK(sem.acquire(ctx, 3) == goro::errc::deadline_exceeded);
  cancel();
  // Nothing was taken by any of these.
  CHECK(sem.try_acquire(2));
  CHECK(sem.size() == 2);
  // Weight 0 always fits when nobody waits.
  CHECK(sem.try_acquire(0));
  sem.acquire(0);
  sem.release(0);
}
