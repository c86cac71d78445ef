// fetch_status — the "parallel URL fetcher" exercise: each URL with its
// status code.
//
// Mirrors seeds/002 "Goroutines", § "Practice exercises — Parallel URL
// fetcher" (its solution):
//
//   for _, u := range urls {
//       wg.Add(1)
//       go func(url string) {
//           defer wg.Done()
//           resp, err := http.Get(url)
//           if err != nil { fmt.Println(url, "err:", err); return }
//           fmt.Printf("%-30s %d\n", url, resp.StatusCode)
//       }(u)
//   }
//
// What to notice:
// - The HTTP call is simulated (http_get sleeps, then answers from a table)
//   so the program needs no network; a real client would go inside
//   goro::blocking(...) so it does not stall the scheduler.
// - The goroutine has two exits (error, success). Go makes both call Done
//   with defer; wg.go(f) does it here.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct Response {
  int status_code = 0;
  std::string error;  // non-empty: the request failed
};

// A stand-in for http.Get.
Response http_get(const std::string& url) {
  goro::sleep_for(100ms);  // network latency
  if (url == "https://go.dev") return {200, ""};
  if (url == "https://example.com") return {200, ""};
  return {0, "dial tcp: lookup failed"};
}

int main() {
  return goro::run([] {
    const std::vector<std::string> urls = {
        "https://go.dev",
        "https://example.com",
    };

    goro::WaitGroup wg;
    for (const auto& u : urls) {
      wg.go([url = u] {
        const Response resp = http_get(url);
        if (!resp.error.empty()) {
          std::printf("%s err: %s\n", url.c_str(), resp.error.c_str());
          return;
        }
        std::printf("%-30s %d\n", url.c_str(), resp.status_code);
      });
    }
    wg.wait();
    return 0;
  });
}
