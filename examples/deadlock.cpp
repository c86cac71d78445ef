// deadlock — everyone waiting, nobody left to wake them: goro reports it
// like Go.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "Common Mistakes" #1,
// "Forgetting to call wg.Done()":
//
//   go func() {
//       // Missing defer wg.Done()
//       doWork()
//   }()
//   wg.Wait() // Blocks forever!
//
// and seeds/003 "Concurrent Go, unlocked", § "Pitfalls": "The runtime stops
// the program with fatal error: all goroutines are asleep - deadlock! if no
// goroutine can make progress."
//
// What to notice:
// - This program is *meant* to fail: under goro::run, when goroutine 1 and
//   every other goroutine are blocked with nothing (no timer, no blocking
//   call, no plain thread) that could wake them, goro prints
//   `fatal error: all goroutines are asleep - deadlock!` and a dump of the
//   goroutines — here goroutine 1 waiting in sync.WaitGroup.Wait — and exits
//   with status 2, as Go does.
// - The fix: wg.go(f), which calls done() for you.
#include <goro/goro.hpp>

#include <cstdio>

void do_work() { std::printf("working...\n"); }

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([] {
      // Missing wg.done()
      do_work();
    });
    wg.wait();  // blocks forever
    std::printf("unreachable\n");
    return 0;
  });
}
