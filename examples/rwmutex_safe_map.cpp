// rwmutex_safe_map — a map shared by goroutines: many readers, one writer.
//
// Mirrors seeds/001 "Go Tutorial #11: Goroutines", § "sync.RWMutex —
// Multiple Readers, Single Writer":
//
//   type SafeMap struct { mu sync.RWMutex; data map[string]int }
//   func (m *SafeMap) Set(key string, value int) { m.mu.Lock(); defer m.mu.Unlock(); ... }
//   func (m *SafeMap) Get(key string) (int, bool) { m.mu.RLock(); defer m.mu.RUnlock(); ... }
//
// What to notice:
// - Go's `Lock(); defer Unlock()` is std::lock_guard in C++; Go's
//   `RLock(); defer RUnlock()` is std::shared_lock: goro::RWMutex has
//   lock_shared()/unlock_shared(), so the standard lock types just work.
// - The mutex is `mutable` so that get() can be const, as readers should be.
// - Go's (value, ok) pair is std::optional<int>.
#include <goro/goro.hpp>

#include <cstdio>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

class SafeMap {
 public:
  void set(const std::string& key, int value) {
    std::lock_guard lock(mu_);  // exclusive lock for writing
    data_[key] = value;
  }

  std::optional<int> get(const std::string& key) const {
    std::shared_lock lock(mu_);  // shared lock for reading
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable goro::RWMutex mu_;
  std::unordered_map<std::string, int> data_;  // guarded by mu_
};

int main() {
  return goro::run([] {
    SafeMap m;
    goro::WaitGroup wg;

    // 10 writers
    for (int i = 0; i < 10; ++i) {
      wg.add(1);
      goro::go(
          [&](int n) {
            m.set("key-" + std::to_string(n), n * 10);
            wg.done();
          },
          i);
    }

    wg.wait();

    // Read all values
    for (int i = 0; i < 10; ++i) {
      const std::string key = "key-" + std::to_string(i);
      if (auto val = m.get(key)) std::printf("%s = %d\n", key.c_str(), *val);
    }
    return 0;
  });
}
