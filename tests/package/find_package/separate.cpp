// The consumer's app_separate: two TUs against goro::runtime (the runtime
// compiled once). main_separate.cpp starts goroutines that run count() from
// this TU; neither TU compiles the scheduler.
#include <goro/chan.hpp>
#include <goro/wait_group.hpp>

void count(goro::Chan<int>& ch, int n, goro::WaitGroup& wg) {
  for (int i = 1; i <= n; i++) ch.send(i);
  wg.done();
}
