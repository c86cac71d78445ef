// expect: runtime: program exceeds 8-thread limit
// expect: fatal error: thread exhaustion
// exit: 2
// Past Options::max_threads goro fails with Go's message instead of
// exhausting the OS.
#include <goro/goro.hpp>

#include <unistd.h>

int main() {
  goro::Scheduler s{goro::Options{.procs = 2, .max_threads = 8}};
  for (int i = 0; i < 64; ++i) s.go([] { goro::blocking([] { ::usleep(500'000); }); });
  return 0;
}
