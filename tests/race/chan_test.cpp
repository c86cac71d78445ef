// Port of Go's src/runtime/race/testdata/chan_test.go (Go 1.19): channel
// operations under the race detector. Conventions: race_test.hpp.
#include "race_test.hpp"

#include <optional>

using namespace race_test;

GORO_RACE_TEST(TestNoRaceChanSync) {
  static volatile int v = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    v = 1;
    c.send(0);
  });
  c.recv();
  v = 2;
}

GORO_RACE_TEST(TestNoRaceChanSyncRev) {
  static volatile int v = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    c.send(0);
    v = 2;
  });
  v = 1;
  c.recv();
}

GORO_RACE_TEST(TestNoRaceChanAsync) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    v = 1;
    c.send(0);
  });
  c.recv();
  v = 2;
}

GORO_RACE_TEST(TestRaceChanAsyncRev) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    c.send(0);
    v = 1;
  });
  v = 2;
  c.recv();
}

GORO_RACE_TEST(TestNoRaceChanAsyncCloseRecv) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    v = 1;
    c.close();
  });
  // Go: a deferred func with recover() that writes v; <-c does not panic.
  c.recv();
  v = 2;
}

GORO_RACE_TEST(TestNoRaceChanAsyncCloseRecv2) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    v = 1;
    c.close();
  });
  c.recv();  // Go: _, _ = <-c
  v = 2;
}

GORO_RACE_TEST(TestNoRaceChanAsyncCloseRecv3) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    v = 1;
    c.close();
  });
  for ([[maybe_unused]] int x : c) {
  }
  v = 2;
}

GORO_RACE_TEST(TestNoRaceChanSyncCloseRecv) {
  static volatile int v = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    v = 1;
    c.close();
  });
  c.recv();
  v = 2;
}

GORO_RACE_TEST(TestNoRaceChanSyncCloseRecv2) {
  static volatile int v = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    v = 1;
    c.close();
  });
  c.recv();  // Go: _, _ = <-c
  v = 2;
}

GORO_RACE_TEST(TestNoRaceChanSyncCloseRecv3) {
  static volatile int v = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    v = 1;
    c.close();
  });
  for ([[maybe_unused]] int x : c) {
  }
  v = 2;
}

GORO_RACE_TEST(TestRaceChanSyncCloseSend) {
  static volatile int v = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    v = 1;
    c.close();
  });
  try {
    c.send(0);
  } catch (const goro::channel_error&) {  // Go: recover()
  }
  v = 2;
}

GORO_RACE_TEST(TestRaceChanAsyncCloseSend) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    v = 1;
    c.close();
  });
  try {
    for (;;) c.send(0);
  } catch (const goro::channel_error&) {
  }
  v = 2;
}

GORO_RACE_TEST(TestRaceChanCloseClose) {
  static goro::Chan<bool> compl_(2);
  static volatile int v1 = 0, v2 = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    v1 = 1;
    try {
      c.close();
    } catch (const goro::channel_error&) {
      v2 = 2;
    }
    compl_.send(true);
  });
  goro::go([] {
    v2 = 1;
    try {
      c.close();
    } catch (const goro::channel_error&) {
      v1 = 2;
    }
    compl_.send(true);
  });
  compl_.recv();
  compl_.recv();
}

GORO_RACE_TEST(TestRaceChanSendLen) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  goro::go([] {
    v = 1;
    c.send(1);
  });
  while (c.size() == 0) goro::yield();  // Go: len(c), runtime.Gosched()
  v = 2;
}

GORO_RACE_TEST(TestRaceChanRecvLen) {
  static volatile int v = 0;
  static goro::Chan<int> c(10);
  c.send(1);
  goro::go([] {
    v = 1;
    c.recv();
  });
  while (c.size() != 0) goro::yield();
  v = 2;
}

GORO_RACE_TEST(TestRaceChanSendSend) {
  static goro::Chan<bool> compl_(2);
  static volatile int v1 = 0, v2 = 0;
  static goro::Chan<int> c(1);
  goro::go([] {
    v1 = 1;
    goro::select(goro::on_send(c, 1), goro::on_default([] { v2 = 2; }));
    compl_.send(true);
  });
  goro::go([] {
    v2 = 1;
    goro::select(goro::on_send(c, 1), goro::on_default([] { v1 = 2; }));
    compl_.send(true);
  });
  compl_.recv();
  compl_.recv();
}

GORO_RACE_TEST(TestNoRaceChanPtr) {
  struct msg {
    int x;
  };
  static goro::Chan<msg*> c(0);
  goro::go([] { c.send(new msg{1}); });
  msg* m = *c.recv();
  m->x = 2;
}

