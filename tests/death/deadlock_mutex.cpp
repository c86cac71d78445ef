// expect: fatal error: all goroutines are asleep - deadlock!
// expect: goroutine 1 \[sync.Mutex.Lock, .*\]: \(main\)
// exit: 2
// sanitize: none thread address
// The main goroutine waits for a Mutex that a finished goroutine left locked.
#include <goro/goro.hpp>

#include <mutex>

int main() {
  goro::run([] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    // std::unique_lock(...).release(): lock and keep it locked, without
    // clang's -Wthread-safety objecting to a lock held at the end.
    wg.go([&] { std::unique_lock<goro::Mutex>(mu).release(); });  // returns without unlocking
    wg.wait();
    std::unique_lock<goro::Mutex>(mu).release();
  });
  return 0;
}
