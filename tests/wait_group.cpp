// Tests for goro::WaitGroup: the barrier and its reuse, WaitGroup::go, waits
// from plain threads and goroutines, and destruction right after wait().
// Ports Go's sync/waitgroup_test.go (each port names its test); misuse
// (negative counter, reuse before Wait returned) is in tests/death/.
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined, and only the
// test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

namespace {

// Go: testWaitGroup in sync/waitgroup_test.go. n goroutines each call
// wg1.done() and then wait on wg2; the caller waits on wg1 and releases wg2
// one done() at a time: no goroutine may pass wg2 before the last done().
// Returns the number of goroutines that exited too soon (must be 0) or -1
// if one never exited.
int test_wait_group(goro::WaitGroup& wg1, goro::WaitGroup& wg2) {
  constexpr int n = 16;
  wg1.add(n);
  wg2.add(n);
  goro::Chan<bool> exited(n);
  for (int i = 0; i != n; ++i) {
    goro::go([&wg1, &wg2, exited] {
      wg1.done();
      wg2.wait();
      exited.send(true);
    });
  }
  wg1.wait();
  int too_soon = 0;
  for (int i = 0; i != n; ++i) {
    if (exited.try_recv()) ++too_soon;  // "WaitGroup released group too soon"
    wg2.done();
  }
  for (int i = too_soon; i != n; ++i) {
    if (!exited.recv()) return -1;  // would block if the barrier failed to release someone
  }
  return too_soon;
}

}  // namespace

// Go: TestWaitGroup in sync/waitgroup_test.go.
TEST_CASE("a WaitGroup releases its waiters only after the last done, and can be reused") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::vector<int> results;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::WaitGroup wg1, wg2;
      // Run the same test a few times to ensure the barrier is in a proper state.
      for (int i = 0; i != 8; ++i) results.push_back(test_wait_group(wg1, wg2));
    });
  }
  REQUIRE(results.size() == 8);
  for (int r : results) CHECK(r == 0);
}

// Go: TestWaitGroupRace in sync/waitgroup_test.go.
TEST_CASE("a WaitGroup's wait returns only after both done calls (no spurious wake-up)") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = 1000 / kScale;
  int spurious = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      for (int i = 0; i < rounds; ++i) {
        goro::WaitGroup wg;
        std::atomic<int> n{0};
        wg.add(1);
        goro::go([&] {
          n.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        });
        wg.add(1);
        goro::go([&] {
          n.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        });
        wg.wait();
        if (n.load(std::memory_order_relaxed) != 2) ++spurious;  // "Spurious wakeup from Wait"
      }
    });
  }
  CHECK(spurious == 0);
}

// Go: TestWaitGroupAlign in sync/waitgroup_test.go (the 64-bit state word
// stays aligned after a byte).
TEST_CASE("a WaitGroup placed after a byte in a struct works") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  struct X {
    char x;
    goro::WaitGroup wg;
  };
  static_assert(alignof(X) >= alignof(std::atomic<std::uint64_t>));
  bool returned = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      X x;
      x.wg.add(1);
      goro::go([](X* p) { p->wg.done(); }, &x);
      x.wg.wait();
      returned = true;
    });
  }
  CHECK(returned);
}

// Go: TestWaitGroupGo in sync/waitgroup_test.go (Go 1.25).
TEST_CASE("WaitGroup::go runs the function in a goroutine and wait waits for it") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  int i = 0;
  int seen = -1;
  bool ran_in_other_goroutine = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::WaitGroup wg;
      const goro::detail::G* self = goro::detail::current_g();
      wg.go([&] {
        ++i;
        ran_in_other_goroutine = goro::detail::current_g() != self && goro::detail::current_g() != nullptr;
      });
      wg.wait();
      seen = i;
    });
  }
  CHECK(seen == 1);
  CHECK(ran_in_other_goroutine);
}

namespace {

// `rounds` times: four wg.go goroutines each own a Tracker; right after
// wg.wait() none may be alive. The counter is freed at once, so a capture
// destroyed after wait() returned is a use-after-free under ASan. Returns
// the number of rounds that saw a live capture after wait().
int rounds_with_live_captures(int rounds) {
  int bad = 0;
  for (int r = 0; r < rounds; ++r) {
    auto* live = new std::atomic<int>(0);
    {
      goro::WaitGroup wg;
      for (int i = 0; i < 4; ++i) wg.go([t = Tracker(live)] { goro::yield(); });
      wg.wait();
      if (live->load() != 0) ++bad;
    }
    delete live;
  }
  return bad;
}

}  // namespace

TEST_CASE("WaitGroup::go destroys the function and its captures before wait returns") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = procs == 2 ? scaled(2000) : scaled(500);
  int bad = -1;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] { bad = rounds_with_live_captures(rounds); });
  }
  CHECK(bad == 0);
}

