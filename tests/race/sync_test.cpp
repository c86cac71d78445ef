// Port of Go's src/runtime/race/testdata/sync_test.go (Go 1.19): Cond,
// goroutine creation and time.AfterFunc under the race detector.
// Conventions: race_test.hpp.
#include "race_test.hpp"

using namespace race_test;

GORO_RACE_TEST(TestNoRaceCond) {
  static volatile int x = 0;
  static volatile int condition = 0;
  static goro::Mutex mu;
  static goro::Cond cond(mu);
  goro::go([] {
    x = 1;
    mu.lock();
    condition = 1;
    cond.signal();
    mu.unlock();
  });
  mu.lock();
  while (condition != 1) cond.wait();
  mu.unlock();
  x = 2;
}

GORO_RACE_TEST(TestRaceCond) {
  static goro::Chan<bool> done(0);
  static goro::Mutex mu;
  static goro::Cond cond(mu);
  static volatile int x = 0;
  static volatile int condition = 0;
  goro::go([] {
    goro::sleep_for(10ms);  // Enter cond.Wait loop
    x = 1;
    mu.lock();
    condition = 1;
    cond.signal();
    mu.unlock();
    goro::sleep_for(10ms);  // Exit cond.Wait loop
    mu.lock();
    x = 3;
    mu.unlock();
    done.send(true);
  });
  mu.lock();
  while (condition != 1) cond.wait();
  mu.unlock();
  x = 2;
  done.recv();
}

// We do not currently automatically
// parse this test. It is intended that the creation
// stack is observed manually not to contain
// off-by-one errors
GORO_RACE_TEST(TestRaceAnnounceThreads) {
  constexpr int N = 7;
  static goro::Chan<bool> allDone(N);
  static volatile int x = 0;
  static void (*f)();
  static void (*g)();
  static void (*h)();
  f = [] {
    x = 1;
    goro::go(g);
    goro::go([] {
      x = 1;
      allDone.send(true);
    });
    x = 2;
    allDone.send(true);
  };
  g = [] {
    for (int i = 0; i < 2; ++i) {
      goro::go([] {
        x = 1;
        allDone.send(true);
      });
      allDone.send(true);
    }
  };
  h = [] {
    x = 1;
    x = 2;
    goro::go(f);
    allDone.send(true);
  };
  goro::go(h);
  for (int i = 0; i < N; ++i) allDone.recv();
}

GORO_RACE_SKIP(TestNoRaceAfterFunc1, "goro has no time.AfterFunc");
GORO_RACE_SKIP(TestNoRaceAfterFunc2, "goro has no time.AfterFunc");
GORO_RACE_SKIP(TestNoRaceAfterFunc3, "goro has no time.AfterFunc");
GORO_RACE_SKIP(TestRaceAfterFunc3, "goro has no time.AfterFunc");

// This test's output is intended to be
// observed manually. One should check
// that goroutine creation stack is
// comprehensible.
GORO_RACE_TEST(TestRaceGoroutineCreationStack) {
  static volatile int x = 0;
  static goro::Chan<bool> ch(1);
  static void (*f1)() = [] {
    x = 1;
    ch.send(true);
  };
  static void (*f2)() = [] { goro::go(f1); };
  static void (*f3)() = [] { goro::go(f2); };
  static void (*f4)() = [] { goro::go(f3); };
  goro::go(f4);
  x = 2;
  ch.recv();
}

// A nil pointer in a mutex method call should not
// corrupt the race detector state.
// Used to hang indefinitely.
GORO_RACE_SKIP(TestNoRaceNilMutexCrash,
               "calls RLock on a nil *RWMutex and recovers the panic; in C++ that is undefined behaviour");
