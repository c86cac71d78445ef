// Tests for goro::Cond: signal wakes one waiter, in FIFO order, broadcast
// wakes all, no spurious wake-ups, no stolen signals, and waiters that are
// plain threads. Ports Go's sync/cond_test.go (each port names its test).
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined, and only the
// test thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

// Go: TestCondSignal in sync/cond_test.go.
TEST_CASE("signal on a Cond wakes exactly one waiting goroutine") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  int not_asleep = 0, too_many = 0, woke = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex m;
      goro::Cond c(m);
      int n = 2;
      goro::Chan<bool> running(n), awake(n);
      goro::WaitGroup done;  // m and c live on this stack: outlive the waiters' unlocks
      for (int i = 0; i < n; ++i) {
        done.go([&m, &c, running, awake] {
          m.lock();
          running.send(true);
          c.wait();
          awake.send(true);
          m.unlock();
        });
      }
      for (int i = 0; i < n; ++i) running.recv();  // wait for everyone to run
      while (n > 0) {
        if (awake.try_recv()) ++not_asleep;  // "goroutine not asleep"
        m.lock();
        c.signal();
        m.unlock();
        if (awake.recv()) ++woke;  // will deadlock if no goroutine wakes up
        if (awake.try_recv()) ++too_many;  // "too many goroutines awake"
        --n;
      }
      c.signal();
      done.wait();
    });
  }
  CHECK(not_asleep == 0);
  CHECK(too_many == 0);
  CHECK(woke == 2);
}

// Go: TestCondSignalGenerations in sync/cond_test.go: each signal wakes the
// goroutine that has waited longest.
TEST_CASE("signal on a Cond wakes the waiters in the order they started waiting") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = 100;
  std::vector<int> wrong;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex m;
      goro::Cond c(m);
      goro::Chan<bool> running(n);
      goro::Chan<int> awake(n);
      goro::WaitGroup done;  // m and c live on this stack: outlive the waiters' unlocks
      for (int i = 0; i < n; ++i) {
        done.go([&m, &c, running, awake, i] {
          m.lock();
          running.send(true);
          c.wait();
          awake.send(i);
          m.unlock();
        });
        if (i > 0) {
          const int a = *awake.recv();
          if (a != i - 1) wrong.push_back(a);  // "wrong goroutine woke up"
        }
        running.recv();
        m.lock();
        c.signal();
        m.unlock();
      }
      awake.recv();  // the last one
      done.wait();
    });
  }
  CHECK(wrong.empty());
}

// FIFO order with many waiters queued at once: they start waiting in a
// known order (each holds the mutex when it calls wait), then signals wake
// them one at a time, oldest first.
TEST_CASE("successive signals on a Cond wake queued waiters first in, first out") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = 20;
  std::vector<int> wake_order;
  bool all_parked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex m;
      goro::Cond c(m);
      goro::Chan<int> awake(n);
      int queued = 0;  // guarded by m
      goro::WaitGroup done;  // m and c live on this stack: outlive the waiters' unlocks
      for (int i = 0; i < n; ++i) {
        done.go([&m, &c, &queued, awake, i] {
          m.lock();
          ++queued;
          c.wait();
          awake.send(i);
          m.unlock();
        });
        // Wait until goroutine i waits: then the next one queues behind it.
        for (;;) {
          m.lock();
          const bool in = queued == i + 1;
          m.unlock();
          if (in) break;
          goro::yield();
        }
      }
      all_parked = wait_parked(goro::detail::current_runtime(), WaitReason::sync_cond_wait, n);
      for (int i = 0; i < n; ++i) {
        c.signal();
        wake_order.push_back(*awake.recv());
      }
      done.wait();
    });
  }
  CHECK(all_parked);
  std::vector<int> fifo(n);
  for (int i = 0; i < n; ++i) fifo[static_cast<std::size_t>(i)] = i;
  CHECK(wake_order == fifo);
}

