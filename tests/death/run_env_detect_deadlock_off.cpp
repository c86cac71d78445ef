// expect: ^received 7 from a plain thread, no deadlock reported$
// exit: 0
// GORO_DETECT_DEADLOCK=0 turns deadlock detection off for goro::run. The
// main goroutine waits for a plain thread that sends after 200 ms: with
// detection on, that is reported as a deadlock (Go's rule: only goroutines
// wake goroutines; run_options_detect_deadlock_on.cpp shows it).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  ::setenv("GORO_DETECT_DEADLOCK", "0", 1);
  goro::Chan<int> ch(0);
  std::thread sender([ch] {
    std::this_thread::sleep_for(200ms);
    ch.send(7);
  });
  const int v = goro::run([ch] { return *ch.recv(); });
  std::printf("received %d from a plain thread, no deadlock reported\n", v);
  sender.join();
  return 0;
}
