// Stack — goroutine stacks: reserved in large mappings (slabs), committed
// by the kernel only when touched, reused warm, and given back to the OS
// when they stay unused.
//
// Measured on the project's machines: first touch of a fresh page costs
// 10–20 µs and a guarded mmap+mprotect stack ~70 µs, against ~6 ns for a
// context switch, so spawn speed is decided by reusing warm stacks (Go reuses
// its stacks too). Freed stacks go to a per-P cache (no lock) and overflow in
// batches to the pool: a free-slot bitmap per slab, under the pool's lock.
//
// Overflow detection. Each slab holds `per_slab` stacks back to back, lowest
// address first; a stack grows down from its top towards its base. While the
// guard budget allows, the page below each stack's base is PROT_NONE (one
// extra kernel mapping per stack); beyond goro's budget of guarded stacks
// (default_guard_budget, so that a million goroutines stay under Linux's
// default 65,530 mappings per process) a canary word at the base (which must
// stay zero) is checked at every switch away from the goroutine.
//
// Trimming (Go: the scavenger in mgcscavenge.go). Pages a goroutine touched
// stay committed while its stack is reused: that keeps spawning fast, but
// after a burst of deep goroutines the memory would stay committed forever.
// So free stacks in the pool that stayed unused for a whole trim_period,
// beyond what recent demand needs, are released with madvise(MADV_DONTNEED)
// by a trimmer thread (started by the first burst that needs it). Recent
// demand is the most stacks handed out at once during the last
// demand_periods periods: the pool keeps that many (and at least warm_cache)
// warm, so a program whose bursts recur — or whose one burst takes longer
// than a period to wind down — does not give back pages it needs again a
// moment later (Go's scavenger likewise keeps what the recent heap goal
// needs). Trimming goes whole slots at a
// time, so that adjacent slots go in one call: the slot's G goes too, and is
// rebuilt (slot_init) only when the slot is taken again, whose goroutine
// then makes a new context, as on a fresh slab. A trimmed slot holds no
// memory at all until then. Stacks that keep being reused (a server's
// steady churn, a benchmark's rounds) are never trimmed, and neither are the
// per-P caches (at most 2 * batch stacks each). An unguarded stack whose
// canary is overwritten is left as it is, so that its next user still
// reports the overflow.
//
// Running out of memory: when no slab can be mapped (mmap fails: the address
// space limit, vm.max_map_count, or the OS's memory), taking a stack throws
// std::bad_alloc and the pool is left as it was.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fatal.hpp"
#include "sanitizer.hpp"

#if GORO_DEFINE_RUNTIME  // only the trimmer needs these
#include <algorithm>
#include <iterator>
#endif

#if GORO_ASAN
extern "C" void __asan_unpoison_memory_region(void const volatile* addr, std::size_t size);
extern "C" void __lsan_register_root_region(const void* p, std::size_t size);
extern "C" void __lsan_unregister_root_region(const void* p, std::size_t size);
#endif

namespace goro::detail {

struct Stack {
  char* base = nullptr;  // lowest usable address (just above the guard page, if any)
  std::size_t size = 0;  // usable bytes; the top is base + size
  std::uint32_t slab = 0;  // index of its slab in the pool
  std::uint8_t slot = 0;   // index within the slab
  bool guarded = false;

  char* top() const noexcept { return base + size; }
  explicit operator bool() const noexcept { return base != nullptr; }
};

// Invariants (all under mu_, except published_* and the constants):
// - A slot is in exactly one place: handed out (a live goroutine's, or in a
//   P's cache), free in its slab's free_mask, or being trimmed (neither:
//   only the trimmer touches it, with mu_ released).
// - warm_mask is a subset of free_mask: free slots that may hold committed
//   pages (given back since they were last trimmed); warm_free_ counts them.
// - uninit_mask: slots being trimmed or trimmed, whose G is not built (its
//   memory reads zero); a subset of free_mask once trimming is done.
//   take_locked builds the G; for_each_slot skips them.
// - low_warm_ <= warm_free_ at the start of a trim period's wait, and is the
//   lowest warm_free_ seen since.
// - out_: slots handed out (take_locked minus give_locked); peak_out_ is its
//   highest value in the current trim period.
// - first_free_: no slab below it has a free slot.
class StackPool {
 public:
  // Stacks per slab: 64 × 256 KiB = 16 MiB of address space per mapping.
  static constexpr std::size_t per_slab = 64;
  // Batch moved between a P's cache and the pool.
  static constexpr std::size_t batch = 32;
  // Guarded stacks cost two mappings each. With the slabs' own guards
  // (below), 8,192 guarded stacks + 1,000,000 canary stacks stay under
  // Linux's default 65,530 mappings, with room for the program's own.
  static constexpr std::size_t default_guard_budget = 8192;
  // Free stacks in the pool that keep their pages however long they wait.
  static constexpr std::size_t warm_cache = 256;
  // Free stacks beyond warm_cache and recent demand that stayed unused this
  // long are trimmed.
  static constexpr std::chrono::milliseconds trim_period{1000};
  // Recent demand: the peak of stacks handed out over this many periods.
  static constexpr std::size_t demand_periods = 5;

