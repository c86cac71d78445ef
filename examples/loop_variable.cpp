// loop_variable — the classic loop trap, and its C++ form: capture by value.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "The classic loop trap"
// (also seeds/001 § "Goroutines with Anonymous Functions" and seeds/002's
// exercise note):
//
//   for i := 0; i < 5; i++ { go func() { fmt.Println(i) }() }        // BUG: 5 5 5 5 5
//   for i := 0; i < 5; i++ { go func(n int) { fmt.Println(n) }(i) }  // FIX: 0 1 2 3 4
//
// What to notice:
// - In C++ the bug is a lambda that captures the loop variable *by
//   reference*: `[&] { std::printf("%d\n", i); }`. It is worse than Go's:
//   the goroutine may run after `i` has gone out of scope, so it reads a
//   dead variable (undefined behaviour), not just a late value.
// - The fix is to copy the value when the goroutine is created: capture
//   `[i]` (by value), or pass i as an argument — goro::go(f, i) copies its
//   arguments like Go's `(i)`. Both forms are shown below.
// - The numbers come out in any order, but each of 0..4 exactly once.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  return goro::run([] {
    goro::WaitGroup wg;

    // BUG (do not do this): [&] captures the variable i, not its value.
    //   for (int i = 0; i < 5; ++i) goro::go([&] { std::printf("%d\n", i); });

    // FIX 1: capture by value — [i] is a copy made now, owned by the goroutine.
    for (int i = 0; i < 5; ++i) {
      wg.add(1);
      goro::go([i, &wg] {
        std::printf("captured %d\n", i);
        wg.done();
      });
    }

    // FIX 2: Go's parameter form — the argument is copied at the call.
    for (int i = 0; i < 5; ++i) {
      wg.add(1);
      goro::go(
          [&wg](int n) {
            std::printf("passed %d\n", n);
            wg.done();
          },
          i);
    }

    wg.wait();
    return 0;
  });
}
