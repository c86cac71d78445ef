// fetch_results_mutex — fetch URLs concurrently, collecting results into a
// vector guarded by a mutex.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "A Complete Example"
// (a concurrent web page fetcher):
//
//   func fetch(url string, wg *sync.WaitGroup, mu *sync.Mutex, results *[]Result) {
//       defer wg.Done()
//       resp, err := http.Get(url)
//       ...
//       mu.Lock(); *results = append(*results, Result{...}); mu.Unlock()
//   }
//
// What to notice:
// - The network is simulated (http_get sleeps with goro::sleep_for and
//   answers from a table, one site failing), so the program is
//   deterministic and needs no network. Swap in a real HTTP client by
//   wrapping it in goro::blocking(...).
// - The shared vector is only touched under the mutex (std::lock_guard:
//   the unlock cannot be forgotten on any path).
// - Go's fetch has two exits, made safe by `defer wg.Done()`; here
//   wg.go(f) calls done() when f returns, whichever way.
// - Total time is that of the slowest request (~500 ms), not the sum (1.4 s).
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Result {
  std::string url;
  int status;  // 0: error
  milliseconds time;
};

struct Response {
  int status = 0;     // 0: the request failed
  std::string error;  // why, when it failed
};

// A stand-in for http.Get: latency and answer per site.
Response http_get(const std::string& url) {
  struct Site {
    const char* url;
    milliseconds latency;
    int status;
  };
  static const Site sites[] = {
      {"https://go.dev", 300ms, 200},
      {"https://github.com", 400ms, 200},
      {"https://example.com", 200ms, 200},
      {"https://httpbin.org/get", 500ms, 0},  // times out
  };
  for (const Site& s : sites) {
    if (url == s.url) {
      goro::sleep_for(s.latency);
      if (s.status == 0) return {0, "i/o timeout"};
      return {s.status, ""};
    }
  }
  return {0, "no such host"};
}

void fetch(const std::string& url, goro::Mutex& mu, std::vector<Result>& results) {
  const auto start = Clock::now();
  const Response resp = http_get(url);
  const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

  std::lock_guard lock(mu);
  results.push_back(Result{url, resp.status, elapsed});
}

int main() {
  return goro::run([] {
    std::printf("=== GO-11: Goroutines ===\n\n");

    const std::vector<std::string> urls = {
        "https://go.dev",
        "https://github.com",
        "https://example.com",
        "https://httpbin.org/get",
    };

    goro::WaitGroup wg;
    goro::Mutex mu;
    std::vector<Result> results;

    const auto start = Clock::now();
    for (const auto& url : urls) wg.go([&, url] { fetch(url, mu, results); });
    wg.wait();
    const auto total = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

    std::printf("Results:\n");
    for (const Result& r : results) {
      if (r.status == 0) {
        std::printf("  %s — ERROR (%lldms)\n", r.url.c_str(), static_cast<long long>(r.time.count()));
      } else {
        std::printf("  %s — %d (%lldms)\n", r.url.c_str(), r.status, static_cast<long long>(r.time.count()));
      }
    }

    std::printf("\nTotal time: %lldms (fetched %zu URLs concurrently)\n",
                static_cast<long long>(total.count()), urls.size());
    return 0;
  });
}
