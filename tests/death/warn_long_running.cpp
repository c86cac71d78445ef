// expect: goro: goroutine [0-9]+ has run for [0-9]+ ms without switching \(created at .*warn_long_running\.cpp:[0-9]+ in .*start_hog
// expect: goroutines are cooperative.*goro::yield\(\) in long computations
// expect: !created at .*in .*start_polite
// expect: !created at .*in .*start_ping_pong
// expect: ^hog, polite and ping-pong goroutines finished$
// exit: 0
// sanitize: none thread address
// Options::warn_long_running_ms: the monitor names a goroutine that runs
// longer than the limit without switching (where it was created), once, and
// stays quiet about goroutines that switch often: one that yields between
// slices of work, and two that hand a value back and forth. Generous margins
// (a 100 ms limit, 1 ms slices) keep an OS thread descheduled for a while
// from being mistaken for a hog.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

void spin_for(Clock::duration d) {
  const auto end = Clock::now() + d;
  while (Clock::now() < end) {
  }
}

void start_hog() {
  goro::go([] { spin_for(400ms); });
}

void start_polite() {
  goro::go([] {
    const auto end = Clock::now() + 400ms;
    while (Clock::now() < end) {
      spin_for(1ms);
      goro::yield();
    }
  });
}

void start_ping_pong() {
  goro::Chan<int> ping(0), pong(0);
  goro::go([ping, pong] {
    const auto end = Clock::now() + 400ms;
    while (Clock::now() < end) {
      ping.send(1);
      pong.recv();
    }
    ping.close();
  });
  goro::go([ping, pong] {
    while (ping.recv()) pong.send(1);
  });
}

}  // namespace

int main() {
  {
    goro::Scheduler s{goro::Options{.procs = 2, .warn_long_running_ms = 100}};
    s.go([] {
      start_hog();
      start_polite();
      start_ping_pong();
    });
  }  // ~Scheduler waits for all of them
  std::puts("hog, polite and ping-pong goroutines finished");
  return 0;
}
