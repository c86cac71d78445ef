// expect: fatal error: sync: WaitGroup is reused before previous Wait has returned
// expect: ^goroutine [0-9]+ \[running\]:
// expect: created at .*wait_group_reused.cpp:19
// exit: 2
// Go: the check in WaitGroup.Wait that Go's TestWaitGroupMisuse3 hunts for
// with racing goroutines, made deterministic with one processor: a waiter
// parks; the last done() releases it (it becomes runnable, not running);
// before it runs, the same goroutine starts a new round with add(1). The
// released waiter then finds the counter non-zero.
#include <goro/goro.hpp>

#include <cstdio>

int main() {
  goro::Scheduler s{goro::Options{.procs = 1}};
  s.go([] {
    static goro::WaitGroup wg;
    wg.add(1);
    goro::go([] { wg.wait(); });
    // Run the waiter until it parks in wait().
    for (;;) {
      goro::yield();
      bool parked = false;
      for (const auto& g : goro::detail::snapshot(goro::detail::current_runtime()))
        parked |= g.reason == goro::detail::WaitReason::sync_waitgroup_wait &&
                  g.status == goro::detail::GStatus::waiting;
      if (parked) break;
    }
    wg.done();  // releases the waiter: runnable, not yet running
    wg.add(1);  // reuse before its wait() has returned
    goro::yield();  // now the waiter runs and detects it
    wg.done();
  });
  return 0;
}
