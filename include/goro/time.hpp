// time — sleeping. goro::sleep_for and goro::sleep_until park the calling
// goroutine on a runtime timer: no thread is blocked, and 10,000 goroutines
// sleeping 100 ms cost no more than their stacks. From a plain thread they
// sleep the thread. A duration <= 0 (or a time already past) returns at once,
// as Go's time.Sleep does.
//
//   goro::sleep_for(100ms);  // Go: time.Sleep(100 * time.Millisecond)
#pragma once

#include <chrono>
#include <thread>

#include "detail/processor.hpp"
#include "detail/wait_queue.hpp"

namespace goro {

namespace detail {

inline std::int64_t to_deadline(std::chrono::steady_clock::time_point t) noexcept {
  // steady_clock is CLOCK_MONOTONIC on Linux, the runtime's clock.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Parks the running goroutine until the monotonic clock reaches `when`.
inline void sleep_goroutine(std::int64_t when) {
  Timer t;
  t.when = when;
  t.arg = current_g();
  t.fire = [](Timer* self) { ready(static_cast<G*>(self->arg)); };
  // The timer is added once this goroutine's context is saved, so it cannot
  // fire (on another thread) before there is something to resume.
  park([](G*, void* arg) {
    M* m = current_m();
    add_timer(m->rt, m->p, static_cast<Timer*>(arg));
    return true;
  }, &t, WaitReason::sleep);
}

}  // namespace detail

inline void sleep_until(std::chrono::steady_clock::time_point t) {
  if (t <= std::chrono::steady_clock::now()) return;
  if (detail::current_g()) {
    detail::sleep_goroutine(detail::to_deadline(t));
  } else {
    std::this_thread::sleep_until(t);
  }
}

template <class Clock, class Duration>
void sleep_until(std::chrono::time_point<Clock, Duration> t) {
  sleep_until(std::chrono::steady_clock::now() + (t - Clock::now()));
}

template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  if (d <= d.zero()) return;
  sleep_until(std::chrono::steady_clock::now() +
              std::chrono::ceil<std::chrono::steady_clock::duration>(d));
}

}  // namespace goro
