// expect: fatal error: synctest timer accessed from outside bubble
// exit: 2
// A goro::Timer made in a synctest bubble runs on the bubble's clock: using
// it from outside the bubble is fatal, as in Go.
#include <goro/goro.hpp>

#include <chrono>
#include <memory>

int main() {
  std::unique_ptr<goro::Timer> timer;
  goro::testing::synctest([&] { timer = std::make_unique<goro::Timer>(std::chrono::seconds(1)); });
  timer->reset(std::chrono::seconds(2));  // fatal
  return 0;
}
