// once — lazy, goroutine-safe initialisation with sync.Once.
//
// Mirrors seeds/002 "Goroutines", § "sync.Once":
//
//   var (cfg *Config; cfgOnce sync.Once)
//   func Config() *Config {
//       cfgOnce.Do(func() { cfg = loadConfig() })  // runs at most once
//       return cfg
//   }
//
// What to notice:
// - Ten goroutines ask for the config at the same time; load_config runs
//   once, and the other nine wait (parked, not spinning) until it is done,
//   then all see the same object.
// - C++ already has a one-time initialiser, the function-local static — but
//   it blocks the *thread* while another thread initialises. goro::Once
//   parks the *goroutine*, so the initialiser may itself sleep, use
//   channels or wait for other goroutines without stalling a processor.
// - If the function passed to call() throws, the Once stays not-done and
//   the next call() tries again (std::call_once's rule; Go's Once would
//   count the panicking call as done).
#include <goro/goro.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

using namespace std::chrono_literals;

struct Config {
  std::string database_url;
  int max_connections;
};

std::atomic<int> loads{0};

Config load_config() {
  loads.fetch_add(1, std::memory_order_relaxed);  // a counter only, orders nothing
  std::printf("loading config...\n");
  goro::sleep_for(50ms);  // reading a file, say
  return Config{"postgres://localhost/app", 20};
}

goro::Once cfg_once;
std::unique_ptr<Config> cfg;  // written once, under cfg_once

const Config& config() {
  cfg_once.call([] { cfg = std::make_unique<Config>(load_config()); });  // runs at most once
  return *cfg;
}

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    for (int i = 1; i <= 10; ++i) {
      wg.go([i] {
        const Config& c = config();
        std::printf("goroutine %d sees %s (max %d connections)\n", i, c.database_url.c_str(),
                    c.max_connections);
      });
    }
    wg.wait();
    std::printf("load_config ran %d time(s)\n", loads.load());
    return 0;
  });
}
