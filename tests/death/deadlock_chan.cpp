// expect: fatal error: all goroutines are asleep - deadlock!
// expect: goroutine 1 \[chan receive, .*\]: \(main\)
// expect: goroutine [0-9]+ \[chan send, .*\]:
// expect: created at .*deadlock_chan.cpp:13
// exit: 2
// sanitize: none thread address
// Every goroutine blocked on a channel under goro::run: Go's checkdead.
#include <goro/goro.hpp>

int main() {
  goro::run([] {
    goro::Chan<int> never(0), other(0);
    goro::go([other] { other.send(1); });  // nobody receives from `other`
    never.recv();
  });
  return 0;
}