TEST_CASE("WaitGroup::go destroys the captures before wait returns to a plain thread") {
  CHECK(rounds_with_live_captures(scaled(500)) == 0);
}

// The seed program (seeds' "WaitGroup" section): five workers, wait for all.
TEST_CASE("wait returns after all five workers started with a WaitGroup have called done") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::vector<int> ran(6, 0);
  std::vector<int> seen_at_wait;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::WaitGroup wg;
      for (int i = 1; i <= 5; ++i) {
        wg.add(1);
        goro::go([&, i] {
          goro::yield();
          ran[static_cast<std::size_t>(i)] = 1;  // each worker writes its own slot
          wg.done();
        });
      }
      wg.wait();
      seen_at_wait = ran;  // every write before done() is visible after wait()
    });
  }
  CHECK(seen_at_wait == std::vector<int>{0, 1, 1, 1, 1, 1});
}

TEST_CASE("a goroutine waiting on a WaitGroup parks until the counter reaches zero") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool waiter_parked = false, returned_early = true, returned = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::WaitGroup wg, waiter_done;
      std::atomic<bool> back{false};
      wg.add(2);
      waiter_done.go([&] {
        wg.wait();
        back.store(true);
      });
      wg.done();
      waiter_parked = wait_parked(goro::detail::current_runtime(), WaitReason::sync_waitgroup_wait, 1);
      returned_early = back.load();
      wg.done();
      waiter_done.wait();
      returned = back.load();
    });
  }
  CHECK(waiter_parked);
  CHECK_FALSE(returned_early);
  CHECK(returned);
}

TEST_CASE("the test thread waits on a WaitGroup filled by goroutines, alongside waiting goroutines") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int workers = 100 / kScale + 2;
  std::atomic<int> finished{0};
  std::atomic<int> waiters_back{0};
  std::atomic<int> waiters_saw_all{0};
  int seen_by_thread = -1;
  goro::WaitGroup wg;  // outlives the goroutines (the Scheduler joins them first)
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    wg.add(workers);
    // Goroutines and a second plain thread wait too.
    for (int i = 0; i < 3; ++i) {
      s.go([&] {
        wg.wait();
        if (finished.load() == workers) waiters_saw_all.fetch_add(1);
        waiters_back.fetch_add(1);
      });
    }
    std::thread other([&] {
      wg.wait();
      if (finished.load() == workers) waiters_saw_all.fetch_add(1);
      waiters_back.fetch_add(1);
    });
    for (int i = 0; i < workers; ++i) {
      s.go([&] {
        goro::yield();
        finished.fetch_add(1);
        wg.done();
      });
    }
    wg.wait();  // the test thread (a plain thread) blocks here
    seen_by_thread = finished.load();
    other.join();
  }
  CHECK(seen_by_thread == workers);
  CHECK(waiters_back.load() == 4);
  CHECK(waiters_saw_all.load() == 4);
}

TEST_CASE("a goroutine waits on a WaitGroup whose done calls come from plain threads") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int threads = 3;
  std::atomic<int> finished{0};
  int seen = -1;
  goro::WaitGroup wg, goroutine_done;  // outlive the goroutine
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    wg.add(threads);
    goroutine_done.add(1);
    s.go([&] {
      wg.wait();
      seen = finished.load();
      goroutine_done.done();
    });
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) {
      ts.emplace_back([&] {
        finished.fetch_add(1);
        wg.done();
      });
    }
    for (auto& t : ts) t.join();
    goroutine_done.wait();
  }
  CHECK(seen == threads);
}

// C++ adds a lifetime rule Go's garbage collector makes moot: the usual
// `{ WaitGroup wg; ...; wg.wait(); }` destroys the WaitGroup as soon as
// wait() returns, possibly while the last done() is still returning. ASan
// and TSan builds check that no done() touches a destroyed WaitGroup.
TEST_CASE("a WaitGroup can be destroyed as soon as wait returns") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = 1000 / kScale;
  int completed = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      for (int r = 0; r < rounds; ++r) {
        auto* wg = new goro::WaitGroup;
        wg->add(1);
        goro::go([wg] { wg->done(); });
        if (r % 2 == 0) goro::yield();  // sometimes done() first, sometimes wait() first
        wg->wait();
        delete wg;
        ++completed;
      }
    });
  }
  CHECK(completed == rounds);
}

TEST_CASE("wait on a WaitGroup whose counter is zero returns at once, from a goroutine or a thread") {
  goro::WaitGroup wg;
  wg.wait();
  wg.add(3);
  wg.add(-3);
  wg.wait();
  bool returned = false;
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&] {
      wg.wait();
      returned = true;
    });
  }
  CHECK(returned);
}