  struct Slab {
    char* mem;
    std::size_t bytes;
    std::uint64_t free_mask;  // bit i: slot i is free (not in any cache either)
    std::uint64_t guarded_mask;
    std::uint64_t warm_mask;    // bit i: slot i is free and may hold committed pages
    std::uint64_t uninit_mask;  // bit i: slot i's G is not built (trimmed)
  };
  static_assert(per_slab == 64, "one 64-bit free mask per slab");

  StackPool(std::size_t stack_size, bool guard_pages)
      : page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
        size_(round_up(stack_size < 16 * 1024 ? 16 * 1024 : stack_size, page_)),
        guard_pages_(guard_pages) {}

  ~StackPool() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (trimmer_.joinable()) trimmer_.join();
    for (const Slab& s : slabs_) {
#if GORO_ASAN
      // Frames of parked contexts leave poisoned redzones in the shadow.
      __asan_unpoison_memory_region(s.mem, s.bytes);
      __lsan_unregister_root_region(s.mem, s.bytes);
#endif
      ::munmap(s.mem, s.bytes);
    }
  }

  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  std::size_t stack_size() const noexcept { return size_; }
  std::size_t slot_bytes() const noexcept { return size_ + page_; }
  // The top (highest address, where its G lives) of slot `i` of the slab
  // at `mem`.
  char* slot_top(char* mem, std::size_t i) const noexcept { return mem + (i + 1) * slot_bytes(); }

  // Refills `cache` with up to `batch` stacks. Free stacks are handed out
  // lowest address first (a bitmap per slab), so the working set stays
  // compact: with a LIFO free list, 100,000 goroutines spawned again and
  // again scattered over ever more pages and slowed down by half.
  // Out of memory: keeps what it got; throws std::bad_alloc if that is
  // nothing (the cache and the pool are then unchanged).
  void refill(std::vector<Stack>& cache) {
    cache.reserve(cache.size() + batch);  // no allocation once stacks are taken
    std::lock_guard<std::mutex> g(mu_);
    for (std::size_t n = 0; n < batch; ++n) {
      try {
        cache.push_back(take_locked());
      } catch (const std::bad_alloc&) {
        if (n == 0) throw;
        return;
      }
    }
  }

  // Returns half of an overfull cache to the pool.
  void drain(std::vector<Stack>& cache) {
    std::lock_guard<std::mutex> g(mu_);
    const std::size_t n = cache.size() / 2;
    for (std::size_t i = cache.size() - n; i < cache.size(); ++i) give_locked(cache[i]);
    cache.resize(cache.size() - n);
  }

  // Throws std::bad_alloc when no stack can be had.
  Stack get_global() {
    std::lock_guard<std::mutex> g(mu_);
    return take_locked();
  }

  void put_global(Stack s) {
    std::lock_guard<std::mutex> g(mu_);
    give_locked(s);
  }

  // Calls fn(top, slot) for every stack slot holding a G (dump, deadlock
  // check), `slot` being its index in its slab: every slot ever created but
  // the trimmed ones (which hold no goroutine).
  template <class Fn>
  void for_each_slot(Fn&& fn) {
    std::lock_guard<std::mutex> g(mu_);
    for (const Slab& s : slabs_) {
      for (std::size_t i = 0; i < per_slab; ++i) {
        if ((s.uninit_mask >> i) & 1) continue;
        fn(slot_top(s.mem, i), i);
      }
    }
  }

