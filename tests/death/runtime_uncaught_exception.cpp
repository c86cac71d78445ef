// expect: goroutine [0-9]+ \[running\]: uncaught exception: boom
// expect: created at .*runtime_uncaught_exception.cpp:[0-9]+
// exit: abort
// sanitize: none thread address
// An exception escaping a goroutine is fatal, like an unrecovered panic in
// Go: goro names the goroutine and where it was created, then terminates.
#include <goro/goro.hpp>

#include <stdexcept>

int main() {
  goro::Scheduler s{goro::Options{.procs = 2}};
  s.go([] { throw std::runtime_error("boom"); });
  return 0;
}
