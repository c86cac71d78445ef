// Chan — Go's channels: typed, goroutine-safe queues that also synchronize.
// An unbuffered channel (capacity 0) is a rendezvous: a send completes only
// when a receiver takes the value, handed over directly. A buffered channel
// holds up to `capacity` values in a ring.
//
//   goro::Chan<int> ch;            // nil channel: send/recv block forever
//   goro::Chan<int> jobs(100);     // Go: make(chan int, 100)
//   goro::Chan<int> done(0);       // Go: make(chan int)
//   jobs.send(1);                  // Go: jobs <- 1
//   std::optional<int> v = jobs.recv();  // Go: v, ok := <-jobs (nullopt: closed and drained)
//   jobs.close();
//   for (int v : jobs) { ... }     // Go: for v := range jobs
//
// Contract:
// - Chan is a cheap, copyable handle: copies refer to the same channel
//   (Go's channel values are references too). Thread-safe.
// - send/recv block the calling goroutine (its thread runs others) or, from a
//   plain OS thread, the thread. try_send/try_recv never block.
// - Misuse throws goro::channel_error with Go's text: "send on closed
//   channel" (also to a sender blocked when the channel is closed), "close of
//   closed channel", "close of nil channel". A capacity out of range
//   (negative, or a buffer that is too large) throws std::invalid_argument
//   ("makechan: size out of range").
// - Move-only element types (std::unique_ptr) work. T must be nothrow
//   move-constructible (values move under the channel's lock).
// - Race detection: ThreadSanitizer sees the edges of Go's memory model
//   (detail/chan_core.hpp). Copying a handle is like copying Go's channel
//   value, a read of the source and a write of the destination: its
//   reference count (std::shared_ptr's atomic) synchronizes nothing for TSan.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "detail/chan_core.hpp"
#include "detail/race.hpp"

namespace goro {

template <class T>
class Chan {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "goro::Chan<T>: T must be nothrow move-constructible");

 public:
  using value_type = T;

  // A nil channel (Go: var ch chan T).
  Chan() noexcept = default;

  // Copies and moves share the channel. Under TSan the reference count is
  // hidden (libstdc++'s shared_ptr counts with acq_rel atomics, which would
  // order every goroutine that copies a handle after every other one).
  Chan(const Chan& o) noexcept {
    detail::RaceDisabled hidden;
    detail::race_read(&o.core_);
    core_ = o.core_;
  }
  Chan(Chan&& o) noexcept {
    detail::RaceDisabled hidden;
    detail::race_write(&o.core_);
    core_ = std::move(o.core_);
  }
  Chan& operator=(const Chan& o) noexcept {
    detail::RaceDisabled hidden;
    detail::race_read(&o.core_);
    detail::race_write(&core_);
    core_ = o.core_;
    return *this;
  }
  Chan& operator=(Chan&& o) noexcept {
    detail::RaceDisabled hidden;
    detail::race_write(&o.core_);
    detail::race_write(&core_);
    core_ = std::move(o.core_);
    return *this;
  }
  ~Chan() {
    detail::RaceDisabled hidden;
    core_.reset();
  }

  // A channel with the given buffer capacity (0: unbuffered). A negative
  // capacity, or one whose buffer (capacity * sizeof(T) bytes) is larger
  // than 2^48 bytes or cannot be allocated, throws std::invalid_argument
  // with Go's text, "makechan: size out of range".
  explicit Chan(std::size_t capacity)
      : core_(std::make_shared<detail::ChanCore>(capacity, detail::elem_ops_for<T>)) {}
  template <std::signed_integral I>
  explicit Chan(I capacity) : Chan(checked_capacity(capacity)) {}

  // Go: ch <- v.
  void send(const T& v) const requires std::is_copy_constructible_v<T> {
    T copy(v);
    send(std::move(copy));
  }
  void send(T&& v) const {
    if (!core_) detail::block_forever(detail::WaitReason::chan_send_nil);
    core_->send(&v, true);
  }

  // Go: select { case ch <- v: default: }. On failure v is left untouched.
  bool try_send(const T& v) const requires std::is_copy_constructible_v<T> {
    T copy(v);
    return try_send(std::move(copy));
  }
  bool try_send(T&& v) const {
    if (!core_) return false;
    return core_->send(&v, false);
  }

  // Go: v, ok := <-ch. nullopt once the channel is closed and drained.
  std::optional<T> recv() const {
    if (!core_) detail::block_forever(detail::WaitReason::chan_receive_nil);
    std::optional<T> out;
    core_->recv(&out, true);
    return out;
  }

  // Go: select { case v, ok := <-ch: default: }. nullopt if nothing was ready
  // (or the channel is closed and drained: see closed()).
  std::optional<T> try_recv() const {
    std::optional<T> out;
    if (core_) core_->recv(&out, false);
    return out;
  }

  // Go: close(ch). Receivers drain the buffer and then get nullopt.
  void close() const {
    if (!core_) throw channel_error("close of nil channel");
    core_->close();
  }

  // Go: len(ch), cap(ch).
  std::size_t size() const noexcept { return core_ ? core_->size() : 0; }
  std::size_t capacity() const noexcept { return core_ ? core_->capacity() : 0; }

  bool is_nil() const noexcept { return !core_; }
  explicit operator bool() const noexcept { return static_cast<bool>(core_); }
  bool closed() const noexcept { return core_ && core_->closed(); }

  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.core_ == b.core_; }

  // Range-for: receives until the channel is closed and drained.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    explicit iterator(const Chan* ch) : ch_(ch) { ++*this; }
    T& operator*() { return *value_; }
    T* operator->() { return &*value_; }
    iterator& operator++() {
      value_ = ch_->recv();
      if (!value_) ch_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, std::default_sentinel_t) { return a.ch_ == nullptr; }

   private:
    const Chan* ch_ = nullptr;
    std::optional<T> value_;
  };
  iterator begin() const { return iterator(this); }
  std::default_sentinel_t end() const { return {}; }

  // For select and the runtime; not part of the API.
  explicit Chan(std::shared_ptr<detail::ChanCore> core) noexcept : core_(std::move(core)) {}
  detail::ChanCore* core() const noexcept { return core_.get(); }
  long use_count() const noexcept { return core_.use_count(); }

 private:
  template <std::signed_integral I>
  static std::size_t checked_capacity(I capacity) {
    if (capacity < 0) throw std::invalid_argument("makechan: size out of range");
    return static_cast<std::size_t>(capacity);
  }

  std::shared_ptr<detail::ChanCore> core_;
};

}  // namespace goro
