// mutex_counter — the racy counter fixed with a mutex.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "sync.Mutex —
// Protecting Shared Data":
//
//   go func() {
//       defer wg.Done()
//       mu.Lock()   // Only one goroutine can enter
//       counter++
//       mu.Unlock() // Release the lock
//   }()
//
// What to notice:
// - goro::Mutex is Go's sync.Mutex: a goroutine waiting for it parks (its
//   thread runs other goroutines) instead of blocking the thread.
// - It has lock()/unlock() like Go, so std::lock_guard / std::scoped_lock
//   work too — the RAII form is safe_counter.cpp's.
// - Counter: 1000, every time (compare racy_counter.cpp).
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  return goro::run([] {
    int counter = 0;
    goro::Mutex mu;
    goro::WaitGroup wg;

    for (int i = 0; i < 1000; ++i) {
      wg.add(1);
      goro::go([&] {
        mu.lock();  // only one goroutine can enter
        ++counter;
        mu.unlock();  // release the lock
        wg.done();    // last: main may destroy mu and counter once all are done
      });
    }

    wg.wait();
    std::printf("Counter: %d\n", counter);  // always 1000
    return 0;
  });
}
