// expect: fatal error: goro::after_func: the context is done but the Scheduler after_func was called on has been destroyed
// exit: 2
// sanitize: none thread address
// goro::after_func runs f on the runtime of its caller. If that Scheduler is
// gone when the context is cancelled, f has nowhere to run: goro reports it
// instead of using the freed runtime.
#include <goro/goro.hpp>

int main() {
  auto [ctx, cancel] = goro::with_cancel(goro::background());
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([c = ctx] { goro::after_func(c, [] {}); });
  }
  cancel();  // fatal
  return 0;
}
