// expect: SIGQUIT: quit
// expect: ^goroutines: 1 \(0 running, 0 runnable, 1 waiting, 0 syscall\)$
// expect: ^waiting: 1 chan receive$
// expect: ^procs: 2 \(
// expect: goroutine [0-9]+ \[chan receive, .*\]:
// expect: created at .*sigquit_dump.cpp:24
// exit: 2
// sanitize: none
// Options::dump_on_sigquit: Ctrl-\ prints the metrics header and every
// goroutine, and exits 2, like Go.
#include <goro/goro.hpp>

#include <signal.h>

#include <chrono>
#include <sstream>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  goro::Scheduler s{goro::Options{.procs = 2, .dump_on_sigquit = true}};
  goro::Chan<int> never(0);
  goro::Chan<int> parked(1);
  s.go([never, parked] { parked.send(1); never.recv(); });
  parked.recv();  // the goroutine has started; wait until it is parked
  for (;;) {
    std::ostringstream os;
    goro::dump(os, s);
    if (os.str().find("[chan receive") != std::string::npos) break;
    std::this_thread::yield();
  }
  ::raise(SIGQUIT);
  std::this_thread::sleep_for(10s);  // not reached: the handler exits
  return 0;
}
