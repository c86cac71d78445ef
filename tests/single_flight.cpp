// Tests for goro::SingleFlight (golang.org/x/sync/singleflight's Group):
// concurrent callers of one key share one execution and its result or
// exception, waiting parked; forget; a later call runs again; goroutines and
// plain threads mix. Ports x/sync's singleflight_test.go (each port names
// its test).
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined, and only the
// test thread asserts.
#include <goro/goro.hpp>
#include <goro/single_flight.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

namespace {

goro::detail::Runtime* this_runtime() { return goro::detail::current_runtime(); }

// A value that counts its copies.
struct Counted {
  static inline std::atomic<int> copies{0};
  int v = 0;
  explicit Counted(int x) : v(x) {}
  Counted(const Counted& o) : v(o.v) { copies.fetch_add(1); }
  Counted(Counted&&) noexcept = default;
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
};

}  // namespace

// Go: TestDo in singleflight_test.go.
TEST_CASE("TestDo: call runs the function and returns its result") {
  goro::SingleFlight<std::string, std::string> g;
  CHECK(g.call("key", [] { return std::string("bar"); }) == "bar");
  auto [v, shared] = g.call_shared("key", [] { return std::string("baz"); });
  CHECK(v == "baz");  // the earlier call has finished: fn runs again
  CHECK_FALSE(shared);
}

// Go: TestDoErr in singleflight_test.go.
TEST_CASE("TestDoErr: call rethrows the function's exception") {
  goro::SingleFlight<std::string, int> g;
  CHECK_THROWS_WITH(g.call("key", []() -> int { throw std::runtime_error("some error"); }), "some error");
  // The key was released: the next call runs.
  CHECK(g.call("key", [] { return 7; }) == 7);
}

// Go: TestDoDupSuppress in singleflight_test.go, made exact: every other
// caller is parked on the call in flight before fn may return, so fn runs
// once and every caller shares its result.
TEST_CASE("TestDoDupSuppress: concurrent callers of one key share a single execution") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = 10;
  std::atomic<int> calls{0};
  std::vector<std::string> got(n);
  std::vector<int> shared(n, -1);
  bool others_parked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::SingleFlight<std::string, std::string> g;
      goro::Chan<int> started(1), release(0);
      auto fn = [&calls, started, release] {
        if (calls.fetch_add(1) == 0) started.send(1);
        release.recv();
        return std::string("bar");
      };
      goro::WaitGroup wg;
      wg.go([&, fn] {
        auto r = g.call_shared("key", fn);
        got[0] = r.value;
        shared[0] = r.shared;
      });
      started.recv();  // the first caller is inside fn
      for (int i = 1; i < n; ++i)
        wg.go([&, i, fn] {
          auto r = g.call_shared("key", fn);
          got[static_cast<std::size_t>(i)] = r.value;
          shared[static_cast<std::size_t>(i)] = r.shared;
        });
      others_parked = wait_parked(this_runtime(), WaitReason::sync_waitgroup_wait, n - 1);
      release.send(1);
      wg.wait();
    });
  }
  CHECK(others_parked);
  CHECK(calls == 1);
  CHECK(got == std::vector<std::string>(n, "bar"));
  CHECK(shared == std::vector<int>(n, 1));
}

TEST_CASE("callers sharing an execution that throws all get the one exception") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = 6;
  std::atomic<int> calls{0};
  std::vector<const void*> thrown(n, nullptr);
  std::vector<std::string> what(n);
  // The shared exception object is freed by whoever drops the last
  // reference, ordered by libstdc++'s reference count, which is not
  // instrumented: GCC's ThreadSanitizer would report the free as racing the
  // other callers' reads. Keeping a reference here frees it on the test
  // thread, after the join.
  std::vector<std::exception_ptr> kept(n);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::SingleFlight<int, int> g;
      goro::Chan<int> started(1), release(0);
      auto fn = [&calls, started, release]() -> int {
        calls.fetch_add(1);
        started.send(1);
        release.recv();
        throw std::runtime_error("boom");
      };
      goro::WaitGroup wg;
      auto caller = [&, fn](int i) {
        try {
          g.call(42, fn);
        } catch (const std::runtime_error& e) {
          thrown[static_cast<std::size_t>(i)] = &e;
          what[static_cast<std::size_t>(i)] = e.what();
          kept[static_cast<std::size_t>(i)] = std::current_exception();
        }
      };
      wg.go([&] { caller(0); });
      started.recv();
      for (int i = 1; i < n; ++i) wg.go([&, i] { caller(i); });
      wait_parked(this_runtime(), WaitReason::sync_waitgroup_wait, n - 1);
      release.send(1);
      wg.wait();
    });
  }
  CHECK(calls == 1);
  CHECK(what == std::vector<std::string>(n, "boom"));
  REQUIRE(thrown[0] != nullptr);
  CHECK(std::count(thrown.begin(), thrown.end(), thrown[0]) == n);
}

