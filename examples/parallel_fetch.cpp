// parallel_fetch — ten 1-second "HTTP calls": 10 s one after the other,
// about 1 s all at once.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "Concrete example — 10
// URLs in parallel":
//
//   func fetchData(url string) string { time.Sleep(1 * time.Second); return "data from " + url }
//   // Sequential: for _, url := range urls { fetchData(url) }          -> ~10 s
//   // Parallel:   wg.Add(1); go func(u string) { ...fetchData(u) }(url) -> ~1 s
//
// What to notice:
// - The parallel version takes as long as the slowest call, plus a little
//   scheduling overhead — not the sum of all of them.
// - goro::sleep_for is a runtime timer: ten goroutines sleeping cost ten
//   small stacks and no threads (the runtime has one thread per core).
// - The program checks its own timing and says so in its last line.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Simulates an HTTP call taking ~1 second.
std::string fetch_data(const std::string& url) {
  goro::sleep_for(1s);
  return "data from " + url;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int main() {
  return goro::run([] {
    const std::vector<std::string> urls = {
        "https://api.weather.com/london",    "https://api.weather.com/paris",
        "https://api.weather.com/berlin",    "https://api.weather.com/madrid",
        "https://api.weather.com/rome",      "https://api.weather.com/amsterdam",
        "https://api.weather.com/lisbon",    "https://api.weather.com/vienna",
        "https://api.weather.com/prague",    "https://api.weather.com/warsaw",
    };

    // --- Sequential version ---
    auto start = Clock::now();
    for (const auto& url : urls) fetch_data(url);
    const double sequential = seconds_since(start);
    std::printf("Sequential: %.3fs\n", sequential);  // ~10 seconds

    // --- Parallel version ---
    start = Clock::now();
    goro::WaitGroup wg;
    for (const auto& url : urls) {
      wg.add(1);
      goro::go(
          [&wg](const std::string& u) {
            fetch_data(u);
            wg.done();
          },
          url);
    }
    wg.wait();
    const double parallel = seconds_since(start);
    std::printf("Parallel: %.3fs\n", parallel);  // ~1 second

    if (parallel < 3.0) {
      std::printf("10 fetches of 1 s each: finished in about 1 s (not 10 s), %.1fx faster\n",
                  sequential / parallel);
    } else {
      std::printf("10 fetches of 1 s each took %.1f s: they did not overlap\n", parallel);
    }
    return 0;
  });
}
