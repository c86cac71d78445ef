// Tests for goro::testing::synctest, goro::testing::wait and goro::now
// (include/goro/synctest.hpp): bubbles with a fake clock, durable blocking,
// deadlocks inside a bubble, isolation. Ports the examples of Go's
// testing/synctest documentation (each port names its Go example) and the
// cases of issue 16. Fatal misuse (a bubble's channel, Timer or WaitGroup
// used from outside) is tested in tests/death/synctest_*.cpp.
//
// Bubble times are exact: the fake clock moves only by what the bubble's
// timers ask for, so these tests compare times with ==.
//
// Catch2 is not thread-safe: goroutines record outcomes in variables that
// the test thread reads after synctest (or the Scheduler) has joined them,
// and only the test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using Clock = std::chrono::steady_clock;
using goro::testing::bubble_epoch;
using goro::testing::synctest;

namespace {

// Fake time elapsed since the bubble started.
Clock::duration since_epoch() { return goro::now() - bubble_epoch; }

// A goro::Mutex locked by one thread and unlocked by another (it is not
// owned, as in Go): beyond what -Wthread-safety can follow.
void lock_across(goro::Mutex& mu) GORO_NO_TSA { mu.lock(); }
void unlock_across(goro::Mutex& mu) GORO_NO_TSA { mu.unlock(); }

}  // namespace

// ---------------------------------------------------------------------------
// The clock

// Go: the TestTime example of testing/synctest.
TEST_CASE("a bubble's clock starts at the epoch and moves only by what its goroutines sleep") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  Clock::time_point start;
  Clock::duration child_saw{}, main_saw{};
  synctest(s, [&] {
    start = goro::now();
    goro::go([&] {
      goro::sleep_for(1s);
      child_saw = goro::now() - start;
    });
    goro::sleep_for(2s);  // the goroutine above runs before this sleep returns
    main_saw = goro::now() - start;
  });
  CHECK(start == bubble_epoch);
  CHECK(child_saw == 1s);
  CHECK(main_saw == 2s);
}

TEST_CASE("outside a bubble goro::now is the steady clock") {
  const auto before = Clock::now();
  const auto now = goro::now();
  Clock::time_point in_goroutine;
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] { in_goroutine = goro::now(); });
  }  // joins the goroutine
  const auto after = Clock::now();
  CHECK(before <= now);
  CHECK(now <= in_goroutine);
  CHECK(in_goroutine <= after);
}

TEST_CASE("a retry loop with exponential back-off over 10 minutes of fake time keeps exact timestamps") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  // The loop under test: try, and on failure wait 1 s, 2 s, 4 s, ... (at
  // most a minute) before trying again, until 10 minutes have passed.
  std::vector<Clock::duration> attempts;
  const auto real_start = Clock::now();
  synctest(s, [&] {
    const auto start = goro::now();
    auto backoff = Clock::duration(1s);
    while (goro::now() - start < 10min) {
      attempts.push_back(goro::now() - start);  // the "request", which always fails
      goro::sleep_for(backoff);
      backoff = std::min<Clock::duration>(2 * backoff, 1min);
    }
  });
  const auto real_elapsed = Clock::now() - real_start;
  // The expected schedule, from the same rule.
  std::vector<Clock::duration> expected;
  Clock::duration t{}, b = 1s;
  while (t < 10min) {
    expected.push_back(t);
    t += b;
    b = std::min<Clock::duration>(2 * b, 1min);
  }
  CHECK(attempts == expected);
  CHECK(attempts.size() == 15);  // 0, 1, 3, 7, 15, 31, 63 s, then every minute up to 543 s
  CHECK(real_elapsed < 1min);     // the 10 minutes were not waited for
}

// Go: the TestContextWithTimeout example of testing/synctest.
TEST_CASE("with_timeout cancels its context at exactly 5 s of bubble time") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  std::error_code before, after_timeout;
  Clock::duration done_at{};
  std::optional<Clock::time_point> deadline;
  synctest(s, [&] {
    constexpr auto timeout = 5s;
    auto [ctx, cancel] = goro::with_timeout(goro::background(), timeout);
    deadline = ctx.deadline();
    goro::go([&, c = ctx] {
      c.wait();
      done_at = since_epoch();
    });
    // Wait just less than the timeout.
    goro::sleep_for(timeout - 1ns);
    goro::testing::wait();
    before = ctx.err();
    // Wait the rest of the way until the timeout.
    goro::sleep_for(1ns);
    goro::testing::wait();
    after_timeout = ctx.err();
    cancel();
  });
  CHECK_FALSE(before);
  CHECK(after_timeout == goro::errc::deadline_exceeded);
  CHECK(done_at == 5s);
  REQUIRE(deadline);
  CHECK(*deadline == bubble_epoch + 5s);
}

