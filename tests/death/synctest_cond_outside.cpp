// expect: fatal error: a goroutine of a synctest bubble, durably blocked, was woken from outside its bubble
// exit: 2
// Cond::wait in a synctest bubble is a durable wait: only the bubble may end
// it. A signal() from outside that wakes the goroutine is fatal, as in Go.
#include <goro/goro.hpp>

#include <thread>

// Blocks (or holds) for good: beyond what -Wthread-safety can follow.
void lock_forever(goro::Mutex& mu) GORO_NO_TSA { mu.lock(); }

int main() {
  goro::Mutex mu;
  goro::Cond cv(mu);
  goro::Mutex hold;  // keeps the bubble from being idle: waiting on it is not durable
  lock_forever(hold);
  std::thread outside([&] {
    // Until the bubble's goroutine waits on the Cond.
    while (true) {
      bool waiting = false;
      for (const auto& g : goro::detail::snapshot(goro::detail::default_runtime()))
        waiting |= g.status == goro::detail::GStatus::waiting && g.reason == goro::detail::WaitReason::sync_cond_wait;
      if (waiting) break;
      std::this_thread::yield();
    }
    cv.signal();  // fatal
  });
  goro::testing::synctest([&] {
    goro::go([&] {
      mu.lock();
      cv.wait();
      mu.unlock();
    });
    lock_forever(hold);
  });
  outside.join();
  return 0;
}
