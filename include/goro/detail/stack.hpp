// Stack — goroutine stacks: reserved in large mappings (slabs), committed
// by the kernel only when touched, and reused warm.
//
// Measured on the project's machines: first touch of a fresh page costs
// 10–20 µs and a guarded mmap+mprotect stack ~70 µs, against ~6 ns for a
// context switch, so spawn speed is decided by reusing warm stacks (Go reuses
// its stacks too). Freed stacks go to a per-P cache (no lock) and overflow in
// batches to a global free list.
//
// Overflow detection. Each slab holds `per_slab` stacks back to back, lowest
// address first; a stack grows down from its top towards its base. While the
// guard budget allows, the page below each stack's base is PROT_NONE (one
// extra kernel mapping per stack); beyond the budget (Linux allows 65,530
// mappings per process by default, and a million goroutines must fit) a
// canary word at the base (which must stay zero) is checked at every switch
// away from the goroutine.
//
// Running out of memory: when no slab can be mapped (mmap fails: the address
// space limit, vm.max_map_count, or the OS's memory), taking a stack throws
// std::bad_alloc and the pool is left as it was.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "config.hpp"

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

class StackPool {
 public:
  // Stacks per slab: 64 × 256 KiB = 16 MiB of address space per mapping.
  static constexpr std::size_t per_slab = 64;
  // Batch moved between a P's cache and the global list.
  static constexpr std::size_t batch = 32;
  // Guarded stacks cost two mappings each. With the slabs' own guards
  // (below), 8,192 guarded stacks + 1,000,000 canary stacks stay under
  // Linux's default 65,530 mappings, with room for the program's own.
  static constexpr std::size_t default_guard_budget = 8192;

  struct Slab {
    char* mem;
    std::size_t bytes;
    std::uint64_t free_mask;  // bit i: slot i is free (not in any cache either)
    std::uint64_t guarded_mask;
  };
  static_assert(per_slab == 64, "one 64-bit free mask per slab");

  StackPool(std::size_t stack_size, bool guard_pages)
      : page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))),
        size_(round_up(stack_size < 16 * 1024 ? 16 * 1024 : stack_size, page_)),
        guard_pages_(guard_pages) {}

  ~StackPool() {
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

  // Calls fn(top) for every stack slot ever created (dump, deadlock check).
  template <class Fn>
  void for_each_slot(Fn&& fn) {
    std::lock_guard<std::mutex> g(mu_);
    for (const Slab& s : slabs_) {
      for (char* p = s.mem; p + slot_bytes() <= s.mem + s.bytes; p += slot_bytes()) {
        fn(p + slot_bytes());
      }
    }
  }

  // Async-signal-safe: is `addr` inside one of this pool's slabs? Every
  // writable byte of a slab is stack, so a fault there is a hit on a guard
  // page: a goroutine overflowed its stack.
  bool in_slab(const void* addr) const noexcept {
    const std::size_t n = published_.load(std::memory_order_acquire);
    const char* a = static_cast<const char*>(addr);
    for (std::size_t i = 0; i < n && i < max_published; ++i) {
      const char* mem = published_mem_[i].load(std::memory_order_relaxed);
      if (a >= mem && a < mem + per_slab * slot_bytes()) return true;
    }
    return false;
  }

  // The canary of an unguarded stack is its lowest word, which must still
  // read zero (as mmap gave it). Nothing is written at creation: reading an
  // untouched page maps the shared zero page and costs no memory, where a
  // written canary would commit one more page per goroutine.
  static bool canary_intact(const Stack& s) noexcept {
    return s.guarded || *reinterpret_cast<const volatile std::uint64_t*>(s.base) == 0;
  }

  std::size_t guard_budget = default_guard_budget;
  // Called for every slot of a new slab, with the pool's lock held.
  void (*slot_init)(char* top) noexcept = nullptr;

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
    sl.free_mask &= sl.free_mask - 1;
    return stack_at(static_cast<std::uint32_t>(first_free_), slot);
  }

  void give_locked(const Stack& s) noexcept {
    slabs_[s.slab].free_mask |= std::uint64_t{1} << s.slot;
    if (s.slab < first_free_) first_free_ = s.slab;
  }

  void new_slab_locked() {
    slabs_.reserve(slabs_.size() + 1);  // may throw std::bad_alloc: nothing changed yet
    const std::size_t bytes = per_slab * slot_bytes();
    void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    char* m = static_cast<char*>(mem);
    Slab slab{m, bytes, ~std::uint64_t{0}, 0};
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
      for (std::size_t i = 0; i < per_slab; ++i) slot_init(m + (i + 1) * slot_bytes());
#if GORO_ASAN
    // LeakSanitizer: what a blocked goroutine's stack points to is alive
    // (LSan scans only the readable parts, skipping the guard pages).
    __lsan_register_root_region(m, bytes);
#endif
    slabs_.push_back(slab);  // reserved above: cannot throw
    if (slabs_.size() <= max_published) {
      published_mem_[slabs_.size() - 1].store(m, std::memory_order_relaxed);
      published_.store(slabs_.size(), std::memory_order_release);
    }
  }

  static constexpr std::size_t max_published = 1 << 16;

  const std::size_t page_;
  const std::size_t size_;
  const bool guard_pages_;
  std::mutex mu_;
  std::vector<Slab> slabs_;
  std::size_t first_free_ = 0;  // no slab below this index has a free slot
  std::size_t guarded_ = 0;
  // Slab addresses readable from a signal handler without the lock.
  std::atomic<std::size_t> published_{0};
  std::unique_ptr<std::atomic<char*>[]> published_mem_{new std::atomic<char*>[max_published]()};
};

}  // namespace goro::detail
