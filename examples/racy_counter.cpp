// racy_counter — a data race, on purpose: the tutorials' `go run -race` demo.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "The race detector —
// your best friend" and seeds/001 "Go Tutorial #11", § "Race Conditions":
//
//   counter := 0
//   for i := 0; i < 1000; i++ {
//       wg.Add(1)
//       go func() { defer wg.Done(); counter++ }()   // DANGER: not atomic
//   }
//
// What to notice:
// - Goroutines run in parallel on several threads, so `++counter` from two
//   of them at once is a data race: undefined behaviour in C++, a lost
//   update at best. (goro is cooperative, which makes the race rarer in a
//   plain build — not absent: every processor is its own thread.)
// - goro's `go run -race` is ThreadSanitizer: build with
//   `-DGORO_SANITIZE=thread` and run this. goro tells TSan about every
//   goroutine switch and about no synchronization but Go's memory model,
//   so the race is reported at any GOMAXPROCS (1 included, where the
//   goroutines run one after the other), with the two goroutines' accesses:
//   "WARNING: ThreadSanitizer: data race ... Write of size 4 ... Previous
//   write of size 4". mutex_counter.cpp is the fix.
// - Files named racy_*.cpp are built only in the TSan build, where a test
//   checks that the race is reported.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  return goro::run([] {
    int counter = 0;
    goro::WaitGroup wg;

    for (int i = 0; i < 1000; ++i) {
      wg.add(1);
      goro::go([&] {
        ++counter;  // DANGER: read + increment + write, unsynchronized
        wg.done();
      });
    }

    wg.wait();
    std::printf("Final counter: %d\n", counter);  // expected 1000, not guaranteed
    return 0;
  });
}