TEST_CASE("tick over an hour of bubble time delivers exactly 3600 ticks, each on the second") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  int ticks = 0, late = 0;
  Clock::duration end{};
  synctest(s, [&] {
    auto ticker = goro::tick(1s);
    const auto stop = goro::after(1h + 500ms);
    for (bool running = true; running;) {
      goro::select(goro::on_recv(ticker, [&](std::optional<Clock::time_point> t) {
                     ++ticks;
                     if (*t != bubble_epoch + ticks * Clock::duration(1s)) ++late;
                   }),
                   goro::on_recv(stop, [&] { running = false; }));
    }
    end = since_epoch();
  });
  CHECK(ticks == 3600);
  CHECK(late == 0);
  CHECK(end == 1h + 500ms);
}

TEST_CASE("after, Timer and select run on the bubble's clock") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  std::optional<Clock::time_point> after_value;
  Clock::duration select_done{}, timer_fired{}, reset_fired{};
  bool stopped = false, stop_again = true, received_after_stop = true;
  synctest(s, [&] {
    after_value = goro::after(3s).recv();  // the value sent is the bubble's time
    goro::Chan<int> never(0);
    goro::select(goro::on_recv(never), goro::on_recv(goro::after(2s)));
    select_done = since_epoch();

    goro::Timer t(10s);
    t.c().recv();
    timer_fired = since_epoch();
    t.reset(1min);
    goro::sleep_for(30s);
    t.reset(1min);  // still active: re-armed from now
    t.c().recv();
    reset_fired = since_epoch();

    goro::Timer u(1s);
    stopped = u.stop();
    goro::sleep_for(5s);
    received_after_stop = u.c().try_recv().has_value();
    stop_again = u.stop();
  });
  REQUIRE(after_value);
  CHECK(*after_value == bubble_epoch + 3s);
  CHECK(select_done == 5s);
  CHECK(timer_fired == 15s);
  CHECK(reset_fired == 15s + 30s + 1min);
  CHECK(stopped);
  CHECK_FALSE(received_after_stop);
  CHECK_FALSE(stop_again);
}

TEST_CASE("goroutines sleeping different times in a bubble each wake at exactly their time") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = scaled(200);
  goro::Scheduler s{goro::Options{.procs = procs}};
  std::vector<Clock::duration> woke(n);
  std::vector<int> order;
  goro::Mutex mu;
  synctest(s, [&] {
    goro::WaitGroup wg;
    for (int i = 0; i < n; ++i) {
      // Start them in a scrambled order; each sleeps (i + 1) ms, in steps.
      const int k = (i * 37) % n;
      wg.go([&, k] {
        goro::sleep_for(std::chrono::milliseconds(k + 1) / 2);
        goro::sleep_for(std::chrono::milliseconds(k + 1) - std::chrono::milliseconds(k + 1) / 2);
        woke[k] = since_epoch();
        std::lock_guard lock(mu);
        order.push_back(k);
      });
    }
    wg.wait();  // durable: the WaitGroup was added to in the bubble
  });
  int wrong = 0;
  for (int k = 0; k < n; ++k) wrong += woke[k] != std::chrono::milliseconds(k + 1);
  CHECK(wrong == 0);
  CHECK(std::is_sorted(order.begin(), order.end()));  // each woke in its own millisecond
}

// ---------------------------------------------------------------------------
// wait()

// Go: the TestWait example of testing/synctest.
TEST_CASE("wait returns once the goroutines of the bubble have finished or durably blocked") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  bool done_seen = false, blocked_seen = false, clock_moved = true;
  synctest(s, [&] {
    bool done = false;
    goro::go([&] { done = true; });
    goro::testing::wait();  // will block until the goroutine above has finished
    done_seen = done;

    std::atomic<bool> about_to_block{false};
    goro::Chan<int> ch(0);
    goro::go([&] {
      about_to_block.store(true);
      ch.recv();  // blocks durably until main sends
    });
    goro::testing::wait();
    blocked_seen = about_to_block.load();
    clock_moved = since_epoch() != Clock::duration::zero();
    ch.send(1);
  });
  CHECK(done_seen);
  CHECK(blocked_seen);
  CHECK_FALSE(clock_moved);  // wait() does not move the clock
}

