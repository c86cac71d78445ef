// expect: fatal error: sync: negative WaitGroup counter
// exit: 2
// Go: TestWaitGroupMisuse in sync/waitgroup_test.go — one add, two dones.
// Go panics with "sync: negative WaitGroup counter"; goro makes it fatal.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  goro::WaitGroup wg;
  wg.add(1);
  wg.done();
  wg.done();
  std::puts("should have exited");
  return 0;
}
