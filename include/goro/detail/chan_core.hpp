// ChanCore — the type-erased heart of goro::Chan<T> and goro::select: Go's
// runtime/chan.go (hchan, chansend, chanrecv, closechan) and select.go
// (selectgo), with goro's Waiter in the role of Go's sudog.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <new>
#include <stdexcept>

#include "config.hpp"
#include "fatal.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "processor.hpp"
#include "spinlock.hpp"
#include "wait_queue.hpp"

namespace goro {

// Misuse of a channel (Go panics with the same text).
class channel_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

// How to move elements of one channel's type. `src` is a T* the value is
// moved from; `opt` a std::optional<T>* a receiver waits with.
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*to_opt)(void* opt, void* src);
  void (*construct)(void* slot, void* src);
  void (*destroy)(void* slot) noexcept;
};

template <class T>
inline constexpr ElemOps elem_ops_for{
    sizeof(T), alignof(T),
    [](void* opt, void* src) { static_cast<std::optional<T>*>(opt)->emplace(std::move(*static_cast<T*>(src))); },
    [](void* slot, void* src) { new (slot) T(std::move(*static_cast<T*>(src))); },
    [](void* slot) noexcept { static_cast<T*>(slot)->~T(); }};

// Invariants (Go's hchan comment is the model):
// - lock guards every field below except cap, ops and bubble_id (immutable) and the
//   relaxed mirrors count_hint/closed_hint, which are written under the lock
//   and read without it only by non-blocking fast paths and size().
// - At most one of recvq and sendq is non-empty, except for select waiters
//   that have already lost (they are skipped by dequeue).
// - Once closed, sendq is empty and no value is ever added.
// - buf holds count values at [recvx, recvx+count) modulo cap.
class ChanCore {
 public:
  // Largest buffer a channel may have: Go's maxAlloc on 64-bit Linux (2^48
  // bytes). A negative capacity converted to std::size_t is beyond it.
  static constexpr std::size_t max_buffer_bytes = std::size_t{1} << 48;

  // Throws std::invalid_argument("makechan: size out of range"), Go's
  // makechan panic, for a buffer larger than max_buffer_bytes or one that
  // cannot be allocated.
  ChanCore(std::size_t cap, const ElemOps& ops)
      : cap_(cap),
        ops_(ops),
        bubble_id_(caller_bubble_id()),
        send_reason_(bubble_id_ ? WaitReason::chan_send_durable : WaitReason::chan_send),
        recv_reason_(bubble_id_ ? WaitReason::chan_receive_durable : WaitReason::chan_receive) {
    if (cap_ > 0) {
      if (cap_ > max_buffer_bytes / ops_.size) throw std::invalid_argument("makechan: size out of range");
      try {
        buf_ = static_cast<std::byte*>(::operator new(cap_ * ops_.size, std::align_val_t{ops_.align}));
      } catch (const std::bad_alloc&) {
        throw std::invalid_argument("makechan: size out of range");
      }
    }
  }

  ~ChanCore() {
    if (buf_) {
      for (std::size_t i = 0; i < count_; ++i) ops_.destroy(slot((recvx_ + i) % cap_));
      ::operator delete(buf_, std::align_val_t{ops_.align});
    }
  }

  ChanCore(const ChanCore&) = delete;
  ChanCore& operator=(const ChanCore&) = delete;

  std::size_t capacity() const noexcept { return cap_; }

  // The synctest bubble the channel was made in (0: none). Only that
  // bubble's goroutines may use it (Go: hchan.bubble); so a goroutine of
  // the bubble blocked on it is durably blocked.
  std::uint64_t bubble_id() const noexcept { return bubble_id_; }

  // Fatal unless the caller is a goroutine of the channel's bubble.
  // Go: "send on synctest channel from outside bubble" (fatal since Go 1.25).
  void check_bubble(const char* what) const noexcept {
    const Bubble* b = current_bubble();
    if (!b || b->id != bubble_id_) {
      char msg[96];
      std::snprintf(msg, sizeof msg, "%s on synctest channel from outside bubble", what);
      fatal(msg);
    }
  }
  // Memory ordering: relaxed — len(ch) is a snapshot that may be stale the
  // moment it returns, as in Go; it publishes nothing.
  std::size_t size() const noexcept { return count_hint_.load(std::memory_order_relaxed); }

