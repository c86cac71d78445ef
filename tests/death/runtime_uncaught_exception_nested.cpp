// expect: goroutine [0-9]+ \[running\]: uncaught exception: boom from a child
// expect: created at .*runtime_uncaught_exception_nested.cpp:15
// exit: abort
// sanitize: none thread address
// The report names where the failing goroutine itself was created (here by
// goro::go with an argument, inside another goroutine).
#include <goro/goro.hpp>

#include <stdexcept>
#include <string>

int main() {
  goro::Scheduler s{goro::Options{.procs = 2}};
  s.go([] {
    goro::go([](const std::string& what) { throw std::runtime_error(what); }, std::string("boom from a child"));
  });
  return 0;
}