  // Async-signal-safe: is `addr` inside one of this pool's slabs? Every
  // writable byte of a slab is stack, so a fault there is a hit on a guard
  // page: a goroutine overflowed its stack.
  bool in_slab(const void* addr) const noexcept {
    // Memory ordering: acquire pairs with new_slab_locked's release of the
    // count, which makes the first n addresses (stored relaxed before it)
    // visible: the handler takes no lock.
    const std::size_t n = published_.load(std::memory_order_acquire);
    const char* a = static_cast<const char*>(addr);
    for (std::size_t i = 0; i < n && i < max_published; ++i) {
      const char* mem = published_mem_[i].load(std::memory_order_relaxed);
      if (a >= mem && a < mem + per_slab * slot_bytes()) return true;
    }
    return false;
  }

  // The canary of an unguarded stack is its lowest word, which must still
  // read zero (as mmap gave it, or as trimming left it). Nothing is written
  // at creation: on most kernels reading an untouched page maps the shared
  // zero page and costs no memory, where a written canary would commit one
  // more page per goroutine. Some kernels (the benchmark machine's VM, see
  // README "Where goro is behind", live_memory) commit a private page for
  // the read as well: there each unguarded stack holds its bottom page.
  static bool canary_intact(const Stack& s) noexcept {
    return s.guarded || *reinterpret_cast<const volatile std::uint64_t*>(s.base) == 0;
  }

  // Address space reserved for stacks, and how much of it is resident
  // (mincore: committed pages in memory), for goro::metrics.
  void memory(std::size_t* reserved, std::size_t* resident) {
    std::lock_guard<std::mutex> g(mu_);
    *reserved = *resident = 0;
    std::vector<unsigned char> vec;
    for (const Slab& s : slabs_) {
      *reserved += s.bytes;
      vec.resize((s.bytes + page_ - 1) / page_);
      if (::mincore(s.mem, s.bytes, vec.data()) != 0) continue;
      for (unsigned char v : vec) *resident += (v & 1) ? page_ : 0;
    }
  }

  // Free stacks in the pool that may hold committed pages (tests, metrics).
  std::size_t warm_free() {
    std::lock_guard<std::mutex> g(mu_);
    return warm_free_;
  }

  std::size_t guard_budget = default_guard_budget;
  // Called for every slot of a new slab, and for a trimmed slot when it is
  // taken again, with the pool's lock held: its top and index in its slab.
  void (*slot_init)(char* top, std::size_t slot) noexcept = nullptr;

 private:
  static std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

  Stack stack_at(std::uint32_t slab, unsigned slot) const noexcept {
    const Slab& sl = slabs_[slab];
    return Stack{sl.mem + slot * slot_bytes() + page_, size_, slab, static_cast<std::uint8_t>(slot),
                 ((sl.guarded_mask >> slot) & 1) != 0};
  }

  Stack take_locked() {
    while (first_free_ < slabs_.size() && slabs_[first_free_].free_mask == 0) ++first_free_;
    if (first_free_ == slabs_.size()) new_slab_locked();  // throws std::bad_alloc, changing nothing
    Slab& sl = slabs_[first_free_];
    const unsigned slot = static_cast<unsigned>(__builtin_ctzll(sl.free_mask));
    const std::uint64_t bit = std::uint64_t{1} << slot;
    sl.free_mask &= ~bit;
    if (++out_ > peak_out_) peak_out_ = out_;
    if (sl.warm_mask & bit) {
      sl.warm_mask &= ~bit;
      --warm_free_;
      if (warm_free_ < low_warm_) low_warm_ = warm_free_;
    }
    if (sl.uninit_mask & bit) {  // trimmed: build its G now
      sl.uninit_mask &= ~bit;
      if (slot_init) slot_init(slot_top(sl.mem, slot), slot);
    }
    return stack_at(static_cast<std::uint32_t>(first_free_), slot);
  }

  void give_locked(const Stack& s) noexcept {
    Slab& sl = slabs_[s.slab];
    const std::uint64_t bit = std::uint64_t{1} << s.slot;
    sl.free_mask |= bit;
    sl.warm_mask |= bit;
    ++warm_free_;
    --out_;
    if (s.slab < first_free_) first_free_ = s.slab;
    if (warm_free_ > warm_cache) wake_trimmer_locked();
  }

