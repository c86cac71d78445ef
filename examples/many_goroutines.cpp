// many_goroutines — 100,000 goroutines, because they are cheap.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "How Many Goroutines
// Can You Run?":
//
//   for i := 0; i < count; i++ { wg.Add(1); go func() { defer wg.Done() }() }
//   fmt.Printf("Started %d goroutines\n", count)
//   fmt.Printf("Active goroutines: %d\n", runtime.NumGoroutine())
//   wg.Wait()
//
// What to notice:
// - A goroutine is a small stack and a few words of bookkeeping, not an OS
//   thread: 100,000 of them start in a fraction of a second. (Each reserves
//   256 KiB of address space, but only the pages it touches cost memory, and
//   finished goroutines' stacks are reused.)
// - goro::num_goroutine() is runtime.NumGoroutine(): how many have not
//   finished yet — some number between 1 and 100,001 (the +1 is main).
#include <goro/goro.hpp>

#include <cstdio>

// Sanitizer builds define GORO_TEST_SCALE (ThreadSanitizer: 20), because a
// sanitizer's goroutine bookkeeping costs far more than the goroutine.
#ifndef GORO_TEST_SCALE
#define GORO_TEST_SCALE 1
#endif

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    const int count = 100'000 / GORO_TEST_SCALE;

    for (int i = 0; i < count; ++i) {
      wg.add(1);
      goro::go([&wg] {
        // Do nothing — just exist
        wg.done();
      });
    }

    std::printf("Started %d goroutines\n", count);
    std::printf("Active goroutines: %d\n", goro::num_goroutine());
    wg.wait();
    std::printf("All done\n");
    return 0;
  });
}
