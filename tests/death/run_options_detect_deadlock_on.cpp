// expect: fatal error: all goroutines are asleep - deadlock!
// expect: goroutine 1 \[chan receive, .*\]: \(main\)
// exit: 2
// The near miss of run_options_detect_deadlock_off.cpp with detection on
// (the default, also through goro::run(options, fn)): a main goroutine
// waiting for a plain thread looks like a deadlock, as it would in Go.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  goro::Chan<int> ch(0);
  std::thread sender([ch] {
    std::this_thread::sleep_for(2s);
    ch.send(7);
  });
  sender.detach();
  const int v = goro::run(goro::Options{.procs = 2}, [ch] { return *ch.recv(); });
  std::printf("received %d: deadlock not reported\n", v);
  return 0;
}