  void new_slab_locked();  // throws std::bad_alloc, changing nothing

  // ---- Trimming ------------------------------------------------------------

  // More than warm_cache free stacks may hold memory: make sure the trimmer
  // looks at them.
  void wake_trimmer_locked() noexcept;

  // The trimmer thread: each period, trims the warm free stacks that were
  // not needed during the whole period, beyond warm_cache; waits without a
  // deadline while there are no more than warm_cache of them.
  void trim_loop();

  // Releases the memory of up to n warm free slots, highest addresses first
  // (take_locked hands out the lowest first, so these are needed last).
  // Called and returns with `lock` held; releases it around the madvise
  // calls, with the slots taken out of the free masks meanwhile.
  void trim(std::unique_lock<std::mutex>& lock, std::size_t n);

  static constexpr std::size_t max_published = 1 << 16;

  const std::size_t page_;
  const std::size_t size_;
  const bool guard_pages_;
  std::mutex mu_;
  std::vector<Slab> slabs_;
  std::size_t first_free_ = 0;  // no slab below this index has a free slot
  std::size_t guarded_ = 0;
  std::size_t warm_free_ = 0;  // free slots with their warm bit set
  std::size_t low_warm_ = 0;   // lowest warm_free_ in the current trim period
  std::size_t out_ = 0;        // slots handed out (live goroutines' and P caches')
  std::size_t peak_out_ = 0;   // highest out_ in the current trim period
  bool trimmer_waiting_ = false;
  bool stop_ = false;
  std::condition_variable cv_;  // wakes the trimmer (with mu_)
  std::thread trimmer_;
  // Slab addresses readable from a signal handler without the lock.
  std::atomic<std::size_t> published_{0};
  std::unique_ptr<std::atomic<char*>[]> published_mem_{new std::atomic<char*>[max_published]()};
};

// The pool's cold paths: a new slab, and the trimmer. A TU compiled with
// GORO_SEPARATE_COMPILATION sees only their declarations (config.hpp).
#if GORO_DEFINE_RUNTIME
GORO_DECL void StackPool::new_slab_locked() {
  slabs_.reserve(slabs_.size() + 1);  // may throw std::bad_alloc: nothing changed yet
  const std::size_t bytes = per_slab * slot_bytes();
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  char* m = static_cast<char*>(mem);
  Slab slab{m, bytes, ~std::uint64_t{0}, 0, 0, 0};
  for (std::size_t i = 0; i < per_slab; ++i) {
    char* slot = m + i * slot_bytes();
    // The lowest page of every slab is a guard whatever the budget: a
    // canary stack that overflows runs down through its neighbours into
    // it, and the fault is reported instead of running off the slab.
    const bool want_guard = i == 0 || (guard_pages_ && guarded_ < guard_budget);
    if (want_guard && ::mprotect(slot, page_, PROT_NONE) == 0) {
      slab.guarded_mask |= std::uint64_t{1} << i;
      if (i != 0 || guard_pages_) ++guarded_;
    }
  }
  if (slot_init)
    for (std::size_t i = 0; i < per_slab; ++i) slot_init(slot_top(m, i), i);
#if GORO_ASAN
  // LeakSanitizer: what a blocked goroutine's stack points to is alive
  // (LSan scans only the readable parts, skipping the guard pages).
  __lsan_register_root_region(m, bytes);
#endif
  slabs_.push_back(slab);  // reserved above: cannot throw
  if (slabs_.size() <= max_published) {
    // Memory ordering: relaxed address, then release count (in_slab's
    // acquire load of the count makes the address visible).
    published_mem_[slabs_.size() - 1].store(m, std::memory_order_relaxed);
    published_.store(slabs_.size(), std::memory_order_release);
  }
}

GORO_DECL void StackPool::wake_trimmer_locked() noexcept {
  if (stop_) return;
  if (!trimmer_.joinable()) {
    try {
      trimmer_ = std::thread([this] {
        // Runtime internals, invisible to ThreadSanitizer as the Ms'
        // scheduling loops are: this thread may be started from a
        // goroutine's ignored switch path, so TSan would not see it
        // ordered after the pool's construction.
        TsanIgnore tsan_ignore;
        trim_loop();
      });
    } catch (...) {
      // No thread (out of resources): the memory stays committed, as
      // before trimming existed; the next give tries again.
    }
  } else if (trimmer_waiting_) {
    trimmer_waiting_ = false;
    cv_.notify_one();
  }
}

