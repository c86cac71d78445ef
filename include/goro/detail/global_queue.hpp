// GlobalQueue — the runtime's global run queue: runnable Gs that overflow a
// P's local queue (half of it moves here when full) and Gs readied from
// outside the runtime. Guarded by the scheduler lock. Go: sched.runq.
//
// Go links its Gs into a list; here a G lives at the top of its own stack,
// so a list would touch one page per G under the lock (measured: a third of
// the time of spawning 100,000 goroutines went to TLB misses walking it).
// A growable ring of pointers keeps the queue dense.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "goroutine.hpp"

namespace goro::detail {

class GlobalQueue {
 public:
  std::size_t size() const noexcept { return tail_ - head_; }
  bool empty() const noexcept { return head_ == tail_; }

  void push_back(G* g) {
    if (size() == cap_) grow();
    buf_[tail_++ & (cap_ - 1)] = g;
  }

  G* pop_front() noexcept {
    if (empty()) return nullptr;
    return buf_[head_++ & (cap_ - 1)];
  }

 private:
  void grow() {
    const std::size_t ncap = cap_ == 0 ? 256 : cap_ * 2;
    auto nbuf = std::make_unique<G*[]>(ncap);
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) nbuf[i] = buf_[(head_ + i) & (cap_ - 1)];
    buf_ = std::move(nbuf);
    cap_ = ncap;
    head_ = 0;
    tail_ = n;
  }

  std::unique_ptr<G*[]> buf_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;  // monotonically increasing; index = value & (cap - 1)
  std::size_t tail_ = 0;
};

}  // namespace goro::detail
