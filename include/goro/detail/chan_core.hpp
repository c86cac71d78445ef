// ChanCore — the type-erased heart of goro::Chan<T> and goro::select: Go's
// runtime/chan.go (hchan, chansend, chanrecv, closechan) and select.go
// (selectgo), with goro's Waiter in the role of Go's sudog.
//
// Race detection (Go: the raceenabled blocks of chan.go and select.go).
// Under ThreadSanitizer a channel's lock, counters and queues are hidden
// (RaceDisabled, see race.hpp) and it makes exactly the edges of Go's memory
// model: a send happens before the receive that takes its value completes;
// on a channel of capacity C > 0, the k-th receive happens before the
// (k+C)-th send completes (each buffer slot holds the clock of the last
// operation on it, as Go's racenotify does); on an unbuffered channel the
// receive also happens before the send completes; close happens before a
// receive that observes it. A send reads, and close writes, the channel's
// race address (Go: c.raceaddr()), so a send racing with close is reported.
// len (size()) orders nothing. Moving the elements themselves is hidden, as
// Go's runtime copies are.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fatal.hpp"
#include "goroutine.hpp"
#include "machine.hpp"
#include "processor.hpp"
#include "race.hpp"
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
#if GORO_TSAN
    {
      RaceDisabled hidden;
      for (void* t : race_slots_) race_token_drop(t);
    }
