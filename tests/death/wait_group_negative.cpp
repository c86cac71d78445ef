// expect: fatal error: sync: negative WaitGroup counter
// exit: abort
// Go: TestWaitGroupMisuse in sync/waitgroup_test.go — one add, two dones.
// Go panics with "sync: negative WaitGroup counter"; goro makes it fatal.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  goro::WaitGroup wg;
  wg.add(1);
  wg.done();
  wg.done();
  std::puts("should have aborted");
  return 0;
}
