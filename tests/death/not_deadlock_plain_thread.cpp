// expect: received 7 from a plain thread, no deadlock reported
// exit: 0
// sanitize: none thread address
// Near miss: outside goro::run, goroutines blocked on a channel that a plain
// thread sends to after 200 ms are not a deadlock (detection applies only
// under goro::run, where Go's "only goroutines wake goroutines" holds).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  using namespace std::chrono_literals;
  goro::Chan<int> ch(0);
  goro::Chan<int> done(1);
  goro::Scheduler s{goro::Options{.procs = 2}};
  s.go([ch, done] { done.send(*ch.recv()); });
  std::thread sender([ch] {
    std::this_thread::sleep_for(200ms);
    ch.send(7);
  });
  std::printf("received %d from a plain thread, no deadlock reported\n", *done.recv());
  sender.join();
  return 0;
}
