// Tests for goro's timer channels: goro::after, goro::tick and goro::Timer
// (sleep_for and sleep_until are tested in tests/time.cpp). Ports Go's
// time/sleep_test.go and tick_test.go where they fit (each port names its
// test).
//
// These tests are about timing, so they assert times: never earlier than
// asked (a hard guarantee), and not much later (loose bounds, since the
// machine is shared and sanitizers are slow).
//
// Catch2 is not thread-safe: goroutines record outcomes in variables read
// after the Scheduler has joined them, and only the test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using Clock = std::chrono::steady_clock;

namespace {

// True if ch delivers nothing before a timeout of `wait` (itself a timer
// channel, as Go's tests use time.After).
bool nothing_within(const goro::Chan<Clock::time_point>& ch, Clock::duration wait) {
  return goro::select(goro::on_recv(ch), goro::on_recv(goro::after(wait))) == 1;
}

}  // namespace

// ---------------------------------------------------------------------------
// after

// Go: TestAfter in time/sleep_test.go.
TEST_CASE("after fires once and no earlier than its duration") {
  const int procs = GENERATE(1, 2, 4);
  CAPTURE(procs);
  constexpr auto d = 20ms;
  Clock::time_point t0, fired_at, received_at;
  std::optional<Clock::time_point> value;
  bool fired_again = true;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      t0 = Clock::now();
      auto ch = goro::after(d);
      value = ch.recv();
      received_at = Clock::now();
      fired_again = !nothing_within(ch, 3 * d);
    });
  }
  REQUIRE(value);
  fired_at = *value;
  CHECK(fired_at >= t0 + d);               // the value is the time it fired
  CHECK(received_at >= t0 + d);
  CHECK(received_at - t0 < d + kSlack);
  CHECK(fired_at <= received_at);
  CHECK_FALSE(fired_again);
}

TEST_CASE("after fires no earlier than its duration from a plain thread too") {
  constexpr auto d = 20ms;
  const auto t0 = Clock::now();
  auto ch = goro::after(d);
  const auto v = ch.recv();
  const auto t1 = Clock::now();
  REQUIRE(v);
  CHECK(*v >= t0 + d);
  CHECK(t1 - t0 >= d);
  CHECK(t1 - t0 < d + kSlack);
}

// Go: TestAfterTick in time/sleep_test.go (10 sequential afters of 10 ms).
TEST_CASE("TestAfterTick: ten sequential afters take at least ten times their duration") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr int count = 10;
  constexpr auto delta = 10ms;
  Clock::duration took{};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      const auto t0 = Clock::now();
      for (int i = 0; i < count; ++i) goro::after(delta).recv();
      took = Clock::now() - t0;
    });
  }
  CHECK(took >= count * delta);
  CHECK(took < count * delta + kSlack);
}

TEST_CASE("after with a zero or negative duration fires at once") {
  const auto d = GENERATE(Clock::duration::zero(), Clock::duration(-5ms));
  const auto t0 = Clock::now();
  auto ch = goro::after(d);
  // Either already there or about to be: a receive returns without waiting
  // for any real timer.
  const int idx = goro::select(goro::on_recv(ch), goro::on_recv(goro::after(10s)));
  CHECK(idx == 0);
  CHECK(Clock::now() - t0 < kSlack);
}

TEST_CASE("many afters from many goroutines each fire once after their own duration") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = 1000 / GORO_TEST_SCALE;
  std::atomic<int> early{0}, fired{0}, twice{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < n; ++i) {
      s.go([&, i] {
        const auto d = std::chrono::milliseconds(1 + i % 20);
        const auto t0 = Clock::now();
        auto ch = goro::after(d);
        auto v = ch.recv();
        if (!v || *v < t0 + d || Clock::now() < t0 + d) early.fetch_add(1);
        fired.fetch_add(1);
        if (ch.try_recv()) twice.fetch_add(1);
      });
    }
  }
  CHECK(fired == n);
  CHECK(early == 0);
  CHECK(twice == 0);
}

// ---------------------------------------------------------------------------
// tick

