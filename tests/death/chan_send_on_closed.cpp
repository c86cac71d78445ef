// expect: goroutine [0-9]+ \[running\]: uncaught exception: send on closed channel
// expect: created at .*chan_send_on_closed.cpp:14
// exit: abort
// sanitize: none thread address
// A send on a closed channel that nobody catches is fatal, as Go's
// `panic: send on closed channel` is: goro names the goroutine and where it
// was created, then terminates.
#include <goro/goro.hpp>

int main() {
  goro::Scheduler s{goro::Options{.procs = 2}};
  goro::Chan<int> ch(1);
  ch.close();
  s.go([ch] { ch.send(1); });
  return 0;
}
