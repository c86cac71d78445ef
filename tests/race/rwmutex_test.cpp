// Port of Go's src/runtime/race/testdata/rwmutex_test.go (Go 1.19): RWMutex
// under the race detector. Conventions: race_test.hpp.
#include "race_test.hpp"

#include <cstdint>
#include <mutex>
#include <shared_mutex>

using namespace race_test;

GORO_RACE_TEST(TestRaceMutexRWMutex) {
  static goro::Mutex mu1;
  static goro::RWMutex mu2;
  static volatile std::int16_t x = 0;
  static goro::Chan<bool> ch(2);
  goro::go([] {
    std::lock_guard lock(mu1);
    x = 1;
    ch.send(true);
  });
  goro::go([] {
    mu2.lock();
    x = 2;
    mu2.unlock();
    ch.send(true);
  });
  ch.recv();
  ch.recv();
}

GORO_RACE_TEST(TestNoRaceRWMutex) {
  static goro::RWMutex mu;
  static volatile std::int64_t x = 0, y = 1;
  static goro::Chan<bool> ch(2);
  goro::go([] {
    std::lock_guard lock(mu);
    x = 2;
    ch.send(true);
  });
  goro::go([] {
    mu.lock_shared();
    y = x;
    mu.unlock_shared();
    ch.send(true);
  });
  ch.recv();
  ch.recv();
}

GORO_RACE_TEST(TestRaceRWMutexMultipleReaders) {
  static goro::RWMutex mu;
  static volatile std::int64_t x = 0, y = 1;
  static goro::Chan<bool> ch(4);
  goro::go([] {
    std::lock_guard lock(mu);
    x = 2;
    ch.send(true);
  });
  // Use three readers so that no matter what order they're
  // scheduled in, two will be on the same side of the write
  // lock above.
  goro::go([] {
    mu.lock_shared();
    y = x + 1;
    mu.unlock_shared();
    ch.send(true);
  });
  goro::go([] {
    mu.lock_shared();
    y = x + 2;
    mu.unlock_shared();
    ch.send(true);
  });
  goro::go([] {
    mu.lock_shared();
    y = x + 3;
    mu.unlock_shared();
    ch.send(true);
  });
  ch.recv();
  ch.recv();
  ch.recv();
  ch.recv();
  read(y);
}

GORO_RACE_TEST(TestNoRaceRWMutexMultipleReaders) {
  static goro::RWMutex mu;
  static volatile std::int64_t x = 0;
  static goro::Chan<bool> ch(4);
  goro::go([] {
    std::lock_guard lock(mu);
    x = 2;
    ch.send(true);
  });
  goro::go([] {
    std::shared_lock lock(mu);
    read(x + 1);
    ch.send(true);
  });
  goro::go([] {
    std::shared_lock lock(mu);
    read(x + 2);
    ch.send(true);
  });
  goro::go([] {
    std::shared_lock lock(mu);
    read(x + 3);
    ch.send(true);
  });
  ch.recv();
  ch.recv();
  ch.recv();
  ch.recv();
}

GORO_RACE_TEST(TestNoRaceRWMutexTransitive) {
  static goro::RWMutex mu;
  static volatile std::int64_t x = 0;
  static goro::Chan<bool> ch(2);
  goro::go([] {
    mu.lock_shared();
    read(x);
    mu.unlock_shared();
    ch.send(true);
  });
  goro::go([] {
    goro::sleep_for(10ms);
    mu.lock_shared();
    read(x);
    mu.unlock_shared();
    ch.send(true);
  });
  goro::sleep_for(20ms);
  mu.lock();
  x = 42;
  mu.unlock();
  ch.recv();
  ch.recv();
}
