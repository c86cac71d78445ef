// hello — Go's first goroutine program: `go sayHello("Alice")`.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "What is a goroutine?":
//
//   go sayHello("Alice")
//   go sayHello("Bob")
//   time.Sleep(10 * time.Millisecond) // we'll come back to this
//   fmt.Println("Program done")
//
// What to notice:
// - goro::run is Go's main: the lambda runs as goroutine 1, and the program
//   ends when it returns, whatever the other goroutines are doing.
// - goro::go(say_hello, "Alice") starts a goroutine and returns at once; the
//   arguments are copied into it, like std::thread's.
// - The sleep is the tutorial's band-aid: it *hopes* 10 ms is enough. See
//   wait_group_hello.cpp for the real fix (a WaitGroup).
// - One std::printf call writes one whole line, so lines printed by
//   different goroutines never interleave (a chain of `std::cout <<` could).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

void say_hello(const std::string& name) { std::printf("Hello %s\n", name.c_str()); }

int main() {
  return goro::run([] {
    goro::go(say_hello, "Alice");
    goro::go(say_hello, "Bob");
    goro::sleep_for(10ms);  // we'll come back to this
    std::printf("Program done\n");
    return 0;
  });
}
