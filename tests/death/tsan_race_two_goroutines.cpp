// expect: WARNING: ThreadSanitizer: data race
// expect: ^both goroutines ran at once$
// exit: any
// sanitize: thread
// ThreadSanitizer reports a data race between two goroutines that run at
// the same time on two threads (README "Race detection"). The goroutines
// only meet through relaxed atomics, which order nothing, then both write
// `shared`: goroutine 0 first, goroutine 1 after it has seen (relaxed) that
// the first write is done. Writes at the very same instant could each miss
// the other in TSan's shadow memory; one after the other, TSan always sees
// the first when it checks the second.
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

int main() {
  int shared = -1;
  std::atomic<int> started{0};
  std::atomic<bool> together{false};
  std::atomic<bool> first_written{false};
  {
    goro::Scheduler s{goro::Options{.procs = 2}};
    for (int i = 0; i < 2; ++i) {
      s.go([&shared, &started, &together, &first_written, i] {
        started.fetch_add(1, std::memory_order_relaxed);
        // Wait (bounded) until the other goroutine runs too, on the other
        // thread: this one does not yield, so the other cannot be on ours.
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (started.load(std::memory_order_relaxed) < 2 && std::chrono::steady_clock::now() < give_up) {
        }
        if (started.load(std::memory_order_relaxed) == 2) together.store(true, std::memory_order_relaxed);
        if (i == 0) {
          shared = 0;  // the race, first access
          first_written.store(true, std::memory_order_relaxed);
        } else {
          while (!first_written.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < give_up) {
          }
          shared = 1;  // the race, second access
        }
      });
    }
  }
  std::puts(together.load() ? "both goroutines ran at once" : "the goroutines never ran at once");
  return shared >= 0 ? 0 : 1;
}
