// expect: ^received 7 from a plain thread, no deadlock reported$
// exit: 0
// goro::run(Options{.detect_deadlock = false}, fn): the option reaches the
// default runtime. Same program as run_options_detect_deadlock_on.cpp,
// which is reported as a deadlock.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  goro::Chan<int> ch(0);
  std::thread sender([ch] {
    std::this_thread::sleep_for(200ms);
    ch.send(7);
  });
  const int v = goro::run(goro::Options{.detect_deadlock = false}, [ch] { return *ch.recv(); });
  std::printf("received %d from a plain thread, no deadlock reported\n", v);
  sender.join();
  return 0;
}
