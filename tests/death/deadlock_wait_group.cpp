// expect: fatal error: all goroutines are asleep - deadlock!
// expect: goroutine 1 \[sync.WaitGroup.Wait, .*\]: \(main\)
// exit: 2
// A WaitGroup whose done() is never called: the tutorial's "forgot wg.Done".
#include <goro/goro.hpp>

int main() {
  goro::run([] {
    goro::WaitGroup wg;
    wg.add(2);
    goro::go([&] { wg.done(); });  // only one of the two
    wg.wait();
  });
  return 0;
}
