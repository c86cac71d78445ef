// safe_counter — a type that carries its own mutex.
//
// Mirrors seeds/002 "Goroutines", § "sync.Mutex & RWMutex":
//
//   type SafeCounter struct { mu sync.Mutex; n int }
//   func (c *SafeCounter) Inc() { c.mu.Lock(); defer c.mu.Unlock(); c.n++ }
//
// What to notice:
// - The lock lives next to the data it guards, and every access goes
//   through a method that takes it: callers cannot forget.
// - Go's `Lock(); defer Unlock()` is std::lock_guard: unlocked on every way
//   out of the scope.
// - The mutex is `mutable` so the const reader can lock it.
// - wg.go(f) starts each goroutine and calls done() for it.
#include <goro/goro.hpp>

#include <cstdio>
#include <mutex>

class SafeCounter {
 public:
  void inc() {
    std::lock_guard lock(mu_);
    ++n_;
  }

  int value() const {
    std::lock_guard lock(mu_);
    return n_;
  }

 private:
  mutable goro::Mutex mu_;
  int n_ = 0;  // guarded by mu_
};

int main() {
  return goro::run([] {
    SafeCounter c;
    goro::WaitGroup wg;
    for (int i = 0; i < 1000; ++i) wg.go([&c] { c.inc(); });
    wg.wait();
    std::printf("count: %d\n", c.value());  // always 1000
    return 0;
  });
}
