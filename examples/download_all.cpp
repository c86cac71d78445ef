// download_all — the WaitGroup loop pattern: add(1) per goroutine, then wait.
//
// Mirrors seeds/000 "Parallelism in Go — Part 1", § "sync.WaitGroup — the
// right solution", the loop over URLs:
//
//   for _, url := range urls {
//       wg.Add(1)
//       go func(u string) { defer wg.Done(); download(u) }(url)
//   }
//   wg.Wait()
//   fmt.Println("All downloads complete")
//
// What to notice:
// - wg.add(1) runs in the loop, before the goroutine starts — never inside
//   it, or wait() could see a zero counter and return too early.
// - The URL is passed as an argument, like Go's `(url)`: goro::go copies it
//   into the goroutine.
// - download() is simulated with goro::sleep_for (100 ms); the three run at
//   once, so the whole loop takes about 100 ms, not 300.
#include <goro/goro.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;

void download(const std::string& url) {
  goro::sleep_for(100ms);  // simulated network latency
  std::printf("downloaded %s\n", url.c_str());
}

int main() {
  return goro::run([] {
    const std::vector<std::string> urls = {
        "https://api.example.com/users/1",
        "https://api.example.com/users/2",
        "https://api.example.com/users/3",
    };

    goro::WaitGroup wg;
    for (const auto& url : urls) {
      wg.add(1);
      goro::go(
          [&wg](const std::string& u) {
            download(u);
            wg.done();
          },
          url);
    }

    wg.wait();
    std::printf("All downloads complete\n");
    return 0;
  });
}
