// expect: fatal error: goro: a Scheduler was destroyed from one of its own goroutines
// exit: abort
// A Scheduler's destructor waits for its goroutines: called from one of
// them it would wait for itself forever. goro says so and aborts.
#include <goro/goro.hpp>

#include <chrono>
#include <memory>

int main() {
  auto s = std::make_unique<goro::Scheduler>(goro::Options{.procs = 2});
  goro::Scheduler* raw = s.release();
  raw->go([raw] { delete raw; });
  for (;;) goro::sleep_for(std::chrono::seconds(1));  // the goroutine aborts the process
}
