// expect: fatal error: sync: RUnlock of unlocked RWMutex
// exit: 2
// Go: TestMutexMisuse's "RWMutex.RUnlock3" case in sync/mutex_test.go:
// write-lock, then read-unlock.
#include <goro/goro.hpp>

#include <cstdio>

void misuse(goro::RWMutex& mu) GORO_NO_TSA {
  mu.lock();
  mu.unlock_shared();
}

int main() {
  goro::RWMutex mu;
  misuse(mu);
  std::puts("should have exited");
  return 0;
}