// Go: the TestContextAfterFunc example of testing/synctest.
TEST_CASE("after_func is not run before its context is cancelled, and is run after") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  bool called_before = true, called_after = false;
  synctest(s, [&] {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    bool called = false;
    goro::after_func(ctx, [&] { called = true; });
    // The context has not been cancelled, so the function is not called.
    goro::testing::wait();
    called_before = called;
    // Cancel the context and wait for the function to finish.
    cancel();
    goro::testing::wait();
    called_after = called;
  });
  CHECK_FALSE(called_before);
  CHECK(called_after);
}

TEST_CASE("wait does not return while a goroutine of the bubble waits on a Mutex held outside it") {
  // A Mutex can be unlocked from outside the bubble: waiting on it is not
  // durable, so wait() must wait for it.
  const int procs = GENERATE(1, 2, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::Mutex mu;
  lock_across(mu);  // held by the test thread, unlocked by `outside`
  std::atomic<bool> unlocked{false};
  bool got_lock_before_wait_returned = false, unlocked_before = false;
  std::thread outside([&] {
    // Once the goroutine waits on the mutex (and main in wait()), give a
    // wrong wait() a chance to return, then unlock.
    wait_parked(s.runtime(), goro::detail::WaitReason::sync_mutex_lock, 1);
    wait_parked(s.runtime(), goro::detail::WaitReason::synctest_wait, 1);
    std::this_thread::sleep_for(20ms);  // an observation window, not synchronization
    unlocked.store(true);
    unlock_across(mu);
  });
  synctest(s, [&] {
    bool got = false;
    goro::go([&] {
      mu.lock();
      got = true;
      mu.unlock();
    });
    goro::testing::wait();
    got_lock_before_wait_returned = got;
    unlocked_before = unlocked.load();
  });
  outside.join();
  CHECK(unlocked_before);
  CHECK(got_lock_before_wait_returned);
}

TEST_CASE("wait outside a bubble, or by two goroutines of a bubble at once, throws logic_error") {
  CHECK_THROWS_AS(goro::testing::wait(), std::logic_error);
  bool outside_goroutine_threw = false;
  std::atomic<int> threw{0};
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    s.go([&] {
      try {
        goro::testing::wait();
      } catch (const std::logic_error&) {
        outside_goroutine_threw = true;
      }
    });
    synctest(s, [&] {
      goro::Chan<int> release(0);
      goro::go([&] {
        try {
          goro::testing::wait();
        } catch (const std::logic_error&) {
          threw.fetch_add(1);
        }
        release.recv();
      });
      try {
        goro::testing::wait();
      } catch (const std::logic_error&) {
        threw.fetch_add(1);
      }
      release.send(0);
    });
  }  // joins every goroutine before their outcomes are read
  CHECK(outside_goroutine_threw);
  CHECK(threw.load() == 1);  // whichever called wait() second
}

// ---------------------------------------------------------------------------
// Durable and non-durable blocking

TEST_CASE("a bubble's clock does not move while one of its goroutines waits on something outside it") {
  // Each case: main sleeps 1 s; a goroutine waits on something only the
  // test thread can release. The sleep can end only after that goroutine
  // got what it waited for: until then the bubble is not durably blocked.
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  auto check = [&](goro::detail::WaitReason reason, auto&& release, auto&& blocked_on) {
    std::atomic<bool> released{false};
    bool done_before_clock_moved = false;
    Clock::duration slept{};
    std::thread outside([&] {
      wait_parked(s.runtime(), reason, 1);
      wait_parked(s.runtime(), goro::detail::WaitReason::sleep, 1);
      std::this_thread::sleep_for(20ms);  // an observation window, not synchronization
      released.store(true);
      release();
    });
    synctest(s, [&] {
      bool done = false;
      goro::go([&] {
        blocked_on();
        done = true;
      });
      goro::sleep_for(1s);
      done_before_clock_moved = done;
      slept = since_epoch();
    });
    outside.join();
    CHECK(released.load());
    CHECK(done_before_clock_moved);
    CHECK(slept == 1s);
  };
  SECTION("a Mutex") {
    goro::Mutex mu;
    lock_across(mu);
    check(goro::detail::WaitReason::sync_mutex_lock, [&] { unlock_across(mu); }, [&] {
      mu.lock();
      mu.unlock();
    });
  }
  SECTION("a channel made outside the bubble") {
    goro::Chan<int> ch(0);
    check(goro::detail::WaitReason::chan_receive, [&] { ch.send(1); }, [&] { ch.recv(); });
  }
  SECTION("a blocking call") {
    std::promise<void> go_on;
    auto fut = go_on.get_future();
    // goro::blocking has no wait reason: the goroutine is in a "syscall".
    std::atomic<bool> in_call{false};
    std::thread outside([&] {
      while (!in_call.load()) std::this_thread::yield();
      wait_parked(s.runtime(), goro::detail::WaitReason::sleep, 1);
      std::this_thread::sleep_for(20ms);  // an observation window, not synchronization
      go_on.set_value();
    });
    bool done_before_clock_moved = false;
    synctest(s, [&] {
      bool done = false;
      goro::go([&] {
        goro::blocking([&] {
          in_call.store(true);
          fut.wait();
        });
        done = true;
      });
      goro::sleep_for(1s);
      done_before_clock_moved = done;
    });
    outside.join();
    CHECK(done_before_clock_moved);
  }
}