GORO_RACE_TEST(TestRaceChanWrongSend) {
  static volatile int v1 = 0, v2 = 0;
  static goro::Chan<int> c(2);
  goro::go([] {
    v1 = 1;
    c.send(1);
  });
  goro::go([] {
    v2 = 2;
    c.send(2);
  });
  goro::sleep_for(10ms);
  if (*c.recv() == 1) {
    v2 = 3;
  } else {
    v1 = 3;
  }
}

GORO_RACE_TEST(TestRaceChanWrongClose) {
  static volatile int v1 = 0, v2 = 0;
  static goro::Chan<int> c(1);
  static goro::Chan<bool> done(0);
  goro::go([] {
    try {
      v1 = 1;
      c.send(1);
      done.send(true);
    } catch (const goro::channel_error&) {  // Go: a deferred recover(); done is not sent
    }
  });
  goro::go([] {
    goro::sleep_for(10ms);
    v2 = 2;
    c.close();
    done.send(true);
  });
  goro::sleep_for(20ms);
  if (c.recv()) {  // Go: if _, who := <-c; who
    v2 = 2;
  } else {
    v1 = 2;
  }
  done.recv();
  done.recv();
}

GORO_RACE_TEST(TestRaceChanSendClose) {
  static goro::Chan<bool> compl_(2);
  static goro::Chan<int> c(1);
  goro::go([] {
    try {
      c.send(1);
    } catch (const goro::channel_error&) {
    }
    compl_.send(true);
  });
  goro::go([] {
    goro::sleep_for(10ms);
    c.close();
    compl_.send(true);
  });
  compl_.recv();
  compl_.recv();
}

GORO_RACE_TEST(TestRaceChanSendSelectClose) {
  static goro::Chan<bool> compl_(2);
  static goro::Chan<int> c(1);
  static goro::Chan<int> c1(0);
  goro::go([] {
    try {
      goro::sleep_for(10ms);
      goro::select(goro::on_send(c, 1), goro::on_recv(c1));
    } catch (const goro::channel_error&) {
    }
    compl_.send(true);
  });
  goro::go([] {
    c.close();
    compl_.send(true);
  });
  compl_.recv();
  compl_.recv();
}

GORO_RACE_TEST(TestRaceSelectReadWriteAsync) {
  static goro::Chan<bool> done(0);
  static volatile int x = 0;
  static goro::Chan<int> c1(10), c2(10), c3(0);
  c2.send(1);
  goro::go([] {
    goro::select(goro::on_send(c1, x),  // read of x races with...
                 goro::on_send(c3, 1));
    done.send(true);
  });
  goro::select(goro::on_recv(c2, [](std::optional<int> v) { x = *v; }),  // ... write to x here
               goro::on_send(c3, 1));
  done.recv();
}

GORO_RACE_TEST(TestRaceSelectReadWriteSync) {
  static goro::Chan<bool> done(0);
  static volatile int x = 0;
  static goro::Chan<int> c1(0), c2(0), c3(0);
  // make c1 and c2 ready for communication
  goro::go([] { c1.recv(); });
  goro::go([] { c2.send(1); });
  goro::go([] {
    goro::select(goro::on_send(c1, x),  // read of x races with...
                 goro::on_send(c3, 1));
    done.send(true);
  });
  goro::select(goro::on_recv(c2, [](std::optional<int> v) { x = *v; }),  // ... write to x here
               goro::on_send(c3, 1));
  done.recv();
}

GORO_RACE_TEST(TestNoRaceSelectReadWriteAsync) {
  static goro::Chan<bool> done(0);
  static volatile int x = 0;
  static goro::Chan<int> c1(0), c2(0);
  goro::go([] {
    goro::select(goro::on_send(c1, x),  // read of x does not race with...
                 goro::on_send(c2, 1));
    done.send(true);
  });
  goro::select(goro::on_recv(c1, [](std::optional<int> v) { x = *v; }),  // ... write to x here
               goro::on_send(c2, 1));
  done.recv();
}

GORO_RACE_TEST(TestRaceChanReadWriteAsync) {
  static goro::Chan<bool> done(0);
  static goro::Chan<int> c1(10), c2(10);
  c2.send(10);
  static volatile int x = 0;
  goro::go([] {
    c1.send(int{x});  // read of x races with...
    done.send(true);
  });
  x = *c2.recv();  // ... write to x here
  done.recv();
}

GORO_RACE_TEST(TestRaceChanReadWriteSync) {
  static goro::Chan<bool> done(0);
  static goro::Chan<int> c1(0), c2(0);
  // make c1 and c2 ready for communication
  goro::go([] { c1.recv(); });
  goro::go([] { c2.send(10); });
  static volatile int x = 0;
  goro::go([] {
    c1.send(int{x});  // read of x races with...
    done.send(true);
  });
  x = *c2.recv();  // ... write to x here
  done.recv();
}

