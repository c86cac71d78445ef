// expect: timer fired, no deadlock reported
// exit: 0
// sanitize: none thread address
// Near miss: everything is blocked, but a timer is about to fire.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

int main() {
  using namespace std::chrono_literals;
  goro::run([] {
    goro::Chan<int> never(0);
    goro::go([never] { never.recv(); });  // blocked for good (leaked on purpose)
    goro::after(100ms).recv();
    std::puts("timer fired, no deadlock reported");
  });
  return 0;
}
