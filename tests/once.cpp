// Tests for goro::Once: the function runs once however many goroutines and
// threads race for it, the others wait (parked) until it is done, and a
// function that throws leaves the Once not done (std::call_once's rule,
// where Go's Once would count the panicking call). Ports Go's
// sync/once_test.go (each port names its test); recursive use is in
// tests/death/.
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined, and only the
// test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

// Go: TestOnce in sync/once_test.go: ten goroutines call Do with the same
// increment; each must see 1 right after its call returns.
TEST_CASE("a Once runs its function once however many goroutines call it, and each sees it done") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = 10;
  int o = 0;  // Go: one
  std::atomic<int> saw_other{0};
  goro::Once once;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < n; ++i) {
      s.go([&] {
        once.call([&] { ++o; });
        if (o != 1) saw_other.fetch_add(1);  // "once failed inside run"
      });
    }
  }
  CHECK(o == 1);  // "once failed outside run"
  CHECK(saw_other.load() == 0);
  CHECK(once.done());
}

// Go: TestOncePanic in sync/once_test.go, with C++'s rule instead of Go's:
// the exception propagates to the caller, and the Once stays not done, so a
// later call runs its function (Go's Once would count the panicking call as
// done and never call the second function).
TEST_CASE("when a Once's function throws, the exception reaches the caller and a later call runs again") {
  goro::Once once;
  bool threw = false;
  try {
    once.call([] { throw std::runtime_error("failed"); });
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()) == "failed";
  }
  CHECK(threw);  // "Once.Do did not panic"
  CHECK_FALSE(once.done());
  int second = 0;
  once.call([&] { ++second; });
  CHECK(second == 1);
  CHECK(once.done());
  once.call([&] { ++second; });
  CHECK(second == 1);
}

TEST_CASE("callers of a Once wait, parked, while its function runs, and then all see its effects") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int callers = 8;
  bool others_parked = false;
  int runs = 0;
  std::vector<int> seen(callers, -1);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto* rt = goro::detail::current_runtime();
      goro::Once once;
      goro::Chan<bool> entered(1), proceed(0);
      int value = 0;  // written by the function, read after call() returns
      goro::WaitGroup wg;
      for (int i = 0; i < callers; ++i) {
        wg.go([&, i, entered, proceed] {
          once.call([&] {
            ++runs;
            entered.send(true);
            proceed.recv();  // the function blocks: the others must wait for it
            value = 42;
          });
          seen[static_cast<std::size_t>(i)] = value;
        });
      }
      entered.recv();
      others_parked = wait_parked(rt, WaitReason::sync_once, callers - 1);
      proceed.send(true);
      wg.wait();
    });
  }
  CHECK(others_parked);
  CHECK(runs == 1);
  CHECK(seen == std::vector<int>(callers, 42));
}

TEST_CASE("a caller blocked on a throwing Once call runs its own function next") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool first_threw = false, second_parked = false, second_ran = false, done_after = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Once once;
      goro::Chan<bool> entered(1), proceed(0);
      goro::WaitGroup wg;
      wg.go([&, entered, proceed] {
        try {
          once.call([&] {
            entered.send(true);
            proceed.recv();
            throw std::runtime_error("first call fails");
          });
        } catch (const std::runtime_error&) {
          first_threw = true;
        }
      });
      entered.recv();
      wg.go([&] { once.call([&] { second_ran = true; }); });
      second_parked = wait_parked(goro::detail::current_runtime(), WaitReason::sync_once, 1);
      proceed.send(true);
      wg.wait();
      done_after = once.done();
    });
  }
  CHECK(first_threw);
  CHECK(second_parked);
  CHECK(second_ran);
  CHECK(done_after);
}

TEST_CASE("plain threads and goroutines racing for a Once run its function once and all return") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int goroutines = 6, threads = 3;
  goro::Once once;
  goro::WaitGroup arrived;  // every caller is about to call before the function finishes
  std::atomic<int> runs{0};
  std::atomic<int> saw_done{0};
  int value = 0;
  std::vector<int> seen(goroutines + threads, -1);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    arrived.add(goroutines + threads);
    auto caller = [&](int i) {
      arrived.done();
      once.call([&] {
        runs.fetch_add(1);
        arrived.wait();  // the function blocks until every caller has arrived
        value = 7;
      });
      seen[static_cast<std::size_t>(i)] = value;
      if (once.done()) saw_done.fetch_add(1);
    };
    for (int i = 0; i < goroutines; ++i) s.go(caller, i);
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(caller, goroutines + i);
    for (auto& t : ts) t.join();
  }
  CHECK(runs.load() == 1);
  CHECK(saw_done.load() == goroutines + threads);
  CHECK(seen == std::vector<int>(goroutines + threads, 7));
}

TEST_CASE("Once::call passes its arguments to the function, and done tells whether it completed") {
  goro::Once once;
  CHECK_FALSE(once.done());
  int sum = 0;
  once.call([&](int a, const std::string& b) { sum = a + static_cast<int>(b.size()); }, 40, std::string("ab"));
  CHECK(sum == 42);
  CHECK(once.done());
  once.call([&](int a) { sum = a; }, 0);
  CHECK(sum == 42);
}

TEST_CASE("many goroutines hammering one Once run its function exactly once") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = 1000 / kScale;
  std::atomic<int> runs{0};
  std::atomic<int> not_done_after_call{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Once once;
      goro::WaitGroup wg;
      for (int i = 0; i < n; ++i) {
        wg.go([&] {
          once.call([&] {
            goro::yield();  // let the others pile up on the slow path
            runs.fetch_add(1);
          });
          if (!once.done()) not_done_after_call.fetch_add(1);
        });
      }
      wg.wait();
    });
  }
  CHECK(runs.load() == 1);
  CHECK(not_done_after_call.load() == 0);
}
