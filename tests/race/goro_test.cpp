// goro's own race-detector tests: orderings that Go's test suite cannot
// check because Go has no such mechanism, where goro's runtime once made
// TSan order goroutines that Go does not order — goroutines taking turns on
// one thread, a stack reused by a later goroutine, reference-counted
// handles (Chan, Context) copied by several goroutines, a Group's count of
// running goroutines — and the edges goro
// adds of its own (Context, Chan::closed). Conventions: race_test.hpp. The
// names say the outcome, as in Go's suite.
#include "race_test.hpp"

#include <goro/group.hpp>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <utility>

using namespace race_test;

// Two goroutines that run one after the other on the same thread (at procs
// 1 the second starts only when the first has finished) are not ordered.
GORO_RACE_TEST(TestRaceGoroutinesTakingTurnsOnAThread) {
  static volatile int x = 0;
  static goro::Chan<bool> done(2);
  goro::go([] {
    x = 1;
    done.send(true);
  });
  goro::go([] {
    x = 2;
    done.send(true);
  });
  done.recv();
  done.recv();
}

// A goroutine that gets the stack of a finished one (the processor's stack
// cache is last in, first out) is not ordered after it.
GORO_RACE_TEST(TestRaceGoroutineOnAReusedStack) {
  static volatile int x = 0;
  static std::atomic<bool> first_done{false};
  goro::go([] {
    x = 1;
    first_done.store(true, std::memory_order_relaxed);  // relaxed: orders nothing
  });
  while (!first_done.load(std::memory_order_relaxed)) goro::yield();
  goro::go([] { x = 2; });
}

// ... and its frames do not race with the finished goroutine's dead ones.
[[gnu::noinline]] static void fill_frame(int v) {
  volatile char frame[16 * 1024];
  for (auto& c : frame) c = static_cast<char>(v);
}

GORO_RACE_TEST(TestNoRaceGoroutinesReusingAStack) {
  static std::atomic<int> finished{0};
  for (int i = 0; i < 8; ++i) {
    goro::go([i] {
      fill_frame(i);
      finished.fetch_add(1, std::memory_order_relaxed);  // relaxed: orders nothing
    });
    // Not ordered after it: the next goroutine likely gets this one's stack.
    while (finished.load(std::memory_order_relaxed) <= i) goro::yield();
  }
}

// A thread_local that goroutines write in turn on one thread is reported:
// goroutines are not ordered by sharing a thread (and may resume on
// another thread after any switch). Both run on a one-processor Scheduler
// of their own, one after the other on its thread.
thread_local int tls_value = 0;

GORO_RACE_TEST(TestRaceThreadLocalWrittenByGoroutinesInTurn) {
  goro::Scheduler one{goro::Options{.procs = 1}};
  one.go([] { tls_value = 1; });
  one.go([] { tls_value = 2; });
}

// Copies of one channel handle (each select copies its channels) order
// nothing: in Go a channel value is a pointer. (At procs 1 the goroutine
// started last runs first: the one that writes x and then copies c.)
GORO_RACE_TEST(TestRaceChanHandleCopies) {
  static volatile int x = 0;
  static goro::Chan<int> c(0);
  static goro::Chan<bool> done(2);
  goro::go([] {
    goro::select(goro::on_recv(c), goro::on_default());
    x = 2;
    done.send(true);
  });
  goro::go([] {
    x = 1;
    goro::select(goro::on_recv(c), goro::on_default());
    done.send(true);
  });
  done.recv();
  done.recv();
}

// Copies of one Context order nothing either.
GORO_RACE_TEST(TestRaceContextCopies) {
  static volatile int x = 0;
  static const goro::Context ctx = goro::with_cancel(goro::background()).first;
  static goro::Chan<bool> done(2);
  goro::go([] {
    goro::Context copy = ctx;
    x = 2;
    done.send(true);
  });
  goro::go([] {
    x = 1;
    goro::Context copy = ctx;
    done.send(true);
  });
  done.recv();
  done.recv();
}

// Cancelling happens before a receive that sees done() closed ...
GORO_RACE_TEST(TestNoRaceContextCancelBeforeDone) {
  static volatile int x = 0;
  static const auto ctx = goro::with_cancel(goro::background());
  goro::go([] {
    x = 1;
    ctx.second();  // cancel
  });
  ctx.first.done().recv();
  x = 2;
}