// Go: TestTicker in time/tick_test.go (loosely: count within a window).
TEST_CASE("tick delivers increasing times roughly every interval") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr auto d = 10ms;
  constexpr int window = 12;  // the window holds at most 12 ticks
  std::vector<Clock::time_point> ticks;
  Clock::time_point t0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      t0 = Clock::now();
      auto ticker = goro::tick(d);
      auto end = goro::after(window * d + d / 2);
      bool open = true;
      while (open) {
        goro::select(goro::on_recv(ticker, [&](std::optional<Clock::time_point> t) { ticks.push_back(*t); }),
                     goro::on_recv(end, [&] { open = false; }));
      }
    });
  }
  CAPTURE(ticks.size());
  // Each tick k comes no earlier than t0 + k*d: at most `window` of them.
  CHECK(ticks.size() <= static_cast<std::size_t>(window));
  CHECK(ticks.size() >= 3);  // loose: a slow machine may drop ticks, as Go does
  bool increasing = true;
  for (std::size_t i = 1; i < ticks.size(); ++i)
    if (!(ticks[i] > ticks[i - 1])) increasing = false;
  CHECK(increasing);
  if (!ticks.empty()) CHECK(ticks.front() >= t0 + d);
  bool never_early = true;
  for (std::size_t k = 0; k < ticks.size(); ++k)
    if (ticks[k] < t0 + static_cast<int>(k + 1) * d) never_early = false;
  CHECK(never_early);
}

TEST_CASE("tick from a plain thread delivers ticks") {
  constexpr auto d = 5ms;
  const auto t0 = Clock::now();
  auto ticker = goro::tick(d);
  std::vector<Clock::time_point> got;
  for (int i = 0; i < 3; ++i) got.push_back(*ticker.recv());
  CHECK(got[0] >= t0 + d);
  CHECK(got[1] > got[0]);
  CHECK(got[2] > got[1]);
  CHECK(Clock::now() - t0 >= 3 * d);
}

TEST_CASE("ticks nobody receives are dropped rather than queued") {
  constexpr auto d = 2ms;
  auto ticker = goro::tick(d);
  goro::after(20 * d).recv();  // about 20 ticks pass unreceived
  const auto waited_until = Clock::now();
  CHECK(ticker.size() == 1);   // one tick waits (capacity 1)...
  auto first = ticker.recv();
  auto second = ticker.recv();  // ...and the next is a new one, not a queued old one
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first < waited_until);
  CHECK(*second > waited_until);
  CHECK(ticker.capacity() == 1);
}

TEST_CASE("tick with a non-positive interval throws invalid_argument") {
  CHECK_THROWS_AS(goro::tick(Clock::duration::zero()), std::invalid_argument);
  CHECK_THROWS_AS(goro::tick(-1ms), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Timer

// Go: TestAfterStop in time/sleep_test.go.
TEST_CASE("a Timer stopped before it fires returns true and sends nothing") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr auto d = 20ms;
  bool stopped = false, stopped_twice = true, received = true;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Timer t(d);
      stopped = t.stop();
      received = !nothing_within(t.c(), 2 * d);
      stopped_twice = t.stop();
    });
  }
  CHECK(stopped);
  CHECK_FALSE(received);
  CHECK_FALSE(stopped_twice);
}

TEST_CASE("a Timer that fired returns false from stop") {
  constexpr auto d = 5ms;
  goro::Timer t(d);
  const auto t0 = Clock::now();
  auto v = t.c().recv();
  REQUIRE(v);
  CHECK(Clock::now() - t0 < d + kSlack);
  CHECK_FALSE(t.stop());
}

TEST_CASE("stopping a Timer that fired unreceived discards the stale value and reports it stopped") {
  // Go 1.23: after stop returns, no value from before it arrives; and "if
  // the program has not received from t.C already and the timer is
  // running, Stop is guaranteed to return true" (time/sleep.go).
  constexpr auto d = 1ms;
  goro::Timer t(d);
  // Wait (bounded) until the value is in the channel, without receiving it.
  const auto end = Clock::now() + 10s;
  while (t.c().size() == 0 && Clock::now() < end) std::this_thread::sleep_for(100us);
  REQUIRE(t.c().size() == 1);
  CHECK(t.stop());
  CHECK(t.c().size() == 0);
  CHECK_FALSE(t.c().try_recv());
  CHECK_FALSE(t.stop());  // now it has been stopped
}

