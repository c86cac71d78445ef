// expect: fatal error: all goroutines are asleep - deadlock!
// expect: goroutine 1 \[select \(no cases\), .*\]: \(main\)
// expect: goroutine [0-9]+ \[select, .*\]:
// expect: created at .*chan_deadlock_select_nil.cpp:15
// exit: 2
// A select whose channels are all nil blocks forever (Go: `select {}` with
// nil channels), and a select on channels nobody will ever use blocks too:
// under goro::run that is Go's deadlock report.
#include <goro/goro.hpp>

int main() {
  goro::run([] {
    goro::Chan<int> nil;
    goro::Chan<int> never(0);
    goro::go([never] { goro::select(goro::on_recv(never), goro::on_send(never, 1)); });
    goro::select(goro::on_recv(nil), goro::on_send(nil, 1));
  });
  return 0;
}
