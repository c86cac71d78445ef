// RunQueue — a P's local queue of runnable Gs: a bounded ring of 256 slots
// that only the owning P pushes to and that any P may take from (stealing),
// plus the `runnext` slot. Go: runqput/runqget/runqgrab/runqsteal in proc.go.
#pragma once

#include <atomic>
#include <cstdint>
#include <time.h>

#include "config.hpp"
#include "goroutine.hpp"

namespace goro::detail {

// Invariants:
// - tail: written only by the owner (release), read by stealers (acquire).
// - head: advanced by CAS by the owner and by stealers; a successful CAS
//   claims the slots between the old and new head.
// - slots: written only by the owner at [tail] before publishing tail;
//   read speculatively by consumers and validated by the head CAS (hence
//   relaxed atomics: a torn read is discarded, never used).
// - runnext: a G readied by the running G; it runs next and inherits the
//   time slice. The owner replaces it by exchange (put) and takes it by
//   CAS (get), both plain load and store when no one can steal (procs 1);
//   stealers take it by CAS.
class RunQueue {
 public:
  static constexpr std::uint32_t capacity = 256;

  bool empty() const noexcept {
    // Go: runqempty — a consistent snapshot where head == tail and no runnext.
    // Memory ordering: seq_cst — find_runnable's re-check after a spinning
    // M decrements nmspinning is the load half of a store-buffering pair
    // with wakep (its put, fence, load of nmspinning): only a seq_cst load
    // is ordered after that seq_cst decrement in the C++ model. An acquire
    // load would be enough on x86 and cost the same, but arm64 may perform
    // it (LDAPR) before the decrement's store-release, and a readied G
    // would wait with every M asleep. (A seq_cst load is a plain MOV on
    // x86 and an LDAR on arm64.)
    for (;;) {
      const std::uint32_t h = head_.load(std::memory_order_seq_cst);
      const std::uint32_t t = tail_.load(std::memory_order_seq_cst);
      G* next = runnext_.load(std::memory_order_seq_cst);
      if (tail_.load(std::memory_order_seq_cst) == t) return h == t && next == nullptr;
    }
  }

  std::uint32_t size() const noexcept {
    // Memory ordering: acquire — a consumer's view of how many slots the
    // owner has published; a stale value only over- or under-estimates.
    return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
  }

  // Owner only. Puts g in runnext (kicking the old runnext to the tail) or at
  // the tail. If the ring is full, moves half of it plus g to `overflow`
  // (a callable taking (G** batch, uint32_t n)) — the global queue.
  // sole_consumer: as for get() — no thief can take runnext meanwhile, so
  // it is swapped without the exchange's locked instruction.
  template <class Overflow>
  void put(G* g, bool next, Overflow&& overflow, bool sole_consumer = false) noexcept {
    if (next) {
      G* old;
      if (sole_consumer) {
        // Memory ordering: relaxed — only this P's owner touches runnext.
        old = runnext_.load(std::memory_order_relaxed);
        runnext_.store(g, std::memory_order_relaxed);
      } else {
        // Memory ordering: acq_rel — release publishes g's saved state to
        // the consumer that takes it; acquire is not needed for the old
        // value's contents (it was put by us) but harmless.
        old = runnext_.exchange(g, std::memory_order_acq_rel);
      }
      if (old == nullptr) return;
      g = old;
    }
    for (;;) {
      // Memory ordering: acquire pairs with the consumers' release of head
      // (they read the slots before we overwrite them); relaxed for tail:
      // only we write it.
      const std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t - h < capacity) {
        slots_[t % capacity].store(g, std::memory_order_relaxed);  // published by tail's release
        // Memory ordering: release makes the slot (and g's state) visible
        // to the consumer that acquires tail.
        tail_.store(t + 1, std::memory_order_release);
        return;
      }
      if (put_slow(g, h, t, overflow)) return;
    }
  }