TEST_CASE("resetting a Timer that fired unreceived discards the stale value and returns true") {
  constexpr auto d = 1ms;
  goro::Timer t(d);
  const auto end = Clock::now() + 10s;
  while (t.c().size() == 0 && Clock::now() < end) std::this_thread::sleep_for(100us);
  REQUIRE(t.c().size() == 1);
  const auto reset_at = Clock::now();
  CHECK(t.reset(20ms));
  auto v = t.c().recv();  // the new value, not the stale one
  REQUIRE(v);
  CHECK(*v >= reset_at + 20ms);
}

// Go: TestReset in time/sleep_test.go: retried with longer durations, as
// Go's is, since a loaded machine can delay the sleeps it uses as probes.
TEST_CASE("TestReset: reset re-arms a Timer for the new duration") {
  auto attempt = [](Clock::duration d) -> std::string {
    goro::Timer t(2 * d);
    goro::sleep_for(d);
    if (!t.reset(3 * d)) return "resetting an unfired timer returned false";
    goro::sleep_for(2 * d);
    if (t.c().try_recv()) return "timer fired early";
    goro::sleep_for(2 * d);
    if (!t.c().try_recv()) return "reset timer did not fire";
    if (t.reset(50ms)) return "resetting an expired timer returned true";
    return "";
  };
  std::string err = "not run";
  for (auto d : {5ms, 10ms, 25ms, 50ms, 100ms}) {
    err = attempt(d);
    if (err.empty()) break;
  }
  CHECK(err.empty());
  INFO(err);
}

TEST_CASE("reset fires no earlier than the new duration from the reset") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  constexpr auto d = 20ms;
  bool was_active = false, was_active_after_fire = true;
  Clock::time_point reset_at, fired_at, rearmed_at, refired_at;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Timer t(1h);
      reset_at = Clock::now();
      was_active = t.reset(d);
      fired_at = *t.c().recv();
      rearmed_at = Clock::now();
      was_active_after_fire = t.reset(d);
      refired_at = *t.c().recv();
    });
  }
  CHECK(was_active);
  CHECK(fired_at >= reset_at + d);
  CHECK(fired_at < reset_at + d + kSlack);
  CHECK_FALSE(was_active_after_fire);
  CHECK(refired_at >= rearmed_at + d);
}

// Go: TestTimerStopStress in time/sleep_test.go (scaled down).
TEST_CASE("TestTimerStopStress: timers stopped from many goroutines never fire") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  const int n = 100 / GORO_TEST_SCALE + 5;
  std::atomic<int> stop_failed{0}, fired{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int i = 0; i < n; ++i) {
      s.go([&] {
        goro::Timer t(2s);
        goro::sleep_for(10ms);
        if (!t.stop()) stop_failed.fetch_add(1);
        if (!nothing_within(t.c(), 50ms)) fired.fetch_add(1);
      });
    }
  }
  CHECK(stop_failed == 0);
  CHECK(fired == 0);
}

TEST_CASE("a Timer created and received on a plain thread fires") {
  constexpr auto d = 10ms;
  const auto t0 = Clock::now();
  goro::Timer t(d);
  auto v = t.c().recv();
  REQUIRE(v);
  CHECK(*v >= t0 + d);
  CHECK(Clock::now() - t0 >= d);
  // Reset and stop from a plain thread too.
  CHECK_FALSE(t.reset(1h));
  CHECK(t.stop());
}

TEST_CASE("a Timer with a zero duration fires at once") {
  goro::Timer t(Clock::duration::zero());
  const int idx = goro::select(goro::on_recv(t.c()), goro::on_recv(goro::after(10s)));
  CHECK(idx == 0);
}

// ---------------------------------------------------------------------------
// Races between timers and the goroutines that use them

