// wait_group — five workers of different lengths; main waits for all.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "sync.WaitGroup —
// Waiting for Goroutines":
//
//   func worker(id int, wg *sync.WaitGroup) {
//       defer wg.Done()
//       fmt.Printf("Worker %d starting\n", id)
//       time.Sleep(time.Duration(id) * 100 * time.Millisecond)
//       fmt.Printf("Worker %d done\n", id)
//   }
//
// What to notice:
// - add(1) before each goroutine starts, done() when it finishes, wait()
//   until the counter is back to zero: "All workers finished" is always last.
// - The five workers sleep 100..500 ms at the same time, so the program
//   takes about 500 ms, not 1.5 s.
// - std::ref(wg) shares the WaitGroup (Go's `&wg`); goro::WaitGroup cannot
//   be copied, so Go's "passed by value, hangs forever" mistake does not
//   compile.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <functional>

using namespace std::chrono_literals;

void worker(int id, goro::WaitGroup& wg) {
  std::printf("Worker %d starting\n", id);
  goro::sleep_for(id * 100ms);  // simulate work
  std::printf("Worker %d done\n", id);
  wg.done();  // Go: defer wg.Done() — this function has a single exit
}

int main() {
  return goro::run([] {
    goro::WaitGroup wg;

    for (int i = 1; i <= 5; ++i) {
      wg.add(1);  // increase the counter before starting the goroutine
      goro::go(worker, i, std::ref(wg));
    }

    wg.wait();  // block until the counter reaches 0
    std::printf("All workers finished\n");
    return 0;
  });
}
