// expect: ^procs=3$
// expect: ^scheduler procs=3$
// expect: ^inside run procs=3$
// exit: 0
// GOMAXPROCS sizes the default runtime (and a Scheduler with procs = 0), as
// in Go. Read when the runtime starts, so it is set before first use.
#include <goro/goro.hpp>

#include <cstdio>
#include <cstdlib>

int main() {
  ::unsetenv("GORO_MAXPROCS");
  ::setenv("GOMAXPROCS", "3", 1);
  std::printf("procs=%d\n", goro::procs());
  {
    goro::Scheduler s;
    std::printf("scheduler procs=%d\n", s.procs());
  }
  std::printf("inside run procs=%d\n", goro::run([] { return goro::procs(); }));
  return 0;
}
