// expect: fatal error: sync: Once.call called recursively from inside its own function \(deadlock\)
// exit: 2
// A Once's function calls the same Once again: in Go this deadlocks (the
// inner Do waits for the outer one); goro detects it and fails loudly.
// From a goroutine under goro::run.
#include <goro/goro.hpp>

#include <cstdio>

goro::Once once;

void init() {
  once.call(init);  // recursion: waits for itself
}

int main() {
  goro::run([] { once.call(init); });
  std::puts("should have exited");
  return 0;
}
