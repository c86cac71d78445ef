// expect: ^fatal error: stack overflow$
// expect: goroutine [0-9]+: stack overflow \(stack size 262144\)
// exit: 2
// sanitize: none
// Unbounded recursion in a goroutine with the default options: the guard
// page below the stack turns it into a report, not memory corruption.
// (Sanitizer runtimes own SIGSEGV; they report overflows their own way.)
#include <goro/goro.hpp>

#include <cstdio>

static volatile bool forever = true;  // hides the unbounded recursion from -Winfinite-recursion

static int recurse(int n) {
  if (!forever) return n;
  volatile char frame[512];
  frame[0] = static_cast<char>(n);
  return recurse(n + 1) + frame[0];
}

int main() {
  goro::Scheduler s;
  s.go([] { std::printf("%d\n", recurse(0)); });
  return 0;
}
