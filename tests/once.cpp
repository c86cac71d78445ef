// Tests for goro::Once: the function runs once however many goroutines and
// threads race for it, the others wait (parked) until it is done, and a
// function that throws leaves the Once not done (std::call_once's rule,
// where Go's Once would count the panicking call). Ports Go's
// sync/once_test.go (each port names its test); recursive use is in
// tests/death/. Then once_func/once_value/once_values, porting Go's
// sync/oncefunc_test.go: there a call that throws counts, as in Go.
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined, and only the
// test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
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

// ---------------------------------------------------------------------------
// once_func, once_value, once_values (Go 1.21's OnceFunc, OnceValue,
// OnceValues). Go's rule, not std::call_once's: a call that threw counts.

// Go: TestOnceFunc in sync/oncefunc_test.go.
TEST_CASE("TestOnceFunc: once_func runs f on the first call only, and copies share it") {
  int calls = 0;
  auto f = goro::once_func([&] { ++calls; });
  auto copy = f;
  f();
  f();
  copy();
  CHECK(calls == 1);
}

// Go: TestOnceValue in sync/oncefunc_test.go.
TEST_CASE("TestOnceValue: once_value computes once and every call returns the same stored value") {
  int calls = 0;
  auto f = goro::once_value([&] {
    ++calls;
    return calls;
  });
  const int& a = f();
  const int& b = f();
  CHECK(a == 1);
  CHECK(&a == &b);
  CHECK(f() == 1);
  CHECK(calls == 1);
}

// Go: TestOnceValues in sync/oncefunc_test.go.
TEST_CASE("TestOnceValues: once_values returns f's pair or tuple, for structured bindings") {
  int calls = 0;
  auto f = goro::once_values([&] {
    ++calls;
    return std::pair{calls, std::string("two")};
  });
  const auto& [v1, v2] = f();
  CHECK(v1 == 1);
  CHECK(v2 == "two");
  auto [w1, w2] = f();  // a copy
  CHECK(w1 == 1);
  CHECK(w2 == "two");
  CHECK(calls == 1);
  auto g = goro::once_values([] { return std::tuple{1, 2.5, std::string("three")}; });
  CHECK(std::get<2>(g()) == "three");
}

TEST_CASE("once_value works with a move-only result and returns it by const reference") {
  auto f = goro::once_value([] { return std::make_unique<int>(42); });
  const std::unique_ptr<int>& p = f();
  REQUIRE(p);
  CHECK(*p == 42);
  CHECK(f().get() == p.get());
}

// Go: TestOnceFuncPanic, TestOnceValuePanic, TestOnceValuesPanic in
// sync/oncefunc_test.go: every call panics with the same value.
TEST_CASE("when f throws, every call of the once callable rethrows the same exception and f runs once") {
  SECTION("once_func") {
    int calls = 0;
    auto f = goro::once_func([&] {
      ++calls;
      throw std::runtime_error("x");
    });
    const void* first = nullptr;
    int caught = 0;
    for (int i = 0; i < 3; ++i) {
      try {
        f();
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "x" && (first == nullptr || first == &e)) ++caught;
        first = &e;
      }
    }
    CHECK(caught == 3);
    CHECK(calls == 1);
  }
  SECTION("once_value") {
    int calls = 0;
    auto f = goro::once_value([&]() -> int {
      ++calls;
      throw std::runtime_error("x");
    });
    CHECK_THROWS_WITH(f(), "x");
    CHECK_THROWS_WITH(f(), "x");
    CHECK(calls == 1);
  }
  SECTION("once_values") {
    int calls = 0;
    auto f = goro::once_values([&]() -> std::pair<int, int> {
      ++calls;
      throw std::logic_error("y");
    });
    CHECK_THROWS_AS(f(), std::logic_error);
    CHECK_THROWS_AS(f(), std::logic_error);
    CHECK(calls == 1);
  }
}

// Go: TestOnceXGC in sync/oncefunc_test.go: f is released after the call.
TEST_CASE("TestOnceXGC: the once callable destroys f and its captures right after the first call") {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  auto f = goro::once_func([t = std::move(token)] { ++*t; });
  auto v = goro::once_value([t = watch.lock()] { return *t + 1; });
  auto vs = goro::once_values([t = watch.lock()] { return std::pair{*t, true}; });
  CHECK(watch.use_count() == 3);
  f();
  v();
  CHECK(watch.use_count() == 1);  // still held by vs's f
  vs();
  CHECK(watch.expired());
  auto throws = goro::once_func([t = std::make_shared<int>(0), &watch] {
    watch = t;
    throw std::runtime_error("z");
  });
  CHECK_THROWS(throws());
  CHECK(watch.expired());
}

TEST_CASE("callers racing the first call of a once_value wait, parked, and all get its result") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int callers = 8;
  bool others_parked = false;
  std::atomic<int> runs{0};
  std::vector<int> seen(callers, -1);
  std::vector<const int*> addresses(callers, nullptr);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto* rt = goro::detail::current_runtime();
      goro::Chan<bool> entered(1), proceed(0);
      auto get = goro::once_value([&runs, entered, proceed] {
        runs.fetch_add(1);
        entered.send(true);
        proceed.recv();  // f blocks: the other callers must wait for it
        return 42;
      });
      goro::WaitGroup wg;
      for (int i = 0; i < callers; ++i) {
        wg.go([&, i, get] {
          const int& v = get();
          seen[static_cast<std::size_t>(i)] = v;
          addresses[static_cast<std::size_t>(i)] = &v;
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
  CHECK(std::count(addresses.begin(), addresses.end(), addresses[0]) == callers);
}

TEST_CASE("plain threads and goroutines racing a throwing once_func all get the one exception") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int goroutines = 6, threads = 3;
  std::atomic<int> runs{0};
  std::vector<const void*> thrown(goroutines + threads, nullptr);
  goro::WaitGroup arrived;
  arrived.add(goroutines + threads);
  auto f = goro::once_func([&] {
    runs.fetch_add(1);
    arrived.wait();  // f blocks until every caller has arrived
    throw std::runtime_error("boom");
  });
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    auto caller = [&](int i) {
      arrived.done();
      try {
        f();
      } catch (const std::runtime_error& e) {
        thrown[static_cast<std::size_t>(i)] = &e;
      }
    };
    for (int i = 0; i < goroutines; ++i) s.go(caller, i);
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(caller, goroutines + i);
    for (auto& t : ts) t.join();
  }
  CHECK(runs == 1);
  REQUIRE(thrown[0] != nullptr);
  CHECK(std::count(thrown.begin(), thrown.end(), thrown[0]) == goroutines + threads);
}
