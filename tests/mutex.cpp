// Tests for goro::Mutex: mutual exclusion, try_lock, fairness (starvation
// mode), the standard lock wrappers, plain threads and goroutines contending
// for one mutex. Ports Go's sync/mutex_test.go (each port names its test);
// misuse (unlock of an unlocked mutex) is in tests/death/.
//
// Catch2 is not thread-safe: goroutines and threads record outcomes in
// atomics or plain variables read after they have been joined (the
// Scheduler's destructor, a WaitGroup, std::thread::join), and only the test
// thread asserts.
#include <goro/goro.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using namespace goro_test;
using goro::detail::WaitReason;

namespace {

// A critical section that checks mutual exclusion: `inside` must be 0 on
// entry. Counts violations instead of asserting (not on the test thread).
struct Exclusion {
  std::atomic<int> inside{0};
  std::atomic<int> violations{0};
  long long count = 0;  // guarded by the mutex under test

  void enter_and_leave() {
    // Memory ordering: relaxed — a counter checked, not a synchronizer.
    if (inside.fetch_add(1, std::memory_order_relaxed) != 0) violations.fetch_add(1, std::memory_order_relaxed);
    // Now and then switch inside the critical section, so that others find
    // the mutex locked and queue (with one processor nothing else would
    // ever contend).
    if (++count % 5 == 0) goro::yield();
    inside.fetch_sub(1, std::memory_order_relaxed);
  }
};

// Go's TestMutex prologue: try_lock must fail while m is locked and
// succeed once it is unlocked. A function of its own because Clang's
// thread-safety analysis cannot follow a try_lock result into a CHECK.
struct TryLockResults {
  bool while_locked;
  bool while_unlocked;
};
TryLockResults try_lock_prologue(goro::Mutex& m) GORO_NO_TSA {
  TryLockResults r{};
  m.lock();
  r.while_locked = m.try_lock();
  if (r.while_locked) m.unlock();
  m.unlock();
  r.while_unlocked = m.try_lock();
  if (r.while_unlocked) m.unlock();
  return r;
}

}  // namespace

// Go: TestMutex and HammerMutex in sync/mutex_test.go (TryLock part from Go
// 1.18), plus a check that the critical sections never overlap.
TEST_CASE("a Mutex lets one goroutine at a time in, and try_lock fails exactly while it is locked") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Mutex m;
  const TryLockResults tried = try_lock_prologue(m);
  CHECK_FALSE(tried.while_locked);  // "TryLock succeeded with mutex locked"
  CHECK(tried.while_unlocked);      // "TryLock failed with mutex unlocked"

  constexpr int hammers = 10;
  const int loops = 1000 / kScale;
  Exclusion ex;
  std::atomic<long long> expected{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    for (int h = 0; h < hammers; ++h) {
      s.go([&] {
        long long mine = 0;
        for (int i = 0; i < loops; ++i) {
          if (i % 3 == 0) {
            if (m.try_lock()) {
              ex.enter_and_leave();
              ++mine;
              m.unlock();
            }
            continue;
          }
          m.lock();
          ex.enter_and_leave();
          ++mine;
          m.unlock();
        }
        expected.fetch_add(mine, std::memory_order_relaxed);
      });
    }
  }
  CHECK(ex.violations.load() == 0);
  CHECK(ex.count == expected.load());
  CHECK(ex.count >= hammers * (loops - (loops + 2) / 3));
  bool free_at_end = false;
  if (m.try_lock()) {
    free_at_end = true;
    m.unlock();
  }
  CHECK(free_at_end);
}

