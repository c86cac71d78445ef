// closure_args — goroutines from anonymous functions, loop variable passed
// as an argument.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "Goroutines with
// Anonymous Functions":
//
//   for _, name := range names {
//       wg.Add(1)
//       go func(n string) { defer wg.Done(); fmt.Printf("Hello, %s!\n", n) }(name)
//   }
//
// What to notice:
// - goro::go(lambda, name) is Go's `go func(n string){...}(name)`: the
//   argument is copied into the goroutine when it is created.
// - The lambda captures only the WaitGroup by reference ([&wg]): shared on
//   purpose, and it outlives the goroutines because main waits on it.
#include <goro/goro.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    const std::vector<std::string> names = {"Alex", "Sam", "Jordan"};

    for (const auto& name : names) {
      wg.add(1);
      goro::go(
          [&wg](const std::string& n) {
            std::printf("Hello, %s!\n", n.c_str());
            wg.done();
          },
          name);  // pass name as an argument
    }

    wg.wait();
    return 0;
  });
}
