// TimerHeap — a P's timers: a 4-ary min-heap ordered by deadline, guarded by
// the P's timer lock (Go: the per-P timers in time.go). How timers are run
// is in timers.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "config.hpp"
#include "spinlock.hpp"

namespace goro::detail {

struct P;

// A runtime timer (Go: runtime.timer). Its owner (a sleeping goroutine's
// frame, a goro::Timer, a context deadline) keeps it alive while it is
// armed; `fire` runs on an M of the runtime with no timer lock held.
//
// Invariants:
// - when, index, running and owner are written only under the owning P's
//   timer lock (owner is atomic so remove_timer can find the lock to take).
// - index != npos: in owner's heap. running: a periodic timer taken out of
//   the heap and being fired (Go: timerRunning); it goes back into the heap,
//   or is dropped, by the thread that fires it, so one thread at a time
//   fires it. owner == nullptr: not armed (never added, fired once, stopped,
//   or dropped).
// - A one-shot timer is not touched by the runtime once fire() has been
//   called (its owner may free it at once, e.g. the sleeping goroutine's
//   frame it lives in).
struct RuntimeTimer {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::int64_t when = 0;    // monotonic ns
  std::int64_t period = 0;  // > 0: fires again every period ns
  // Runs the timer. For a periodic timer, returns whether it keeps going;
  // when it returns false the runtime disarms it and then calls discard
  // (the owner may free it there). A one-shot timer's result is ignored.
  bool (*fire)(RuntimeTimer*) = nullptr;
  // Called once the runtime has let go of a timer without firing it: still
  // pending when its runtime is destroyed, or a periodic timer whose fire
  // returned false. Lets the owner free what it holds.
  void (*discard)(RuntimeTimer*) = nullptr;
  void* arg = nullptr;
  std::atomic<P*> owner{nullptr};
  std::size_t index = npos;
  bool running = false;
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  std::int64_t earliest() const noexcept { return heap_.empty() ? 0 : heap_[0]->when; }

  void push(RuntimeTimer* t) {
    t->index = heap_.size();
    heap_.push_back(t);
    up(t->index);
  }

  // Removes t (which must be in this heap).
  void remove(RuntimeTimer* t) noexcept {
    const std::size_t i = t->index;
    const std::size_t last = heap_.size() - 1;
    if (i != last) {
      heap_[i] = heap_[last];
      heap_[i]->index = i;
    }
    heap_.pop_back();
    t->index = RuntimeTimer::npos;
    if (i < heap_.size()) {
      up(i);
      down(heap_[i]->index);
    }
  }

  // Pops the earliest timer if it is due at `now`.
  RuntimeTimer* pop_due(std::int64_t now) noexcept {
    if (heap_.empty() || heap_[0]->when > now) return nullptr;
    RuntimeTimer* t = heap_[0];
    remove(t);
    return t;
  }

 private:
  void up(std::size_t i) noexcept {
    RuntimeTimer* t = heap_[i];
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
    RuntimeTimer* t = heap_[i];
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

  std::vector<RuntimeTimer*> heap_;
};

}  // namespace goro::detail
