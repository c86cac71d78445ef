// expect: fatal error: all goroutines are asleep - deadlock!
// expect: goroutine 1 \[sync.Mutex.Lock, .*\]: \(main\)
// exit: 2
// The main goroutine waits for a Mutex that a finished goroutine left locked.
#include <goro/goro.hpp>

int main() {
  goro::run([] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    wg.go([&] { mu.lock(); });  // returns without unlocking
    wg.wait();
    mu.lock();
  });
  return 0;
}
