// expect: fatal error: sync: Unlock of unlocked RWMutex
// exit: 2
// Go: TestMutexMisuse's "RWMutex.Unlock3" case in sync/mutex_test.go:
// read-lock, then write-unlock.
#include <goro/goro.hpp>

#include <cstdio>

void misuse(goro::RWMutex& mu) GORO_NO_TSA {
  mu.lock_shared();
  mu.unlock();
}

int main() {
  goro::RWMutex mu;
  misuse(mu);
  std::puts("should have exited");
  return 0;
}
