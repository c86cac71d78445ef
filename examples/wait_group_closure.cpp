// wait_group_closure — WaitGroup with goroutines started from a closure.
//
// Mirrors seeds/002 "Goroutines", § "sync.WaitGroup":
//
//   for i := 1; i <= 3; i++ {
//       wg.Add(1)
//       go func(n int) { defer wg.Done(); fmt.Println("worker", n) }(i)
//   }
//   wg.Wait()
//   fmt.Println("all done")
//
// What to notice:
// - The tutorial's rules hold as they are: add before starting, done when
//   finished, never copy the WaitGroup (the closure captures it by
//   reference: [&wg]).
// - The second loop is the same program with wg.go(f) (Go 1.25's
//   WaitGroup.Go): add(1), start, and done() when f returns, in one call —
//   nothing to forget. Prefer it.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  return goro::run([] {
    goro::WaitGroup wg;

    for (int i = 1; i <= 3; ++i) {
      wg.add(1);  // register one goroutine
      goro::go(
          [&wg](int n) {
            std::printf("worker %d\n", n);
            wg.done();  // mark it done when finished
          },
          i);
    }
    wg.wait();  // block until the counter reaches 0
    std::printf("all done\n");

    // The same with WaitGroup::go.
    for (int i = 1; i <= 3; ++i) wg.go([i] { std::printf("worker %d (wg.go)\n", i); });
    wg.wait();
    std::printf("all done (wg.go)\n");
    return 0;
  });
}
