// expect: SIGQUIT: quit
// expect: goroutine [0-9]+ \[chan receive, .*\]:
// expect: created at .*sigquit_pool_locked.cpp:31
// expect: ^releasing the stack pool lock$
// exit: 2
// timeout: 30
// sanitize: none
// SIGQUIT landing on a thread that holds the stack pool's lock: the dump
// needs that lock, so a handler that dumped would wait for itself forever
// (issue 19 §1). Here the signal is raised by the very thread that holds the
// lock (raise delivers it to the calling thread before returning), and that
// thread keeps the lock a while before letting go. The handler only hands the
// dump to goro's dumper thread, which prints it once the lock is free and
// exits 2. A hang fails the test by its timeout.
#include <goro/goro.hpp>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  goro::Scheduler s{goro::Options{.procs = 2, .dump_on_sigquit = true}};
  goro::Chan<int> never(0);
  goro::Chan<int> started(1);
  for (int i = 0; i < 4; ++i)
    s.go([never, started] {
      started.send(1);
      never.recv();
    });
  for (int i = 0; i < 4; ++i) started.recv();
  for (;;) {  // wait until the goroutines are parked (for the dump's text)
    std::ostringstream os;
    goro::dump(os, s);
    std::string text = os.str();
    std::size_t parked = 0;
    for (std::size_t at = 0; (at = text.find("[chan receive", at)) != std::string::npos; ++at) ++parked;
    if (parked == 4) break;
    std::this_thread::yield();
  }
  bool raised = false;
  // for_each_slot holds the pool's lock while it calls us.
  s.runtime()->stacks.for_each_slot([&](char*, std::size_t) {
    if (raised) return;
    raised = true;
    ::raise(SIGQUIT);
    std::this_thread::sleep_for(200ms);  // still holding the lock
    // Printed before the dump can start (it needs the lock).
    std::puts("releasing the stack pool lock");
    std::fflush(stdout);
  });
  std::this_thread::sleep_for(20s);  // not reached: the dumper exits the process
  return 0;
}
