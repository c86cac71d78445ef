// clock — the runtime's clocks: CLOCK_MONOTONIC in nanoseconds, the same
// timeline as std::chrono::steady_clock on Linux (Go: nanotime).
#pragma once

#include <cstdint>
#include <ctime>

namespace goro::detail {

inline std::int64_t clock_ns(clockid_t clock) noexcept {
  timespec ts;
  ::clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// The precise monotonic clock: timers, deadlines, sleeps. Go: nanotime.
inline std::int64_t nanotime() noexcept { return clock_ns(CLOCK_MONOTONIC); }

// The monotonic clock at tick resolution (a few ms), for when a goroutine
// started waiting (the dump's "for how long") and for time slices: it is
// read at every park and blocking call, where the precise clock's vDSO read
// (~17 ns on the project's VM) was the largest single cost after the switch
// itself. Same timeline as nanotime(), a tick behind at most.
inline std::int64_t coarse_nanotime() noexcept { return clock_ns(CLOCK_MONOTONIC_COARSE); }

}  // namespace goro::detail
