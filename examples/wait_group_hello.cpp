// wait_group_hello — the right way to wait: sync.WaitGroup.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "sync.WaitGroup — the
// right solution":
//
//   func sayHello(name string, wg *sync.WaitGroup) { defer wg.Done(); fmt.Println("Hello", name) }
//   wg.Add(2)
//   go sayHello("Alice", &wg)
//   go sayHello("Bob", &wg)
//   wg.Wait()
//   fmt.Println("Everyone said hello")
//
// What to notice:
// - add(2) happens *before* the goroutines start, so wait() cannot run
//   ahead of them.
// - The WaitGroup is shared, not copied: std::ref(wg) is C++'s `&wg`
//   (goro::go copies its arguments, like std::thread). goro::WaitGroup
//   cannot be copied at all, so Go's "passed by value" bug does not compile.
// - Go's `defer wg.Done()` protects against early returns and panics. Here
//   done() is the last statement; when a function has several exits, use
//   wg.go(f) instead, which calls done() however f returns (wait_group_closure.cpp).
#include <goro/goro.hpp>

#include <cstdio>
#include <functional>
#include <string>

void say_hello(const std::string& name, goro::WaitGroup& wg) {
  std::printf("Hello %s\n", name.c_str());
  wg.done();
}

int main() {
  return goro::run([] {
    goro::WaitGroup wg;

    wg.add(2);
    goro::go(say_hello, "Alice", std::ref(wg));
    goro::go(say_hello, "Bob", std::ref(wg));

    wg.wait();  // blocks here until both goroutines have called done()
    std::printf("Everyone said hello\n");
    return 0;
  });
}
