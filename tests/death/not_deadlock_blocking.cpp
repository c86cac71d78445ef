// expect: blocking call returned 42, no deadlock reported
// exit: 0
// sanitize: none thread address
// Near miss: the main goroutine waits on a goroutine that is inside
// goro::blocking (a system call may return at any time).
#include <goro/goro.hpp>

#include <cstdio>
#include <unistd.h>

int main() {
  goro::run([] {
    goro::Chan<int> result(0);
    goro::go([result] { result.send(goro::blocking([] { ::usleep(200'000); return 42; })); });
    std::printf("blocking call returned %d, no deadlock reported\n", *result.recv());
  });
  return 0;
}
