// hello_sleep — three goroutines, and time.Sleep as a (bad) way to wait.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "What is a Goroutine?":
//
//   go sayHello("Alex"); go sayHello("Sam"); go sayHello("Jordan")
//   time.Sleep(100 * time.Millisecond)
//   fmt.Println("Done")
//
// What to notice:
// - The three greetings come out in any order: goroutines run concurrently.
// - Sleeping to wait "works" only as long as the goroutines are faster than
//   the guess. The tutorial calls it bad practice and so do we: wait_group.cpp
//   shows the fix.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

void say_hello(const std::string& name) { std::printf("Hello, %s!\n", name.c_str()); }

int main() {
  return goro::run([] {
    goro::go(say_hello, "Alex");
    goro::go(say_hello, "Sam");
    goro::go(say_hello, "Jordan");

    goro::sleep_for(100ms);  // wait a bit so the goroutines can finish
    std::printf("Done\n");
    return 0;
  });
}