TEST_CASE("Cond, WaitGroup, Semaphore and select on the bubble's channels are durable waits") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  Clock::duration cond_at{}, wg_at{}, sem_at{}, select_at{};
  synctest(s, [&] {
    goro::Mutex mu;
    goro::Cond cv(mu);
    bool ready = false;
    goro::go([&] {
      goro::sleep_for(1s);
      std::lock_guard lock(mu);
      ready = true;
      cv.signal();
    });
    mu.lock();
    cv.wait([&] { return ready; });
    mu.unlock();
    cond_at = since_epoch();

    goro::WaitGroup wg;
    wg.go([] { goro::sleep_for(2s); });
    wg.wait();
    wg_at = since_epoch();

    goro::Semaphore sem(1);
    sem.acquire();
    goro::go([&] {
      goro::sleep_for(3s);
      sem.release();
    });
    sem.acquire();
    sem.release();
    sem_at = since_epoch();

    goro::Chan<int> a(0), b(0);
    goro::go([&] {
      goro::sleep_for(4s);
      b.send(2);
    });
    goro::select(goro::on_recv(a), goro::on_recv(b));
    select_at = since_epoch();
  });
  CHECK(cond_at == 1s);
  CHECK(wg_at == 1s + 2s);
  CHECK(sem_at == 1s + 2s + 3s);
  CHECK(select_at == 1s + 2s + 3s + 4s);
}

// ---------------------------------------------------------------------------
// Deadlock inside a bubble

TEST_CASE("a deadlock inside a bubble is thrown as deadlock_error with the bubble's goroutines") {
  std::string what;
  try {
    synctest([] {
      goro::Chan<int> ch(0);
      goro::go([ch] { ch.recv(); });
      ch.recv();  // nobody sends
    });
  } catch (const goro::testing::deadlock_error& e) {
    what = e.what();
  }
  CHECK(what.find("deadlock: all goroutines in bubble are blocked") != std::string::npos);
  CHECK(what.find("[chan receive (durable)") != std::string::npos);
  CHECK(what.find("tests/synctest.cpp") != std::string::npos);  // where they were created
  // The process goes on: another bubble runs normally.
  Clock::duration slept{};
  synctest([&] {
    goro::sleep_for(1s);
    slept = since_epoch();
  });
  CHECK(slept == 1s);
}

TEST_CASE("the test after a bubble's deadlock still runs") {
  // The previous test left two goroutines abandoned on the default runtime.
  bool ran = false;
  synctest([&] {
    goro::WaitGroup wg;
    wg.go([&] { ran = true; });
    wg.wait();
  });
  CHECK(ran);
}

TEST_CASE("goroutines left sleeping when the main goroutine returns are a deadlock: time has stopped") {
  std::string what;
  try {
    synctest([] {
      goro::go([] { goro::sleep_for(1s); });
    });
  } catch (const goro::testing::deadlock_error& e) {
    what = e.what();
  }
  CHECK(what.find("deadlock: main bubble goroutine has exited but blocked goroutines remain") !=
        std::string::npos);
  CHECK(what.find("[sleep") != std::string::npos);
}

TEST_CASE("a Scheduler's destructor does not wait for goroutines abandoned by a deadlocked bubble") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool threw = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    try {
      synctest(s, [] {
        goro::go([] { goro::Chan<int>{}.recv(); });  // nil channels: nothing on the heap is left behind
        goro::select();
      });
    } catch (const goro::testing::deadlock_error&) {
      threw = true;
    }
  }  // returns: the abandoned goroutines are not waited for
  CHECK(threw);
}

TEST_CASE("an exception thrown by the bubble's function is rethrown by synctest") {
  CHECK_THROWS_WITH(synctest([] {
                      goro::sleep_for(1h);
                      throw std::runtime_error("boom");
                    }),
                    "boom");
}

