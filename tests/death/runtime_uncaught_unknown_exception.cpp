// expect: goroutine [0-9]+ \[running\]: uncaught exception: unknown exception
// expect: created at .*runtime_uncaught_unknown_exception.cpp:[0-9]+
// exit: abort
// An exception not derived from std::exception escaping a goroutine is
// fatal too; there is no what() to print.
#include <goro/goro.hpp>

int main() {
  goro::Scheduler s{goro::Options{.procs = 1}};
  s.go([] { throw 42; });
  return 0;
}
