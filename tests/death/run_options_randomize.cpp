// expect: goro: randomized scheduling, seed 42
// expect: ^randomize=42, 100 goroutines ran$
// exit: 0
// goro::run(Options{.randomize = 42}, fn): the option reaches the default
// runtime: the seed is printed and the runtime runs with it.
#include <goro/goro.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>

int main() {
  const auto seed = goro::run(goro::Options{.procs = 1, .randomize = 42}, [] {
    std::atomic<int> ran{0};
    goro::WaitGroup wg;
    for (int i = 0; i < 100; ++i) {
      wg.add(1);
      goro::go([&] {
        goro::yield();
        ++ran;
        wg.done();
      });
    }
    wg.wait();
    return ran.load() == 100 ? goro::detail::current_runtime()->opts.randomize : 0;
  });
  std::printf("randomize=%llu, 100 goroutines ran\n", static_cast<unsigned long long>(seed));
  return 0;
}