// ... and before err() returns non-empty (Go: the cancelCtx's mutex).
GORO_RACE_TEST(TestNoRaceContextCancelBeforeErr) {
  static volatile int x = 0;
  static const auto ctx = goro::with_cancel(goro::background());
  goro::go([] {
    x = 1;
    ctx.second();  // cancel
  });
  while (!ctx.first.err()) goro::yield();
  x = 2;
}

// Chan::closed() returning true is an acquire of the close (as its atomic
// is in C++).
GORO_RACE_TEST(TestNoRaceChanClosedSeesClose) {
  static volatile int x = 0;
  static goro::Chan<int> c(0);
  goro::go([] {
    x = 1;
    c.close();
  });
  while (!c.closed()) goro::yield();
  x = 2;
}

// A Group's goroutines ending do not order a later go() (Go's errgroup has
// no such edge; only wait() is ordered after them).
GORO_RACE_TEST(TestRaceGroupGoAfterAnEndedGoroutine) {
  static volatile int x = 0;
  static std::atomic<bool> written{false};
  static goro::Group g;  // never destroyed: the process ends first
  g.go([] {
    x = 1;
    written.store(true, std::memory_order_relaxed);  // relaxed: orders nothing
  });
  while (!written.load(std::memory_order_relaxed)) goro::yield();
  goro::yield();  // at procs 1, lets it end first
  g.go([] {});
  x = 2;
}

// Once: its function happens before every call() returns (Go: once.Do).
GORO_RACE_TEST(TestNoRaceOnceFunctionBeforeEveryCall) {
  static volatile int x = 0;
  static goro::Once once;
  static goro::Chan<bool> done(4);
  for (int i = 0; i < 4; ++i) {
    goro::go([] {
      once.call([] { x = 1; });
      read(x);
      done.send(true);
    });
  }
  for (int i = 0; i < 4; ++i) done.recv();
}

// Semaphore: a release happens before the acquire it lets through, also
// when the acquirer had to wait (x/sync's Weighted orders them with its
// Mutex and the waiter's channel).
GORO_RACE_TEST(TestNoRaceSemaphoreReleaseBeforeAcquire) {
  static volatile int x = 0;
  static goro::Semaphore sem(1);
  static goro::WaitGroup wg;
  for (int i = 0; i < 4; ++i) {
    wg.go([] {
      sem.acquire();
      x = x + 1;
      goro::sleep_for(1ms);  // the others wait in acquire
      sem.release();
    });
  }
  wg.wait();
  x = 0;
}

// WaitGroup::go: the goroutine's function happens before wait() returns.
GORO_RACE_TEST(TestNoRaceWaitGroupGoBeforeWait) {
  static volatile int x = 0;
  static goro::WaitGroup wg;
  wg.go([] { x = 1; });
  wg.wait();
  x = 2;
}

// A Timer's stop() and reset() do not order their callers (Go's timer lock
// is runtime-internal): goroutines that only share a Timer still race.
GORO_RACE_TEST(TestRaceTimerResetAndStopOrderNothing) {
  static volatile int x = 0;
  static std::atomic<bool> reset_done{false};
  static goro::Timer t(std::chrono::hours(1));
  goro::go([] {
    x = 1;
    t.reset(std::chrono::hours(2));
    reset_done.store(true, std::memory_order_relaxed);  // relaxed: orders nothing
  });
  while (!reset_done.load(std::memory_order_relaxed)) goro::yield();
  t.stop();
  x = 2;
}

// errno is the one thread_local that goroutines taking turns on a thread
// hand over without a report: library code sets and reads it back within
// one call (sanitizer_thread_started).
GORO_RACE_TEST(TestNoRaceErrnoSetByGoroutinesInTurn) {
  static goro::WaitGroup wg;
  for (int i = 0; i < 8; ++i) {
    wg.go([i] {
      errno = i;
      read(errno);
      goro::yield();
      errno = i + 1;
    });
  }
  wg.wait();
}

// The program's own std::atomic (release/acquire) and std::mutex order
// goroutines as they order threads.
GORO_RACE_TEST(TestNoRaceStdAtomicAndStdMutex) {
  static volatile int x = 0;
  static volatile int y = 0;
  static std::atomic<bool> published{false};
  static std::mutex mu;
  static goro::WaitGroup wg;
  wg.go([] {
    x = 1;
    published.store(true, std::memory_order_release);
    std::lock_guard<std::mutex> g(mu);
    y = y + 1;
  });
  wg.go([] {
    while (!published.load(std::memory_order_acquire)) goro::yield();
    read(x);
    std::lock_guard<std::mutex> g(mu);
    y = y + 1;
  });
  wg.wait();
}