// Go: TestCondBroadcast in sync/cond_test.go.
TEST_CASE("broadcast on a Cond wakes every waiting goroutine exactly once per round") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = 200 / kScale;
  int not_asleep = 0, woke_twice = 0, did_not_exit = 0, rounds = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex m;
      goro::Cond c(m);
      goro::Chan<int> running(static_cast<std::size_t>(n)), awake(static_cast<std::size_t>(n));
      bool exit = false;  // guarded by m
      for (int i = 0; i < n; ++i) {
        goro::go([&m, &c, &exit, running, awake, i] {
          m.lock();
          while (!exit) {
            running.send(i);
            c.wait();
            awake.send(i);
          }
          m.unlock();
        });
      }
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) running.recv();  // will deadlock unless n are running
        if (i == n - 1) {
          m.lock();
          exit = true;
          m.unlock();
        }
        if (awake.try_recv()) ++not_asleep;  // "goroutine not asleep"
        m.lock();
        c.broadcast();
        m.unlock();
        std::vector<bool> seen(static_cast<std::size_t>(n));
        for (int j = 0; j < n; ++j) {
          const int g = *awake.recv();
          if (seen[static_cast<std::size_t>(g)]) ++woke_twice;  // "goroutine woke up twice"
          seen[static_cast<std::size_t>(g)] = true;
        }
        ++rounds;
      }
      // Every goroutine has left its loop (it sent its last awake while
      // holding m, then unlocked): take m once so they are all out.
      m.lock();
      m.unlock();
      if (running.try_recv()) ++did_not_exit;  // "goroutine did not exit"
      c.broadcast();
    });
  }
  CHECK(not_asleep == 0);
  CHECK(woke_twice == 0);
  CHECK(did_not_exit == 0);
  CHECK(rounds == n);
}

// Go: TestRace in sync/cond_test.go: the state handed between three
// goroutines through one Cond is seen in the right order (TSan also checks
// that the Cond orders the accesses to x).
TEST_CASE("a Cond hands state between goroutines in order") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  std::atomic<int> errors{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      int x = 0;  // guarded by m
      goro::Mutex m;
      goro::Cond c(m);
      goro::WaitGroup done;
      done.go([&] {
        m.lock();
        x = 1;
        c.wait();
        if (x != 2) errors.fetch_add(1);  // "want 2"
        x = 3;
        c.signal();
        m.unlock();
      });
      done.go([&] {
        m.lock();
        for (;;) {
          if (x == 1) {
            x = 2;
            c.signal();
            break;
          }
          m.unlock();
          goro::yield();
          m.lock();
        }
        m.unlock();
      });
      done.go([&] {
        m.lock();
        for (;;) {
          if (x == 2) {
            c.wait();
            if (x != 3) errors.fetch_add(1);  // "want 3"
            break;
          }
          if (x == 3) break;
          m.unlock();
          goro::yield();
          m.lock();
        }
        m.unlock();
      });
      done.wait();
    });
  }
  CHECK(errors.load() == 0);
}

// Go: TestCondSignalStealing in sync/cond_test.go: a broadcast that races
// with a new waiter must still wake the waiter that was already waiting
// (the new one cannot steal its wake-up).
TEST_CASE("a waiter that starts during a broadcast cannot steal the wake-up of an earlier waiter") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int iters = 1000 / kScale / 4;
  int missed = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      for (int iter = 0; iter < iters; ++iter) {
        goro::Mutex m;
        goro::Cond cond(m);
        goro::WaitGroup all;
        // Start a waiter.
        goro::Chan<bool> ch(0);
        all.go([&m, &cond, ch] {
          m.lock();
          ch.send(true);
          cond.wait();
          m.unlock();
          ch.send(true);
        });
        ch.recv();
        m.lock();
        m.unlock();
        // We know that the waiter is in the cond.wait() call because we
        // synchronized with it, then acquired/released the mutex it was
        // holding when we synchronized.
        //
        // Start two goroutines that will race: one will broadcast on the
        // cond var, the other will wait on it. The new waiter may or may
        // not get notified, but the first one has to be notified.
        bool done = false;  // guarded by m
        all.go([&] { cond.broadcast(); });
        all.go([&] {
          m.lock();
          while (!done) cond.wait();
          m.unlock();
        });
        // Check that the first waiter does get signaled.
        goro::Timer timeout(2s);  // not goro::after: a Timer is stopped when it goes out of scope
        const int got = goro::select(goro::on_recv(ch), goro::on_recv(timeout.c()));
        if (got != 0) {
          ++missed;  // "First waiter didn't get broadcast."
          cond.broadcast();
          ch.recv();
        }
        // Release the second waiter in case it didn't get the broadcast.
        m.lock();
        done = true;
        m.unlock();
        cond.broadcast();
        all.wait();
      }
    });
  }
  CHECK(missed == 0);
}