GORO_RACE_TEST(TestNoRaceChanReadWriteAsync) {
  static goro::Chan<bool> done(0);
  static goro::Chan<int> c1(10);
  static volatile int x = 0;
  goro::go([] {
    c1.send(int{x});  // read of x does not race with...
    done.send(true);
  });
  x = *c1.recv();  // ... write to x here
  done.recv();
}

GORO_RACE_TEST(TestNoRaceProducerConsumerUnbuffered) {
  struct Task {
    void (*f)();
    goro::Chan<bool> done;
  };
  static goro::Chan<Task> queue(0);
  goro::go([] {
    Task t = *queue.recv();
    t.f();
    t.done.send(true);
  });
  auto doit = [](void (*f)()) {
    goro::Chan<bool> done(1);
    queue.send(Task{f, done});
    done.recv();
  };
  static volatile int x = 0;
  doit([] { x = 1; });
  read(x);
}

// The TestRaceChanItself* tests race on the variable c itself: a goroutine
// uses the channel while the test function assigns c a new one. In Go the
// old channel lives on (garbage collection); here `keep` holds it, or the
// assignment could free it under the goroutine.
GORO_RACE_TEST(TestRaceChanItselfSend) {
  static goro::Chan<bool> compl_(1);
  static goro::Chan<int> c(10);
  static const goro::Chan<int> keep = c;  // see the note above TestRaceChanItselfSend
  goro::go([] {
    c.send(0);
    compl_.send(true);
  });
  c = goro::Chan<int>(20);
  compl_.recv();
}

GORO_RACE_TEST(TestRaceChanItselfRecv) {
  static goro::Chan<bool> compl_(1);
  static goro::Chan<int> c(10);
  c.send(1);
  static const goro::Chan<int> keep = c;  // see the note above TestRaceChanItselfSend
  goro::go([] {
    c.recv();
    compl_.send(true);
  });
  goro::sleep_for(10ms);
  c = goro::Chan<int>(20);
  compl_.recv();
}

GORO_RACE_TEST(TestRaceChanItselfNil) {
  static goro::Chan<int> c(10);
  static const goro::Chan<int> keep = c;  // see the note above TestRaceChanItselfSend
  goro::go([] { c.send(0); });
  goro::sleep_for(10ms);
  c = goro::Chan<int>();  // Go: c = nil
}

GORO_RACE_TEST(TestRaceChanItselfClose) {
  static goro::Chan<bool> compl_(1);
  static goro::Chan<int> c(0);
  static const goro::Chan<int> keep = c;  // see the note above TestRaceChanItselfSend
  goro::go([] {
    c.close();
    compl_.send(true);
  });
  c = goro::Chan<int>(0);
  compl_.recv();
}

GORO_RACE_TEST(TestRaceChanItselfLen) {
  static goro::Chan<bool> compl_(1);
  static goro::Chan<int> c(0);
  static const goro::Chan<int> keep = c;  // see the note above TestRaceChanItselfSend
  goro::go([] {
    read(c.size());
    compl_.send(true);
  });
  c = goro::Chan<int>(0);
  compl_.recv();
}

GORO_RACE_TEST(TestRaceChanItselfCap) {
  static goro::Chan<bool> compl_(1);
  static goro::Chan<int> c(0);
  static const goro::Chan<int> keep = c;  // see the note above TestRaceChanItselfSend
  goro::go([] {
    read(c.capacity());
    compl_.send(true);
  });
  c = goro::Chan<int>(0);
  compl_.recv();
}

GORO_RACE_TEST(TestNoRaceChanCloseLen) {
  static goro::Chan<int> c(10);
  static goro::Chan<int> r(10);
  goro::go([] { r.send(static_cast<int>(c.size())); });
  goro::go([] {
    c.close();
    r.send(0);
  });
  r.recv();
  r.recv();
}

GORO_RACE_TEST(TestNoRaceChanCloseCap) {
  static goro::Chan<int> c(10);
  static goro::Chan<int> r(10);
  goro::go([] { r.send(static_cast<int>(c.capacity())); });
  goro::go([] {
    c.close();
    r.send(0);
  });
  r.recv();
  r.recv();
}

GORO_RACE_TEST(TestRaceChanCloseSend) {
  static goro::Chan<bool> compl_(1);
  static goro::Chan<int> c(10);
  goro::go([] {
    c.close();
    compl_.send(true);
  });
  try {
    c.send(0);
  } catch (const goro::channel_error&) {  // Go panics here (the test dies with the race report)
  }
  compl_.recv();
}

