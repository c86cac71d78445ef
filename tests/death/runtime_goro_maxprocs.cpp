// expect: ^procs=3$
// expect: ^explicit procs=5$
// exit: 0
// GORO_MAXPROCS takes precedence over GOMAXPROCS; an explicit
// Options::procs over both.
#include <goro/goro.hpp>

#include <cstdio>
#include <cstdlib>

int main() {
  ::setenv("GOMAXPROCS", "7", 1);
  ::setenv("GORO_MAXPROCS", "3", 1);
  std::printf("procs=%d\n", goro::procs());
  goro::Scheduler s{goro::Options{.procs = 5}};
  std::printf("explicit procs=%d\n", s.procs());
  return 0;
}