// "No spurious wake-ups": with n waiters, k < n signals wake exactly k of
// them, and the rest stay parked until more signals come.
TEST_CASE("a Cond wakes no more waiters than it was signalled for") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int n = 10, k = 4;
  int woken_after_k = -1, still_parked = -1, woken_total = -1;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      auto* rt = goro::detail::current_runtime();
      goro::Mutex m;
      goro::Cond c(m);
      int woken = 0;  // guarded by m
      goro::WaitGroup wg;
      for (int i = 0; i < n; ++i) {
        wg.go([&] {
          m.lock();
          c.wait();
          ++woken;
          m.unlock();
        });
      }
      wait_parked(rt, WaitReason::sync_cond_wait, n);
      for (int i = 0; i < k; ++i) c.signal();
      // Wait (bounded) until the k woken goroutines have counted themselves.
      const auto end = std::chrono::steady_clock::now() + 20s;
      for (;;) {
        m.lock();
        const int w = woken;
        m.unlock();
        if (w >= k || std::chrono::steady_clock::now() > end) break;
        goro::yield();
      }
      // Let any extra (spurious) wake-up run and be counted.
      for (int i = 0; i < 100; ++i) goro::yield();
      m.lock();
      woken_after_k = woken;
      m.unlock();
      still_parked = parked(rt, WaitReason::sync_cond_wait);
      c.broadcast();
      wg.wait();
      woken_total = woken;
    });
  }
  CHECK(woken_after_k == k);
  CHECK(still_parked == n - k);
  CHECK(woken_total == n);
}

TEST_CASE("plain threads and goroutines waiting on one Cond are all woken by broadcast") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  constexpr int goroutines = 4, threads = 2;
  goro::Mutex m;
  goro::Cond c(m);
  int waiting = 0;     // guarded by m
  bool go_on = false;  // guarded by m
  std::atomic<int> woke{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    auto waiter = [&] {
      m.lock();
      ++waiting;
      c.wait([&] { return go_on; });
      m.unlock();
      woke.fetch_add(1);
    };
    for (int i = 0; i < goroutines; ++i) s.go(waiter);
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(waiter);
    // The test thread waits on the Cond too, until everyone waits.
    m.lock();
    while (waiting < goroutines + threads) {
      m.unlock();
      std::this_thread::yield();
      m.lock();
    }
    go_on = true;
    m.unlock();
    c.broadcast();
    for (auto& t : ts) t.join();
  }
  CHECK(woke.load() == goroutines + threads);
}

TEST_CASE("a plain thread waiting on a Cond is woken by a goroutine's signal, and relocks the mutex") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Mutex m;
  goro::Cond c(m);
  int value = 0;  // guarded by m
  int seen = -1;
  bool relocked = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    m.lock();
    s.go([&] {
      m.lock();  // waits until the test thread is inside wait()
      value = 5;
      m.unlock();
      c.signal();
    });
    while (value == 0) c.wait();
    seen = value;
    relocked = !m.try_lock();  // wait() returned with the mutex held
    m.unlock();
  }
  CHECK(seen == 5);
  CHECK(relocked);
}