// Go: TestForget in singleflight_test.go (DoChan calls become goroutines).
TEST_CASE("TestForget: after forget a new call runs, and a later one joins the new call") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  int second = -1, third = -1, first_result = -1;
  bool third_shared = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::SingleFlight<std::string, int> g;
      goro::Chan<int> first_started(0), unblock_first(0), unblock_second(0), second_started(1);
      goro::WaitGroup wg;
      wg.go([&] {
        first_result = g.call("key", [&] {
          first_started.close();
          unblock_first.recv();
          return 1;
        });
      });
      first_started.recv();
      g.forget("key");
      wg.go([&] {
        second = g.call("key", [&] {
          second_started.send(1);
          unblock_second.recv();
          return 2;
        });
      });
      second_started.recv();  // the second execution is in flight
      unblock_first.close();
      wg.go([&] {
        auto r = g.call_shared("key", [] { return 3; });
        third = r.value;
        third_shared = r.shared;
      });
      // The third caller joins the second execution (in flight), not the
      // finished first one.
      wait_parked(this_runtime(), WaitReason::sync_waitgroup_wait, 1);
      unblock_second.close();
      wg.wait();
    });
  }
  CHECK(first_result == 1);
  CHECK(second == 2);
  CHECK(third == 2);
  CHECK(third_shared);
}

TEST_CASE("forget during a call leaves its waiters with its result, and a new call runs fn again") {
  goro::SingleFlight<int, int> g;
  int runs = 0;
  int inner = -1;
  const int outer = g.call(1, [&] {
    ++runs;
    g.forget(1);  // the call in flight is forgotten: a new one may start
    inner = g.call(1, [&] {
      ++runs;
      return 20;
    });
    return 10;
  });
  CHECK(outer == 10);
  CHECK(inner == 20);
  CHECK(runs == 2);
}

TEST_CASE("different keys run concurrently and do not share") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr int keys = 5;
  std::atomic<int> calls{0};
  std::vector<int> got(keys, -1);
  bool all_in_fn = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::SingleFlight<int, int> g;
      goro::Chan<int> release(0);
      goro::WaitGroup wg;
      for (int k = 0; k < keys; ++k)
        wg.go([&, k, release] {
          got[static_cast<std::size_t>(k)] = g.call(k, [&, k, release] {
            calls.fetch_add(1);
            release.recv();  // every key's fn blocks at once: none waits for another
            return k * k;
          });
        });
      all_in_fn = wait_parked(this_runtime(), WaitReason::chan_receive, keys);
      release.close();
      wg.wait();
    });
  }
  CHECK(all_in_fn);
  CHECK(calls == keys);
  CHECK(got == std::vector<int>{0, 1, 4, 9, 16});
}

TEST_CASE("the caller that ran fn alone gets its value moved; sharers get copies") {
  Counted::copies = 0;
  goro::SingleFlight<int, Counted> g;
  auto r = g.call_shared(1, [] { return Counted(5); });
  CHECK(r.value.v == 5);
  CHECK_FALSE(r.shared);
  CHECK(Counted::copies == 0);
}

TEST_CASE("plain threads and goroutines calling one key at once share the execution") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int goroutines = 4, threads = 3;
  std::atomic<int> calls{0};
  std::vector<int> got(1 + goroutines + threads, -1);
  std::vector<int> shared(1 + goroutines + threads, -1);
  bool goroutines_joined = false;
  goro::SingleFlight<std::string, int> g;
  goro::WaitGroup arrived;  // the threads are about to call
  arrived.add(threads);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    // Each execution returns its number. The first waits until every
    // goroutine is parked on it and every thread has arrived; a thread that
    // arrives after it finished runs its own execution.
    auto fn = [&] {
      const int id = calls.fetch_add(1) + 1;
      if (id == 1) {
        goroutines_joined = wait_parked(s.runtime(), WaitReason::sync_waitgroup_wait, goroutines);
        arrived.wait();
      }
      return id;
    };
    auto caller = [&](int i) {
      auto r = g.call_shared("key", fn);
      got[static_cast<std::size_t>(i)] = r.value;
      shared[static_cast<std::size_t>(i)] = r.shared;
    };
    std::atomic<bool> in_fn{false};
    std::thread first([&] {  // the first caller: a plain thread
      auto r = g.call_shared("key", [&] {
        in_fn.store(true);
        return fn();
      });
      got[0] = r.value;
      shared[0] = r.shared;
    });
    await_at_least(in_fn, true);
    for (int i = 1; i <= goroutines; ++i) s.go(caller, i);
    std::vector<std::thread> ts;
    for (int i = goroutines + 1; i <= goroutines + threads; ++i)
      ts.emplace_back([&, i] {
        arrived.done();
        caller(i);
      });
    for (auto& t : ts) t.join();
    first.join();
  }
  CHECK(goroutines_joined);
  // The first caller and every goroutine shared execution 1.
  for (int i = 0; i <= goroutines; ++i) {
    CAPTURE(i);
    CHECK(got[static_cast<std::size_t>(i)] == 1);
    CHECK(shared[static_cast<std::size_t>(i)] == 1);
  }
  // A thread joined execution 1 or ran a later one of its own (or shared
  // that with another late thread): one result per execution.
  std::vector<int> ids(got.begin(), got.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  CHECK(static_cast<int>(ids.size()) == calls.load());
  CHECK(ids.front() == 1);
  CHECK(ids.back() == calls.load());
}
