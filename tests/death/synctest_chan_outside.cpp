// expect: fatal error: receive on synctest channel from outside bubble
// exit: 2
// A channel made in a synctest bubble belongs to it: receiving on it from
// outside the bubble (here, after the bubble has ended) is fatal, as in Go.
#include <goro/goro.hpp>

int main() {
  goro::Chan<int> smuggled;
  goro::testing::synctest([&] {
    goro::Chan<int> ch(1);
    ch.send(1);
    smuggled = ch;
  });
  smuggled.try_recv();  // fatal
  return 0;
}