#endif
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
    RaceDisabled hidden;
    race_read(&race_addr_);  // Go: racereadpc(c.raceaddr())
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
      race_send_to_waiter(r);
      ops_.to_opt(r->elem, src);
      r->success = true;
      lock_.unlock();
      r->wake();
      return true;
    }
    if (count_ < cap_) {
      race_slot(sendx_);  // Go: racenotify(c, c.sendx, nil)
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
    w.race_park = race_token();
    sendq_.push_back(&w);
    w.block(lock_, send_reason_);
    // Woken by a receiver (success) or by close.
    race_woken(w);
    if (!w.success) throw channel_error("send on closed channel");
    return true;
  }

  // Go: chanrecv. Returns {selected, received}: a received value is
  // emplaced into *opt; {true, false} means closed and drained.
  std::pair<bool, bool> recv(void* opt, bool block) GORO_NO_TSA {
    RaceDisabled hidden;
    if (GORO_UNLIKELY(bubble_id_ != 0)) check_bubble("receive");
    if (!block && empty_hint()) {
      // Go's careful fast path: empty and not closed → fail; empty and
      // closed → re-check emptiness after seeing closed.
      // Memory ordering: acquire, after empty_hint's acquire load: the two
      // loads stay in program order (Go: "the order of operations is
      // important here"), and seeing closed makes the count as of close()
      // visible to the re-check.
      if (!closed_hint_.load(std::memory_order_acquire)) return {false, false};
      if (empty_hint()) {
        race_acquire(&race_addr_);  // close happens before
        return {true, false};
      }
    }
    chaos_point();
    lock_.lock();
    if (closed_ && count_ == 0) {
      race_acquire(&race_addr_);
      lock_.unlock();
      return {true, false};
    }
    if (Waiter* s = dequeue(sendq_)) {
      race_recv_from_waiter(s);
      recv_from_sender(s, opt);
      lock_.unlock();
      s->wake();
      return {true, true};
    }
    if (count_ > 0) {
      race_slot(recvx_);  // Go: racenotify(c, c.recvx, nil)
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
    w.race_park = race_token();
    recvq_.push_back(&w);
    w.block(lock_, recv_reason_);
    race_woken(w);
    return {true, w.success};
  }

  // Go: closechan.
  void close() {
    RaceDisabled hidden;
    if (GORO_UNLIKELY(bubble_id_ != 0)) check_bubble("close");
    lock_.lock();
    if (closed_) {
      lock_.unlock();
      throw channel_error("close of closed channel");
    }
    race_write(&race_addr_);    // Go: racewritepc(c.raceaddr())
    race_release(&race_addr_);  // acquired by whoever observes the close
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

  // Whether close() has happened; if so, it happens before the return
  // (TSan is told so, as Go's chan.go does for an observed close).
  bool closed() noexcept {
    RaceDisabled hidden;
    // Memory ordering: acquire pairs with close()'s release.
    if (!closed_hint_.load(std::memory_order_acquire)) return false;
    race_acquire(&race_addr_);
    return true;
  }

  // ---- select support (Go: selectgo); called inside a RaceDisabled scope ----
  void lock() GORO_NO_TSA { lock_.lock(); }
  void unlock() GORO_NO_TSA { lock_.unlock(); }

  // With the lock held: try to complete a send case now. Returns true if
  // done (and the receiver to wake is in *wake, possibly null).
  bool try_send_locked(void* src, Waiter** wake) GORO_NO_TSA {
    race_read(&race_addr_);  // Go: racereadpc(c.raceaddr()) in selectgo's pass 1
    if (closed_) throw_closed_send();
    if (Waiter* r = dequeue(recvq_)) {
      race_send_to_waiter(r);
      ops_.to_opt(r->elem, src);
      r->success = true;
      *wake = r;
      return true;
    }
    if (count_ < cap_) {
      race_slot(sendx_);
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
      race_recv_from_waiter(s);
      recv_from_sender(s, opt);
      *wake = s;
      *received = true;
      return true;
    }
    if (count_ > 0) {
      race_slot(recvx_);
      take(opt);
      *received = true;
      return true;
    }
    if (closed_) {
      race_acquire(&race_addr_);
      *received = false;
      return true;
    }
    return false;
  }

  // ---- race detection (see the top of this file) ----

  // A waiter that blocked on this channel, now woken: it acquires what its
  // waker left for it, and the close if that is what woke it (Go: closechan's
  // raceacquireg), and drops its own clock token if no waker took it.
  void race_woken(Waiter& w) noexcept {
    race_token_acquire(std::exchange(w.race_wake, nullptr));
    race_token_drop(std::exchange(w.race_park, nullptr));
    if (!w.success) race_acquire(&race_addr_);
  }

  void enqueue_locked(Waiter* w, bool is_send) GORO_NO_TSA { (is_send ? sendq_ : recvq_).push_back(w); }
  void dequeue_locked(Waiter* w, bool is_send) GORO_NO_TSA {
    if (w->queued) (is_send ? sendq_ : recvq_).remove(w);
  }

  [[noreturn]] static void throw_closed_send() { throw channel_error("send on closed channel"); }

 private:
  // Go: send(c, sg) — our value goes to a parked receiver. Unbuffered:
  // racesync (each side happens before the other completes). Buffered (so
  // empty): as if through the slot at recvx, our racenotify and then the
  // receiver's, with recvx and sendx moved on as Go does when racing.
  void race_send_to_waiter([[maybe_unused]] Waiter* r) GORO_NO_TSA {
#if GORO_TSAN
    if (cap_ == 0) return race_sync(r);
    race_slot(recvx_);
    race_slot_waiter(recvx_, r);
    recvx_ = (recvx_ + 1) % cap_;  // the buffer is empty: recvx_ == sendx_
    sendx_ = recvx_;
#endif
  }

  // Go: recv(c, sg) — we take from a parked sender. Unbuffered: racesync.
  // Buffered (so full): the slot at recvx is ours (racenotify) and then the
  // sender's, whose value lands in it.
  void race_recv_from_waiter([[maybe_unused]] Waiter* s) GORO_NO_TSA {
#if GORO_TSAN
    if (cap_ == 0) return race_sync(s);
    race_slot(recvx_);
    race_slot_waiter(recvx_, s);
#endif
  }

  // Go: racesync(c, sg) — the partner acquires our clock when it wakes, we
  // acquire the clock it parked with.
  static void race_sync([[maybe_unused]] Waiter* w) noexcept {
#if GORO_TSAN
    w->race_wake = race_token();
    race_token_acquire(std::exchange(w->race_park, nullptr));
#endif
  }

  // Go: racenotify(c, i, nil) — our operation on slot i.
  void race_slot([[maybe_unused]] std::size_t i) GORO_NO_TSA {
#if GORO_TSAN
    if (race_slots_.empty()) race_slots_.assign(cap_, nullptr);
    race_slot_exchange(race_slots_[i]);
#endif
  }

  // Go: racenotify(c, i, sg) — the parked partner's operation on slot i,
  // done for it: the slot takes the clock it parked with, and it will
  // acquire the slot's previous clock when it wakes.
  void race_slot_waiter([[maybe_unused]] std::size_t i, [[maybe_unused]] Waiter* w) GORO_NO_TSA {
#if GORO_TSAN
    w->race_wake = std::exchange(race_slots_[i], std::exchange(w->race_park, nullptr));
#endif
  }

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
  // Go: c.raceaddr() — a byte no real access touches: sends read it, close
  // writes it, and close releases its clock to the receivers that see it.
  char race_addr_ = 0;
#if GORO_TSAN
  std::vector<void*> race_slots_ GORO_GUARDED_BY(lock_);  // a clock token per buffer slot (Go: chanbuf)
#endif
};

// Parks the caller forever (a nil channel operation). Go: gopark(nil, ...).
[[noreturn]] inline void block_forever(WaitReason reason) GORO_NO_TSA {
  RaceDisabled hidden;
  Spinlock never;
  never.lock();
  Waiter w;  // nobody will ever wake it
  w.block(never, reason);
  fatal("goro: a goroutine blocked forever was woken");
}

}  // namespace detail
}  // namespace goro
