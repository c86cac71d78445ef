// testing — helpers for testing code that uses goroutines.
//
// goro::testing::expect_no_leaks(fn) runs fn and then checks that every
// goroutine of the runtime created while fn ran has finished (Go:
// go.uber.org/goleak). That is every such goroutine, whoever started it: run
// it while nothing else starts goroutines on that runtime. Goroutines get a
// grace period to wind down (up to `grace`, polling with back-off); any
// still alive after it are reported with their dump in a goro::testing::
// leak_error, which a test framework shows as the failure.
//
//   TEST_CASE("worker pool stops on cancel") {
//     goro::testing::expect_no_leaks([] { run_pool_and_cancel(); });
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "detail/diagnostics.hpp"
#include "scheduler.hpp"
#include "time.hpp"

#if GORO_DEFINE_RUNTIME  // only the report's body needs these (config.hpp)
#include <algorithm>
#include <sstream>
#endif

namespace goro::testing {

class leak_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail_leak {

// The ids of rt's live goroutines, sorted (a sorted vector: cheaper to
// compile than a hash set, and one lookup per goroutine is all it serves);
// how many goroutines alive now are neither in `before` nor the caller
// (self_id); and their report, with their dump — empty when there are none.
// Compiled once, in the runtime's TU, under GORO_SEPARATE_COMPILATION.
#if !GORO_DEFINE_RUNTIME
std::vector<std::uint64_t> live_ids(goro::detail::Runtime* rt);
std::size_t count_leaked(goro::detail::Runtime* rt, const std::vector<std::uint64_t>& before, std::uint64_t self_id);
std::string leak_report(goro::detail::Runtime* rt, const std::vector<std::uint64_t>& before, std::uint64_t self_id,
                        long long grace_ms);
#else
GORO_DECL std::vector<std::uint64_t> live_ids(goro::detail::Runtime* rt) {
  std::vector<std::uint64_t> ids;
  for (const auto& g : goro::detail::snapshot(rt)) ids.push_back(g.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A goroutine started since `before` was taken, other than the checker itself.
inline bool is_leaked(const goro::detail::GoroutineInfo& g, const std::vector<std::uint64_t>& before,
                      std::uint64_t self_id) {
  return g.id != self_id && !std::binary_search(before.begin(), before.end(), g.id);
}

GORO_DECL std::vector<goro::detail::GoroutineInfo> leaked_goroutines(goro::detail::Runtime* rt,
                                                                     const std::vector<std::uint64_t>& before,
                                                                     std::uint64_t self_id) {
  std::vector<goro::detail::GoroutineInfo> leaked;
  for (auto& g : goro::detail::snapshot(rt))
    if (is_leaked(g, before, self_id)) leaked.push_back(std::move(g));
  return leaked;
}

// Polled by check(): counts without copying the leaked goroutines' records.
GORO_DECL std::size_t count_leaked(goro::detail::Runtime* rt, const std::vector<std::uint64_t>& before,
                                   std::uint64_t self_id) {
  std::size_t n = 0;
  for (const auto& g : goro::detail::snapshot(rt)) n += is_leaked(g, before, self_id);
  return n;
}

GORO_DECL std::string leak_report(goro::detail::Runtime* rt, const std::vector<std::uint64_t>& before,
                                  std::uint64_t self_id, long long grace_ms) {
  const std::vector<goro::detail::GoroutineInfo> leaked = leaked_goroutines(rt, before, self_id);
  if (leaked.empty()) return {};
  std::ostringstream os;
  os << "goro: " << leaked.size() << " goroutine(s) leaked (still alive " << grace_ms
     << " ms after the function returned):\n\n";
  goro::detail::write_dump(os, leaked);
  return os.str();
}
#endif

// Polls until the goroutines fn started have exited, backing off from
// 100 us to 20 ms; at the deadline, builds the report once and throws it.
template <class F>
void check(goro::detail::Runtime* rt, F&& fn, std::chrono::milliseconds grace) {
  const auto before = live_ids(rt);
  const goro::detail::G* self = goro::detail::current_g();
  const std::uint64_t self_id = self ? self->goid() : 0;
  fn();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::chrono::microseconds pause(100);
  while (std::chrono::steady_clock::now() < deadline) {
    if (count_leaked(rt, before, self_id) == 0) return;
    goro::sleep_for(pause);
    pause = pause * 2 < std::chrono::milliseconds(20) ? pause * 2 : std::chrono::microseconds(20'000);
  }
  std::string report = leak_report(rt, before, self_id, static_cast<long long>(grace.count()));
  if (!report.empty()) throw leak_error(report);
}

}  // namespace detail_leak

// Checks goroutines of the caller's runtime (the default one from a plain thread).
template <class F>
void expect_no_leaks(F&& fn, std::chrono::milliseconds grace = std::chrono::milliseconds(1000)) {
  detail_leak::check(goro::detail::current_runtime(), std::forward<F>(fn), grace);
}

// Checks goroutines of the given scheduler.
template <class F>
void expect_no_leaks(Scheduler& s, F&& fn, std::chrono::milliseconds grace = std::chrono::milliseconds(1000)) {
  detail_leak::check(s.runtime(), std::forward<F>(fn), grace);
}

}  // namespace goro::testing