// Regression: a goroutine parking on a channel (or select, or context) whose
// timer was already due ran that timer on its own stack while still holding
// the channel's lock, and the timer's send spun on the lock forever.
TEST_CASE("a goroutine that parks on a timer channel whose timer is already due is woken by it") {
  const int procs = GENERATE(1, 2, 4);
  CAPTURE(procs);
  const int rounds = 50 / GORO_TEST_SCALE + 5;
  int received = 0, selected = 0, contexts = 0, timers = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      // Computes (without switching) past the timer's deadline, so that the
      // timer is due when the goroutine parks.
      auto busy_until = [](Clock::time_point t) {
        while (Clock::now() < t) {
        }
      };
      for (int i = 0; i < rounds; ++i) {
        auto ch = goro::after(50us);
        busy_until(Clock::now() + 200us);
        if (ch.recv()) ++received;

        goro::Chan<int> never(0);
        auto timeout = goro::after(50us);
        busy_until(Clock::now() + 200us);
        if (goro::select(goro::on_recv(never), goro::on_recv(timeout)) == 1) ++selected;

        auto [ctx, cancel] = goro::with_timeout(goro::background(), 50us);
        busy_until(Clock::now() + 200us);
        ctx.wait();
        if (ctx.err() == goro::errc::deadline_exceeded) ++contexts;
        cancel();

        goro::Timer t(50us);
        busy_until(Clock::now() + 200us);
        if (t.c().recv()) ++timers;
      }
    });
  }
  CHECK(received == rounds);
  CHECK(selected == rounds);
  CHECK(contexts == rounds);
  CHECK(timers == rounds);
}

// Regression: stop() racing with the firing (the timer off the heap, its
// value not yet sent) returned false without waiting, and the value arrived
// after stop had returned.
TEST_CASE("a Timer stopped while it fires never delivers a value after stop returns") {
  const int n = 20000 / GORO_TEST_SCALE;
  int lost_race = 0, stale = 0;
  for (int i = 0; i < n; ++i) {
    goro::Timer t(5us);
    const auto due = Clock::now() + 5us;
    while (Clock::now() < due) {
    }
    if (!t.stop()) {
      ++lost_race;
      // A firing that stop() did not wait for would land now.
      std::this_thread::sleep_for(50us);
      if (t.c().try_recv()) ++stale;
    }
  }
  CAPTURE(lost_race);
  CHECK(stale == 0);
}

// ---------------------------------------------------------------------------
// One firing at a time, and concurrent use

