// Parker — puts one OS thread to sleep until another thread unparks it, with
// an optional deadline. Each M owns one (an idle M parks on it), and each plain
// OS thread that blocks on a goro primitive uses its thread-local one.
//
// A one-token semaphore on a Linux futex (Go: notesleep/notewakeup in
// lock_futex.go). An unpark that comes before the park is not lost: the token
// waits for the next park.
#pragma once

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.hpp"
#include "config.hpp"

namespace goro::detail {

class Parker {
 public:
  // Blocks until unpark() has been called since the last park returned.
  void park() noexcept {
    while (!consume()) futex_wait(nullptr);
  }

  // Blocks until unparked or until the monotonic clock reaches deadline_ns.
  // Returns true if it was unparked, false on timeout.
  bool park_until(std::int64_t deadline_ns) noexcept {
    while (!consume()) {
      const std::int64_t now = nanotime();
      if (now >= deadline_ns) return consume();
      const std::int64_t d = deadline_ns - now;
      timespec ts{static_cast<time_t>(d / 1'000'000'000), static_cast<long>(d % 1'000'000'000)};
      futex_wait(&ts);
    }
    return true;
  }

  void unpark() noexcept {
    // Memory ordering: release publishes what the waker wrote before waking
    // (e.g. the P it handed over); park's acquire exchange reads it.
    if (state_.exchange(1, std::memory_order_release) == 0) {
      // The parker may belong to a plain thread that returns as soon as it
      // sees the token; a FUTEX_WAKE on its then-dead address is harmless.
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1,
                nullptr, nullptr, 0);
    }
  }

 private:
  bool consume() noexcept {
    // Memory ordering: acquire pairs with unpark's release.
    return state_.exchange(0, std::memory_order_acquire) == 1;
  }

  void futex_wait(const timespec* timeout) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, 0, timeout,
              nullptr, 0);
  }

  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::atomic<std::uint32_t> state_{0};  // 1: a token is waiting to be consumed
};

}  // namespace goro::detail
