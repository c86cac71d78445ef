// expect: fatal error: sync: unlock of unlocked mutex
// expect: ^goroutine [0-9]+ \[running\]:
// expect: created at .*mutex_unlock_unlocked.cpp:16
// exit: 2
// Go: TestMutexMisuse's "Mutex.Unlock" case in sync/mutex_test.go, from a
// goroutine under goro::run.
#include <goro/goro.hpp>

#include <cstdio>

// Unlocking a mutex that is not held is the point: keep Clang's
// -Wthread-safety from rejecting the program at compile time.
void misuse(goro::Mutex& mu) GORO_NO_TSA { mu.unlock(); }

int main() {
  goro::run([] {
    goro::Mutex mu;
    misuse(mu);
  });
  std::puts("should have exited");
  return 0;
}