// Go: TestMutexFairness in sync/mutex_test.go, with Go's structure and
// numbers: one goroutine locks the mutex, holds it for 100 µs and unlocks it,
// in a loop; another must still acquire it 10 times within 10 seconds. The
// sleeps are the workload (a long critical section, a pause between
// acquisitions), not synchronization. Without starvation mode the looping
// goroutine, already running when it unlocks, would win nearly every time.
TEST_CASE("a goroutine that keeps relocking a Mutex cannot starve a waiter (starvation mode)") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  int outcome = -1;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex mu;
      std::atomic<bool> stop{false};
      goro::WaitGroup hog_done;
      hog_done.go([&] {
        // Memory ordering: relaxed — a flag only; hog_done orders the rest.
        while (!stop.load(std::memory_order_relaxed)) {
          mu.lock();
          goro::sleep_for(100us);
          mu.unlock();
        }
      });
      goro::Chan<bool> done(1);
      goro::go([&mu, done] {
        for (int i = 0; i < 10; ++i) {
          goro::sleep_for(100us);
          mu.lock();
          mu.unlock();
        }
        done.send(true);
      });
      goro::Timer timeout(10s);  // not goro::after: a Timer is stopped when it goes out of scope
      outcome = goro::select(goro::on_recv(done), goro::on_recv(timeout.c()));
      stop.store(true, std::memory_order_relaxed);
      hog_done.wait();
      if (outcome != 0) done.recv();  // let the starved goroutine finish before mu dies
    });
  }
  CHECK(outcome == 0);  // 1: "can't acquire Mutex in 10 seconds"
}

// The seed program (seeds' "Mutex" section): 1000 goroutines each
// increment a shared counter once under a Mutex.
TEST_CASE("a thousand goroutines incrementing a counter under a Mutex count to a thousand") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int n = 1000 / kScale;
  int counter = 0;
  int seen = -1;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex mu;
      goro::WaitGroup wg;
      for (int i = 0; i < n; ++i) {
        wg.go([&] {
          std::lock_guard lock(mu);
          int v = counter;
          goro::yield();  // invite a lost update if the mutex did not exclude
          counter = v + 1;
        });
      }
      wg.wait();
      seen = counter;
    });
  }
  CHECK(seen == n);
  CHECK(counter == n);
}

TEST_CASE("a goroutine waiting for a locked Mutex parks until it is unlocked") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool waiter_parked = false;
  bool acquired_early = true;
  bool acquired = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex mu;
      std::atomic<bool> got{false};
      mu.lock();
      goro::WaitGroup wg;
      wg.go([&] {
        mu.lock();
        got.store(true);
        mu.unlock();
      });
      waiter_parked = wait_parked(goro::detail::current_runtime(), WaitReason::sync_mutex_lock, 1);
      acquired_early = got.load();
      mu.unlock();
      wg.wait();
      acquired = got.load();
    });
  }
  CHECK(waiter_parked);
  CHECK_FALSE(acquired_early);
  CHECK(acquired);
}

TEST_CASE("std::lock_guard and std::unique_lock lock a Mutex, and try_to_lock fails while it is held") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  bool owned_while_free = false, owned_while_held = true, deferred_then_locked = false;
  bool try_lock_while_held = true, relocked_after_release = false;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex mu;
      {
        std::unique_lock lock(mu, std::try_to_lock);
        owned_while_free = lock.owns_lock();
        goro::WaitGroup wg;
        wg.go([&] {
          std::unique_lock other(mu, std::try_to_lock);
          owned_while_held = other.owns_lock();
          if (mu.try_lock()) {
            mu.unlock();
          } else {
            try_lock_while_held = false;
          }
        });
        wg.wait();
      }
      {
        std::unique_lock lock(mu, std::defer_lock);
        lock.lock();
        deferred_then_locked = lock.owns_lock();
      }
      {
        std::lock_guard guard(mu);
      }
      if (mu.try_lock()) {
        relocked_after_release = true;
        mu.unlock();
      }
    });
  }
  CHECK(owned_while_free);
  CHECK_FALSE(owned_while_held);
  CHECK_FALSE(try_lock_while_held);
  CHECK(deferred_then_locked);
  CHECK(relocked_after_release);
}

