// expect: ^fatal error: stack overflow$
// expect: goroutine [0-9]+: stack overflow \(stack size 65536\)
// exit: 2
// sanitize: none
// Options::stack_size is an upper bound as well: a goroutine that needs
// more than its 64 KiB stack overflows into the guard page and is reported.
// (Sanitizer runtimes own SIGSEGV and report overflows their own way.)
#include <goro/goro.hpp>

#include <cstdio>

// Each frame hands its address to the next, so no compiler can fold the
// recursion into a loop.
[[gnu::noinline]] static int recurse(volatile char* caller, int n) {
  volatile char frame[512];
  frame[0] = static_cast<char>(n);
  frame[sizeof frame - 1] = caller[0];
  if (n > 1000) return frame[0];  // ~ 500 KiB: far beyond 64 KiB
  const int deeper = recurse(frame, n + 1);
  return deeper + frame[sizeof frame - 1];
}

int main() {
  goro::Scheduler s{goro::Options{.procs = 1, .stack_size = 64 * 1024}};
  s.go([] {
    volatile char top[1] = {0};
    std::printf("%d\n", recurse(top, 0));
  });
  return 0;
}