// A ticker is fired by one thread at a time. It used to be pushed back into
// its P's heap before it fired, so the P's own M and a thread stealing
// timers could fire it at once, and the firing that saw the channel
// unreferenced freed it while the other was still sending (ASan:
// heap-use-after-free in 8 of 10 runs at procs 4). Many short-lived tickers,
// each dropped after a few ticks, with yielders that keep the Ps stealing.
TEST_CASE("short-lived tickers under timer stealing each deliver every tick received") {
  const int procs = GENERATE(1, 2, 4, 8);
  constexpr int workers = 16, rounds = scaled(1000);
  std::atomic<long> received{0};
  long expected = 0;
  for (int w = 0; w < workers; ++w)
    for (int i = 0; i < rounds; ++i) expected += (i + w) % 3 + 1;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int w = 0; w < workers; ++w) {
      s.go([w, &received] {
        for (int i = 0; i < rounds; ++i) {
          auto ch = goro::tick(1us);
          for (int j = 0; j <= (i + w) % 3; ++j)
            if (ch.recv()) received.fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (int w = 0; w < 4; ++w) {
      s.go([] {
        for (int i = 0; i < 20 * rounds; ++i) {
          goro::yield();
          if (i % 64 == 0) goro::sleep_for(1us);
        }
      });
    }
  }
  CAPTURE(procs);
  CHECK(received.load() == expected);
}

// Go's Timer.Reset is safe for concurrent use; goro::Timer's used to write
// the deadline outside the heap's lock and could insert the same timer
// twice (ASan: heap-buffer-overflow in TimerHeap::remove within seconds).
// After the resets, stopping the Timer must leave no timer armed anywhere.
TEST_CASE("reset and stop from several threads at once leave exactly one armed Timer") {
  goro::Scheduler s{goro::Options{.procs = 2}};
  goro::detail::Runtime* rt = s.runtime();
  std::optional<goro::Timer> t;
  std::atomic<bool> made{false};
  s.go([&] {
    t.emplace(1h);
    made.store(true, std::memory_order_release);  // the threads below use t
  });
  while (!made.load(std::memory_order_acquire)) std::this_thread::yield();
  REQUIRE(goro::detail::earliest_timer(rt) != 0);  // armed
  const int n = scaled(200'000);
  std::vector<std::thread> threads;
  std::atomic<int> stopped_active{0};
  for (int k = 0; k < 3; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < n; ++i) {
        if (k == 2 && i % 16 == 0) {
          if (t->stop()) stopped_active.fetch_add(1, std::memory_order_relaxed);
        } else {
          t->reset(1h + std::chrono::microseconds(i));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  t->reset(1h);
  CHECK(t->stop());  // armed once, stopped once
  CHECK_FALSE(t->stop());
  CHECK(goro::detail::earliest_timer(rt) == 0);  // no stray copy left in a heap
  CHECK(t->c().try_recv() == std::nullopt);
  t.reset();
}

// ---------------------------------------------------------------------------
// Go 1.23: a timer nobody can receive from costs nothing

// Go 1.23 collects unreferenced timers and tickers, even unstopped. Here the
// last handle on a timer channel stops the timer: the runtime's heaps hold
// nothing once it is gone, however far away its deadline.
TEST_CASE("an after channel dropped before it fires takes its timer out of the runtime at once") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::detail::Runtime* rt = s.runtime();
  int left_armed = 0, selected_work = 0;
  goro::WaitGroup wg;
  wg.add(1);
  s.go([&] {
    goro::Chan<int> work(1);
    for (int i = 0; i < scaled(100'000); ++i) {
      // The classic leak before Go 1.23: a timeout per loop iteration.
      work.send(i);
      goro::select(goro::on_recv(work, [&](std::optional<int>) { ++selected_work; }),
                   goro::on_recv(goro::after(1h)));
      if (goro::detail::earliest_timer(rt) != 0) ++left_armed;
    }
    wg.done();
  });
  wg.wait();  // the goroutine is done (and s still exists)
  CHECK(left_armed == 0);
  CHECK(selected_work == scaled(100'000));
  CHECK(goro::detail::earliest_timer(rt) == 0);
}

TEST_CASE("a tick channel dropped stops its ticker at once, and copies keep it running") {
  const int procs = GENERATE(1, 4);
  CAPTURE(procs);
  goro::Scheduler s{goro::Options{.procs = procs}};
  goro::detail::Runtime* rt = s.runtime();
  bool armed_while_held = false, armed_after_drop = true, copy_ticked = false;
  goro::WaitGroup wg;
  wg.add(1);
  s.go([&] {
    {
      auto ticks = goro::tick(1h);
      armed_while_held = goro::detail::earliest_timer(rt) != 0;
    }
    armed_after_drop = goro::detail::earliest_timer(rt) != 0;
    goro::Chan<Clock::time_point> copy;
    {
      auto ticks = goro::tick(1ms);
      copy = ticks;
    }
    copy_ticked = copy.recv().has_value() && copy.recv().has_value();
    wg.done();
  });
  wg.wait();
  CHECK(armed_while_held);
  CHECK_FALSE(armed_after_drop);
  CHECK(copy_ticked);
}

TEST_CASE("a Timer destroyed while a copy of its channel lives still fires; the last copy stops it") {
  goro::Scheduler s{goro::Options{.procs = 2}};
  goro::detail::Runtime* rt = s.runtime();
  bool fired = false, armed_after_all_gone = true;
  goro::WaitGroup wg;
  wg.add(1);
  s.go([&] {
    goro::Chan<Clock::time_point> c;
    {
      goro::Timer t(2ms);
      c = t.c();
    }
    fired = c.recv().has_value();  // as Go's: the channel keeps the timer
    {
      goro::Chan<Clock::time_point> c2;
      {
        goro::Timer t(1h);
        c2 = t.c();
      }
    }
    armed_after_all_gone = goro::detail::earliest_timer(rt) != 0;
    wg.done();
  });
  wg.wait();
  CHECK(fired);
  CHECK_FALSE(armed_after_all_gone);
}
