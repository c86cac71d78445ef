// expect: goro: ignoring GOMAXPROCS=lots \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS=4x \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS=-2 \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS=\+4 \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS= 4 \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS=0 \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS=1025 \(want an integer from 1 to 1024\)
// expect: goro: ignoring GOMAXPROCS=99999999999999999999999 \(want an integer from 1 to 1024\)
// expect: goro: ignoring GORO_MAXPROCS=3.5 \(want an integer from 1 to 1024\)
// expect: ^every bad value fell back to the CPU count$
// expect: ^a bad GORO_MAXPROCS falls back to GOMAXPROCS=3$
// exit: 0
// GOMAXPROCS (and GORO_MAXPROCS) must be a whole decimal number from 1 to
// Options::max_procs: Go's runtime rejects "4x" too. A bad value is reported
// and ignored, and the next source applies: the default runtime (and a
// Scheduler with procs = 0) falls back to the number of CPUs. An empty
// variable counts as unset, silently.
#include <goro/goro.hpp>

#include <cstdio>
#include <cstdlib>
#include <thread>

int main() {
  ::unsetenv("GORO_MAXPROCS");
  const unsigned cpus = std::thread::hardware_concurrency();
  const int want = cpus == 0 ? 1 : static_cast<int>(cpus > 1024 ? 1024 : cpus);
  int wrong = 0;
  for (const char* bad : {"lots", "4x", "-2", "+4", " 4", "0", "1025", "99999999999999999999999", ""}) {
    ::setenv("GOMAXPROCS", bad, 1);
    goro::Scheduler s;  // procs = 0: from the environment
    if (s.procs() != want) {
      std::printf("GOMAXPROCS=%s gave procs=%d, CPUs=%u\n", bad, s.procs(), cpus);
      ++wrong;
    }
  }
  // The default runtime reads them the same way.
  if (goro::procs() != want) ++wrong;
  if (wrong == 0) std::printf("every bad value fell back to the CPU count\n");
  ::setenv("GORO_MAXPROCS", "3.5", 1);
  ::setenv("GOMAXPROCS", "3", 1);
  goro::Scheduler s;
  if (s.procs() == 3) std::printf("a bad GORO_MAXPROCS falls back to GOMAXPROCS=3\n");
  return 0;
}
