// expect: fatal error: goro::Timer::reset: the Scheduler this Timer was created on has been destroyed
// exit: 2
// sanitize: none thread address
// A goro::Timer runs on the runtime it was created on. Re-arming it after
// that Scheduler is gone would use freed memory; goro reports it instead.
// (Stopping or destroying such a timer is fine: its pending firing was
// dropped with the runtime.)
#include <goro/goro.hpp>

#include <chrono>
#include <memory>

int main() {
  using namespace std::chrono_literals;
  std::unique_ptr<goro::Timer> timer;
  {
    goro::Scheduler s{goro::Options{.procs = 1}};
    s.go([&timer] { timer = std::make_unique<goro::Timer>(1h); });
  }
  timer->stop();       // fine
  timer->reset(1ms);   // fatal
  return 0;
}
