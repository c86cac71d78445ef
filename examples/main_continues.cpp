// main_continues — `go greet("Alice")` returns at once; main goes on.
//
// Mirrors seeds/003 "Concurrent Go, unlocked", § "Minimal example":
//
//   func greet(name string) { time.Sleep(1 * time.Second); fmt.Println("Hello,", name) }
//   go greet("Alice")
//   fmt.Println("Main continues immediately")
//   time.Sleep(2 * time.Second)
//
// What to notice:
// - "Main continues immediately" is printed first, at once; "Hello, Alice"
//   a second later; the program ends after two seconds.
// - goro::sleep_for is a timer, not a blocked thread: while greet sleeps,
//   its thread is free to run other goroutines.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

// greet prints a message after a short delay.
void greet(const std::string& name) {
  goro::sleep_for(1s);  // simulate work
  std::printf("Hello, %s\n", name.c_str());
}

int main() {
  return goro::run([] {
    // Launch greet in a new goroutine; main continues without waiting.
    goro::go(greet, "Alice");
    std::printf("Main continues immediately\n");

    // Wait for the goroutine to finish (the tutorial's hack: without it,
    // main returns and the goroutine dies with the program).
    goro::sleep_for(2s);
    return 0;
  });
}
