// expect: fatal error: sync: WaitGroup.Add called from inside and outside synctest bubble
// exit: 2
// A WaitGroup that add() was called on in a synctest bubble belongs to the
// bubble until its counter is back to zero: done() from outside is fatal,
// as in Go 1.25.
#include <goro/goro.hpp>

#include <atomic>
#include <thread>

// Blocks (or holds) for good: beyond what -Wthread-safety can follow.
void lock_forever(goro::Mutex& mu) GORO_NO_TSA { mu.lock(); }

int main() {
  goro::WaitGroup wg;
  goro::Mutex hold;  // keeps the bubble alive: waiting on it is not durable
  lock_forever(hold);
  std::atomic<bool> added{false};
  std::thread outside([&] {
    while (!added.load()) std::this_thread::yield();
    wg.done();  // fatal
  });
  goro::testing::synctest([&] {
    wg.add(1);
    added.store(true);
    lock_forever(hold);
  });
  outside.join();
  return 0;
}