TEST_CASE("std::scoped_lock of two Mutexes taken in opposite orders by many goroutines does not deadlock") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int per = 200 / kScale;
  long long a_count = 0, b_count = 0;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::Mutex a, b;
      goro::WaitGroup wg;
      for (int g = 0; g < 8; ++g) {
        wg.go([&, g] {
          for (int i = 0; i < per; ++i) {
            if (g % 2 == 0) {
              std::scoped_lock lock(a, b);
              ++a_count;
              ++b_count;
            } else {
              std::scoped_lock lock(b, a);
              ++b_count;
              ++a_count;
            }
            if (i % 16 == 0) goro::yield();
          }
        });
      }
      wg.wait();
    });
  }
  CHECK(a_count == 8LL * per);
  CHECK(b_count == 8LL * per);
}

TEST_CASE("plain threads and goroutines contending for one Mutex all get it and exclude each other") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int per = 2000 / kScale;
  constexpr int goroutines = 6, threads = 2;
  goro::Mutex mu;
  Exclusion ex;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    auto body = [&] {
      for (int i = 0; i < per; ++i) {
        mu.lock();
        ex.enter_and_leave();
        mu.unlock();
      }
    };
    for (int g = 0; g < goroutines; ++g) s.go(body);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) ts.emplace_back(body);
    for (auto& t : ts) t.join();
  }
  CHECK(ex.violations.load() == 0);
  CHECK(ex.count == static_cast<long long>(goroutines + threads) * per);
}

TEST_CASE("a plain thread blocked on a Mutex held by a goroutine wakes when the goroutine unlocks") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  goro::Mutex mu;
  goro::WaitGroup locked;
  locked.add(1);
  std::atomic<bool> release{false};
  std::atomic<bool> thread_got_it{false};
  bool got_before_release = true;
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      mu.lock();
      locked.done();
      // Memory ordering: acquire/release — a flag the test thread sets; the
      // mutex orders the rest.
      while (!release.load(std::memory_order_acquire)) goro::sleep_for(50us);
      mu.unlock();
    });
    locked.wait();  // the test thread waits for a goroutine
    std::thread t([&] {
      mu.lock();
      thread_got_it.store(true);
      mu.unlock();
    });
    // Give the thread every chance to take a mutex it must not get.
    for (int i = 0; i < 100; ++i) std::this_thread::yield();
    got_before_release = thread_got_it.load();
    release.store(true, std::memory_order_release);
    t.join();
  }
  CHECK_FALSE(got_before_release);
  CHECK(thread_got_it.load());
}

// C++ adds a lifetime rule Go's garbage collector makes moot: as for
// std::mutex, a Mutex may be destroyed as soon as it is unlocked and no one
// waits for it, even while the unlock that woke the last waiter is still
// returning (a reference-counted object holding its own mutex). ASan and
// TSan builds check that no unlock touches a destroyed Mutex.
TEST_CASE("a Mutex can be destroyed by the last goroutine to use it, while another's unlock is returning") {
  const int procs = GENERATE(1, 2, 4, 8);
  CAPTURE(procs);
  const int rounds = 1000 / kScale;
  std::atomic<int> destroyed{0};
  {
    goro::Scheduler s{goro::Options{.procs = procs}};
    s.go([&] {
      goro::WaitGroup wg;
      for (int r = 0; r < rounds; ++r) {
        struct Shared {
          goro::Mutex mu;
          int refs = 2;  // guarded by mu
        };
        auto* sh = new Shared;
        auto drop = [sh, &destroyed] {
          sh->mu.lock();
          const bool last = --sh->refs == 0;
          sh->mu.unlock();
          if (last) {
            delete sh;
            destroyed.fetch_add(1, std::memory_order_relaxed);
          }
        };
        wg.go(drop);
        wg.go(drop);
      }
      wg.wait();
    });
  }
  CHECK(destroyed.load() == rounds);
}