  // Owner only. Returns the next G — runnext first — and whether it
  // inherits the time slice (it came from runnext). sole_consumer: no other
  // P exists to steal (procs == 1), so no CAS is needed — the one locked
  // instruction of a switch. Go: runqget.
  GORO_ALWAYS_INLINE G* get(bool* inherit, bool sole_consumer = false) noexcept {
    // Memory ordering: relaxed — a peek; the CAS below acquires (or, sole
    // consumer, the G was put by this very thread).
    G* next = runnext_.load(std::memory_order_relaxed);
    if (next != nullptr) {
      if (sole_consumer) {
        runnext_.store(nullptr, std::memory_order_relaxed);  // no other reader: procs == 1
        *inherit = true;
        return next;
      }
      // Memory ordering: acquire pairs with the release in put().
      if (runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acquire)) {
        *inherit = true;
        return next;
      }
    }
    *inherit = false;
    return get_ring(sole_consumer);
  }

  // Owner only. The G at the head of the ring, leaving runnext alone.
  // Always inlined, as get() is: both are on every switch (runq_next),
  // where the call was 5–8% of a yield switch's samples under perf.
  GORO_ALWAYS_INLINE G* get_ring(bool sole_consumer = false) noexcept {
    if (sole_consumer) {
      // Memory ordering: relaxed — procs == 1: only this thread touches the
      // queue (the Gs were put by it).
      const std::uint32_t h = head_.load(std::memory_order_relaxed);
      if (tail_.load(std::memory_order_relaxed) == h) return nullptr;
      G* g = slots_[h % capacity].load(std::memory_order_relaxed);
      head_.store(h + 1, std::memory_order_relaxed);
      return g;
    }
    for (;;) {
      // Memory ordering: acquire pairs with stealers' release of head;
      // relaxed tail and slot: we wrote them (validated by the CAS).
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      G* g = slots_[h % capacity].load(std::memory_order_relaxed);
      // Memory ordering: release, so that a put() that acquires head knows
      // the slot has been read before overwriting it.
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_release,
                                      std::memory_order_relaxed))
        return g;
    }
  }

  // Thief side (Go: runqsteal). Steals about half of victim's Gs into this
  // queue (this must be the caller's own, empty-ish queue) and returns one of
  // them to run, or nullptr.
  G* steal_from(RunQueue& victim, bool steal_runnext, bool victim_running) noexcept {
    // Memory ordering: relaxed — our own tail and the slots grab() just
    // filled on this thread.
    const std::uint32_t t = tail_.load(std::memory_order_relaxed);
    std::uint32_t n = victim.grab(slots_, t, steal_runnext, victim_running);
    if (n == 0) return nullptr;
    --n;
    G* g = slots_[(t + n) % capacity].load(std::memory_order_relaxed);
    if (n == 0) return g;
    // Memory ordering: release publishes the stolen slots to our consumers.
    tail_.store(t + n, std::memory_order_release);
    return g;
  }

 private:
  template <class Overflow>
  bool put_slow(G* g, std::uint32_t h, std::uint32_t t, Overflow&& overflow) noexcept {
    // Go: runqputslow — move half the ring plus g to the global queue.
    G* batch[capacity / 2 + 1];
    std::uint32_t n = (t - h) / 2;
    // Memory ordering: relaxed — our own slots (validated by the CAS).
    for (std::uint32_t i = 0; i < n; ++i) batch[i] = slots_[(h + i) % capacity].load(std::memory_order_relaxed);
    // Memory ordering: release — we read the slots before giving them up.
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_release, std::memory_order_relaxed))
      return false;
    batch[n++] = g;
    overflow(batch, n);
    return true;
  }

  // Go: runqgrab. Copies up to half of this queue into `out` starting at
  // out_head; returns how many.
  std::uint32_t grab(std::atomic<G*>* out, std::uint32_t out_head, bool steal_runnext,
                     bool running) noexcept {
    for (;;) {
      // Memory ordering: acquire — head pairs with other consumers' release,
      // tail with the owner's release (the slots below are published).
      std::uint32_t h = head_.load(std::memory_order_acquire);
      const std::uint32_t t = tail_.load(std::memory_order_acquire);
      std::uint32_t n = t - h;
      n = n - n / 2;
      if (n == 0) {
        if (steal_runnext) {
          G* next = runnext_.load(std::memory_order_acquire);  // a peek; the CAS below decides
          if (next != nullptr) {
            if (running) {
              // The owner is about to schedule its runnext (a ping-pong
              // partner): give it a moment rather than thrash. Go sleeps 3 µs.
              timespec ts{0, 3000};
              ::nanosleep(&ts, nullptr);
            }
            // Memory ordering: acq_rel — acquire pairs with put()'s exchange
            // (g's saved state); release: the owner's get() CAS fails after us.
            if (!runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) continue;
            out[out_head % capacity].store(next, std::memory_order_relaxed);  // published by our tail
            return 1;
          }
        }
        return 0;
      }
      if (n > capacity / 2) continue;  // read inconsistent h and t
      for (std::uint32_t i = 0; i < n; ++i) {
        // Memory ordering: relaxed — the read is validated by the head CAS,
        // the write published by the thief's tail release (steal_from).
        out[(out_head + i) % capacity].store(slots_[(h + i) % capacity].load(std::memory_order_relaxed),
                                             std::memory_order_relaxed);
      }
      // Memory ordering: acq_rel — acquire: the slots we copied were
      // published before tail; release: tell put() the slots are free.
      if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel, std::memory_order_relaxed))
        return n;
    }
  }

  alignas(cache_line) std::atomic<std::uint32_t> head_{0};
  alignas(cache_line) std::atomic<std::uint32_t> tail_{0};
  alignas(cache_line) std::atomic<G*> runnext_{nullptr};
  alignas(cache_line) std::atomic<G*> slots_[capacity] = {};
};

}  // namespace goro::detail
