// two_goroutines — two anonymous goroutines and a WaitGroup; the order is
// not guaranteed.
//
// Mirrors seeds/004 "Goroutines" (concurrency vs parallelism), § "Example
// of using goroutines and WaitGroup":
//
//   wg.Add(1)
//   go func() { defer wg.Done(); fmt.Println("Executing 1st goroutine") }()
//   wg.Add(1)
//   go func() { defer wg.Done(); fmt.Println("Executing 2nd goroutine") }()
//   wg.Wait()
//   fmt.Println("All goroutines finished executing")
//
// What to notice:
// - Run it a few times: "1st" and "2nd" can come out in either order
//   (the tutorial's Output X and Output Y); the last line never moves.
// - The lambdas are invoked by goro::go, like Go's `go func(){...}()`.
// - Parallelism is set by the number of processors: GOMAXPROCS=1 (or
//   GORO_MAXPROCS=1) runs goroutines concurrently on one thread.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  return goro::run([] {
    goro::WaitGroup wg;

    wg.add(1);
    goro::go([&wg] {
      std::printf("Executing 1st goroutine\n");
      wg.done();
    });

    wg.add(1);
    goro::go([&wg] {
      std::printf("Executing 2nd goroutine\n");
      wg.done();
    });

    wg.wait();
    std::printf("All goroutines finished executing\n");
    return 0;
  });
}
