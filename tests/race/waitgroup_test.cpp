// Port of Go's src/runtime/race/testdata/waitgroup_test.go (Go 1.19):
// WaitGroup under the race detector. Conventions: race_test.hpp.
#include "race_test.hpp"

using namespace race_test;

GORO_RACE_TEST(TestNoRaceWaitGroup) {
  static volatile int x = 0;
  static goro::WaitGroup wg;
  const int n = 1;
  for (int i = 0; i < n; ++i) {
    wg.add(1);
    const int j = i;
    goro::go([j] {
      x = j;
      wg.done();
    });
  }
  wg.wait();
}

GORO_RACE_TEST(TestRaceWaitGroup) {
  static volatile int x = 0;
  static goro::WaitGroup wg;
  const int n = 2;
  for (int i = 0; i < n; ++i) {
    wg.add(1);
    const int j = i;
    goro::go([j] {
      x = j;
      wg.done();
    });
  }
  wg.wait();
}

GORO_RACE_TEST(TestNoRaceWaitGroup2) {
  static volatile int x = 0;
  static goro::WaitGroup wg;
  wg.add(1);
  goro::go([] {
    x = 1;
    wg.done();
  });
  wg.wait();
  x = 2;
}

// incrementing counter in Add and locking wg's mutex
GORO_RACE_TEST(TestRaceWaitGroupAsMutex) {
  static volatile int x = 0;
  static goro::WaitGroup wg;
  static goro::Chan<bool> c(2);
  goro::go([] {
    wg.wait();
    goro::sleep_for(100ms);
    wg.add(+1);
    x = 1;
    wg.add(-1);
    c.send(true);
  });
  goro::go([] {
    wg.wait();
    goro::sleep_for(100ms);
    wg.add(+1);
    x = 2;
    wg.add(-1);
    c.send(true);
  });
  c.recv();
  c.recv();
}

// Incorrect usage: Add is too late.
GORO_RACE_TEST(TestRaceWaitGroupWrongWait) {
  static goro::Chan<bool> c(2);
  static volatile int x = 0;
  static goro::WaitGroup wg;
  goro::go([] {
    wg.add(1);
    goro::yield();  // Go: runtime.Gosched()
    x = 1;
    wg.done();
    c.send(true);
  });
  goro::go([] {
    wg.add(1);
    goro::yield();
    x = 2;
    wg.done();
    c.send(true);
  });
  wg.wait();
  c.recv();
  c.recv();
}

GORO_RACE_TEST(TestRaceWaitGroupWrongAdd) {
  static goro::Chan<bool> c(2);
  static goro::WaitGroup wg;
  goro::go([] {
    wg.add(1);
    goro::sleep_for(100ms);
    wg.done();
    c.send(true);
  });
  goro::go([] {
    wg.add(1);
    goro::sleep_for(100ms);
    wg.done();
    c.send(true);
  });
  goro::sleep_for(50ms);
  wg.wait();
  c.recv();
  c.recv();
}

GORO_RACE_TEST(TestNoRaceWaitGroupMultipleWait) {
  static goro::Chan<bool> c(2);
  static goro::WaitGroup wg;
  goro::go([] {
    wg.wait();
    c.send(true);
  });
  goro::go([] {
    wg.wait();
    c.send(true);
  });
  wg.wait();
  c.recv();
  c.recv();
}

GORO_RACE_TEST(TestNoRaceWaitGroupMultipleWait2) {
  static goro::Chan<bool> c(2);
  static goro::WaitGroup wg;
  wg.add(2);
  goro::go([] {
    wg.done();
    wg.wait();
    c.send(true);
  });
  goro::go([] {
    wg.done();
    wg.wait();
    c.send(true);
  });
  wg.wait();
  c.recv();
  c.recv();
}

