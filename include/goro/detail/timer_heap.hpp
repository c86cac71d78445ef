// TimerHeap — a P's timers: a 4-ary min-heap ordered by deadline, guarded by
// the P's timer lock (Go: the per-P timers in time.go). Idle Ms sleep until
// the earliest deadline of all Ps; nothing polls.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "config.hpp"
#include "spinlock.hpp"

namespace goro::detail {

struct P;

// A timer. Its owner keeps it alive while it is in a heap; `fire` runs on an
// M of the runtime (usually one holding a P) with no timer lock held.
//
// Invariants: when, index and owner are written only under the owning P's
// timer lock; index == npos means "not in any heap" (never added, fired, or
// stopped).
struct Timer {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::int64_t when = 0;    // monotonic ns
  std::int64_t period = 0;  // > 0: fires again every period ns
  void (*fire)(Timer*) = nullptr;
  // Called instead of fire for a timer still pending when its runtime is
  // destroyed (owner already cleared): lets the owner free what it holds.
  void (*discard)(Timer*) = nullptr;
  void* arg = nullptr;
  std::atomic<P*> owner{nullptr};
  std::size_t index = npos;
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::int64_t earliest() const noexcept { return heap_.empty() ? 0 : heap_[0]->when; }
  std::size_t size() const noexcept { return heap_.size(); }

  void push(Timer* t) {
    t->index = heap_.size();
    heap_.push_back(t);
    up(t->index);
  }

  // Removes t (which must be in this heap).
  void remove(Timer* t) noexcept {
    const std::size_t i = t->index;
    const std::size_t last = heap_.size() - 1;
    if (i != last) {
      heap_[i] = heap_[last];
      heap_[i]->index = i;
    }
    heap_.pop_back();
    t->index = Timer::npos;
    if (i < heap_.size()) {
      up(i);
      down(heap_[i]->index);
    }
  }

  // Pops the earliest timer if it is due at `now`.
  Timer* pop_due(std::int64_t now) noexcept {
    if (heap_.empty() || heap_[0]->when > now) return nullptr;
    Timer* t = heap_[0];
    remove(t);
    return t;
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (Timer* t : heap_) fn(t);
  }

 private:
  void up(std::size_t i) noexcept {
    Timer* t = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 4;
      if (heap_[parent]->when <= t->when) break;
      heap_[i] = heap_[parent];
      heap_[i]->index = i;
      i = parent;
    }
    heap_[i] = t;
    t->index = i;
  }

  void down(std::size_t i) noexcept {
    Timer* t = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t best = i;
      std::int64_t best_when = t->when;
      for (std::size_t c = 4 * i + 1; c < 4 * i + 5 && c < n; ++c) {
        if (heap_[c]->when < best_when) {
          best = c;
          best_when = heap_[c]->when;
        }
      }
      if (best == i) break;
      heap_[i] = heap_[best];
      heap_[i]->index = i;
      i = best;
    }
    heap_[i] = t;
    t->index = i;
  }

  std::vector<Timer*> heap_;
};

}  // namespace goro::detail
