// expect: ^fatal error: stack overflow$
// expect: goroutine [0-9]+: stack overflow \(stack size 65536\)
// exit: 2
// sanitize: none
// The same with guard pages off (canary stacks): the overflow runs into the
// slab's guard page, or the canary check at the next switch catches it.
#include <goro/goro.hpp>

#include <cstdio>

#include "../support.hpp"

static volatile bool forever = true;  // hides the unbounded recursion from -Winfinite-recursion

static int recurse(int n) {
  if (!forever) return n;
  volatile char frame[512];
  frame[0] = static_cast<char>(n);
  return recurse(n + 1) + frame[0];
}

int main() {
  goro::Scheduler s{goro::Options{.procs = 2, .stack_size = 64 * 1024, .guard_pages = false}};
  // Some goroutines first, so the overflowing one is not in a slab's first
  // slot. The overflow runs down through their stacks and Gs (nothing guards
  // them): they must be parked by then, not running on the other processor,
  // where the trampled stack would crash before the overflow is reported.
  goro::Chan<int> never(0);
  for (int i = 0; i < 10; ++i) s.go([never]() mutable { never.recv(); });
  if (!goro_test::wait_parked(s.runtime(), goro::detail::WaitReason::chan_receive, 10)) {
    std::fprintf(stderr, "the ten goroutines did not park\n");
    return 1;
  }
  s.go([] { std::printf("%d\n", recurse(0)); });
  return 0;  // not reached: the overflow ends the process with status 2
}