  // Go: chansend. Moves *src into the channel. Returns false only if
  // !block and the send could not proceed at once.
  bool send(void* src, bool block) GORO_NO_TSA {
    // Fast path (Go: "full(c)" check without the lock): not closed and no
    // room means a non-blocking send fails. A stale read only makes us take
    // the lock.
    if (GORO_UNLIKELY(bubble_id_ != 0)) check_bubble("send");
    // Memory ordering: relaxed, both loads — in either order they imply a
    // moment at which the channel was open and full (it cannot reopen, nor
    // go from "has room" to "full" by a close), and a failed non-blocking
    // send reads no data.
    if (!block && !closed_hint_.load(std::memory_order_relaxed) && full_hint()) return false;
    chaos_point();
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      throw channel_error("send on closed channel");
    }
    if (Waiter* r = dequeue(recvq_)) {
      // A receiver is waiting: hand the value straight to it.
      ops_.to_opt(r->elem, src);
      r->success = true;
      lock_.unlock();
      r->wake();
      return true;
    }
    if (count_ < cap_) {
      ops_.construct(slot(sendx_), src);
      sendx_ = (sendx_ + 1) % cap_;
      set_count(count_ + 1);
      lock_.unlock();
      return true;
    }
    if (!block) {
      lock_.unlock();
      return false;
    }
    Waiter w;
    w.elem = src;
    sendq_.push_back(&w);
    w.block(lock_, send_reason_);
    // Woken by a receiver (success) or by close.
    if (!w.success) throw channel_error("send on closed channel");
    return true;
  }

  // Go: chanrecv. Returns {selected, received}: a received value is
  // emplaced into *opt; {true, false} means closed and drained.
  std::pair<bool, bool> recv(void* opt, bool block) GORO_NO_TSA {
    if (GORO_UNLIKELY(bubble_id_ != 0)) check_bubble("receive");
    if (!block && empty_hint()) {
      // Go's careful fast path: empty and not closed → fail; empty and
      // closed → re-check emptiness after seeing closed.
      // Memory ordering: acquire, after empty_hint's acquire load: the two
      // loads stay in program order (Go: "the order of operations is
      // important here"), and seeing closed makes the count as of close()
      // visible to the re-check.
      if (!closed_hint_.load(std::memory_order_acquire)) return {false, false};
      if (empty_hint()) return {true, false};
    }
    chaos_point();
    lock_.lock();
    if (closed_ && count_ == 0) {
      lock_.unlock();
      return {true, false};
    }
    if (Waiter* s = dequeue(sendq_)) {
      recv_from_sender(s, opt);
      lock_.unlock();
      s->wake();
      return {true, true};
    }
    if (count_ > 0) {
      take(opt);
      lock_.unlock();
      return {true, true};
    }
    if (!block) {
      lock_.unlock();
      return {false, false};
    }
    Waiter w;
    w.elem = opt;
    recvq_.push_back(&w);
    w.block(lock_, recv_reason_);
    return {true, w.success};
  }

  // Go: closechan.
  void close() {
    if (GORO_UNLIKELY(bubble_id_ != 0)) check_bubble("close");
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      throw channel_error("close of closed channel");
    }
    closed_ = true;
    closed_hint_.store(true, std::memory_order_release);  // pairs with the unlocked acquire loads
    // Collect every waiter first, wake them after unlocking (their stacks
    // may vanish as soon as they run).
    Waiter* wake_list = nullptr;
    for (WaitList* q : {&recvq_, &sendq_}) {
      while (Waiter* w = dequeue(*q)) {
        w->success = false;
        w->next = wake_list;  // reuse the link: w is off every queue now
        wake_list = w;
      }
    }
    lock_.unlock();
    while (wake_list) {
      Waiter* w = wake_list;
      wake_list = w->next;
      w->wake();
    }
  }

  // Memory ordering: acquire pairs with close()'s release.
  bool closed() const noexcept { return closed_hint_.load(std::memory_order_acquire); }

  // ---- select support (Go: selectgo) ----
  void lock() GORO_NO_TSA { lock_.lock(); }
  void* sync_address() noexcept { return &lock_; }  // TSan: what unlock() releases
  void unlock() GORO_NO_TSA { lock_.unlock(); }

  // With the lock held: try to complete a send case now. Returns true if
  // done (and the receiver to wake is in *wake, possibly null).
  bool try_send_locked(void* src, Waiter** wake) GORO_NO_TSA {
    if (closed_) throw_closed_send();
    if (Waiter* r = dequeue(recvq_)) {
      ops_.to_opt(r->elem, src);
      r->success = true;
      *wake = r;
      return true;
    }
    if (count_ < cap_) {
      ops_.construct(slot(sendx_), src);
      sendx_ = (sendx_ + 1) % cap_;
      set_count(count_ + 1);
      return true;
    }
    return false;
  }

  // With the lock held: try to complete a receive case now. *received says
  // whether a value came (false: closed).
  bool try_recv_locked(void* opt, bool* received, Waiter** wake) GORO_NO_TSA {
    if (Waiter* s = dequeue(sendq_)) {
      recv_from_sender(s, opt);
      *wake = s;
      *received = true;
      return true;
    }
    if (count_ > 0) {
      take(opt);
      *received = true;
      return true;
    }
    if (closed_) {
      *received = false;
      return true;
    }
    return false;
  }

  void enqueue_locked(Waiter* w, bool is_send) GORO_NO_TSA { (is_send ? sendq_ : recvq_).push_back(w); }
  void dequeue_locked(Waiter* w, bool is_send) GORO_NO_TSA {
    if (w->queued) (is_send ? sendq_ : recvq_).remove(w);
  }

  [[noreturn]] static void throw_closed_send() { throw channel_error("send on closed channel"); }

 private:
  std::byte* slot(std::size_t i) const noexcept { return buf_ + i * ops_.size; }

  bool full_hint() const noexcept {
    // Unbuffered: full unless a receiver waits (we can't see that without
    // the lock, so only claim "full" for buffered channels at capacity).
    return cap_ > 0 && count_hint_.load(std::memory_order_relaxed) == cap_;  // relaxed: see send()
  }
  bool empty_hint() const noexcept {
    return cap_ > 0 ? count_hint_.load(std::memory_order_acquire) == 0 : false;  // acquire: see recv()
  }

  void set_count(std::size_t n) GORO_NO_TSA {
    count_ = n;
    count_hint_.store(n, std::memory_order_release);  // pairs with empty_hint's acquire
  }

  void take(void* opt) GORO_NO_TSA {
    void* s = slot(recvx_);
    ops_.to_opt(opt, s);
    ops_.destroy(s);
    recvx_ = (recvx_ + 1) % cap_;
    set_count(count_ - 1);
  }

  // Go: recv. Unbuffered: take the sender's value. Buffered (and so full):
  // take the head of the queue and put the sender's value at the tail.
  void recv_from_sender(Waiter* s, void* opt) GORO_NO_TSA {
    if (cap_ == 0) {
      ops_.to_opt(opt, s->elem);
    } else {
      void* head = slot(recvx_);
      ops_.to_opt(opt, head);
      ops_.destroy(head);
      ops_.construct(head, s->elem);
      recvx_ = (recvx_ + 1) % cap_;
      sendx_ = recvx_;
    }
    s->success = true;
  }

  // Go: waitq.dequeue — skips select waiters whose select already chose
  // another case.
  static Waiter* dequeue(WaitList& q) noexcept {
    for (;;) {
      Waiter* w = q.pop_front();
      if (!w) return nullptr;
      if (w->select_done) {
        std::uint32_t expected = 0;
        // Memory ordering: acq_rel — the winning case's fields written by
        // us are published by wake(); losing is a plain "someone else won".
        if (!w->select_done->compare_exchange_strong(expected, w->case_index + 1,
                                                     std::memory_order_acq_rel))
          continue;
      }
      return w;
    }
  }

  const std::size_t cap_;
  const ElemOps& ops_;
  const std::uint64_t bubble_id_;
  const WaitReason send_reason_, recv_reason_;  // durable ones for a bubble's channel
  std::byte* buf_ = nullptr;
  Spinlock lock_;
  std::size_t count_ GORO_GUARDED_BY(lock_) = 0;
  std::size_t sendx_ GORO_GUARDED_BY(lock_) = 0;
  std::size_t recvx_ GORO_GUARDED_BY(lock_) = 0;
  bool closed_ GORO_GUARDED_BY(lock_) = false;
  WaitList recvq_ GORO_GUARDED_BY(lock_);
  WaitList sendq_ GORO_GUARDED_BY(lock_);
  std::atomic<std::size_t> count_hint_{0};
  std::atomic<bool> closed_hint_{false};
};

// Parks the caller forever (a nil channel operation). Go: gopark(nil, ...).
[[noreturn]] inline void block_forever(WaitReason reason) GORO_NO_TSA {
  Spinlock never;
  never.lock();
  Waiter w;  // nobody will ever wake it
  w.block(never, reason);
  fatal("goro: a goroutine blocked forever was woken");
}

}  // namespace detail
}  // namespace goro
