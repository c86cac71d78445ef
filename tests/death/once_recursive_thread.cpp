// expect: fatal error: sync: Once.call called recursively from inside its own function \(deadlock\)
// exit: 2
// As once_recursive.cpp, from a plain thread (main) instead of a goroutine.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  goro::Once once;
  once.call([&] { once.call([] {}); });
  std::puts("should have exited");
  return 0;
}