GORO_RACE_TEST(TestNoRaceWaitGroupMultipleWait3) {
  constexpr int P = 3;
  static volatile int data[P];
  static goro::Chan<bool> done(P);
  static goro::WaitGroup wg;
  wg.add(P);
  for (int p = 0; p < P; ++p) {
    goro::go([p] {
      data[p] = 42;
      wg.done();
    });
  }
  for (int p = 0; p < P; ++p) {
    goro::go([] {
      wg.wait();
      for (int p1 = 0; p1 < P; ++p1) read(data[p1]);
      done.send(true);
    });
  }
  for (int p = 0; p < P; ++p) done.recv();
}

// Correct usage but still a race
GORO_RACE_TEST(TestRaceWaitGroup2) {
  static volatile int x = 0;
  static goro::WaitGroup wg;
  wg.add(2);
  goro::go([] {
    x = 1;
    wg.done();
  });
  goro::go([] {
    x = 2;
    wg.done();
  });
  wg.wait();
}

GORO_RACE_SKIP(TestNoRaceWaitGroupPanicRecover,
               "recovers the panic of a negative WaitGroup counter, which goro makes a fatal error");
GORO_RACE_SKIP(TestNoRaceWaitGroupPanicRecover2,
               "recovers the panic of a negative WaitGroup counter, which goro makes a fatal error");

GORO_RACE_TEST(TestNoRaceWaitGroupTransitive) {
  static volatile int x = 0, y = 0;
  static goro::WaitGroup wg;
  wg.add(2);
  goro::go([] {
    x = 42;
    wg.done();
  });
  goro::go([] {
    goro::sleep_for(10ms);
    y = 42;
    wg.done();
  });
  wg.wait();
  read(x);
  read(y);
}

GORO_RACE_TEST(TestNoRaceWaitGroupReuse) {
  constexpr int P = 3;
  static volatile int data[P];
  static goro::WaitGroup wg;
  for (int attempt = 0; attempt < 3; ++attempt) {
    wg.add(P);
    for (int p = 0; p < P; ++p) {
      goro::go([p] {
        data[p] = data[p] + 1;
        wg.done();
      });
    }
    wg.wait();
    for (int p = 0; p < P; ++p) data[p] = data[p] + 1;
  }
}

GORO_RACE_TEST(TestNoRaceWaitGroupReuse2) {
  constexpr int P = 3;
  static volatile int data[P];
  static goro::WaitGroup wg;
  for (int attempt = 0; attempt < 3; ++attempt) {
    wg.add(P);
    for (int p = 0; p < P; ++p) {
      goro::go([p] {
        data[p] = data[p] + 1;
        wg.done();
      });
    }
    goro::Chan<bool> done(0);
    goro::go([done] {
      wg.wait();
      for (int p = 0; p < P; ++p) data[p] = data[p] + 1;
      done.send(true);
    });
    wg.wait();
    done.recv();
    for (int p = 0; p < P; ++p) data[p] = data[p] + 1;
  }
}

GORO_RACE_TEST(TestRaceWaitGroupReuse) {
  constexpr int P = 3;
  constexpr int T = 3;
  static goro::Chan<bool> done(T);
  static goro::WaitGroup wg;
  for (int attempt = 0; attempt < T; ++attempt) {
    volatile int* data = new int[P]();  // Go: var data [P]int, fresh each round, captured
    wg.add(P);
    for (int p = 0; p < P; ++p) {
      goro::go([data, p] {
        goro::sleep_for(50ms);
        data[p] = data[p] + 1;
        wg.done();
      });
    }
    goro::go([data] {
      wg.wait();
      for (int p = 0; p < P; ++p) data[p] = data[p] + 1;
      done.send(true);
    });
    goro::sleep_for(100ms);
    wg.wait();
  }
  for (int attempt = 0; attempt < T; ++attempt) done.recv();
}

GORO_RACE_TEST(TestNoRaceWaitGroupConcurrentAdd) {
  constexpr int P = 4;
  static goro::Chan<bool> waiting(P);
  static goro::WaitGroup wg;
  for (int p = 0; p < P; ++p) {
    goro::go([] {
      wg.add(1);
      waiting.send(true);
      wg.done();
    });
  }
  for (int p = 0; p < P; ++p) waiting.recv();
  wg.wait();
}
