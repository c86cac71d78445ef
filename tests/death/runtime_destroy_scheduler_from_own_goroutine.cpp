// expect: fatal error: goro: a Scheduler was destroyed from one of its own goroutines
// expect: ^goroutine [0-9]+ \[running\]:
// expect: created at .*runtime_destroy_scheduler_from_own_goroutine.cpp:16
// exit: 2
// sanitize: none thread address
// A Scheduler's destructor waits for its goroutines: called from one of
// them it would wait for itself forever. goro says so and exits (status 2).
#include <goro/goro.hpp>

#include <chrono>
#include <memory>

int main() {
  auto s = std::make_unique<goro::Scheduler>(goro::Options{.procs = 2});
  goro::Scheduler* raw = s.release();
  raw->go([raw] { delete raw; });
  for (;;) goro::sleep_for(std::chrono::seconds(1));  // the goroutine ends the process
}
