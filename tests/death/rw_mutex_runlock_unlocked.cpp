// expect: fatal error: sync: RUnlock of unlocked RWMutex
// exit: 2
// Go: TestMutexMisuse's "RWMutex.RUnlock" case in sync/mutex_test.go.
#include <goro/goro.hpp>

#include <cstdio>

void misuse(goro::RWMutex& mu) GORO_NO_TSA { mu.unlock_shared(); }

int main() {
  goro::run([] {
    goro::RWMutex mu;
    misuse(mu);
  });
  std::puts("should have exited");
  return 0;
}
