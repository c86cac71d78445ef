// expect: fatal error: sync: Unlock of unlocked RWMutex
// expect: ^goroutine [0-9]+ \[running\]:
// expect: created at .*rw_mutex_unlock_unlocked.cpp:13
// exit: 2
// Go: TestMutexMisuse's "RWMutex.Unlock" case in sync/mutex_test.go.
#include <goro/goro.hpp>

#include <cstdio>

void misuse(goro::RWMutex& mu) GORO_NO_TSA { mu.unlock(); }

int main() {
  goro::run([] {
    goro::RWMutex mu;
    misuse(mu);
  });
  std::puts("should have exited");
  return 0;
}