GORO_DECL void StackPool::trim_loop() {
  // Signals are for the program's threads; this one only trims.
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock<std::mutex> lock(mu_);
  std::size_t peaks[demand_periods] = {};  // peak_out_ of the last periods, a ring
  std::size_t next = 0;
  while (!stop_) {
    if (warm_free_ <= warm_cache) {
      trimmer_waiting_ = true;
      cv_.wait(lock, [this] { return stop_ || !trimmer_waiting_; });
      // Demand before the wait is stale; peak_out_ has kept counting
      // during it, so the burst that woke us is the current period's.
      std::fill(std::begin(peaks), std::end(peaks), std::size_t{0});
      continue;
    }
    low_warm_ = warm_free_;
    if (cv_.wait_for(lock, trim_period, [this] { return stop_; })) break;
    peaks[next] = peak_out_;
    next = (next + 1) % demand_periods;
    peak_out_ = out_;
    const std::size_t demand = *std::max_element(std::begin(peaks), std::end(peaks));
    const std::size_t keep = std::max(warm_cache, demand > out_ ? demand - out_ : 0);
    const std::size_t unused = std::min(low_warm_, warm_free_);
    if (unused > keep) trim(lock, unused - keep);
  }
}

GORO_DECL void StackPool::trim(std::unique_lock<std::mutex>& lock, std::size_t n) {
  struct Picked {
    std::size_t slab;
    char* mem;
    std::uint64_t slots;
  };
  std::vector<Picked> picked;
  try {
    picked.reserve(slabs_.size());
  } catch (const std::bad_alloc&) {
    return;  // try again next period
  }
  for (std::size_t si = slabs_.size(); si-- > 0 && n > 0;) {
    Slab& sl = slabs_[si];
    std::uint64_t candidates = sl.free_mask & sl.warm_mask;
    std::uint64_t take = 0;
    while (candidates != 0 && n > 0) {
      const unsigned slot = 63u - static_cast<unsigned>(__builtin_clzll(candidates));
      const std::uint64_t bit = std::uint64_t{1} << slot;
      candidates &= ~bit;
      sl.warm_mask &= ~bit;  // trimmed, or left alone for good (below)
      --warm_free_;
      // An overwritten canary is the evidence of an overflow that the
      // slot's next user reports: keep it.
      if (!canary_intact(stack_at(static_cast<std::uint32_t>(si), slot))) continue;
      take |= bit;
      --n;
    }
    if (take != 0) {
      sl.free_mask &= ~take;
      sl.uninit_mask |= take;  // for_each_slot no longer reads their G
      picked.push_back({si, sl.mem, take});
    }
  }
  if (picked.empty()) return;
  lock.unlock();
  for (const Picked& pk : picked) {
    for (std::uint64_t rest = pk.slots; rest != 0;) {  // each run of adjacent slots: one call
      const unsigned lo = static_cast<unsigned>(__builtin_ctzll(rest));
      const std::uint64_t from_lo = rest >> lo;
      const unsigned len = from_lo == ~std::uint64_t{0} ? 64u : static_cast<unsigned>(__builtin_ctzll(~from_lo));
      const std::uint64_t run = len == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << len) - 1;
      rest &= ~(run << lo);
      char* addr = pk.mem + lo * slot_bytes();
      const std::size_t bytes = len * slot_bytes();
#if GORO_ASAN
      // The old frames' redzones would poison the next goroutine's frames.
      __asan_unpoison_memory_region(addr, bytes);
#endif
      ::madvise(addr, bytes, MADV_DONTNEED);  // private anonymous: reads zero from now on
    }
  }
  lock.lock();
  for (const Picked& pk : picked) {
    slabs_[pk.slab].free_mask |= pk.slots;
    if (pk.slab < first_free_) first_free_ = pk.slab;
  }
}
#endif  // GORO_DEFINE_RUNTIME

}  // namespace goro::detail
