// expect: fatal error: send on synctest channel from outside bubble
// exit: 2
// A channel made in one synctest bubble may not be used from another one.
#include <goro/goro.hpp>

int main() {
  goro::Chan<goro::Chan<int>> handoff(1);  // made outside any bubble: usable by both
  goro::testing::synctest([&] { handoff.send(goro::Chan<int>(1)); });
  goro::testing::synctest([&] {
    auto ch = *handoff.recv();
    ch.send(1);  // fatal
  });
  return 0;
}