GORO_RACE_TEST(TestNoRaceChanMutex) {
  struct empty {};
  static goro::Chan<empty> done(0);
  static goro::Chan<empty> mtx(1);
  static volatile int data = 0;
  goro::go([] {
    mtx.send(empty{});
    data = 42;
    mtx.recv();
    done.send(empty{});
  });
  mtx.send(empty{});
  data = 43;
  mtx.recv();
  done.recv();
}

GORO_RACE_TEST(TestNoRaceSelectMutex) {
  struct empty {};
  static goro::Chan<empty> done(0);
  static goro::Chan<empty> mtx(1);
  static goro::Chan<bool> aux(0);
  static volatile int data = 0;
  goro::go([] {
    goro::select(goro::on_send(mtx, empty{}), goro::on_recv(aux));
    data = 42;
    goro::select(goro::on_recv(mtx), goro::on_recv(aux));
    done.send(empty{});
  });
  goro::select(goro::on_send(mtx, empty{}), goro::on_recv(aux));
  data = 43;
  goro::select(goro::on_recv(mtx), goro::on_recv(aux));
  done.recv();
}

GORO_RACE_TEST(TestRaceChanSem) {
  struct empty {};
  static goro::Chan<empty> done(0);
  static goro::Chan<bool> mtx(2);
  static volatile int data = 0;
  goro::go([] {
    mtx.send(true);
    data = 42;
    mtx.recv();
    done.send(empty{});
  });
  mtx.send(true);
  data = 43;
  mtx.recv();
  done.recv();
}

GORO_RACE_TEST(TestNoRaceChanWaitGroup) {
  constexpr int N = 10;
  static goro::Chan<bool> chanWg(N / 2);
  static volatile int data[N];
  for (int i = 0; i < N; ++i) {
    chanWg.send(true);
    goro::go([i] {
      data[i] = 42;
      chanWg.recv();
    });
  }
  for (std::size_t i = 0; i < chanWg.capacity(); ++i) chanWg.send(true);
  for (int i = 0; i < N; ++i) read(data[i]);
}

// Test that sender synchronizes with receiver even if the sender was blocked.
GORO_RACE_TEST(TestNoRaceBlockedSendSync) {
  static goro::Chan<int*> c(1);
  c.send(nullptr);
  goro::go([] {
    int* i = new int(42);  // Go: i := 42 escapes to the heap
    c.send(i);
  });
  // Give the sender time to actually block.
  // This sleep is completely optional: race report must not be printed
  // regardless of whether the sender actually blocks or not.
  // It cannot lead to flakiness.
  goro::sleep_for(10ms);
  c.recv();
  int* p = *c.recv();
  if (*p != 42) std::abort();  // Go: t.Fatal()
}

// The same as TestNoRaceBlockedSendSync above, but sender unblock happens in a select.
GORO_RACE_TEST(TestNoRaceBlockedSelectSendSync) {
  static goro::Chan<int*> c(1);
  c.send(nullptr);
  goro::go([] {
    int* i = new int(42);
    c.send(i);
  });
  goro::sleep_for(10ms);
  c.recv();
  goro::select(goro::on_recv(c,
                             [](std::optional<int*> p) {
                               if (**p != 42) std::abort();
                             }),
               goro::on_recv(goro::Chan<int>(0)));
}

// Test that close synchronizes with a read from the empty closed channel.
// See https://golang.org/issue/36714.
GORO_RACE_TEST(TestNoRaceCloseHappensBeforeRead) {
  for (int i = 0; i < 100; ++i) {
    // Go: fresh variables each iteration, kept alive by the closures.
    struct Round {
      int loc = 0;
      goro::Chan<int> write{0};  // Go: chan struct{}
      goro::Chan<int> read{0};
    };
    auto* r = new Round;
    goro::go([r] {
      goro::select(goro::on_recv(r->write, [r] { race_test::read(r->loc); }), goro::on_default());
      r->read.close();
    });
    goro::go([r] {
      r->loc = 1;
      r->write.close();
    });
    r->read.recv();
  }
}

// Test that we call the proper race detector function when c.elemsize==0.
// See https://github.com/golang/go/issues/42598
GORO_RACE_TEST(TestNoRaceElemetSize0) {
  struct empty {};
  static volatile int x = 0, y = 0;
  static goro::Chan<empty> c(2);
  c.send(empty{});
  c.send(empty{});
  goro::go([] {
    x = x + 1;
    c.recv();
  });
  goro::go([] {
    y = y + 1;
    c.recv();
  });
  goro::sleep_for(10ms);
  c.send(empty{});
  c.send(empty{});
  x = x + 1;
  y = y + 1;
}
