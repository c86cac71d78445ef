// expect: goro: ignoring GOMAXPROCS=lots \(want a positive integer\)
// expect: ^procs equal the CPU count$
// exit: 0
// A GOMAXPROCS that is not a positive integer is reported and ignored: the
// default runtime falls back to the number of CPUs.
#include <goro/goro.hpp>

#include <cstdio>
#include <cstdlib>
#include <thread>

int main() {
  ::unsetenv("GORO_MAXPROCS");
  ::setenv("GOMAXPROCS", "lots", 1);
  const unsigned cpus = std::thread::hardware_concurrency();
  const int procs = goro::procs();
  if (procs == static_cast<int>(cpus > 0 ? cpus : 1)) {
    std::printf("procs equal the CPU count\n");
  } else {
    std::printf("procs=%d, CPUs=%u\n", procs, cpus);
  }
  return 0;
}
