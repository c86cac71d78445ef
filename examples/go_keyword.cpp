// go_keyword — `go say("hello")` next to a plain call `say("main")`.
//
// Mirrors seeds/002 "Goroutines", § "The go keyword":
//
//   go say("hello")   // runs concurrently
//   say("main")       // runs on main goroutine
//   time.Sleep(100 * time.Millisecond)
//
// What to notice:
// - goro::go(say, "hello") is Go's `go say("hello")`; say("main") is an
//   ordinary call on goroutine 1 (goro::run's).
// - The sleep is the same hack as in Go: it gives the goroutine time to
//   print before main returns and ends the program.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

void say(const std::string& msg) { std::printf("%s\n", msg.c_str()); }

int main() {
  return goro::run([] {
    goro::go(say, "hello");  // runs concurrently
    say("main");             // runs on the main goroutine
    goro::sleep_for(100ms);  // give the goroutine time to print
    return 0;
  });
}
