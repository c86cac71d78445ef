// Port of Go's src/runtime/race/testdata/mutex_test.go (Go 1.19): Mutex
// under the race detector. Conventions: race_test.hpp.
#include "race_test.hpp"

#include <cstdint>
#include <memory>
#include <string>

using namespace race_test;

GORO_RACE_TEST(TestNoRaceMutex) {
  static goro::Mutex mu;
  static volatile std::int16_t x = 0;
  static goro::Chan<bool> ch(2);
  goro::go([] {
    std::lock_guard lock(mu);  // Go: mu.Lock(); defer mu.Unlock()
    x = 1;
    ch.send(true);
  });
  goro::go([] {
    mu.lock();
    x = 2;
    mu.unlock();
    ch.send(true);
  });
  ch.recv();
  ch.recv();
}

GORO_RACE_TEST(TestRaceMutex) {
  static goro::Mutex mu;
  static volatile std::int16_t x = 0;
  static goro::Chan<bool> ch(2);
  goro::go([] {
    x = 1;
    std::lock_guard lock(mu);
    ch.send(true);
  });
  goro::go([] {
    x = 2;
    mu.lock();
    mu.unlock();
    ch.send(true);
  });
  ch.recv();
  ch.recv();
}

GORO_RACE_TEST(TestRaceMutex2) {
  static goro::Mutex mu1;
  static goro::Mutex mu2;
  static volatile std::int8_t x = 0;
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

GORO_RACE_TEST(TestNoRaceMutexPureHappensBefore) {
  static goro::Mutex mu;
  static volatile std::int16_t x = 0;
  static volatile bool written = false;
  static goro::Chan<bool> ch(2);
  goro::go([] {
    x = 1;
    mu.lock();
    written = true;
    mu.unlock();
    ch.send(true);
  });
  goro::go([] {
    goro::sleep_for(100us);
    mu.lock();
    while (!written) {
      mu.unlock();
      goro::sleep_for(100us);
      mu.lock();
    }
    mu.unlock();
    x = 1;
    ch.send(true);
  });
  ch.recv();
  ch.recv();
}

GORO_RACE_TEST(TestNoRaceMutexSemaphore) {
  static goro::Mutex mu;
  static goro::Chan<bool> ch(2);
  static volatile int x = 0;
  mu.lock();
  goro::go([] {
    x = 1;
    mu.unlock();
    ch.send(true);
  });
  goro::go([] {
    mu.lock();
    x = 2;
    mu.unlock();
    ch.send(true);
  });
  ch.recv();
  ch.recv();
}

// from doc/go_mem.html
GORO_RACE_TEST(TestNoRaceMutexExampleFromHtml) {
  static goro::Mutex l;
  static std::string a;
  l.lock();
  goro::go([] {
    a = "hello, world";
    l.unlock();
  });
  l.lock();
  read(a);
}

GORO_RACE_TEST(TestRaceMutexOverwrite) {
  static goro::Chan<bool> c(1);
  static goro::Mutex mu;
  goro::go([] {
    // Go: mu = sync.Mutex{}. A goro::Mutex is not assignable: end its
    // lifetime and construct a new one in its place, which writes it.
    std::destroy_at(&mu);
    std::construct_at(&mu);
    c.send(true);
  });
  mu.lock();
  c.recv();
}
