// expect: ^fatal error: stack overflow$
// expect: ^goroutine 4: stack overflow \(stack size 65536\)$
// expect: ^overflowed goroutine: 4 \(unguarded stack\)$
// exit: 2
// sanitize: none
// A canary stack whose goroutine overflows and then returns is reported at
// that goroutine's last switch, naming it — not later, under the goroutine
// that reuses the stack (README "Guarantees": stack overflow). The
// overflowing goroutine writes its stack's lowest word, which is what
// running off the bottom of the stack does first. Ids are given in creation
// order on a fresh runtime: 1-3 hold the first slots, 4 overflows, 5 would
// reuse its stack and must not be blamed.
#include <goro/goro.hpp>

#include <cstdint>
#include <cstdio>

int main() {
  goro::Scheduler s{goro::Options{.procs = 1, .stack_size = 64 * 1024, .guard_pages = false}};
  // Goroutines holding the first slots (a slab's first slot is always
  // guarded), so the overflowing one runs on a canary stack.
  goro::Chan<int> hold(0);
  for (int i = 0; i < 3; ++i) s.go([hold] { hold.recv(); });
  s.go([hold] {
    goro::detail::G* g = goro::detail::current_g();
    std::fprintf(stderr, "overflowed goroutine: %llu (%s stack)\n", static_cast<unsigned long long>(g->id.load()),
                 g->stack.guarded ? "guarded" : "unguarded");
    *reinterpret_cast<volatile std::uint64_t*>(g->stack.base) = 0x6f766572666c6f77;
    hold.close();
  });
  // Would reuse the overflowed stack (procs 1: the pool hands it back warm).
  s.go([] { goro::sleep_for(std::chrono::milliseconds(1)); });
  return 0;
}
