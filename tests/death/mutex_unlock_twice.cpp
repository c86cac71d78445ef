// expect: fatal error: sync: unlock of unlocked mutex
// exit: 2
// Go: TestMutexMisuse's "Mutex.Unlock2" case in sync/mutex_test.go: lock,
// unlock, unlock — from a plain thread.
#include <goro/goro.hpp>

#include <cstdio>

void misuse(goro::Mutex& mu) GORO_NO_TSA {
  mu.lock();
  mu.unlock();
  mu.unlock();
}

int main() {
  goro::Mutex mu;
  misuse(mu);
  std::puts("should have exited");
  return 0;
}
