// main_exits_early — the first trap: main returns and takes every goroutine
// with it.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "The first trap — the
// program that finishes too soon" (and seeds/001 "Common Mistakes" #3,
// "Starting goroutines without synchronization"):
//
//   go sayHello("Alice")
//   go sayHello("Bob")
//   fmt.Println("Program done")
//
// What to notice:
// - When the function given to goro::run returns, main returns and the
//   process ends, exactly as in Go: the goroutines are not waited for.
//   Whether "Hello Alice" and "Hello Bob" appear is luck: here they often
//   squeeze in while the process is shutting down, sometimes they don't.
// - goro's default runtime never blocks process exit. Waiting is your job:
//   a WaitGroup (wait_group_hello.cpp) or a channel.
#include <goro/goro.hpp>

#include <cstdio>
#include <string>

void say_hello(const std::string& name) { std::printf("Hello %s\n", name.c_str()); }

int main() {
  return goro::run([] {
    goro::go(say_hello, "Alice");
    goro::go(say_hello, "Bob");
    std::printf("Program done\n");  // ...and nothing waits for Alice and Bob
    return 0;
  });
}
