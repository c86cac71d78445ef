// expect: ^plain thread: go threw std::bad_alloc after [0-9]+ goroutines, num_goroutine agreed$
// expect: ^plain thread: memory freed, go started 64 more goroutines$
// expect: ^goroutine: goro::go threw std::bad_alloc after [0-9]+ goroutines, num_goroutine agreed$
// expect: ^goroutine: memory freed, goro::go started 64 more goroutines$
// expect: ^with the limit raised, 256 more goroutines than at first ran at once$
// exit: 0
// sanitize: none
// Running out of memory (issue 12 §7): under a lowered RLIMIT_AS no stack
// can be mapped, and Scheduler::go / goro::go throw std::bad_alloc (as `new`
// would) instead of ending the program, from a plain thread and from a
// goroutine. The runtime stays consistent (num_goroutine counts exactly the
// goroutines started) and usable: once the program frees memory (a ballast
// mapping here), go works again, with the goroutines still running.
// (Sanitizer runtimes reserve terabytes of address space: not there.)
#include <goro/goro.hpp>

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <new>
#include <string>
#include <thread>

namespace {

// The process's address space in use, from /proc/self/status (VmSize, kB).
std::size_t address_space_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmSize:") {
      std::size_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    std::getline(status, key);
  }
  return 0;
}

template <class F>
bool eventually(F cond) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

// Address space the program can give back: one mapping.
struct Ballast {
  static constexpr std::size_t bytes = 16 * 1024 * 1024;
  void* mem = ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void free() {
    ::munmap(mem, bytes);
    mem = nullptr;
  }
};

int main() {
  static char out[4096];  // stdout's buffer, allocated before memory runs out
  std::setvbuf(stdout, out, _IOLBF, sizeof out);
  // One malloc arena: threads would otherwise each reserve 64 MiB of
  // address space for their own, failing somewhere other than the stacks.
  ::mallopt(M_ARENA_MAX, 1);
  goro::Scheduler s{goro::Options{.procs = 2, .stack_size = 64 * 1024}};
  {
    // Start the Ms and the first slab while memory is plentiful.
    std::atomic<int> ran{0};
    for (int i = 0; i < 8; ++i) s.go([&] { goro::yield(); ++ran; });
    if (!eventually([&] { return ran.load() == 8; })) return 1;
  }
  Ballast ballast1, ballast2;
  if (ballast1.mem == MAP_FAILED || ballast2.mem == MAP_FAILED) return 1;
  rlimit old{};
  ::getrlimit(RLIMIT_AS, &old);
  // Room for a few slabs (64 stacks of 68 KiB each) and little else.
  rlimit low = old;
  low.rlim_cur = address_space_bytes() + 24 * 1024 * 1024;
  if (::setrlimit(RLIMIT_AS, &low) != 0) return 1;

  // From a plain thread (Scheduler::go: a stack from the pool itself).
  goro::Chan<int> release(0);
  int started = 0;
  {
    bool threw = false;
    try {
      for (; started < 100'000; ++started) s.go([release] { release.recv(); });
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    if (threw && s.num_goroutine() == started)
      std::printf("plain thread: go threw std::bad_alloc after %d goroutines, num_goroutine agreed\n", started);
    ballast1.free();
    int more = 0;
    try {
      for (; more < 64; ++more) s.go([release] { release.recv(); });
    } catch (const std::bad_alloc&) {
    }
    if (more == 64 && s.num_goroutine() == started + 64)
      std::printf("plain thread: memory freed, go started 64 more goroutines\n");
  }

  // From a goroutine (goro::go: a stack from its processor's cache, which
  // refills from the pool). The goroutines above keep their stacks.
  {
    std::atomic<int> spawned{-1}, live_seen{-1}, more{0};
    std::atomic<bool> done{false};
    s.go([&] {
      int n = 0;
      const int before = goro::num_goroutine();
      try {
        for (; n < 100'000; ++n) goro::go([release] { release.recv(); });
      } catch (const std::bad_alloc&) {
        live_seen = goro::num_goroutine() - before;
        spawned = n;
      }
      ballast2.free();
      int m = 0;
      try {
        for (; m < 64; ++m) goro::go([release] { release.recv(); });
      } catch (const std::bad_alloc&) {
      }
      more = m;
      done = true;
    });
    if (!eventually([&] { return done.load(); })) return 1;
    if (spawned.load() >= 0 && live_seen.load() == spawned.load())
      std::printf("goroutine: goro::go threw std::bad_alloc after %d goroutines, num_goroutine agreed\n",
                  spawned.load());
    if (more.load() == 64) std::printf("goroutine: memory freed, goro::go started 64 more goroutines\n");
  }
  release.close();
  if (!eventually([&] { return s.num_goroutine() == 0; })) return 1;

  // The limit raised again: more goroutines than at first fit at once.
  if (::setrlimit(RLIMIT_AS, &old) != 0) return 1;
  {
    goro::Chan<int> hold(0);
    const int want = started + 256;
    int n = 0;
    try {
      for (; n < want; ++n) s.go([hold] { hold.recv(); });
    } catch (const std::bad_alloc&) {
    }
    if (n == want && s.num_goroutine() == want)
      std::printf("with the limit raised, 256 more goroutines than at first ran at once\n");
    hold.close();
  }
  return 0;
}