// ---------------------------------------------------------------------------
// Several bubbles, real time

namespace {

// A bubble's function: three goroutines sleep 1, 2 and 3 steps, ten times
// each, and count the wake-ups at any other time of the bubble's clock
// than theirs; `last` gets the bubble's time at the end.
auto three_sleepers(Clock::duration step, std::atomic<int>& wrong, Clock::duration& last) {
  return [step, &wrong, &last] {
    goro::WaitGroup wg;
    for (int j = 1; j <= 3; ++j) {
      wg.go([j, step, &wrong] {
        for (int k = 1; k <= 10; ++k) {
          goro::sleep_for(j * step);
          if (since_epoch() != k * j * step) wrong.fetch_add(1);
        }
      });
    }
    wg.wait();
    last = since_epoch();
  };
}

}  // namespace

TEST_CASE("bubbles run in parallel, each with its own clock") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int bubbles = scaled(16);
  std::vector<std::atomic<int>> wrong(bubbles);
  std::vector<Clock::duration> last(bubbles);
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    std::vector<std::thread> threads;
    for (int i = 0; i < bubbles; ++i) {
      const auto step = std::chrono::seconds(i + 1);
      auto fn = three_sleepers(step, wrong[i], last[i]);
      // Half from goroutines of s (each the root of its bubble), half from
      // plain threads.
      if (i % 2 == 0) {
        s.go([fn] { synctest(fn); });
      } else {
        threads.emplace_back([&s, fn] { synctest(s, fn); });
      }
    }
    for (auto& t : threads) t.join();
  }  // joins the goroutines
  for (int i = 0; i < bubbles; ++i) {
    CAPTURE(i);
    CHECK(wrong[i].load() == 0);
    CHECK(last[i] == 30 * std::chrono::seconds(i + 1));
  }
}

TEST_CASE("goroutines outside a bubble keep real time while a bubble runs hours of fake time") {
  const int procs = GENERATE(1, 2, 4);
  CAPTURE(procs);
  constexpr auto real_sleep = 20ms;
  Clock::duration slept_real{}, after_real{}, bubble_end{};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      const auto t0 = Clock::now();
      goro::sleep_for(real_sleep);
      slept_real = Clock::now() - t0;
      const auto t1 = goro::now();  // not in a bubble: the steady clock
      goro::after(real_sleep).recv();
      after_real = goro::now() - t1;
    });
    synctest(s, [&] {
      for (int i = 0; i < 100; ++i) goro::sleep_for(1h);
      bubble_end = since_epoch();
    });
  }  // joins the real-time goroutine
  CHECK(bubble_end == 100h);
  CHECK(slept_real >= real_sleep);
  CHECK(slept_real < real_sleep + kSlack);
  CHECK(after_real >= real_sleep);
  CHECK(after_real < real_sleep + kSlack);
}

// ---------------------------------------------------------------------------
// Where synctest may be called

TEST_CASE("synctest works from a goroutine, and from a goroutine of another runtime") {
  goro::Scheduler s{goro::Options{.procs = 2}};
  goro::Scheduler other{goro::Options{.procs = 2}};
  Clock::duration a{}, b{};
  goro::WaitGroup wg;
  wg.add(2);
  s.go([&] {
    synctest([&] {  // on s, the caller being the bubble's root
      goro::sleep_for(7s);
      a = since_epoch();
    });
    wg.done();
  });
  other.go([&] {
    synctest(s, [&] {  // on s, from a goroutine of `other`
      goro::sleep_for(9s);
      b = since_epoch();
    });
    wg.done();
  });
  wg.wait();
  CHECK(a == 7s);
  CHECK(b == 9s);
}

TEST_CASE("synctest inside a bubble throws logic_error") {
  bool threw = false;
  synctest([&] {
    try {
      synctest([] {});
    } catch (const std::logic_error&) {
      threw = true;
    }
  });
  CHECK(threw);
}

// The README's example, as written there.
TEST_CASE("README: fetch gives up after 30 s") {
  std::chrono::nanoseconds waited{};
  std::error_code err;
  goro::testing::synctest([&] {
    goro::Chan<std::string> server(0);           // a server that never answers
    const auto start = goro::now();              // bubble time
    auto [ctx, cancel] = goro::with_timeout(goro::background(), 30s);
    goro::select(goro::on_recv(server), goro::on_recv(ctx.done()));
    waited = goro::now() - start;
    err = ctx.err();
  });
  REQUIRE(waited == 30s);                        // exactly
  REQUIRE(err == goro::errc::deadline_exceeded);
}
